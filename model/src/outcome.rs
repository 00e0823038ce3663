//! What the model says a request must produce: either a response (a JSON object in AWS's member
//! names, read as a subset match: a member given must match, a member given as `null` must be
//! absent, the string [`ANY`] matches any present value) or an error (AWS error code, plus the exact
//! message where the message is known). Every outcome lists the rules that produced it.

use crate::response::Response;
use crate::rules::Rule;
use serde_json::Value;

/// A member value that matches any present value (used for dates and other values the model
/// does not predict, such as the random ARN suffix).
pub const ANY: &str = "<any>";

/// An error as AWS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The AWS error code, e.g. `ResourceNotFoundException`.
    pub code: String,
    /// The message the model expects. Compared only when `message_known` is true.
    pub message: String,
    /// Whether `message` is AWS's exact text ([S] or [V] in `semantics.md`); otherwise it is the
    /// model's best reading and only the code is compared.
    pub message_known: bool,
}

impl ApiError {
    /// An error whose exact message is recorded from AWS or stated by AWS.
    pub fn exact(code: &str, message: impl Into<String>) -> Self {
        ApiError { code: code.to_string(), message: message.into(), message_known: true }
    }
    /// An error whose code is the documented/inferred reading but whose text is not known.
    pub fn code_only(code: &str, message: impl Into<String>) -> Self {
        ApiError { code: code.to_string(), message: message.into(), message_known: false }
    }
}

/// The result part of an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A successful response, as a subset-match expectation (see the module docs).
    Ok(Response),
    /// An error response.
    Err(ApiError),
}

impl Expect {
    /// A success expecting `response` (built now).
    pub fn ok(response: Value) -> Self {
        Expect::Ok(response.into())
    }

    /// The trace-format rendering: `{"ok": {...}}` or `{"error": {"code", "message"?}}`.
    pub fn to_json(&self) -> Value {
        match self {
            Expect::Ok(v) => serde_json::json!({ "ok": v.value() }),
            Expect::Err(e) if e.message_known => {
                serde_json::json!({ "error": { "code": e.code, "message": e.message } })
            }
            Expect::Err(e) => serde_json::json!({ "error": { "code": e.code } }),
        }
    }

    /// A one-line summary, for step tables.
    pub fn summary(&self) -> String {
        match self {
            Expect::Ok(v) => format!("ok {}", crate::narrative::compact(v)),
            Expect::Err(e) if e.message_known => format!("{}: {}", e.code, e.message),
            Expect::Err(e) => format!("{} (text unverified: {})", e.code, e.message),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Expect::Ok(_))
    }
}

/// One possible outcome of a request, with the rules that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub expect: Expect,
    /// The rules consulted, in the order they fired; the last one decided an error.
    pub rules: Vec<&'static Rule>,
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        self.expect.is_ok()
    }
    /// The error code, if this outcome is an error.
    pub fn error_code(&self) -> Option<&str> {
        match &self.expect {
            Expect::Err(e) => Some(&e.code),
            Expect::Ok(_) => None,
        }
    }
    /// The response object, if this outcome is a success.
    pub fn response(&self) -> Option<&Value> {
        match &self.expect {
            Expect::Ok(v) => Some(v.value()),
            Expect::Err(_) => None,
        }
    }
    /// The rule ids, comma separated.
    pub fn rule_ids(&self) -> String {
        let mut ids: Vec<&str> = self.rules.iter().map(|r| r.id).collect();
        ids.dedup();
        ids.join(", ")
    }
}
