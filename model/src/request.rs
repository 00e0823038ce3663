//! Requests the model understands: one struct per Secrets Manager operation, shaped exactly like the
//! AWS JSON API input (PascalCase members, `SecretBinary` as base64), so a trace's `input` object
//! deserialises straight into them and unknown members are rejected rather than silently ignored.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as base64 on the JSON wire (the `blob` type of the service model).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Blob)
            .map_err(|e| serde::de::Error::custom(format!("SecretBinary is not valid base64: {e}")))
    }
}

/// CreateSecret input (the members this model covers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateSecret {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<Blob>,
}

/// PutSecretValue input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PutSecretValue {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<Blob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_stages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_token: Option<String>,
}

/// UpdateSecret input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UpdateSecret {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<Blob>,
}

/// UpdateSecretVersionStage input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UpdateSecretVersionStage {
    pub secret_id: String,
    pub version_stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_from_version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_to_version_id: Option<String>,
}

/// GetSecretValue input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct GetSecretValue {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_stage: Option<String>,
}

/// Input of the operations that take only a `SecretId`
/// (DescribeSecret, CancelRotateSecret, RestoreSecret).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SecretIdOnly {
    pub secret_id: String,
}

/// ListSecretVersionIds input. With `MaxResults` the model answers one page of that many versions
/// in creation order and a `NextToken` of its own form (`page-<offset>`) when more remain; a
/// target's tokens are opaque, so the harness passes the target's own token on and compares
/// `NextToken` for presence only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ListSecretVersionIds {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_deprecated: Option<bool>,
}

/// RotationRules as RotateSecret takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RotationRules {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatically_after_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
}

/// RotateSecret input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RotateSecret {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN", skip_serializing_if = "Option::is_none")]
    pub rotation_lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_rules: Option<RotationRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_immediately: Option<bool>,
}

/// DeleteSecret input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeleteSecret {
    pub secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_window_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_delete_without_recovery: Option<bool>,
}

/// One request to Secrets Manager. The variant name is the AWS operation name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    CreateSecret(CreateSecret),
    PutSecretValue(PutSecretValue),
    UpdateSecret(UpdateSecret),
    UpdateSecretVersionStage(UpdateSecretVersionStage),
    GetSecretValue(GetSecretValue),
    DescribeSecret(SecretIdOnly),
    ListSecretVersionIds(ListSecretVersionIds),
    RotateSecret(RotateSecret),
    CancelRotateSecret(SecretIdOnly),
    DeleteSecret(DeleteSecret),
    RestoreSecret(SecretIdOnly),
}

/// Why an `(op, input)` pair is not a request the model understands.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("unknown operation {0:?} (known: {known})", known = Request::OPERATIONS.join(", "))]
    UnknownOperation(String),
    #[error("bad input for {op}: {reason}")]
    BadInput { op: String, reason: String },
}

impl Request {
    /// Every operation name the model covers, in the order of the enum.
    pub const OPERATIONS: [&'static str; 11] = [
        "CreateSecret",
        "PutSecretValue",
        "UpdateSecret",
        "UpdateSecretVersionStage",
        "GetSecretValue",
        "DescribeSecret",
        "ListSecretVersionIds",
        "RotateSecret",
        "CancelRotateSecret",
        "DeleteSecret",
        "RestoreSecret",
    ];

    /// The AWS operation name.
    pub fn op(&self) -> &'static str {
        match self {
            Request::CreateSecret(_) => "CreateSecret",
            Request::PutSecretValue(_) => "PutSecretValue",
            Request::UpdateSecret(_) => "UpdateSecret",
            Request::UpdateSecretVersionStage(_) => "UpdateSecretVersionStage",
            Request::GetSecretValue(_) => "GetSecretValue",
            Request::DescribeSecret(_) => "DescribeSecret",
            Request::ListSecretVersionIds(_) => "ListSecretVersionIds",
            Request::RotateSecret(_) => "RotateSecret",
            Request::CancelRotateSecret(_) => "CancelRotateSecret",
            Request::DeleteSecret(_) => "DeleteSecret",
            Request::RestoreSecret(_) => "RestoreSecret",
        }
    }

    /// The secret the request names (`Name` for CreateSecret, `SecretId` otherwise).
    pub fn secret_id(&self) -> &str {
        match self {
            Request::CreateSecret(i) => &i.name,
            Request::PutSecretValue(i) => &i.secret_id,
            Request::UpdateSecret(i) => &i.secret_id,
            Request::UpdateSecretVersionStage(i) => &i.secret_id,
            Request::GetSecretValue(i) => &i.secret_id,
            Request::DescribeSecret(i) | Request::CancelRotateSecret(i) | Request::RestoreSecret(i) => &i.secret_id,
            Request::ListSecretVersionIds(i) => &i.secret_id,
            Request::RotateSecret(i) => &i.secret_id,
            Request::DeleteSecret(i) => &i.secret_id,
        }
    }

    /// Mutable access to the secret the request names, for renaming (run prefixes).
    pub fn secret_id_mut(&mut self) -> &mut String {
        match self {
            Request::CreateSecret(i) => &mut i.name,
            Request::PutSecretValue(i) => &mut i.secret_id,
            Request::UpdateSecret(i) => &mut i.secret_id,
            Request::UpdateSecretVersionStage(i) => &mut i.secret_id,
            Request::GetSecretValue(i) => &mut i.secret_id,
            Request::DescribeSecret(i) | Request::CancelRotateSecret(i) | Request::RestoreSecret(i) => &mut i.secret_id,
            Request::ListSecretVersionIds(i) => &mut i.secret_id,
            Request::RotateSecret(i) => &mut i.secret_id,
            Request::DeleteSecret(i) => &mut i.secret_id,
        }
    }

    /// Builds a request from an operation name and its AWS-shaped JSON input.
    pub fn from_parts(op: &str, input: serde_json::Value) -> Result<Request, RequestError> {
        fn parse<T: serde::de::DeserializeOwned>(op: &str, input: serde_json::Value) -> Result<T, RequestError> {
            serde_json::from_value(input)
                .map_err(|e| RequestError::BadInput { op: op.to_string(), reason: e.to_string() })
        }
        Ok(match op {
            "CreateSecret" => Request::CreateSecret(parse(op, input)?),
            "PutSecretValue" => Request::PutSecretValue(parse(op, input)?),
            "UpdateSecret" => Request::UpdateSecret(parse(op, input)?),
            "UpdateSecretVersionStage" => Request::UpdateSecretVersionStage(parse(op, input)?),
            "GetSecretValue" => Request::GetSecretValue(parse(op, input)?),
            "DescribeSecret" => Request::DescribeSecret(parse(op, input)?),
            "ListSecretVersionIds" => Request::ListSecretVersionIds(parse(op, input)?),
            "RotateSecret" => Request::RotateSecret(parse(op, input)?),
            "CancelRotateSecret" => Request::CancelRotateSecret(parse(op, input)?),
            "DeleteSecret" => Request::DeleteSecret(parse(op, input)?),
            "RestoreSecret" => Request::RestoreSecret(parse(op, input)?),
            other => return Err(RequestError::UnknownOperation(other.to_string())),
        })
    }

    /// The AWS-shaped JSON input of this request (the inverse of [`Request::from_parts`]).
    pub fn input_json(&self) -> serde_json::Value {
        let v = match self {
            Request::CreateSecret(i) => serde_json::to_value(i),
            Request::PutSecretValue(i) => serde_json::to_value(i),
            Request::UpdateSecret(i) => serde_json::to_value(i),
            Request::UpdateSecretVersionStage(i) => serde_json::to_value(i),
            Request::GetSecretValue(i) => serde_json::to_value(i),
            Request::DescribeSecret(i) | Request::CancelRotateSecret(i) | Request::RestoreSecret(i) => {
                serde_json::to_value(i)
            }
            Request::ListSecretVersionIds(i) => serde_json::to_value(i),
            Request::RotateSecret(i) => serde_json::to_value(i),
            Request::DeleteSecret(i) => serde_json::to_value(i),
        };
        v.expect("request structs always serialise")
    }
}
