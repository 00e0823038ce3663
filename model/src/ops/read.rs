//! GetSecretValue, DescribeSecret and ListSecretVersionIds: the reads (semantics.md §5.6, §5.8,
//! §5.9). Reads change nothing the model tracks (LastAccessedDate is a date the model ignores).

use super::{base, date, existing_ref, labels_json, live, live_ref, DAY_MS};
use crate::engine::Ctx;
use crate::outcome::{ApiError, ANY};
use crate::request::{GetSecretValue, ListSecretVersionIds, SecretIdOnly};
use crate::response::Response;
use crate::response::Snapshot;
use crate::rules;
use crate::state::{name_of, Model, Secret, SecretValue, Version, AWSCURRENT};
use serde_json::{Map, Value};

fn no_stage(label: &str, cx: &mut Ctx) -> ApiError {
    cx.cite(&rules::GET_NO_STAGE);
    ApiError::exact(
        "ResourceNotFoundException",
        format!("Secrets Manager can't find the specified secret value for staging label: {label}"),
    )
}

fn no_version(id: &str, cx: &mut Ctx) -> ApiError {
    cx.cite(&rules::GET_NO_VERSION);
    ApiError::exact(
        "ResourceNotFoundException",
        format!("Secrets Manager can't find the specified secret value for VersionId: {id}"),
    )
}

/// GetSecretValue read `version_id` at `clock`: LastAccessedDate of the version and of the
/// secret, truncated to the day as AWS reports it (§5.8, recorded in LS-SNAP
/// `test_rotate_secret_with_lambda_success`).
pub(crate) fn mark_accessed(secret: &mut Secret, version_id: &str, clock: u64) {
    let day = clock - clock % DAY_MS;
    secret.last_accessed = Some(day);
    if let Some(mut v) = secret.versions.get_mut(version_id) {
        v.last_accessed = Some(day);
    }
}

/// GetSecretValue.
pub fn get_secret_value(m: &mut Model, i: &GetSecretValue, cx: &mut Ctx) -> Result<Response, ApiError> {
    let secret = live_ref(m, &i.secret_id, cx)?;
    let version = match (i.version_id.as_deref(), i.version_stage.as_deref()) {
        (Some(id), stage) => {
            let Some(v) = secret.versions.get(id) else {
                return Err(no_version(id, cx));
            };
            if let Some(stage) = stage {
                if !v.labels.contains(stage) && !cx.waives(&rules::GET_MISMATCH) {
                    return cx.fail(
                        &rules::GET_MISMATCH,
                        ApiError::exact(
                            "InvalidRequestException",
                            "You provided a VersionStage that is not associated to the provided VersionId.",
                        ),
                    );
                }
            }
            if v.value.is_none() {
                // By id the text is unknown; by id and stage AWS reads it as a stage miss.
                return match stage {
                    Some(stage) => Err(no_stage(stage, cx)),
                    None => cx.fail(
                        &rules::GET_PLACEHOLDER,
                        ApiError::code_only(
                            "ResourceNotFoundException",
                            format!("Secrets Manager can't find the specified secret value for VersionId: {id}"),
                        ),
                    ),
                };
            }
            v
        }
        (None, stage) => {
            let stage = stage.unwrap_or(AWSCURRENT);
            let holder = secret.holder(stage).map(str::to_string);
            match holder.and_then(|h| secret.versions.get(&h)) {
                Some(v) if v.value.is_some() => v,
                Some(_) => {
                    cx.cite(&rules::GET_PLACEHOLDER);
                    return Err(no_stage(stage, cx));
                }
                None => return Err(no_stage(stage, cx)),
            }
        }
    };
    cx.cite(&rules::GET_DEFAULT_CURRENT);
    if version.is_deprecated() {
        // Whether AWS sends an empty list or no member for a deprecated version is unknown.
        cx.cite(&rules::GET_DEPRECATED);
    }
    let id = version.id.clone();
    let clock = m.clock;
    let day = clock - clock % DAY_MS;
    if secret.last_accessed != Some(day) || version.last_accessed != Some(day) {
        let secret = live(m, &i.secret_id, cx)?;
        mark_accessed(secret, &id, clock);
    }
    // Reading changes only dates the response does not show, so the snapshot answers as before.
    let snapshot = Snapshot::new(&m.secrets, name_of(&i.secret_id));
    Ok(Response::deferred(move || {
        let secret = snapshot.secret();
        secret_value_json(secret, &secret.versions[&id])
    }))
}

/// GetSecretValue's response for `version`.
fn secret_value_json(secret: &Secret, version: &Version) -> Value {
    let mut o = base(&secret.name);
    o.insert("VersionId".into(), Value::String(version.id.clone()));
    match version.value.as_ref().expect("versions without a value were refused above") {
        SecretValue::String(s) => {
            o.insert("SecretString".into(), Value::String(s.clone()));
            o.insert("SecretBinary".into(), Value::Null);
        }
        SecretValue::Binary(b) => {
            o.insert("SecretString".into(), Value::Null);
            o.insert("SecretBinary".into(), serde_json::to_value(b).expect("blob serialises"));
        }
    }
    if !version.is_deprecated() {
        o.insert("VersionStages".into(), labels_json(&version.labels));
    }
    o.insert("CreatedDate".into(), date(version.created));
    Value::Object(o)
}

/// RotationRules as DescribeSecret shows them: what the caller set, plus, for a ScheduleExpression,
/// the AutomaticallyAfterDays the service computes from it: N for `rate(N days)`, 1 for an hourly
/// rate (GH terraform-provider-aws#31915: `rate(10 hours)` shows 1; API Reference
/// RotationRulesType: "calculated from the rotation schedule"). For a cron expression AWS's own
/// examples disagree on the value (14 and 2 for the same expression), so only presence is asserted.
fn rules_shown(r: &crate::request::RotationRules) -> Value {
    let mut v = serde_json::to_value(r).expect("rules serialise");
    if let (Some(expr), None) = (&r.schedule_expression, r.automatically_after_days) {
        let computed =
            crate::schedule::days_of_rate(expr).map(Value::from).unwrap_or_else(|| Value::String(ANY.into()));
        v["AutomaticallyAfterDays"] = computed;
    }
    v
}

/// DescribeSecret.
pub fn describe_secret(m: &mut Model, i: &SecretIdOnly, cx: &mut Ctx) -> Result<Response, ApiError> {
    let secret = existing_ref(m, &i.secret_id, cx)?;
    cx.cite(&rules::DESCRIBE_DATES);
    cx.cite(&rules::DESCRIBE);
    if secret.deleted {
        cx.cite(&rules::DESCRIBE_DELETED);
    }
    let snapshot = Snapshot::new(&m.secrets, name_of(&i.secret_id));
    Ok(Response::deferred(move || describe_json(snapshot.secret())))
}

/// DescribeSecret's response for `secret`.
fn describe_json(secret: &Secret) -> Value {
    let mut o = base(&secret.name);
    let opt_str = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    let opt_date = |v: Option<u64>| v.map(date).unwrap_or(Value::Null);
    o.insert("Description".into(), opt_str(&secret.description));
    o.insert("CreatedDate".into(), date(secret.created));
    o.insert("LastChangedDate".into(), date(secret.last_changed));
    o.insert("LastAccessedDate".into(), opt_date(secret.last_accessed));
    // Members for features the model leaves out (customer keys, replication, managed secrets,
    // tags): AWS omits them for a secret created without them (LS-SNAP, every Describe).
    for absent in ["KmsKeyId", "OwningService", "PrimaryRegion", "ReplicationStatus", "Tags"] {
        o.insert(absent.into(), Value::Null);
    }
    let rot = &secret.rotation;
    o.insert("RotationEnabled".into(), rot.enabled.map(Value::Bool).unwrap_or(Value::Null));
    o.insert("RotationLambdaARN".into(), opt_str(&rot.lambda_arn));
    match &rot.rules {
        Some(r) => {
            // AWS may add a computed AutomaticallyAfterDays next to a ScheduleExpression (§5.8),
            // so only the members the caller set are asserted (a subset match).
            o.insert("RotationRules".into(), rules_shown(r));
        }
        None => {
            o.insert("RotationRules".into(), Value::Null);
        }
    }
    // LastRotatedDate: absent until a rotation completed; present while rotation is enabled after
    // one; after CancelRotateSecret it is [U] (§7.4), so not asserted.
    match (rot.rotated, rot.enabled) {
        (false, _) => {
            o.insert("LastRotatedDate".into(), Value::Null);
        }
        (true, Some(true)) => {
            o.insert("LastRotatedDate".into(), opt_date(rot.last_rotated));
        }
        _ => {}
    }
    if rot.enabled != Some(true) {
        o.insert("NextRotationDate".into(), Value::Null);
    } else if let Some(r) = &rot.rules {
        // Rotation is enabled with a schedule: AWS shows when it next rotates (LS-SNAP
        // `test_rotate_secret_with_lambda_success`). For a days interval the model computes it from
        // the last rotation (or the configuration); a cron or rate expression only asserts presence.
        let base = rot.last_rotated.or(rot.configured);
        let next = match (r.automatically_after_days, base) {
            (Some(days), Some(b)) if r.schedule_expression.is_none() => date(b + days.max(0) as u64 * DAY_MS),
            _ => Value::String(ANY.into()),
        };
        o.insert("NextRotationDate".into(), next);
    }
    let mut map = Map::new();
    for id in secret.versions.labelled_ids() {
        let v = &secret.versions[id];
        map.insert(v.id.clone(), labels_json(&v.labels));
    }
    o.insert("VersionIdsToStages".into(), if map.is_empty() { Value::Null } else { Value::Object(map) });
    if secret.deleted {
        let when = secret.deletion.map(|(at, days)| date(at + days * DAY_MS));
        o.insert("DeletedDate".into(), when.unwrap_or_else(|| Value::String(ANY.into())));
    } else {
        o.insert("DeletedDate".into(), Value::Null);
    }
    Value::Object(o)
}

/// ListSecretVersionIds (one page).
pub fn list_secret_version_ids(m: &mut Model, i: &ListSecretVersionIds, cx: &mut Ctx) -> Result<Response, ApiError> {
    let secret = existing_ref(m, &i.secret_id, cx)?;
    if secret.deleted {
        cx.cite(&rules::LIST_DELETED);
        if cx.choose(2) == 1 {
            return Err(ApiError::code_only(
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ));
        }
    }
    cx.cite(&rules::LIST_VERSIONS);
    let include_deprecated = i.include_deprecated.unwrap_or(false);
    let count = listed(secret, include_deprecated).count();
    let offset = match i.next_token.as_deref() {
        None => 0,
        Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= count => n,
            _ => {
                return cx.fail_any(
                    &rules::LIST_PAGE,
                    &["InvalidParameterException", "ValidationException"],
                    "The NextToken value is not valid.",
                )
            }
        },
    };
    let page = i.max_results.map(|n| n.max(1) as usize).unwrap_or(usize::MAX);
    if i.max_results.is_some() || i.next_token.is_some() {
        cx.cite(&rules::LIST_PAGE);
    }
    let end = offset.saturating_add(page).min(count);
    let snapshot = Snapshot::new(&m.secrets, name_of(&i.secret_id));
    Ok(Response::deferred(move || {
        let secret = snapshot.secret();
        let mut all: Vec<&Version> = listed(secret, include_deprecated).collect();
        all.sort_by_key(|v| v.seq);
        let next = if end < all.len() { Value::String(format!("page-{end}")) } else { Value::Null };
        let mut o = base(&secret.name);
        o.insert("Versions".into(), Value::Array(all[offset..end].iter().map(|v| listed_json(v)).collect()));
        o.insert("NextToken".into(), next);
        Value::Object(o)
    }))
}

/// The versions ListSecretVersionIds shows (those with a value; deprecated ones on request), in
/// id order.
fn listed(secret: &Secret, include_deprecated: bool) -> impl Iterator<Item = &Version> {
    let (all, labelled) = if include_deprecated {
        (Some(secret.versions.values()), None)
    } else {
        // Only versions with a label: the label index has them without a scan.
        (None, Some(secret.versions.labelled_ids().into_iter().map(|id| &secret.versions[id])))
    };
    all.into_iter().flatten().chain(labelled.into_iter().flatten()).filter(|v| v.value.is_some())
}

/// One entry of ListSecretVersionIds' `Versions`.
fn listed_json(v: &Version) -> Value {
    let mut e = Map::new();
    e.insert("VersionId".into(), Value::String(v.id.clone()));
    if v.is_deprecated() {
        e.insert("VersionStages".into(), Value::Null);
    } else {
        e.insert("VersionStages".into(), labels_json(&v.labels));
    }
    e.insert("CreatedDate".into(), date(v.created));
    // Every version lists the key that encrypts it; the default key is named like this
    // (LS-SNAP `test_deprecated_secret_version_stage`). LastAccessedDate only once read.
    e.insert("KmsKeyIds".into(), serde_json::json!(["DefaultEncryptionKey"]));
    e.insert("LastAccessedDate".into(), v.last_accessed.map(date).unwrap_or(Value::Null));
    Value::Object(e)
}
