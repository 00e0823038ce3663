//! Input validation as AWS does it before looking at any secret: names, tokens, values, labels,
//! version ids. Where AWS's code or text for a violation is not known, the error accepts every
//! plausible code and compares only the code (see each rule's confidence in [`crate::rules`]).

use crate::engine::Ctx;
use crate::outcome::ApiError;
use crate::request::Blob;
use crate::rules;

const CONSTRAINT_CODES: &[&str] = &["InvalidParameterException", "ValidationException"];

/// Checks a CreateSecret `Name`.
pub fn name(name: &str, cx: &mut Ctx) -> Result<(), ApiError> {
    let len = name.chars().count();
    if !(1..=512).contains(&len) {
        return cx.fail_any(&rules::NAME_LENGTH, CONSTRAINT_CODES, "Name must be 1-512 characters long.");
    }
    let ok = name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if !ok {
        return cx.fail(
            &rules::NAME_PATTERN,
            ApiError::exact(
                "ValidationException",
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
            ),
        );
    }
    Ok(())
}

/// The ClientRequestToken must be present (M7) and 32..64 characters long. `rotate` selects
/// RotateSecret's error code for a missing token.
pub fn token<'a>(token: Option<&'a str>, rotate: bool, cx: &mut Ctx) -> Result<&'a str, ApiError> {
    let Some(t) = token else {
        let code = if rotate { "InvalidParameterException" } else { "InvalidRequestException" };
        return cx.fail(
            &rules::TOKEN_REQUIRED,
            ApiError::exact(code, "You must provide a ClientRequestToken value. We recommend a UUID-type value."),
        );
    };
    if !(32..=64).contains(&t.chars().count()) {
        return cx.fail_any(
            &rules::TOKEN_LENGTH,
            CONSTRAINT_CODES,
            "ClientRequestToken must be 32-64 characters long.",
        );
    }
    Ok(t)
}

/// The secret value of a request: at most one of SecretString and SecretBinary, each 1..65536 long.
pub fn value(
    string: Option<&String>,
    binary: Option<&Blob>,
    cx: &mut Ctx,
) -> Result<Option<crate::state::SecretValue>, ApiError> {
    use crate::state::SecretValue;
    match (string, binary) {
        (Some(_), Some(_)) => cx.fail(
            &rules::VALUE_EXCLUSIVE,
            ApiError::code_only(
                "InvalidParameterException",
                "You can't specify both a binary secret value and a string secret value in the same secret.",
            ),
        ),
        (Some(s), None) => {
            if !(1..=65536).contains(&s.chars().count()) {
                return cx.fail_any(
                    &rules::VALUE_LENGTH,
                    CONSTRAINT_CODES,
                    "SecretString must be 1-65536 characters long.",
                );
            }
            Ok(Some(SecretValue::String(s.clone())))
        }
        (None, Some(b)) => {
            if !(1..=65536).contains(&b.0.len()) {
                return cx.fail_any(&rules::VALUE_LENGTH, CONSTRAINT_CODES, "SecretBinary must be 1-65536 bytes long.");
            }
            Ok(Some(SecretValue::Binary(b.clone())))
        }
        (None, None) => Ok(None),
    }
}

/// Description is at most 2048 characters.
pub fn description(d: Option<&String>, cx: &mut Ctx) -> Result<(), ApiError> {
    if d.is_some_and(|d| d.chars().count() > 2048) {
        return cx.fail_any(
            &rules::DESCRIPTION_LENGTH,
            CONSTRAINT_CODES,
            "Description must be at most 2048 characters long.",
        );
    }
    Ok(())
}

/// One staging label: 1..256 characters.
pub fn label(label: &str, cx: &mut Ctx) -> Result<(), ApiError> {
    if !(1..=256).contains(&label.chars().count()) {
        return cx.fail_any(&rules::STAGES_SHAPE, CONSTRAINT_CODES, "A staging label must be 1-256 characters long.");
    }
    Ok(())
}

/// A VersionStages list: 1..20 labels, each valid.
pub fn stages(stages: Option<&Vec<String>>, cx: &mut Ctx) -> Result<(), ApiError> {
    if let Some(list) = stages {
        if !(1..=20).contains(&list.len()) {
            return cx.fail_any(&rules::STAGES_SHAPE, CONSTRAINT_CODES, "VersionStages must hold 1-20 labels.");
        }
        for l in list {
            label(l, cx)?;
        }
    }
    Ok(())
}

/// A VersionId parameter: 32..64 characters.
pub fn version_id(id: Option<&String>, cx: &mut Ctx) -> Result<(), ApiError> {
    if id.is_some_and(|id| !(32..=64).contains(&id.chars().count())) {
        return cx.fail_any(&rules::VERSION_ID_LENGTH, CONSTRAINT_CODES, "A VersionId must be 32-64 characters long.");
    }
    Ok(())
}
