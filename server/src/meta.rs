//! What the model does not keep about a secret, kept beside it by the server: its tags and its
//! resource policy, and the operations that read and change them (TagResource, UntagResource,
//! Put/Get/DeleteResourcePolicy, ValidateResourcePolicy).
//!
//! Following AWS (LocalStack's AWS-recorded `test_secret_tags` and `test_resource_policy`):
//! `Tags` is absent from DescribeSecret until the secret is first tagged and `[]` once every tag
//! was removed; tags keep the order they were first added in and a key tagged again keeps its
//! place with the new value; both tag operations answer `{}`, the policy operations `ARN` and
//! `Name`, GetResourcePolicy the policy text as it was put. On a secret scheduled for deletion
//! every change is refused with M9 (semantics.md §5, [V] for the tag operations).

use crate::wire::WireError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The side data of one secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// `None` until the secret is first tagged.
    pub tags: Option<Vec<(String, String)>>,
    /// The resource policy, as given.
    pub policy: Option<String>,
}

/// Operations served from the side data that change it (journaled).
pub const CHANGES: [&str; 4] = ["TagResource", "UntagResource", "PutResourcePolicy", "DeleteResourcePolicy"];

/// Operations served from the side data that only read it.
pub const READS: [&str; 2] = ["GetResourcePolicy", "ValidateResourcePolicy"];

/// M9, for a change to a secret scheduled for deletion.
pub fn marked_for_deletion() -> WireError {
    WireError::client(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

/// The name check the service makes on a `SecretId` that is not an ARN, before anything else
/// (the model's rule for its operations; LocalStack's AWS-recorded `test_invalid_secret_name`
/// shows it for TagResource, UntagResource and ValidateResourcePolicy too).
pub fn check_name(secret_id: &str) -> Result<(), WireError> {
    let valid = !secret_id.is_empty() && secret_id.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if secret_id.starts_with("arn:") || valid {
        return Ok(());
    }
    Err(WireError::validation(
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
    ))
}

/// M1, for a secret that does not exist.
pub fn not_found() -> WireError {
    WireError::client("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

impl Meta {
    /// Adds `tags` (`[{Key, Value}]`), replacing the value of a key already there.
    pub fn tag(&mut self, tags: &[Value]) {
        let list = self.tags.get_or_insert_with(Vec::new);
        for t in tags {
            let key = t.get("Key").and_then(Value::as_str).unwrap_or_default().to_string();
            let value = t.get("Value").and_then(Value::as_str).unwrap_or_default().to_string();
            match list.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => list.push((key, value)),
            }
        }
    }

    /// Removes the tags with these keys.
    pub fn untag(&mut self, keys: &[Value]) {
        let list = self.tags.get_or_insert_with(Vec::new);
        list.retain(|(k, _)| !keys.iter().any(|key| key.as_str() == Some(k)));
    }

    /// The `Tags` member of DescribeSecret and ListSecrets, if the secret was ever tagged.
    pub fn tags_json(&self) -> Option<Value> {
        self.tags.as_ref().map(|list| list.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
    }

    /// Whether a tag key (`key == true`) or value starts with `prefix` (case-sensitive).
    pub fn has_tag_prefix(&self, prefix: &str, key: bool) -> bool {
        self.tags.iter().flatten().any(|(k, v)| if key { k.starts_with(prefix) } else { v.starts_with(prefix) })
    }

    /// Applies one of [`CHANGES`] (its input already checked against the service model).
    pub fn change(&mut self, op: &str, input: &Map<String, Value>) -> Result<(), WireError> {
        let list = |member: &str| input.get(member).and_then(Value::as_array).cloned().unwrap_or_default();
        match op {
            "TagResource" => self.tag(&list("Tags")),
            "UntagResource" => self.untag(&list("TagKeys")),
            "PutResourcePolicy" => {
                let policy = input.get("ResourcePolicy").and_then(Value::as_str).unwrap_or_default();
                check_policy(policy)?;
                if input.get("BlockPublicPolicy").and_then(Value::as_bool) == Some(true) && is_public(policy) {
                    return Err(WireError::client("PublicPolicyException", "This resource policy is public."));
                }
                self.policy = Some(policy.to_string());
            }
            "DeleteResourcePolicy" => self.policy = None,
            _ => return Err(WireError::unknown_operation()),
        }
        Ok(())
    }
}

/// A resource policy must be a JSON object (AWS's policy grammar is not checked further).
pub fn check_policy(policy: &str) -> Result<(), WireError> {
    match serde_json::from_str::<Value>(policy) {
        Ok(Value::Object(_)) => Ok(()),
        _ => {
            Err(WireError::client("MalformedPolicyDocumentException", "This resource policy contains a syntax error."))
        }
    }
}

/// Whether an Allow statement of the policy names every principal (`"*"` or `{"AWS": "*"}`).
fn is_public(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && match s.get("Principal") {
                Some(p @ Value::String(_)) => star(p),
                Some(Value::Object(o)) => o.get("AWS").is_some_and(star),
                _ => false,
            }
    })
}

/// ValidateResourcePolicy's answer for a policy that parses.
pub fn validate_policy(input: &Map<String, Value>) -> Result<Value, WireError> {
    let policy = input.get("ResourcePolicy").and_then(Value::as_str).unwrap_or_default();
    check_policy(policy)?;
    Ok(json!({"PolicyValidationPassed": true, "ValidationErrors": []}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_keep_their_order_and_an_emptied_list_stays_present() {
        let mut m = Meta::default();
        assert_eq!(m.tags_json(), None);
        m.tag(&[json!({"Key": "a", "Value": "1"}), json!({"Key": "b", "Value": "2"})]);
        m.tag(&[json!({"Key": "a", "Value": "3"})]);
        assert_eq!(m.tags_json(), Some(json!([{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}])));
        m.untag(&[json!("a"), json!("b")]);
        assert_eq!(m.tags_json(), Some(json!([])));
    }

    #[test]
    fn policies_must_be_json_and_public_ones_can_be_blocked() {
        let mut m = Meta::default();
        let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        let mut input = Map::new();
        input.insert("ResourcePolicy".into(), json!("not json"));
        assert_eq!(m.change("PutResourcePolicy", &input).unwrap_err().code, "MalformedPolicyDocumentException");
        input.insert("ResourcePolicy".into(), json!(public));
        m.change("PutResourcePolicy", &input).unwrap();
        assert_eq!(m.policy.as_deref(), Some(public));
        input.insert("BlockPublicPolicy".into(), json!(true));
        assert_eq!(m.change("PutResourcePolicy", &input).unwrap_err().code, "PublicPolicyException");
        m.change("DeleteResourcePolicy", &Map::new()).unwrap();
        assert_eq!(m.policy, None);
    }
}
