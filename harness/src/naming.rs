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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseNames {
    /// Prepended to every logical name.
    pub prefix: String,
}

impl CaseNames {
    pub fn new(prefix: impl Into<String>) -> Self {
        CaseNames { prefix: prefix.into() }
    }

    /// The physical name of a logical one.
    pub fn physical(&self, logical: &str) -> String {
        format!("{}{}", self.prefix, logical)
    }

    /// The request with its secret name made physical.
    pub fn to_physical(&self, req: &Request) -> Request {
        let mut r = req.clone();
        let id = r.secret_id_mut();
        *id = self.physical(id);
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
            out.push_str(&logical_arn(strip_suffix(name)));
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
}
