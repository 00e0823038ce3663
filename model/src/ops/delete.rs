//! DeleteSecret and RestoreSecret (semantics.md §5.12, §5.13, §8).

use super::{base, date, existing, DAY_MS};
use crate::engine::Ctx;
use crate::outcome::{ApiError, ANY};
use crate::request::{DeleteSecret, SecretIdOnly};
use crate::response::Response;
use crate::rules;
use crate::state::{name_of, Model};
use serde_json::Value;

/// DeleteSecret.
pub fn delete_secret(m: &mut Model, i: &DeleteSecret, cx: &mut Ctx) -> Result<Response, ApiError> {
    let force = i.force_delete_without_recovery.unwrap_or(false);
    // The range is checked before the combination with ForceDeleteWithoutRecovery, with this text
    // (GH getmoto/moto#6461, re-run against AWS in 2023).
    if i.recovery_window_in_days.is_some_and(|d| !(7..=30).contains(&d)) && !cx.waives(&rules::DELETE_WINDOW) {
        return cx.fail(
            &rules::DELETE_WINDOW,
            ApiError::exact(
                "InvalidParameterException",
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            ),
        );
    }
    if force && i.recovery_window_in_days.is_some() && !cx.waives(&rules::DELETE_FORCE_AND_WINDOW) {
        return cx.fail(
            &rules::DELETE_FORCE_AND_WINDOW,
            ApiError::code_only(
                "InvalidParameterException",
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ),
        );
    }
    let name = name_of(&i.secret_id).to_string();
    if force {
        cx.cite(&rules::DELETE_FORCE);
        let existed = m.secrets.remove(&name);
        m.recently_force_deleted.insert(name.clone());
        let mut o = base(&name);
        if !existed {
            // For a missing secret AWS still answers with an ARN whose form is not recorded.
            o.insert("ARN".into(), Value::String(ANY.into()));
        }
        o.insert("DeletionDate".into(), date(m.clock));
        return Ok(Value::Object(o).into());
    }
    let clock = m.clock;
    let secret = existing(m, &i.secret_id, cx)?;
    if secret.deleted {
        cx.cite(&rules::DELETE_TWICE);
        if cx.choose(2) == 1 {
            return Err(ApiError::code_only(
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ));
        }
    }
    cx.cite(&rules::DELETE_SCHEDULES);
    let days = i.recovery_window_in_days.map(|d| d as u64).unwrap_or(30);
    // A second DeleteSecret that AWS accepts keeps the first schedule ([U]).
    let (at, days) = *secret.deletion.get_or_insert((clock, days));
    secret.deleted = true;
    let mut o = base(&secret.name);
    o.insert("DeletionDate".into(), date(at + days * DAY_MS));
    Ok(Value::Object(o).into())
}

/// RestoreSecret.
pub fn restore_secret(m: &mut Model, i: &SecretIdOnly, cx: &mut Ctx) -> Result<Response, ApiError> {
    let secret = existing(m, &i.secret_id, cx)?;
    if !secret.deleted {
        cx.cite(&rules::RESTORE_NOT_DELETED);
        if cx.choose(2) == 1 {
            return Err(ApiError::code_only(
                "InvalidRequestException",
                "You can't restore this secret because it is not scheduled for deletion.",
            ));
        }
    } else {
        cx.cite(&rules::RESTORE);
    }
    secret.deleted = false;
    secret.deletion = None;
    Ok(Value::Object(base(&secret.name)).into())
}
