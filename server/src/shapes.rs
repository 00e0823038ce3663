//! The service model (botocore's `secretsmanager` service-2.json, embedded from `docs/spec/`) and the
//! checks AWS's front end makes on an input before the operation runs:
//!
//! - a member of the wrong JSON type is a `SerializationException`;
//! - a missing required member, or a value outside an enum, is a `ValidationException` in the
//!   front end's wording (`1 validation error detected: Value null at 'secretId' failed to
//!   satisfy constraint: Member must not be null`);
//! - members the service model does not know are dropped (AWS ignores them), and `null` members
//!   count as absent.
//!
//! Length and range constraints are checked here only when asked ([`Limits::Check`]): for the
//! operations the model serves, the model itself answers them with the codes it knows.

use crate::wire::WireError;
use serde_json::{Map, Value};
use std::sync::OnceLock;

const SERVICE_JSON: &str = include_str!("../../docs/spec/botocore-secretsmanager-service-2.json");

/// Whether to check `min`/`max` of strings, lists and numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limits {
    Check,
    Skip,
}

fn service() -> Option<&'static Value> {
    static SERVICE: OnceLock<Option<Value>> = OnceLock::new();
    SERVICE.get_or_init(|| serde_json::from_str(SERVICE_JSON).ok()).as_ref()
}

fn shape(name: &str) -> Option<&'static Value> {
    service()?.get("shapes")?.get(name)
}

/// Every operation of the service model.
pub fn operations() -> Vec<&'static str> {
    service()
        .and_then(|s| s.get("operations"))
        .and_then(Value::as_object)
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The input shape name of `op`, if the service model has the operation.
fn input_shape(op: &str) -> Option<&'static str> {
    service()?.get("operations")?.get(op)?.get("input")?.get("shape")?.as_str()
}

/// Checks `input` (the request body) against `op`'s input shape and returns it with unknown and
/// `null` members removed.
pub fn check_input(op: &str, input: Value, limits: Limits) -> Result<Map<String, Value>, WireError> {
    let Some(shape_name) = input_shape(op) else {
        return Err(WireError::unknown_operation());
    };
    match check(shape_name, input, "", limits)? {
        Some(Value::Object(o)) => Ok(o),
        _ => Ok(Map::new()),
    }
}

/// The member name as the front end reports it in a path: lower camel case.
fn path_name(member: &str) -> String {
    let mut c = member.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        path_name(member)
    } else {
        format!("{path}.{}", path_name(member))
    }
}

fn wrong_type(path: &str, expected: &str) -> WireError {
    let at = if path.is_empty() { "the request body".to_string() } else { format!("'{path}'") };
    WireError::serialization(format!("Unexpected value type at {at}: expected {expected}"))
}

fn violation(value: &str, path: &str, constraint: &str) -> WireError {
    WireError::validation(format!(
        "1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: {constraint}"
    ))
}

fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => format!("'{other}'"),
    }
}

fn check(shape_name: &str, value: Value, path: &str, limits: Limits) -> Result<Option<Value>, WireError> {
    if value.is_null() {
        return Ok(None);
    }
    let Some(s) = shape(shape_name) else {
        return Ok(Some(value));
    };
    let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
    let min = s.get("min").and_then(Value::as_f64);
    let max = s.get("max").and_then(Value::as_f64);
    let checked = limits == Limits::Check;
    match kind {
        "structure" => {
            let Value::Object(o) = value else {
                return Err(wrong_type(path, "an object"));
            };
            let members = s.get("members").and_then(Value::as_object);
            let mut out = Map::new();
            for (k, v) in o {
                let Some(m) = members.and_then(|ms| ms.get(&k)) else {
                    continue;
                };
                let member_shape = m.get("shape").and_then(Value::as_str).unwrap_or("");
                if let Some(v) = check(member_shape, v, &join(path, &k), limits)? {
                    out.insert(k, v);
                }
            }
            for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
                if let Some(r) = r.as_str() {
                    if !out.contains_key(r) {
                        return Err(violation("null", &join(path, r), "Member must not be null"));
                    }
                }
            }
            Ok(Some(Value::Object(out)))
        }
        "list" => {
            let Value::Array(items) = value else {
                return Err(wrong_type(path, "a list"));
            };
            if checked {
                let n = items.len() as f64;
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Err(violation(&format!("'{}'", items.len()), path, &length_constraint(min, max, "length")));
                }
            }
            let member_shape = s.get("member").and_then(|m| m.get("shape")).and_then(Value::as_str).unwrap_or("");
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let p = format!("{path}.{}.member", i + 1);
                if let Some(v) = check(member_shape, item, &p, limits)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        "map" => {
            let Value::Object(o) = value else {
                return Err(wrong_type(path, "a map"));
            };
            let value_shape = s.get("value").and_then(|m| m.get("shape")).and_then(Value::as_str).unwrap_or("");
            let mut out = Map::new();
            for (k, v) in o {
                if let Some(v) = check(value_shape, v, path, limits)? {
                    out.insert(k, v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        "string" => {
            let Value::String(text) = &value else {
                return Err(wrong_type(path, "a string"));
            };
            if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
                if !allowed.iter().any(|a| a.as_str() == Some(text)) {
                    let set: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    return Err(violation(
                        &quoted(&value),
                        path,
                        &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
                    ));
                }
            }
            if checked {
                let n = text.chars().count() as f64;
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Err(violation(&quoted(&value), path, &length_constraint(min, max, "length")));
                }
            }
            Ok(Some(value))
        }
        "blob" => match value {
            Value::String(_) => Ok(Some(value)),
            _ => Err(wrong_type(path, "a base64-encoded string")),
        },
        "boolean" => match value {
            Value::Bool(_) => Ok(Some(value)),
            _ => Err(wrong_type(path, "a boolean")),
        },
        "integer" | "long" => {
            let Some(n) = value.as_i64() else {
                return Err(wrong_type(path, "an integer"));
            };
            if checked {
                let f = n as f64;
                if min.is_some_and(|m| f < m) {
                    return Err(violation(
                        &quoted(&value),
                        path,
                        &format!("Member must have value greater than or equal to {}", min.unwrap_or(0.0)),
                    ));
                }
                if max.is_some_and(|m| f > m) {
                    return Err(violation(
                        &quoted(&value),
                        path,
                        &format!("Member must have value less than or equal to {}", max.unwrap_or(0.0)),
                    ));
                }
            }
            Ok(Some(value))
        }
        "timestamp" => match value {
            Value::Number(_) | Value::String(_) => Ok(Some(value)),
            _ => Err(wrong_type(path, "a timestamp")),
        },
        _ => Ok(Some(value)),
    }
}

fn length_constraint(min: Option<f64>, max: Option<f64>, what: &str) -> String {
    match (min, max) {
        (Some(a), None) => format!("Member must have {what} greater than or equal to {a}"),
        (None, Some(b)) => format!("Member must have {what} less than or equal to {b}"),
        (Some(a), Some(b)) => format!("Member must have {what} between {a} and {b}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_embedded_service_model_loads() {
        assert!(operations().contains(&"ListSecrets"));
        assert!(operations().contains(&"GetRandomPassword"));
    }

    #[test]
    fn unknown_and_null_members_are_dropped() {
        let o =
            check_input("DescribeSecret", json!({"SecretId": "s", "Bogus": 1, "Other": null}), Limits::Skip).unwrap();
        assert_eq!(Value::Object(o), json!({"SecretId": "s"}));
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let e = check_input("DescribeSecret", json!({"SecretId": 5}), Limits::Skip).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        let e = check_input("ListSecrets", json!({"MaxResults": "3"}), Limits::Skip).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        let e =
            check_input("ListSecrets", json!({"Filters": [{"Key": "name", "Values": "x"}]}), Limits::Skip).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn missing_required_members_and_bad_enums_are_validation_errors() {
        let e = check_input("GetSecretValue", json!({}), Limits::Skip).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.unwrap().contains("'secretId'"));
        let e = check_input("ListSecrets", json!({"SortOrder": "up"}), Limits::Skip).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let e = check_input("ListSecrets", json!({"MaxResults": 0}), Limits::Check).unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }
}
