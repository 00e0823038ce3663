//! ListSecrets, computed from the model's state and the tags kept beside it: filters (`name`,
//! `description`, `tag-key`, `tag-value`, `primary-region`, `owning-service`, `all`, each value
//! optionally negated with `!`), `IncludePlannedDeletion`, `SortBy`/`SortOrder`, and
//! `MaxResults`/`NextToken` pagination. Each entry is the model's own DescribeSecret answer for
//! the secret, in SecretListEntry's member names, with its `Tags`.
//!
//! How values match, as AWS documents it (API Filter; user guide "Find secrets") and as moto's
//! AWS-verified ListSecrets tests show it: `name`, `tag-key` and `tag-value` are case-sensitive
//! prefixes; `description` and `all` break the value into [`words`] and match when every word
//! is, case-insensitively, the start of a word of one attribute (`all`: the name, the
//! description, a tag key or a tag value). Several values of one filter are alternatives; several
//! filters must all match.

use crate::arn::Scope;
use crate::core::{epoch_seconds, strip_nulls, RegionState};
use crate::meta::Meta;
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

/// The words of a text, lower-cased: letters and digits only, every other character separates;
/// a new word also starts at an upper-case letter after a lower-case letter or digit
/// (`credsDatabase`: `creds`, `database`) and at the last upper-case letter of a run followed by
/// a lower-case one (`COMPANYthings`: `compan`, `ythings`, as AWS splits it).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|r| !r.is_empty()) {
        let chars: Vec<char> = run.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, cur) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let camel = cur.is_uppercase() && (prev.is_lowercase() || prev.is_numeric());
            let acronym_end = cur.is_uppercase() && prev.is_uppercase() && next_lower;
            if camel || acronym_end {
                out.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        out.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    out
}

/// Whether every word of `value` starts a word of one of `attributes`.
fn words_match<'a>(value: &str, attributes: impl IntoIterator<Item = &'a str>) -> bool {
    let wanted = words(value);
    !wanted.is_empty()
        && attributes.into_iter().any(|a| {
            let have = words(a);
            wanted.iter().all(|w| have.iter().any(|h| h.starts_with(w.as_str())))
        })
}

fn matches_value(secret: &Secret, meta: Option<&Meta>, key: &str, value: &str) -> bool {
    let tags = meta.and_then(|m| m.tags.as_ref()).into_iter().flatten();
    match key {
        "name" => secret.name.starts_with(value),
        "description" => words_match(value, secret.description.as_deref()),
        "tag-key" => meta.is_some_and(|m| m.has_tag_prefix(value, true)),
        "tag-value" => meta.is_some_and(|m| m.has_tag_prefix(value, false)),
        "all" => {
            let tag_texts = tags.flat_map(|(k, v)| [k.as_str(), v.as_str()]);
            let attributes =
                std::iter::once(secret.name.as_str()).chain(secret.description.as_deref()).chain(tag_texts);
            words_match(value, attributes)
        }
        // Replication and managing services are not served: nothing matches.
        _ => false,
    }
}

fn matches(secret: &Secret, meta: Option<&Meta>, filter: &Filter) -> bool {
    let positive: Vec<&String> = filter.values.iter().filter(|v| !v.starts_with('!')).collect();
    let negative: Vec<&str> = filter.values.iter().filter_map(|v| v.strip_prefix('!')).collect();
    let pos_ok = positive.is_empty() || positive.iter().any(|v| matches_value(secret, meta, &filter.key, v));
    let neg_ok = negative.iter().all(|v| !matches_value(secret, meta, &filter.key, v));
    pos_ok && neg_ok
}

/// The model's DescribeSecret answer for one secret, computed on a model holding only that
/// secret (a description does not depend on the others).
pub fn describe(model: &Model, secret: &Secret) -> Option<Value> {
    let mut one = Model { clock: model.clock, ..Model::default() };
    one.secrets.insert(secret.name.clone(), secret.clone());
    let req = Request::DescribeSecret(SecretIdOnly { secret_id: secret.name.clone() });
    match branches(&one, &req).into_iter().next()?.outcome.expect {
        Expect::Ok(v) => Some(v.into_value()),
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
        .filter(|s| filters.iter().all(|f| matches(s, state.meta.get(&s.name), f)))
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
        if let Some(tags) = state.meta.get(&secret.name).and_then(Meta::tags_json) {
            entry.insert("Tags".into(), tags);
        }
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
    fn words_split_as_aws_splits_them() {
        assert_eq!(words("credsDatabase#892"), ["creds", "database", "892"]);
        assert_eq!(words("uat/COMPANYthings/ab12"), ["uat", "compan", "ythings", "ab12"]);
        assert_eq!(words("SecretFTag3bdc8e"), ["secret", "f", "tag3bdc8e"]);
        assert!(words("+").is_empty());
        assert!(words_match("d t", ["DescTwo"]));
        assert!(!words_match("ret", ["SecretOne"]));
        assert!(!words_match("SomeSecret", ["SecretOne", "Some other"]));
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("nonsense"), None);
    }
}
