//! One module per group of operations. Each operation is `fn(&mut Model, &Input, &mut Ctx) ->
//! Result<response, ApiError>`; the engine turns that into outcomes and discards the changed state
//! on error. Shared look-ups and response pieces live here.

mod delete;
mod read;
mod rotate;
mod stage;
mod write;

use crate::engine::Ctx;
use crate::outcome::ApiError;
use crate::request::Request;
use crate::response::Response;
use crate::rules;
use crate::state::{logical_arn, name_of, Model, Secret};
use serde_json::{Map, Value};

pub use rotate::{finish_external_rotation, rotation_value};

/// Runs one request.
pub fn dispatch(m: &mut Model, req: &Request, cx: &mut Ctx) -> Result<Response, ApiError> {
    crate::validate::constraints(req, &m.waived, cx)?;
    crate::validate::secret_id(req, cx)?;
    match req {
        Request::CreateSecret(i) => write::create_secret(m, i, cx),
        Request::PutSecretValue(i) => write::put_secret_value(m, i, cx),
        Request::UpdateSecret(i) => write::update_secret(m, i, cx),
        Request::UpdateSecretVersionStage(i) => stage::update_secret_version_stage(m, i, cx),
        Request::GetSecretValue(i) => read::get_secret_value(m, i, cx),
        Request::DescribeSecret(i) => read::describe_secret(m, i, cx),
        Request::ListSecretVersionIds(i) => read::list_secret_version_ids(m, i, cx),
        Request::RotateSecret(i) => rotate::rotate_secret(m, i, cx),
        Request::CancelRotateSecret(i) => rotate::cancel_rotate_secret(m, i, cx),
        Request::DeleteSecret(i) => delete::delete_secret(m, i, cx),
        Request::RestoreSecret(i) => delete::restore_secret(m, i, cx),
    }
}

/// Milliseconds in a day.
pub(crate) const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A date as AWS's JSON protocol sends it: epoch seconds (with milliseconds). The harness
/// compares dates for presence and order, never for value.
pub(crate) fn date(ms: u64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::Null)
}

/// M1, ResourceNotFoundException for an unknown secret.
pub(crate) fn not_found(cx: &mut Ctx) -> ApiError {
    cx.cite(&rules::SECRET_NOT_FOUND);
    ApiError::exact("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

/// The secret named by `id`, whether or not it is scheduled for deletion.
pub(crate) fn existing_ref<'m>(m: &'m Model, id: &str, cx: &mut Ctx) -> Result<&'m Secret, ApiError> {
    match m.secrets.get(name_of(id)) {
        Some(s) => Ok(s),
        None => Err(not_found(cx)),
    }
}

/// The secret named by `id`, refusing one scheduled for deletion ([`rules::SECRET_DELETED`]).
pub(crate) fn live_ref<'m>(m: &'m Model, id: &str, cx: &mut Ctx) -> Result<&'m Secret, ApiError> {
    let s = existing_ref(m, id, cx)?;
    if s.deleted && !cx.waives(&rules::SECRET_DELETED) {
        return cx.fail(
            &rules::SECRET_DELETED,
            ApiError::code_only(
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ),
        );
    }
    Ok(s)
}

/// [`existing_ref`] for changing the secret (which copies it if the state is shared).
pub(crate) fn existing<'m>(m: &'m mut Model, id: &str, cx: &mut Ctx) -> Result<&'m mut Secret, ApiError> {
    existing_ref(m, id, cx)?;
    Ok(m.secrets.get_mut_present(name_of(id)).expect("looked up above"))
}

/// [`live_ref`] for changing the secret (which copies it if the state is shared).
pub(crate) fn live<'m>(m: &'m mut Model, id: &str, cx: &mut Ctx) -> Result<&'m mut Secret, ApiError> {
    live_ref(m, id, cx)?;
    Ok(m.secrets.get_mut_present(name_of(id)).expect("looked up above"))
}

/// `{ARN, Name}`, the start of most responses.
pub(crate) fn base(name: &str) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("ARN".into(), Value::String(logical_arn(name)));
    o.insert("Name".into(), Value::String(name.to_string()));
    o
}

/// A sorted JSON array of labels.
pub(crate) fn labels_json<'a>(labels: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(labels.into_iter().map(|l| Value::String(l.clone())).collect())
}
