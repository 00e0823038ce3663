//! Errors as awsJson1.1 carries them: an HTTP status, a JSON body `{"__type": CODE, "Message":
//! TEXT}` (semantics.md §3.1; the SDKs read the code from `__type`), and the front-end errors AWS
//! gives before an operation runs (unknown operation, unreadable body, invalid members).

use serde_json::{Map, Value};

/// The content type of every awsJson1.1 body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status: 400 for every client error, as AWS answers them.
    pub status: u16,
    /// The error code, sent as `__type`.
    pub code: String,
    /// The message, sent as `Message` (AWS sends none for an unknown operation).
    pub message: Option<String>,
}

impl WireError {
    /// A client error (HTTP 400) with a message.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        WireError { status: 400, code: code.to_string(), message: Some(message.into()) }
    }

    /// What AWS answers for an operation it does not serve, or a request without a usable
    /// `X-Amz-Target`: HTTP 400 with `__type` `UnknownOperationException` and no message.
    pub fn unknown_operation() -> Self {
        WireError { status: 400, code: "UnknownOperationException".into(), message: None }
    }

    /// A body that is not JSON, or a member of the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        WireError::client("SerializationException", message)
    }

    /// A member that breaks a constraint of the service model (required, enum, range), in the
    /// wording of AWS's front end.
    pub fn validation(message: impl Into<String>) -> Self {
        WireError::client("ValidationException", message)
    }

    /// A fault of the server itself (HTTP 500), e.g. the journal could not be written.
    pub fn internal(message: impl Into<String>) -> Self {
        WireError { status: 500, code: "InternalServiceError".into(), message: Some(message.into()) }
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let mut o = Map::new();
        o.insert("__type".into(), Value::String(self.code.clone()));
        if let Some(m) = &self.message {
            o.insert("Message".into(), Value::String(m.clone()));
        }
        Value::Object(o).to_string().into_bytes()
    }
}

/// A complete answer: status and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// A success with `value` as the body.
    pub fn ok(value: &Value) -> Self {
        Answer { status: 200, body: value.to_string().into_bytes() }
    }
}

impl From<WireError> for Answer {
    fn from(e: WireError) -> Self {
        Answer { status: e.status, body: e.body() }
    }
}

/// The region in a SigV4 `Authorization` header's credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), if there is one.
pub fn region_from_authorization(header: &str) -> Option<String> {
    let start = header.find("Credential=")? + "Credential=".len();
    let scope = header[start..].split([',', ' ']).next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    // The access key id cannot contain '/', so the region is the third part.
    let region = parts.get(2)?;
    let valid =
        !region.is_empty() && region.len() <= 64 && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| region.to_string())
}

/// The operation named by an `X-Amz-Target` header (`secretsmanager.<Operation>`).
pub fn operation_from_target(target: &str) -> Option<&str> {
    let op = target.strip_prefix("secretsmanager.")?;
    (!op.is_empty() && op.chars().all(|c| c.is_ascii_alphanumeric())).then_some(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-3/secretsmanager/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(region_from_authorization(h).as_deref(), Some("eu-west-3"));
        assert_eq!(region_from_authorization("Bearer x"), None);
        assert_eq!(region_from_authorization("Credential=A/B"), None);
        assert_eq!(region_from_authorization("Credential=A/B/<bad>/s/aws4_request"), None);
    }

    #[test]
    fn error_body_has_type_and_message() {
        let e = WireError::client("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        let v: Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(v["Message"], "Secrets Manager can't find the specified secret.");
        let u: Value = serde_json::from_slice(&WireError::unknown_operation().body()).unwrap();
        assert_eq!(u, serde_json::json!({"__type": "UnknownOperationException"}));
    }

    #[test]
    fn target_names_the_operation() {
        assert_eq!(operation_from_target("secretsmanager.GetSecretValue"), Some("GetSecretValue"));
        assert_eq!(operation_from_target("kms.Decrypt"), None);
        assert_eq!(operation_from_target("secretsmanager."), None);
    }
}
