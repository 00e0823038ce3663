//! GetRandomPassword with every parameter of the service model and its documented defaults:
//! length 32 (1..4096), upper and lower case letters, digits and the punctuation
//! ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``, no space unless `IncludeSpace`, and at least one
//! character of every included type unless `RequireEachIncludedType` is false.

use crate::random;
use crate::wire::WireError;
use serde_json::{json, Map, Value};

/// The punctuation AWS draws from.
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn flag(input: &Map<String, Value>, key: &str, default: bool) -> bool {
    input.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// GetRandomPassword (its input already checked against the service model).
pub fn get_random_password(input: &Map<String, Value>) -> Result<Value, WireError> {
    let length = input.get("PasswordLength").and_then(Value::as_i64).unwrap_or(32);
    if !(1..=4096).contains(&length) {
        return Err(WireError::client("InvalidParameterException", "The PasswordLength must be between 1 and 4096."));
    }
    let exclude: Vec<char> = input.get("ExcludeCharacters").and_then(Value::as_str).unwrap_or("").chars().collect();
    let keep = |set: &str| -> Vec<char> { set.chars().filter(|c| !exclude.contains(c)).collect() };
    let mut classes: Vec<Vec<char>> = Vec::new();
    if !flag(input, "ExcludeUppercase", false) {
        classes.push(keep("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    }
    if !flag(input, "ExcludeLowercase", false) {
        classes.push(keep("abcdefghijklmnopqrstuvwxyz"));
    }
    if !flag(input, "ExcludeNumbers", false) {
        classes.push(keep("0123456789"));
    }
    if !flag(input, "ExcludePunctuation", false) {
        classes.push(keep(PUNCTUATION));
    }
    if flag(input, "IncludeSpace", false) {
        classes.push(keep(" "));
    }
    classes.retain(|c| !c.is_empty());
    if classes.is_empty() {
        return Err(WireError::client(
            "InvalidParameterException",
            "The password cannot be generated: every character type is excluded.",
        ));
    }
    let length = length as usize;
    let require_each = flag(input, "RequireEachIncludedType", true);
    if require_each && length < classes.len() {
        return Err(WireError::client(
            "InvalidParameterException",
            "The PasswordLength is too short to include a character of every included type.",
        ));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut chars: Vec<char> = Vec::with_capacity(length);
    if require_each {
        for c in &classes {
            chars.push(random::pick(c));
        }
    }
    while chars.len() < length {
        chars.push(random::pick(&all));
    }
    random::shuffle(&mut chars);
    Ok(json!({ "RandomPassword": chars.into_iter().collect::<String>() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(input: Value) -> Result<String, WireError> {
        let Value::Object(o) = input else { unreachable!() };
        get_random_password(&o).map(|v| v["RandomPassword"].as_str().unwrap_or_default().to_string())
    }

    #[test]
    fn defaults_are_32_characters_of_every_type() {
        for _ in 0..50 {
            let p = gen(json!({})).unwrap();
            assert_eq!(p.chars().count(), 32);
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
            assert!(!p.contains(' '));
        }
    }

    #[test]
    fn exclusions_and_space_are_honoured() {
        let p = gen(json!({"PasswordLength": 200, "ExcludePunctuation": true, "ExcludeCharacters": "aeiouAEIOU0", "IncludeSpace": true})).unwrap();
        assert_eq!(p.chars().count(), 200);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '));
        assert!(!p.chars().any(|c| "aeiouAEIOU0".contains(c)));
        assert!(p.contains(' '));
        let e = gen(json!({"ExcludeUppercase": true, "ExcludeLowercase": true, "ExcludeNumbers": true, "ExcludePunctuation": true})).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert_eq!(gen(json!({"PasswordLength": 1, "RequireEachIncludedType": false})).unwrap().len(), 1);
        assert!(gen(json!({"PasswordLength": 2})).is_err());
    }
}
