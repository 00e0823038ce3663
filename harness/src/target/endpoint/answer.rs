//! Whether a raw HTTP response is an answer to its operation at all, checked before the SDK
//! reads it. The SDK reads an empty `200` as an output with every member absent and an empty
//! `4xx` as an error without a message; either would then be compared with the model and
//! reported as a divergence. [`ResponseCheck`] is an SDK interceptor that fails such a response
//! instead, so that it becomes a fault ([`crate::target::FaultKind::Malformed`]):
//!
//! - a body over the size limit (by its Content-Length, or while it is read);
//! - a `2xx` body that is not a JSON object, or that has none of the members that identify its
//!   operation's output ([`identifying_members`]: `ARN` or `Name` for every operation on one
//!   secret, which all output both, see `docs/spec/botocore-secretsmanager-service-2.json`;
//!   `SecretList` for ListSecrets);
//! - a `4xx` (other than 429) whose body is empty or not a JSON object, or that carries no error
//!   code (no `__type` or `code` in the body, no `x-amzn-errortype` header).
//!
//! `5xx` and `429` responses are left to the fault classification ([`super::faults`]): they are
//! faults whatever their body says.

use aws_sdk_secretsmanager::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextMut,
};
use aws_sdk_secretsmanager::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::body::SdkBody;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Default upper bound on one response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// A response that is not an answer to its operation.
#[derive(Debug, thiserror::Error)]
#[error("malformed response: {0}")]
pub struct Malformed(pub String);

/// The interceptor: limits the body's size and checks its shape.
#[derive(Debug)]
pub(super) struct ResponseCheck {
    pub max_bytes: usize,
}

impl Intercept for ResponseCheck {
    fn name(&self) -> &'static str {
        "smconform-response-check"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let declared = response.headers().get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = declared.filter(|len| *len > self.max_bytes as u64) {
            return Err(Box::new(Malformed(format!(
                "a {len}-byte body is over the {}-byte response limit",
                self.max_bytes
            ))));
        }
        // A body without a (truthful) Content-Length is cut off at the limit while it is read.
        let body = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(http_body_util::Limited::new(body, self.max_bytes));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        let body = response.body().bytes().unwrap_or_default();
        let error_type = response.headers().get("x-amzn-errortype").is_some_and(|v| !v.trim().is_empty());
        let operation = cfg.load::<Metadata>().map(Metadata::name).unwrap_or_default();
        match check(operation, status, body, error_type) {
            Ok(()) => Ok(()),
            Err(why) => Err(Box::new(Malformed(why))),
        }
    }
}

/// The output members of which a successful answer to `operation` has at least one (none for an
/// operation the suite does not know: any JSON object then).
pub fn identifying_members(operation: &str) -> &'static [&'static str] {
    match operation {
        "ListSecrets" => &["SecretList"],
        "CreateSecret"
        | "PutSecretValue"
        | "UpdateSecret"
        | "UpdateSecretVersionStage"
        | "GetSecretValue"
        | "DescribeSecret"
        | "ListSecretVersionIds"
        | "RotateSecret"
        | "CancelRotateSecret"
        | "DeleteSecret"
        | "RestoreSecret"
        | "TagResource"
        | "UntagResource" => &["ARN", "Name"],
        _ => &[],
    }
}

/// Checks one response to `operation`: `Err` says why it is not an answer.
pub fn check(operation: &str, status: u16, body: &[u8], error_type_header: bool) -> Result<(), String> {
    let describe = |body: &[u8]| -> String {
        if body.is_empty() {
            return "an empty body".into();
        }
        let text: String = String::from_utf8_lossy(body).chars().take(60).collect();
        format!("{} bytes ({text:?}…)", body.len())
    };
    let parsed = || serde_json::from_slice::<Value>(body);
    match status {
        200..=299 => match parsed() {
            Ok(Value::Object(o)) => {
                let members = identifying_members(operation);
                if members.is_empty() || members.iter().any(|m| o.contains_key(*m)) {
                    Ok(())
                } else {
                    Err(format!(
                        "HTTP {status} answer to {operation} without any of {}: {}",
                        members.join(", "),
                        describe(body)
                    ))
                }
            }
            Ok(_) => Err(format!("HTTP {status} with JSON that is not an object: {}", describe(body))),
            Err(_) => Err(format!("HTTP {status} with a body that is not JSON: {}", describe(body))),
        },
        429 | 500.. => Ok(()),
        400..=499 => {
            let code = match parsed() {
                Ok(Value::Object(o)) => ["__type", "code", "Code"]
                    .iter()
                    .any(|k| o.get(*k).and_then(Value::as_str).is_some_and(|c| !c.is_empty())),
                Ok(_) => return Err(format!("HTTP {status} with JSON that is not an object: {}", describe(body))),
                // Secrets Manager's errors always have a body; an empty one is a cut answer, even
                // with an error type in a header (the SDK would read it as a message-less error).
                Err(_) if body.is_empty() => {
                    return Err(format!("HTTP {status} error with an empty body"));
                }
                Err(_) => return Err(format!("HTTP {status} with a body that is not JSON: {}", describe(body))),
            };
            if code || error_type_header {
                Ok(())
            } else {
                Err(format!("HTTP {status} error without an error code: {}", describe(body)))
            }
        }
        _ => Err(format!("unexpected HTTP status {status}: {}", describe(body))),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn answers_and_non_answers() {
        let check = |status, body, header| super::check("GetSecretValue", status, body, header);
        assert!(check(200, br#"{"ARN": "a", "Name": "n"}"#, false).is_ok());
        assert!(check(200, br#"{"Name": "n"}"#, false).is_ok());
        assert!(super::check("ListSecrets", 200, br#"{"SecretList": []}"#, false).is_ok());
        assert!(super::check("ListSecrets", 200, b"{}", false).is_err());
        assert!(super::check("FrobnicateSecret", 200, b"{}", false).is_ok());
        for (status, body) in [
            (200, &b""[..]),
            (200, b"{}"),
            (200, br#"{"ARN": "a", "Na"#),
            (200, b"[1]"),
            (200, b"<html>"),
            (400, b"{}"),
            (400, b""),
            (400, br#"{"__type": "ResourceNotFoun"#),
            (404, br#"{"message": "x"}"#),
            (302, b""),
        ] {
            assert!(check(status, body, false).is_err(), "{status} {:?}", String::from_utf8_lossy(body));
        }
        assert!(check(400, br#"{"__type": "ResourceNotFoundException"}"#, false).is_ok());
        assert!(check(400, br#"{"message": "from header"}"#, true).is_ok());
        assert!(check(400, b"", true).is_err(), "an empty error body is cut, whatever the headers say");
        // Faults whatever their body says.
        assert!(check(500, b"", false).is_ok());
        assert!(check(429, b"", false).is_ok());
    }
}
