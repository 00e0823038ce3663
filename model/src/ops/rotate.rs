//! RotateSecret and CancelRotateSecret, with rotation modelled as two actors (semantics.md §6):
//! the service (validation, the stalled-AWSPENDING refusal, saving the configuration, creating the
//! empty AWSPENDING version named by the token, the clean-up after success) and the rotation
//! function, whose behaviour is an input ([`FunctionBehaviour`]) and whose steps act through the
//! same label algebra and value storage as PutSecretValue and UpdateSecretVersionStage.

use super::write::store_value;
use super::{base, live};
use crate::engine::Ctx;
use crate::labels;
use crate::outcome::{ApiError, ANY};
use crate::request::{RotateSecret, RotationRules, SecretIdOnly};
use crate::response::Response;
use crate::rules;
use crate::schedule;
use crate::state::{FunctionBehaviour, Model, Secret, SecretValue, Step, Version, AWSCURRENT, AWSPENDING};
use crate::validate;
use serde_json::Value;

/// The value a `complete` rotation function stores in createSecret for token `token`. AWS's
/// template stores a random password; the project's test functions store this, so it is
/// predictable on every target that runs them.
pub fn rotation_value(token: &str) -> String {
    format!("rotated-{token}")
}

/// RotateSecret.
pub fn rotate_secret(m: &mut Model, i: &RotateSecret, cx: &mut Ctx) -> Result<Response, ApiError> {
    let token = validate::token(i.client_request_token.as_deref(), true, cx)?;
    if let Some(r) = &i.rotation_rules {
        if let Err(e) = schedule::check(r).or_else(|e| if cx.waives(e.rule) { Ok(()) } else { Err(e) }) {
            let error = if std::ptr::eq(e.rule, &rules::ROTATE_RULES_EXCLUSIVE) {
                ApiError::exact("InvalidParameterException", e.reason)
            } else {
                ApiError::code_only("InvalidParameterException", e.reason)
            };
            return cx.fail(e.rule, error);
        }
    }
    let clock = m.clock;
    let functions = m.functions.clone();
    let secret = live(m, &i.secret_id, cx)?;
    let lambda = match i.rotation_lambda_arn.clone().or_else(|| secret.rotation.lambda_arn.clone()) {
        Some(l) => l,
        None => {
            return cx.fail(
                &rules::ROTATE_NO_LAMBDA,
                ApiError::exact(
                    "InvalidRequestException",
                    "No Lambda rotation function ARN is associated with this secret.",
                ),
            )
        }
    };
    let behaviour = functions.get(&lambda).copied().unwrap_or(FunctionBehaviour::NotInvocable);
    // With no AWSCURRENT at all (a secret created without a value), AWS was recorded accepting a
    // new rotation over a leftover AWSPENDING (GH terraform-provider-aws#41088); the documented
    // refusal is still allowed there.
    let stalled = labels::is_stalled(secret) && (secret.holder(AWSCURRENT).is_some() || cx.choose(2) == 1);
    let not_invocable = behaviour == FunctionBehaviour::NotInvocable;
    // Which of the two refusals AWS checks first is unknown: when both apply, both are accepted.
    let refuse_stalled = stalled && (!not_invocable || cx.choose(2) == 0);
    if refuse_stalled && !cx.waives(&rules::ROTATE_STALLED) {
        return cx.fail(
            &rules::ROTATE_STALLED,
            ApiError::exact(
                "InvalidRequestException",
                "A previous rotation isn't complete. That rotation will be reattempted.",
            ),
        );
    }
    if not_invocable {
        return cx.fail(
            &rules::ROTATE_NOT_INVOCABLE,
            ApiError::exact(
                "AccessDeniedException",
                "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
            ),
        );
    }
    if secret.versions.contains_key(token) {
        // Reusing a version's id as a rotation token is [U]; the model refuses it.
        return cx.fail_any(
            &rules::ROTATE_PLACEHOLDER,
            &["ResourceExistsException", "InvalidRequestException"],
            &format!("You can't use ClientRequestToken {token} because that value is already in use for a version of this secret."),
        );
    }
    cx.cite(&rules::ROTATE_SAVES_CONFIG);
    save_config(secret, i.rotation_lambda_arn.as_ref(), i.rotation_rules.as_ref(), clock);
    let mut o = base(&secret.name);
    if i.rotate_immediately.unwrap_or(true) {
        rotate_now(secret, token, behaviour, clock, cx)?;
        cx.cite(&rules::ROTATE_RESPONSE);
        o.insert("VersionId".into(), Value::String(token.to_string()));
    } else {
        test_rotation(secret, token, clock, cx);
        // The VersionId returned for a test-only rotation is [U] (§11.4).
        o.insert("VersionId".into(), Value::String(ANY.into()));
    }
    Ok(Value::Object(o).into())
}

fn save_config(secret: &mut Secret, lambda: Option<&String>, rules_in: Option<&RotationRules>, clock: u64) {
    secret.rotation.configured = Some(clock);
    if let Some(l) = lambda {
        secret.rotation.lambda_arn = Some(l.clone());
    }
    if let Some(r) = rules_in {
        secret.rotation.rules = Some(r.clone());
    }
    secret.rotation.enabled = Some(true);
}

/// Rotation phases R1-R6 (and F on failure) of semantics.md §6.
fn rotate_now(
    secret: &mut Secret,
    token: &str,
    behaviour: FunctionBehaviour,
    clock: u64,
    cx: &mut Ctx,
) -> Result<(), ApiError> {
    cx.cite(&rules::ROTATE_SYNCHRONOUS);
    // R1: the service creates the empty pending version.
    cx.cite(&rules::ROTATE_PLACEHOLDER);
    let seq = secret.next_seq;
    secret.next_seq += 1;
    secret.versions.insert(token.to_string(), Version::new(token, None, clock, seq));
    labels::attach(secret, AWSPENDING, token, cx);
    // The placeholder's AWSPENDING counts towards the 20-label quota even if the function fails.
    labels::check_limit(secret, cx)?;
    if behaviour == FunctionBehaviour::External {
        // The function runs outside the model; its steps arrive as ordinary requests.
        return Ok(());
    }
    let fails_at = |step: Step| behaviour == FunctionBehaviour::FailAt(step);
    cx.cite(&rules::ROTATE_STEPS);
    // R2 createSecret: the template reads AWSCURRENT first, so a secret without one fails here.
    let current = secret.holder(AWSCURRENT).map(str::to_string);
    let current_has_value = current.as_ref().is_some_and(|c| secret.versions[c].value.is_some());
    if fails_at(Step::CreateSecret) || !current_has_value {
        cx.cite(&rules::ROTATE_FAILURE);
        return Ok(());
    }
    // The template's createSecret reads AWSCURRENT with GetSecretValue: LastAccessedDate.
    super::read::mark_accessed(secret, current.as_deref().unwrap_or_default(), clock);
    let pending = [AWSPENDING.to_string()];
    store_value(secret, token, SecretValue::String(rotation_value(token)), Some(&pending), clock, cx)?;
    // R3 setSecret and R4 testSecret change nothing in Secrets Manager.
    if fails_at(Step::SetSecret) || fails_at(Step::TestSecret) || fails_at(Step::FinishSecret) {
        cx.cite(&rules::ROTATE_FAILURE);
        return Ok(());
    }
    // R5 finishSecret: UpdateSecretVersionStage(AWSCURRENT, MoveToVersionId=token, RemoveFromVersionId=current).
    labels::attach(secret, AWSCURRENT, token, cx);
    labels::check_limit(secret, cx)?;
    // R6: the service may or may not have removed AWSPENDING when the caller next looks.
    cx.cite(&rules::ROTATE_END_STATES);
    if cx.choose(2) == 0 {
        labels::remove(secret, AWSPENDING, token);
    }
    secret.rotation.rotated = true;
    secret.rotation.last_rotated = Some(clock);
    Ok(())
}

/// R6 for a rotation run by an [`FunctionBehaviour::External`] function, called by whoever ran
/// its four steps once finishSecret succeeded: when version `token` of secret `name` holds
/// AWSCURRENT, the service removes AWSPENDING from it and records that a rotation completed.
/// Returns whether it did (a function that reported success without moving AWSCURRENT leaves the
/// secret as it is: AWSPENDING stalled).
pub fn finish_external_rotation(m: &mut Model, name: &str, token: &str) -> bool {
    let now = m.clock;
    let Some(secret) = m.secrets.get_mut(name) else {
        return false;
    };
    if secret.holder(AWSCURRENT) != Some(token) {
        return false;
    }
    labels::remove(secret, AWSPENDING, token);
    secret.rotation.rotated = true;
    secret.rotation.last_rotated = Some(now);
    secret.last_changed = now;
    true
}

/// RotateImmediately=false: testSecret runs on a temporary AWSPENDING copy of the current value,
/// which is then removed. Whether that copy stays visible as a deprecated version named by the
/// token is [I]; both states are accepted.
fn test_rotation(secret: &mut Secret, token: &str, clock: u64, cx: &mut Ctx) {
    cx.cite(&rules::ROTATE_TEST_ONLY);
    let Some(current) = secret.holder(AWSCURRENT).map(str::to_string) else {
        return;
    };
    let Some(value) = secret.versions[&current].value.clone() else {
        return;
    };
    if cx.choose(2) == 0 {
        return;
    }
    let seq = secret.next_seq;
    secret.next_seq += 1;
    secret.versions.insert(token.to_string(), Version::new(token, Some(value), clock, seq));
}

/// CancelRotateSecret (§5.11).
pub fn cancel_rotate_secret(m: &mut Model, i: &SecretIdOnly, cx: &mut Ctx) -> Result<Response, ApiError> {
    let secret = live(m, &i.secret_id, cx)?;
    let mut o = base(&secret.name);
    if secret.rotation.enabled.is_none() {
        cx.cite(&rules::CANCEL_NEVER_CONFIGURED);
        if cx.choose(2) == 1 {
            return Err(ApiError::code_only(
                "InvalidRequestException",
                "You tried to cancel rotation on a secret that has no rotation configured.",
            ));
        }
    } else {
        cx.cite(&rules::CANCEL);
        secret.rotation.enabled = Some(false);
    }
    if let Some(p) = secret.holder(AWSPENDING) {
        if labels::is_stalled(secret) {
            o.insert("VersionId".into(), Value::String(p.to_string()));
        }
    }
    Ok(Value::Object(o).into())
}
