//! Real ARNs: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX`, where `XXXXXX` is six
//! random alphanumerics chosen when the secret is created. The model reports logical ARNs
//! (`arn:aws:secretsmanager:<region>:<account>:secret:NAME`); this module turns those into real
//! ones and turns a caller's `SecretId` (a name, a full ARN or a partial ARN without the suffix)
//! into the name the model knows.

use crate::random;
use serde_json::Value;
use std::collections::BTreeMap;

/// The prefix of every logical ARN the model reports.
pub const LOGICAL_PREFIX: &str = "arn:aws:secretsmanager:<region>:<account>:secret:";

const ALPHANUMERIC: [char; 62] = {
    let mut a = ['0'; 62];
    let mut i = 0;
    while i < 26 {
        a[i] = (b'a' + i as u8) as char;
        a[26 + i] = (b'A' + i as u8) as char;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        a[52 + d] = (b'0' + d as u8) as char;
        d += 1;
    }
    a
};

/// A fresh random suffix: six alphanumerics (without the `-`).
pub fn new_suffix() -> String {
    random::string(&ALPHANUMERIC, 6)
}

/// The secrets of one account and region, for building and resolving ARNs.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
    /// Suffix of each live secret, by name.
    pub suffixes: &'a BTreeMap<String, String>,
}

impl Scope<'_> {
    /// The ARN prefix of this account and region, up to and including `secret:`.
    pub fn prefix(&self) -> String {
        format!("arn:aws:secretsmanager:{}:{}:secret:", self.region, self.account)
    }

    /// The real ARN of `name`, if the secret exists.
    pub fn arn(&self, name: &str) -> Option<String> {
        self.suffixes.get(name).map(|s| format!("{}{name}-{s}", self.prefix()))
    }

    /// The name the model knows for `secret_id`: the name itself, or the name inside a full ARN
    /// (with the secret's current suffix) or a partial ARN (without it) of this account and
    /// region. Anything else is returned unchanged, so that the model answers it as unknown.
    pub fn resolve(&self, secret_id: &str) -> String {
        let Some(rest) = secret_id.strip_prefix(&self.prefix()) else {
            return secret_id.to_string();
        };
        // A full ARN first: NAME-SUFFIX with the suffix of the secret that now has NAME.
        if let Some((name, suffix)) = rest.rsplit_once('-') {
            if self.suffixes.get(name).is_some_and(|s| s == suffix) {
                return name.to_string();
            }
        }
        if self.suffixes.contains_key(rest) {
            return rest.to_string();
        }
        // Unknown: a name that cannot exist (it contains ':'), so the model says not found.
        secret_id.to_string()
    }

    /// Replaces every logical ARN in `value` (any string member, at any depth) by the real one.
    /// A logical ARN of a secret that does not exist (the answer to a forced deletion of an
    /// unknown secret) gets a fresh random suffix.
    pub fn translate(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix(LOGICAL_PREFIX) {
                    let real = self.arn(name).unwrap_or_else(|| format!("{}{name}-{}", self.prefix(), new_suffix()));
                    *s = real;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.translate(v)),
            Value::Object(o) => o.values_mut().for_each(|v| self.translate(v)),
            _ => {}
        }
    }

    /// Replaces the logical ARN of `name` inside a message (e.g. M6 names the secret's ARN).
    pub fn translate_message(&self, message: &str, name: &str) -> String {
        let logical = format!("{LOGICAL_PREFIX}{name}");
        match self.arn(name) {
            Some(real) => message.replace(&logical, &real),
            None => message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &BTreeMap<String, String>) -> Scope<'_> {
        Scope { region: "us-east-1", account: "123456789012", suffixes: s }
    }

    #[test]
    fn suffixes_are_six_alphanumerics() {
        for _ in 0..100 {
            let s = new_suffix();
            assert_eq!(s.len(), 6);
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn secret_ids_resolve_from_names_full_and_partial_arns() {
        let mut m = BTreeMap::new();
        m.insert("app/db".to_string(), "Ab12Cd".to_string());
        m.insert("x-abcdef".to_string(), "Zz99Zz".to_string());
        let s = scope(&m);
        let p = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
        assert_eq!(s.resolve("app/db"), "app/db");
        assert_eq!(s.resolve(&format!("{p}app/db-Ab12Cd")), "app/db");
        assert_eq!(s.resolve(&format!("{p}app/db")), "app/db");
        assert_eq!(s.resolve(&format!("{p}app/db-zzzzzz")), format!("{p}app/db-zzzzzz"));
        assert_eq!(s.resolve(&format!("{p}x-abcdef-Zz99Zz")), "x-abcdef");
        let other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-Ab12Cd";
        assert_eq!(s.resolve(other), other);
        let mut v = serde_json::json!({"ARN": format!("{LOGICAL_PREFIX}app/db"), "Name": "app/db"});
        s.translate(&mut v);
        assert_eq!(v["ARN"], format!("{p}app/db-Ab12Cd"));
    }
}
