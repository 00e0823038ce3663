//! UpdateSecretVersionStage (semantics.md §5.5): moving, attaching and removing one staging label.

use super::{base, live};
use crate::engine::Ctx;
use crate::labels;
use crate::outcome::ApiError;
use crate::request::UpdateSecretVersionStage;
use crate::response::Response;
use crate::rules;
use crate::state::{Model, AWSCURRENT};
use serde_json::Value;

fn mismatch(label: &str, cx: &mut Ctx) -> Result<Response, ApiError> {
    cx.fail(
        &rules::USVS_REMOVE_MISMATCH,
        ApiError::code_only(
            "InvalidParameterException",
            format!(
                "The parameter RemoveFromVersionId doesn't match. Staging label {label} is not attached to the version you specified."
            ),
        ),
    )
}

/// UpdateSecretVersionStage.
pub fn update_secret_version_stage(
    m: &mut Model,
    i: &UpdateSecretVersionStage,
    cx: &mut Ctx,
) -> Result<Response, ApiError> {
    let secret = live(m, &i.secret_id, cx)?;
    let label = i.version_stage.as_str();
    let holder = secret.holder(label).map(str::to_string);
    let remove_from = i.remove_from_version_id.as_deref();
    match i.move_to_version_id.as_deref() {
        None => {
            let Some(r) = remove_from else {
                return cx.fail(
                    &rules::USVS_NO_VERSION,
                    ApiError::code_only(
                        "InvalidParameterException",
                        "You must specify MoveToVersionId or RemoveFromVersionId.",
                    ),
                );
            };
            if holder.as_deref() != Some(r) {
                return mismatch(label, cx);
            }
            if label == AWSCURRENT && !cx.waives(&rules::USVS_CURRENT_NOT_REMOVABLE) {
                return cx.fail(
                    &rules::USVS_CURRENT_NOT_REMOVABLE,
                    ApiError::code_only(
                        "InvalidParameterException",
                        "You can't remove the staging label AWSCURRENT without moving it to another version.",
                    ),
                );
            }
            cx.cite(&rules::USVS_REMOVE);
            labels::remove(secret, label, r);
        }
        Some(to) => {
            if !secret.versions.contains_key(to) {
                return cx.fail_any(
                    &rules::USVS_UNKNOWN_VERSION,
                    &["InvalidParameterException", "ResourceNotFoundException"],
                    &format!("Secrets Manager can't find the specified secret version: {to}"),
                );
            }
            match holder.as_deref() {
                Some(h) if h == to => {
                    if remove_from.is_some_and(|r| r != h) {
                        return mismatch(label, cx);
                    }
                    cx.cite(&rules::USVS_SAME_VERSION);
                }
                Some(h) => {
                    match remove_from {
                        None if cx.waives(&rules::USVS_REMOVE_REQUIRED) => {}
                        None => {
                            let message = format!(
                                "The parameter RemoveFromVersionId can't be empty. Staging label {label} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId."
                            );
                            // The text is recorded for AWSCURRENT only; for other labels it is inferred.
                            let error = if label == AWSCURRENT {
                                ApiError::exact("InvalidParameterException", message)
                            } else {
                                ApiError::code_only("InvalidParameterException", message)
                            };
                            return cx.fail(&rules::USVS_REMOVE_REQUIRED, error);
                        }
                        Some(r) if r != h => return mismatch(label, cx),
                        Some(_) => {}
                    }
                    cx.cite(&rules::USVS_MOVE);
                    labels::attach(secret, label, to, cx);
                }
                None => {
                    // A RemoveFromVersionId naming no holder is [U]: refusal or success.
                    if remove_from.is_some() && cx.choose(2) == 1 {
                        return mismatch(label, cx);
                    }
                    cx.cite(&rules::USVS_ATTACH_UNHELD);
                    labels::attach(secret, label, to, cx);
                }
            }
            labels::check_limit(secret, cx)?;
        }
    }
    Ok(Value::Object(base(&secret.name)).into())
}
