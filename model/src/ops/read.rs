//! GetSecretValue, DescribeSecret and ListSecretVersionIds: the reads (semantics.md §5.6, §5.8,
//! §5.9). Reads change nothing the model tracks (LastAccessedDate is a date the model ignores).

use super::{base, existing, labels_json, live};
use crate::engine::Ctx;
use crate::outcome::{ApiError, ANY};
use crate::request::{GetSecretValue, ListSecretVersionIds, SecretIdOnly};
use crate::rules;
use crate::state::{Model, SecretValue, AWSCURRENT};
use crate::validate;
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

/// GetSecretValue.
pub fn get_secret_value(m: &mut Model, i: &GetSecretValue, cx: &mut Ctx) -> Result<Value, ApiError> {
    // VersionId is 32..64 and VersionStage 1..256 characters (§2), checked before any look-up.
    validate::version_id(i.version_id.as_ref(), cx)?;
    if let Some(stage) = &i.version_stage {
        validate::label(stage, cx)?;
    }
    let secret = live(m, &i.secret_id, cx)?;
    let version = match (i.version_id.as_deref(), i.version_stage.as_deref()) {
        (Some(id), stage) => {
            let Some(v) = secret.versions.get(id) else {
                return Err(no_version(id, cx));
            };
            if let Some(stage) = stage {
                if !v.labels.contains(stage) {
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
    if version.is_deprecated() {
        // Whether AWS sends an empty list or no member for a deprecated version is unknown.
        cx.cite(&rules::GET_DEPRECATED);
    } else {
        o.insert("VersionStages".into(), labels_json(&version.labels));
    }
    o.insert("CreatedDate".into(), Value::String(ANY.into()));
    Ok(Value::Object(o))
}

/// DescribeSecret.
pub fn describe_secret(m: &mut Model, i: &SecretIdOnly, cx: &mut Ctx) -> Result<Value, ApiError> {
    let secret = existing(m, &i.secret_id, cx)?;
    cx.cite(&rules::DESCRIBE);
    let mut o = base(&secret.name);
    let opt_str = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    o.insert("Description".into(), opt_str(&secret.description));
    let rot = &secret.rotation;
    o.insert("RotationEnabled".into(), rot.enabled.map(Value::Bool).unwrap_or(Value::Null));
    o.insert("RotationLambdaARN".into(), opt_str(&rot.lambda_arn));
    match &rot.rules {
        Some(r) => {
            // AWS may add a computed AutomaticallyAfterDays next to a ScheduleExpression (§5.8),
            // so only the members the caller set are asserted (a subset match).
            o.insert("RotationRules".into(), serde_json::to_value(r).expect("rules serialise"));
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
            o.insert("LastRotatedDate".into(), Value::String(ANY.into()));
        }
        _ => {}
    }
    if rot.enabled != Some(true) {
        o.insert("NextRotationDate".into(), Value::Null);
    }
    let mut map = Map::new();
    for v in secret.versions.values().filter(|v| !v.is_deprecated()) {
        map.insert(v.id.clone(), labels_json(&v.labels));
    }
    o.insert("VersionIdsToStages".into(), if map.is_empty() { Value::Null } else { Value::Object(map) });
    if secret.deleted {
        cx.cite(&rules::DESCRIBE_DELETED);
        o.insert("DeletedDate".into(), Value::String(ANY.into()));
    } else {
        o.insert("DeletedDate".into(), Value::Null);
    }
    Ok(Value::Object(o))
}

/// ListSecretVersionIds (one page).
pub fn list_secret_version_ids(m: &mut Model, i: &ListSecretVersionIds, cx: &mut Ctx) -> Result<Value, ApiError> {
    let secret = existing(m, &i.secret_id, cx)?;
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
    let mut versions = Vec::new();
    let mut listed: Vec<_> = secret.versions.values().filter(|v| v.value.is_some()).collect();
    listed.sort_by_key(|v| v.seq);
    for v in listed {
        let mut e = Map::new();
        e.insert("VersionId".into(), Value::String(v.id.clone()));
        if v.is_deprecated() {
            if !include_deprecated {
                continue;
            }
            e.insert("VersionStages".into(), Value::Null);
        } else {
            e.insert("VersionStages".into(), labels_json(&v.labels));
        }
        e.insert("CreatedDate".into(), Value::String(ANY.into()));
        versions.push(Value::Object(e));
    }
    let mut o = base(&secret.name);
    o.insert("Versions".into(), Value::Array(versions));
    Ok(Value::Object(o))
}
