//! Secret names on a target: every case uses fresh physical names, `<run prefix><case>-<logical>`,
//! so cases never collide and the harness never touches a secret outside its prefix. Requests go
//! out with physical names; everything that comes back (names, ARNs with their random suffix,
//! error messages) is mapped to logical names and the model's logical ARN before comparison.

use serde_json::Value;
use sm_model::state::logical_arn;
use sm_model::Request;

/// The characters AWS allows in a secret name.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// Physical names of one case.
#[derive(Debug)]
pub struct CaseNames {
    /// Prepended to every logical name.
    pub prefix: String,
    /// The full ARN the target reported for each physical name (learned from its answers), so a
    /// request that names a secret by its logical ARN can go out with the target's real one.
    arns: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Clone for CaseNames {
    fn clone(&self) -> Self {
        let arns = self.arns.lock().map(|m| m.clone()).unwrap_or_default();
        CaseNames { prefix: self.prefix.clone(), arns: std::sync::Mutex::new(arns) }
    }
}

impl PartialEq for CaseNames {
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix
    }
}

impl Eq for CaseNames {}

/// The model's logical ARNs (and the model target's answers) carry these placeholders and no
/// random suffix.
const LOGICAL_ARN_START: &str = "arn:aws:secretsmanager:<region>:<account>:secret:";

impl CaseNames {
    pub fn new(prefix: impl Into<String>) -> Self {
        CaseNames { prefix: prefix.into(), arns: Default::default() }
    }

    /// The physical name of a logical one.
    pub fn physical(&self, logical: &str) -> String {
        format!("{}{}", self.prefix, logical)
    }

    /// The request with its secret name made physical. A `SecretId` given as a logical ARN goes
    /// out as the ARN the target reported for that secret (or, before it reported one, the
    /// logical ARN of the physical name, which the model target understands).
    pub fn to_physical(&self, req: &Request) -> Request {
        let mut r = req.clone();
        let id = r.secret_id_mut();
        *id = match id.strip_prefix(LOGICAL_ARN_START) {
            Some(name) => {
                let physical = self.physical(name);
                let known = self.arns.lock().ok().and_then(|m| m.get(&physical).cloned());
                known.unwrap_or_else(|| logical_arn(&physical))
            }
            None => self.physical(id),
        };
        r
    }

    /// Maps every string inside `v` back to logical names and ARNs.
    pub fn to_logical(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.logical_str(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.to_logical(x)).collect()),
            Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, self.to_logical(x))).collect()),
            other => other,
        }
    }

    /// Rewrites ARNs of this case's secrets (`arn:<partition>:secretsmanager:<region>:<account>:
    /// secret:<prefix><name>-<6 chars>`, suffix optional) to the model's logical ARN, and strips
    /// the prefix from bare names.
    pub fn logical_str(&self, s: &str) -> String {
        let marker = format!(":secret:{}", self.prefix);
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find(&marker) {
            let Some(arn_start) = rest[..at].rfind("arn:") else {
                out.push_str(&rest[..at + marker.len()]);
                rest = &rest[at + marker.len()..];
                continue;
            };
            out.push_str(&rest[..arn_start]);
            let after = &rest[at + marker.len()..];
            let name_len = after.find(|c: char| !name_char(c)).unwrap_or(after.len());
            let mut name = &after[..name_len];
            // A trailing '.' ends a sentence, not a name.
            let mut name_end = name_len;
            while name.ends_with('.') {
                name = &name[..name.len() - 1];
                name_end -= 1;
            }
            let arn = &rest[arn_start..at + marker.len() + name_end];
            let logical = if arn.starts_with(LOGICAL_ARN_START) { name } else { strip_suffix(name) };
            if let Ok(mut m) = self.arns.lock() {
                m.insert(format!("{}{logical}", self.prefix), arn.to_string());
            }
            out.push_str(&logical_arn(logical));
            rest = &after[name_end..];
        }
        out.push_str(rest);
        out.replace(&self.prefix, "")
    }
}

/// Drops AWS's random `-XXXXXX` ARN suffix from a name, when it has one.
fn strip_suffix(name: &str) -> &str {
    let bytes = name.as_bytes();
    if bytes.len() > 7
        && bytes[bytes.len() - 7] == b'-'
        && bytes[bytes.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
    {
        &name[..name.len() - 7]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_names_map_back() {
        let n = CaseNames::new("smc-ab12-c3-");
        assert_eq!(
            n.logical_str("arn:aws:secretsmanager:us-east-1:123456789012:secret:smc-ab12-c3-s1-AbC123"),
            logical_arn("s1")
        );
        assert_eq!(n.logical_str("smc-ab12-c3-s1"), "s1");
        assert_eq!(
            n.logical_str("already in use for a version of secret arn:aws:secretsmanager:eu-west-1:1:secret:smc-ab12-c3-s0-xyzXYZ."),
            format!("already in use for a version of secret {}.", logical_arn("s0"))
        );
        // The model target reports the logical ARN of the physical name, without a suffix.
        assert_eq!(n.logical_str(&logical_arn("smc-ab12-c3-s2")), logical_arn("s2"));
        // Strings that mention nothing of the case are untouched.
        assert_eq!(
            n.logical_str("arn:aws:secretsmanager:r:1:secret:other-s1-AbC123"),
            "arn:aws:secretsmanager:r:1:secret:other-s1-AbC123"
        );
    }

    #[test]
    fn requests_get_physical_names() {
        let n = CaseNames::new("p-");
        let r = Request::from_parts("DescribeSecret", serde_json::json!({"SecretId": "s1"})).unwrap();
        assert_eq!(n.to_physical(&r).secret_id(), "p-s1");
    }

    #[test]
    fn logical_arns_go_out_as_the_targets_arn() {
        let n = CaseNames::new("p-");
        let by_arn = Request::from_parts("DescribeSecret", serde_json::json!({"SecretId": logical_arn("s1")})).unwrap();
        assert_eq!(n.to_physical(&by_arn).secret_id(), logical_arn("p-s1"), "before the target reported one");
        n.logical_str("arn:aws:secretsmanager:us-east-1:1:secret:p-s1-AbC123");
        assert_eq!(n.to_physical(&by_arn).secret_id(), "arn:aws:secretsmanager:us-east-1:1:secret:p-s1-AbC123");
    }

    #[test]
    fn names_ending_like_a_suffix_survive_the_model_target() {
        let n = CaseNames::new("p-");
        assert_eq!(n.logical_str(&logical_arn("p-Name-a1b2c3")), logical_arn("Name-a1b2c3"));
        assert_eq!(n.logical_str("arn:aws:secretsmanager:r:1:secret:p-Name-a1b2c3-XyZ123"), logical_arn("Name-a1b2c3"));
    }
}
