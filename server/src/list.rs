//! ListSecrets, computed from the model's state: filters (`name`, `description`, `tag-key`,
//! `tag-value`, `primary-region`, `owning-service`, `all`, each value optionally negated with
//! `!`), `IncludePlannedDeletion`, `SortBy`/`SortOrder`, and `MaxResults`/`NextToken` pagination.
//! Each entry is the model's own DescribeSecret answer for the secret, in SecretListEntry's
//! member names.

use crate::arn::Scope;
use crate::core::{epoch_seconds, strip_nulls, RegionState};
use crate::wire::WireError;
use base64::Engine as _;
use serde_json::{Map, Value};
use sm_model::request::SecretIdOnly;
use sm_model::{branches, Expect, Model, Request, Secret};

/// Page size when MaxResults is not given.
pub const DEFAULT_PAGE: usize = 100;

/// The members of a SecretListEntry (DescribeSecret's, with `SecretVersionsToStages` for
/// `VersionIdsToStages`).
const ENTRY_MEMBERS: &[&str] = &[
    "ARN",
    "Name",
    "Type",
    "Description",
    "KmsKeyId",
    "RotationEnabled",
    "RotationLambdaARN",
    "RotationRules",
    "ExternalSecretRotationMetadata",
    "ExternalSecretRotationRoleArn",
    "LastRotatedDate",
    "LastChangedDate",
    "LastAccessedDate",
    "DeletedDate",
    "NextRotationDate",
    "Tags",
    "SecretVersionsToStages",
    "OwningService",
    "CreatedDate",
    "PrimaryRegion",
];

fn invalid_token() -> WireError {
    WireError::client("InvalidNextTokenException", "The NextToken value is invalid.")
}

/// MaxResults and NextToken of a paginated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub size: Option<usize>,
    pub offset: usize,
}

impl Page {
    /// Takes `MaxResults` and `NextToken` out of `input` (their types were already checked).
    pub fn take(input: &mut Map<String, Value>) -> Result<Page, WireError> {
        let size = match input.remove("MaxResults") {
            Some(v) => {
                let n = v.as_i64().unwrap_or(0);
                if !(1..=100).contains(&n) {
                    return Err(WireError::validation(format!(
                        "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
                    )));
                }
                Some(n as usize)
            }
            None => None,
        };
        let offset = match input.remove("NextToken") {
            Some(Value::String(t)) => decode_token(&t).ok_or_else(invalid_token)?,
            _ => 0,
        };
        Ok(Page { size, offset })
    }
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("smconform:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("smconform:")?.parse().ok()
}

/// One filter: a key and its values (any value may match; `!` negates a value).
struct Filter {
    key: String,
    values: Vec<String>,
}

fn filters(input: &Map<String, Value>) -> Result<Vec<Filter>, WireError> {
    let mut out = Vec::new();
    for f in input.get("Filters").and_then(Value::as_array).into_iter().flatten() {
        let key = f.get("Key").and_then(Value::as_str);
        let values: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let Some(key) = key else {
            return Err(WireError::client("InvalidParameterException", "Invalid filter key"));
        };
        if values.is_empty() {
            return Err(WireError::client("InvalidParameterException", "Invalid filter values"));
        }
        for v in &values {
            let body = v.strip_prefix('!').unwrap_or(v);
            if !body.chars().all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c)) {
                return Err(WireError::validation(format!(
                    "1 validation error detected: Value '[{v}]' at 'filters.1.member.values' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$"
                )));
            }
        }
        out.push(Filter { key: key.to_string(), values });
    }
    Ok(out)
}

fn matches_value(secret: &Secret, key: &str, value: &str) -> bool {
    match key {
        "name" => secret.name.starts_with(value),
        "description" => {
            secret.description.as_deref().is_some_and(|d| d.to_lowercase().starts_with(&value.to_lowercase()))
        }
        "all" => {
            let words: Vec<String> = value.split_whitespace().map(str::to_lowercase).collect();
            let hay = format!("{} {}", secret.name, secret.description.as_deref().unwrap_or("")).to_lowercase();
            !words.is_empty() && words.iter().all(|w| hay.contains(w.as_str()))
        }
        // The model keeps no tags, primary region or owning service: nothing matches.
        _ => false,
    }
}

fn matches(secret: &Secret, filter: &Filter) -> bool {
    let positive: Vec<&String> = filter.values.iter().filter(|v| !v.starts_with('!')).collect();
    let negative: Vec<&str> = filter.values.iter().filter_map(|v| v.strip_prefix('!')).collect();
    let pos_ok = positive.is_empty() || positive.iter().any(|v| matches_value(secret, &filter.key, v));
    let neg_ok = negative.iter().all(|v| !matches_value(secret, &filter.key, v));
    pos_ok && neg_ok
}

/// The model's DescribeSecret answer for one secret, computed on a model holding only that
/// secret (a description does not depend on the others).
pub fn describe(model: &Model, secret: &Secret) -> Option<Value> {
    let mut one = Model { clock: model.clock, ..Model::default() };
    one.secrets.insert(secret.name.clone(), secret.clone());
    let req = Request::DescribeSecret(SecretIdOnly { secret_id: secret.name.clone() });
    match branches(&one, &req).into_iter().next()?.outcome.expect {
        Expect::Ok(v) => Some(v),
        Expect::Err(_) => None,
    }
}

/// ListSecrets on one region.
pub fn list_secrets(
    state: &RegionState,
    scope: &Scope,
    input: &Map<String, Value>,
    now_ms: u64,
) -> Result<Value, WireError> {
    let mut input = input.clone();
    let page = Page::take(&mut input)?;
    let filters = filters(&input)?;
    let include_deleted = input.get("IncludePlannedDeletion").and_then(Value::as_bool).unwrap_or(false);
    let mut secrets: Vec<&Secret> = state
        .model
        .secrets
        .values()
        .filter(|s| include_deleted || !s.deleted)
        .filter(|s| filters.iter().all(|f| matches(s, f)))
        .collect();
    let created = |s: &Secret| state.created.get(&s.name).copied().unwrap_or((0, 0));
    match input.get("SortBy").and_then(Value::as_str) {
        Some("name") => secrets.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => secrets.sort_by_key(|s| created(s).1),
    }
    if input.get("SortOrder").and_then(Value::as_str) == Some("desc") {
        secrets.reverse();
    }
    if page.offset > secrets.len() {
        return Err(invalid_token());
    }
    let size = page.size.unwrap_or(DEFAULT_PAGE);
    let end = (page.offset + size).min(secrets.len());
    let mut list = Vec::new();
    for secret in &secrets[page.offset..end] {
        let Some(Value::Object(d)) = describe(&state.model, secret) else {
            continue;
        };
        let mut entry = Map::new();
        for (k, v) in d {
            let k = if k == "VersionIdsToStages" { "SecretVersionsToStages".to_string() } else { k };
            if !ENTRY_MEMBERS.contains(&k.as_str()) {
                continue;
            }
            // Until the model dates everything itself, a date it leaves open is "now".
            let v = if v.as_str() == Some(sm_model::ANY) { epoch_seconds(now_ms) } else { v };
            entry.insert(k, v);
        }
        entry.entry("CreatedDate").or_insert_with(|| epoch_seconds(created(secret).0));
        list.push(Value::Object(entry));
    }
    let mut out = Map::new();
    let mut list = Value::Array(list);
    scope.translate(&mut list);
    strip_nulls(&mut list);
    out.insert("SecretList".into(), list);
    if end < secrets.len() {
        out.insert("NextToken".into(), Value::String(encode_token(end)));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("nonsense"), None);
    }
}
