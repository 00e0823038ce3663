//! CreateSecret, PutSecretValue and UpdateSecret: the operations that store secret values, with
//! ClientRequestToken idempotency (semantics.md §4), default and explicit VersionStages (§5.3),
//! rotation abandonment, and the version quota and clean-up rules.

use super::{base, labels_json, live, DAY_MS};
use crate::engine::Ctx;
use crate::labels;
use crate::outcome::ApiError;
use crate::request::{CreateSecret, PutSecretValue, UpdateSecret};
use crate::response::Response;
use crate::rules;
use crate::state::{logical_arn, Model, Secret, SecretValue, Version, AWSCURRENT, AWSPENDING};
use crate::validate;
use serde_json::Value;

/// M6: the token names a version of the secret that holds another value ([`rules::TOKEN_OTHER_VALUE`]).
fn token_in_use(token: &str, name: &str, cx: &mut Ctx) -> ApiError {
    cx.cite(&rules::TOKEN_OTHER_VALUE);
    ApiError::exact(
        "ResourceExistsException",
        format!(
            "You can't use ClientRequestToken {token} because that value is already in use for a version of secret {}.",
            logical_arn(name)
        ),
    )
}

/// What storing a value did.
pub(crate) struct Stored {
    pub version_id: String,
}

/// Stores `value` under `token` in `secret` (§4, §5.3). `stages` is the VersionStages to attach;
/// `None` means the caller gave none (AWSCURRENT by default).
pub(crate) fn store_value(
    secret: &mut Secret,
    token: &str,
    value: SecretValue,
    stages: Option<&[String]>,
    clock: u64,
    cx: &mut Ctx,
) -> Result<Stored, ApiError> {
    let explicit = stages.is_some();
    let mut wanted: Vec<&str> = match stages {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => vec![AWSCURRENT],
    };
    if let Some(existing) = secret.versions.get(token) {
        match &existing.value {
            Some(v) if *v == value => {
                cx.cite(&rules::TOKEN_SAME_VALUE);
                return Ok(Stored { version_id: token.to_string() });
            }
            Some(_) => {
                return Err(token_in_use(token, &secret.name, cx));
            }
            None => {
                cx.cite(&rules::TOKEN_FILLS_PLACEHOLDER);
                secret.versions.get_mut(token).expect("checked above").value = Some(value);
                attach_all(secret, &wanted, token, cx);
                labels::check_limit(secret, cx)?;
                return Ok(Stored { version_id: token.to_string() });
            }
        }
    }
    if secret.versions.len() >= 100 && cx.choose(2) == 1 {
        return cx.fail(
            &rules::VERSION_QUOTA,
            ApiError::code_only(
                "LimitExceededException",
                "You have exceeded the maximum number of versions for this secret.",
            ),
        );
    }
    let seq = secret.next_seq;
    secret.next_seq += 1;
    secret.versions.insert(token.to_string(), Version::new(token, Some(value), clock, seq));
    if secret.holder(AWSCURRENT).is_none() && !wanted.contains(&AWSCURRENT) {
        cx.cite(&rules::PUT_FIRST_VERSION_CURRENT);
        wanted.push(AWSCURRENT);
    }
    if explicit {
        cx.cite(&rules::PUT_STAGES);
    } else {
        cx.cite(&rules::PUT_DEFAULT_CURRENT);
    }
    let takes_current = wanted.contains(&AWSCURRENT);
    let takes_pending = wanted.contains(&AWSPENDING);
    if takes_current && !takes_pending {
        if let Some(p) = secret.holder(AWSPENDING).map(str::to_string) {
            cx.cite(&rules::ROTATION_ABANDONED);
            labels::remove(secret, AWSPENDING, &p);
        }
    }
    attach_all(secret, &wanted, token, cx);
    labels::check_limit(secret, cx)?;
    collect_garbage(secret, clock, cx);
    Ok(Stored { version_id: token.to_string() })
}

/// Attaches `wanted` to `to`. AWSCURRENT goes first, so that the AWSPREVIOUS it hands to the
/// version it leaves does not depend on where AWSCURRENT stands in the list; a label the caller
/// names explicitly (AWSPREVIOUS included) then lands where the caller asked. The order AWS uses
/// is not documented ([U], semantics.md §11).
fn attach_all<L: AsRef<str>>(secret: &mut Secret, wanted: &[L], to: &str, cx: &mut Ctx) {
    let current = wanted.iter().filter(|l| l.as_ref() == AWSCURRENT);
    let others = wanted.iter().filter(|l| l.as_ref() != AWSCURRENT);
    for l in current.chain(others) {
        labels::attach(secret, l.as_ref(), to, cx);
    }
}

/// [`rules::VERSION_GC`]: with more than 100 versions, deprecated versions at least 24 hours old
/// may be removed (oldest first) or may stay; both states are allowed.
fn collect_garbage(secret: &mut Secret, clock: u64, cx: &mut Ctx) {
    if secret.versions.len() <= 100 {
        return;
    }
    let mut eligible: Vec<(u64, String)> = secret
        .versions
        .values()
        .filter(|v| v.is_deprecated() && clock.saturating_sub(v.created) >= DAY_MS)
        .map(|v| (v.seq, v.id.clone()))
        .collect();
    if eligible.is_empty() || cx.choose(2) == 0 {
        return;
    }
    cx.cite(&rules::VERSION_GC);
    eligible.sort();
    for (_, id) in eligible {
        if secret.versions.len() <= 100 {
            break;
        }
        secret.versions.remove(&id);
    }
}

/// CreateSecret (§5.2).
pub fn create_secret(m: &mut Model, i: &CreateSecret, cx: &mut Ctx) -> Result<Response, ApiError> {
    let token = validate::token(i.client_request_token.as_deref(), false, cx)?;
    let value = validate::value(i.secret_string.as_ref(), i.secret_binary.as_ref(), cx)?;
    let clock = m.clock;
    if let Some(s) = m.secrets.get(&i.name) {
        if s.deleted && !cx.waives(&rules::CREATE_DELETED_NAME) {
            return cx.fail(
                &rules::CREATE_DELETED_NAME,
                ApiError::exact(
                    "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ),
            );
        }
        if let (Some(v), Some(value)) = (s.versions.get(token), &value) {
            if v.value.as_ref() == Some(value) {
                cx.cite(&rules::TOKEN_SAME_VALUE);
                let mut o = base(&i.name);
                o.insert("VersionId".into(), Value::String(token.to_string()));
                return Ok(Value::Object(o).into());
            }
            return Err(token_in_use(token, &i.name, cx));
        }
        return cx.fail(
            &rules::CREATE_EXISTS,
            ApiError::exact(
                "ResourceExistsException",
                format!("The operation failed because the secret {} already exists.", i.name),
            ),
        );
    }
    if m.recently_force_deleted.contains(&i.name) {
        cx.cite(&rules::CREATE_AFTER_FORCE_DELETE);
        if cx.choose(2) == 1 {
            return Err(ApiError::exact(
                "InvalidRequestException",
                "You can't create this secret because a secret with this name is already scheduled for deletion.",
            ));
        }
        m.recently_force_deleted.remove(&i.name);
    }
    cx.cite(&rules::CREATE);
    let mut secret = Secret::new(&i.name, i.description.clone().filter(|d| !d.is_empty()), m.clock);
    let mut o = base(&i.name);
    match value {
        Some(v) => {
            store_value(&mut secret, token, v, None, clock, cx)?;
            o.insert("VersionId".into(), Value::String(token.to_string()));
        }
        None => {
            o.insert("VersionId".into(), Value::Null);
        }
    }
    m.secrets.insert(i.name.clone(), secret);
    Ok(Value::Object(o).into())
}

/// PutSecretValue (§5.3).
pub fn put_secret_value(m: &mut Model, i: &PutSecretValue, cx: &mut Ctx) -> Result<Response, ApiError> {
    let token = validate::token(i.client_request_token.as_deref(), false, cx)?;
    let value = validate::value(i.secret_string.as_ref(), i.secret_binary.as_ref(), cx)?;
    let Some(value) = value else {
        return cx.fail_any(
            &rules::VALUE_REQUIRED,
            &["InvalidParameterException", "InvalidRequestException"],
            "You must provide either SecretString or SecretBinary.",
        );
    };
    let clock = m.clock;
    let secret = live(m, &i.secret_id, cx)?;
    let stored = store_value(secret, token, value, i.version_stages.as_deref(), clock, cx)?;
    // Built when read, from copies of the three things it shows.
    let name = secret.name.clone();
    let labels: Vec<String> = secret.versions[&stored.version_id].labels.iter().cloned().collect();
    let id = stored.version_id;
    Ok(Response::deferred(move || {
        let mut o = base(&name);
        o.insert("VersionId".into(), Value::String(id.clone()));
        o.insert("VersionStages".into(), labels_json(&labels));
        Value::Object(o)
    }))
}

/// UpdateSecret (§5.4): a new value makes a new AWSCURRENT version; without one only metadata changes.
pub fn update_secret(m: &mut Model, i: &UpdateSecret, cx: &mut Ctx) -> Result<Response, ApiError> {
    let has_value = i.secret_string.is_some() || i.secret_binary.is_some();
    let token = if has_value {
        Some(validate::token(i.client_request_token.as_deref(), false, cx)?)
    } else {
        // A token sent with a metadata-only update is ignored (§4); its length was checked.
        None
    };
    let value = validate::value(i.secret_string.as_ref(), i.secret_binary.as_ref(), cx)?;
    let clock = m.clock;
    let secret = live(m, &i.secret_id, cx)?;
    if let Some(d) = &i.description {
        // An empty Description leaves none (LS-SNAP `test_create_secret_version_from_empty_secret`).
        secret.description = Some(d.clone()).filter(|d| !d.is_empty());
    }
    let mut o = base(&secret.name);
    match (token, value) {
        (Some(token), Some(value)) => {
            cx.cite(&rules::UPDATE_NEW_CURRENT);
            let current = [AWSCURRENT.to_string()];
            let stored = store_value(secret, token, value, Some(&current), clock, cx)?;
            o.insert("VersionId".into(), Value::String(stored.version_id));
        }
        _ => {
            cx.cite(&rules::UPDATE_METADATA_ONLY);
            o.insert("VersionId".into(), Value::Null);
        }
    }
    Ok(Value::Object(o).into())
}
