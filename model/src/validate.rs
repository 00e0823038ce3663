//! Input validation in the order AWS applies it.
//!
//! 1. [`constraints`]: AWS's request-validation layer checks every member against the service
//!    model's length and range constraints before the service runs, for every operation that
//!    takes the member, and answers `ValidationException` with its standard text:
//!    `1 validation error detected: Value 'x' at 'versionId' failed to satisfy constraint: Member
//!    must have length greater than or equal to 32` (sensitive members omit the value: `Value at
//!    'secretBinary' ...`). Recorded from AWS: terraform-provider-aws#35827 (versionId, 2024),
//!    kubernetes-sigs/cluster-api-provider-aws#1531 (secretBinary, 2020). The two recordings word
//!    the constraint differently ("Member must have length ..." in 2020, "Member must have a
//!    length ..." in 2024), so the model keeps the text but compares only the code.
//! 2. [`secret_id`]: the service checks the name in `SecretId` (every operation) and `Name`
//!    before it looks the secret up. [V] LS-SNAP `test_invalid_secret_name`, GH terraform#39406.
//! 3. The service's own checks (missing token, exclusive values, ...) follow in each operation.

use crate::engine::Ctx;
use crate::outcome::ApiError;
use crate::request::{Blob, Request};
use crate::rules::{self, Rule};

/// One constraint violation as the validation layer words it.
struct Violation {
    rule: &'static Rule,
    text: String,
}

/// Which bound a value falls outside, as the validation layer words it (`length` or `value`).
fn bound_broken<T: PartialOrd + std::fmt::Display>(what: &str, n: T, min: T, max: T) -> Option<String> {
    if n < min {
        Some(format!("Member must have {what} greater than or equal to {min}"))
    } else if n > max {
        Some(format!("Member must have {what} less than or equal to {max}"))
    } else {
        None
    }
}

struct Checker<'w> {
    found: Vec<Violation>,
    /// Constraint rules switched off (ablation, [`crate::state::Model::waived`]).
    waived: &'w std::collections::BTreeSet<&'static str>,
}

impl Checker<'_> {
    /// Records a violation of `constraint` by the member at `path`, showing `value` unless the
    /// member is sensitive (`None`).
    fn violation(&mut self, rule: &'static Rule, path: &str, value: Option<&str>, constraint: Option<String>) {
        let Some(constraint) = constraint else { return };
        if self.waived.contains(rule.id) {
            return;
        }
        let shown = match value {
            Some(v) => format!("Value '{v}' at '{path}'"),
            None => format!("Value at '{path}'"),
        };
        self.found.push(Violation { rule, text: format!("{shown} failed to satisfy constraint: {constraint}") });
    }

    fn string(&mut self, rule: &'static Rule, path: &str, v: Option<&String>, min: usize, max: usize) {
        if let Some(v) = v {
            self.violation(rule, path, Some(v), bound_broken("length", v.chars().count(), min, max));
        }
    }

    fn sensitive_string(&mut self, rule: &'static Rule, path: &str, v: Option<&String>) {
        if let Some(v) = v {
            self.violation(rule, path, None, bound_broken("length", v.chars().count(), 1, 65536));
        }
    }

    fn sensitive_blob(&mut self, rule: &'static Rule, path: &str, v: Option<&Blob>) {
        if let Some(v) = v {
            self.violation(rule, path, None, bound_broken("length", v.0.len(), 1, 65536));
        }
    }

    fn range(&mut self, rule: &'static Rule, path: &str, v: Option<i64>, min: i64, max: i64) {
        if let Some(v) = v {
            // The value is formatted only for a violation (this runs for every request).
            if let Some(broken) = bound_broken("value", v, min, max) {
                self.violation(rule, path, Some(&v.to_string()), Some(broken));
            }
        }
    }

    fn stages(&mut self, path: &str, v: Option<&Vec<String>>) {
        let Some(list) = v else { return };
        let bad_length = !(1..=20).contains(&list.len());
        let bad_member = list.iter().any(|l| !(1..=256).contains(&l.chars().count()));
        if !bad_length && !bad_member {
            return;
        }
        let shown = format!("[{}]", list.join(", "));
        self.violation(&rules::STAGES_SHAPE, path, Some(&shown), bound_broken("length", list.len(), 1, 20));
        if list.iter().any(|l| !(1..=256).contains(&l.chars().count())) {
            let each = "Member must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1]";
            self.violation(&rules::STAGES_SHAPE, path, Some(&shown), Some(each.to_string()));
        }
    }
}

/// The request-validation layer: every length and range constraint of the request's members.
pub fn constraints(
    req: &Request,
    waived: &std::collections::BTreeSet<&'static str>,
    cx: &mut Ctx,
) -> Result<(), ApiError> {
    let mut c = Checker { found: Vec::new(), waived };
    let token = |c: &mut Checker, t: Option<&String>| c.string(&rules::TOKEN_LENGTH, "clientRequestToken", t, 32, 64);
    match req {
        Request::CreateSecret(i) => {
            c.string(&rules::NAME_LENGTH, "name", Some(&i.name), 1, 512);
            token(&mut c, i.client_request_token.as_ref());
            c.string(&rules::DESCRIPTION_LENGTH, "description", i.description.as_ref(), 0, 2048);
            c.sensitive_blob(&rules::VALUE_LENGTH, "secretBinary", i.secret_binary.as_ref());
            c.sensitive_string(&rules::VALUE_LENGTH, "secretString", i.secret_string.as_ref());
        }
        Request::PutSecretValue(i) => {
            token(&mut c, i.client_request_token.as_ref());
            c.sensitive_blob(&rules::VALUE_LENGTH, "secretBinary", i.secret_binary.as_ref());
            c.sensitive_string(&rules::VALUE_LENGTH, "secretString", i.secret_string.as_ref());
            c.stages("versionStages", i.version_stages.as_ref());
        }
        Request::UpdateSecret(i) => {
            token(&mut c, i.client_request_token.as_ref());
            c.string(&rules::DESCRIPTION_LENGTH, "description", i.description.as_ref(), 0, 2048);
            c.sensitive_blob(&rules::VALUE_LENGTH, "secretBinary", i.secret_binary.as_ref());
            c.sensitive_string(&rules::VALUE_LENGTH, "secretString", i.secret_string.as_ref());
        }
        Request::UpdateSecretVersionStage(i) => {
            c.string(&rules::STAGES_SHAPE, "versionStage", Some(&i.version_stage), 1, 256);
            c.string(&rules::VERSION_ID_LENGTH, "removeFromVersionId", i.remove_from_version_id.as_ref(), 32, 64);
            c.string(&rules::VERSION_ID_LENGTH, "moveToVersionId", i.move_to_version_id.as_ref(), 32, 64);
        }
        Request::GetSecretValue(i) => {
            c.string(&rules::VERSION_ID_LENGTH, "versionId", i.version_id.as_ref(), 32, 64);
            c.string(&rules::STAGES_SHAPE, "versionStage", i.version_stage.as_ref(), 1, 256);
        }
        Request::ListSecretVersionIds(i) => {
            c.range(&rules::LIST_PAGE, "maxResults", i.max_results, 1, 100);
            c.string(&rules::LIST_PAGE, "nextToken", i.next_token.as_ref(), 1, 4096);
        }
        Request::RotateSecret(i) => {
            token(&mut c, i.client_request_token.as_ref());
            c.string(&rules::ROTATE_NOT_INVOCABLE, "rotationLambdaARN", i.rotation_lambda_arn.as_ref(), 0, 2048);
            if let Some(r) = &i.rotation_rules {
                c.range(
                    &rules::ROTATE_DAYS_RANGE,
                    "rotationRules.automaticallyAfterDays",
                    r.automatically_after_days,
                    1,
                    1000,
                );
                c.string(&rules::ROTATE_DURATION, "rotationRules.duration", r.duration.as_ref(), 2, 3);
                c.string(
                    &rules::ROTATE_SCHEDULE,
                    "rotationRules.scheduleExpression",
                    r.schedule_expression.as_ref(),
                    1,
                    256,
                );
            }
        }
        Request::DescribeSecret(_)
        | Request::CancelRotateSecret(_)
        | Request::RestoreSecret(_)
        | Request::DeleteSecret(_) => {}
    }
    let Some(first) = c.found.first() else {
        return Ok(());
    };
    let rule = first.rule;
    let n = c.found.len();
    let what =
        if n == 1 { "1 validation error detected".to_string() } else { format!("{n} validation errors detected") };
    let texts: Vec<&str> = c.found.iter().map(|v| v.text.as_str()).collect();
    let message = format!("{what}: {}", texts.join("; "));
    for v in &c.found[1..] {
        cx.cite(v.rule);
    }
    // Wording differs between recordings (see the module docs): code only.
    cx.fail(rule, ApiError::code_only("ValidationException", message))
}

const INVALID_NAME: &str =
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// The secret a request names must have a valid name: CreateSecret's `Name`, or any other
/// operation's `SecretId` unless it is an ARN (which the name check does not apply to).
pub fn secret_id(req: &Request, cx: &mut Ctx) -> Result<(), ApiError> {
    let id = req.secret_id();
    let is_arn = !matches!(req, Request::CreateSecret(_)) && id.starts_with("arn:");
    if is_arn || valid_name(id) || cx.waives(&rules::NAME_PATTERN) {
        return Ok(());
    }
    cx.fail(&rules::NAME_PATTERN, ApiError::exact("ValidationException", INVALID_NAME))
}

/// The ClientRequestToken must be present (M7; its length was checked by [`constraints`]).
/// `rotate` selects RotateSecret's error code for a missing token.
pub fn token<'a>(token: Option<&'a str>, rotate: bool, cx: &mut Ctx) -> Result<&'a str, ApiError> {
    let Some(t) = token else {
        let code = if rotate { "InvalidParameterException" } else { "InvalidRequestException" };
        return cx.fail(
            &rules::TOKEN_REQUIRED,
            ApiError::exact(code, "You must provide a ClientRequestToken value. We recommend a UUID-type value."),
        );
    };
    Ok(t)
}

/// The secret value of a request: at most one of SecretString and SecretBinary (their lengths
/// were checked by [`constraints`]).
pub fn value(
    string: Option<&String>,
    binary: Option<&Blob>,
    cx: &mut Ctx,
) -> Result<Option<crate::state::SecretValue>, ApiError> {
    use crate::state::SecretValue;
    match (string, binary) {
        // Waived: the string is kept (a target that stores both shows the difference later).
        (Some(s), Some(_)) if cx.waives(&rules::VALUE_EXCLUSIVE) => Ok(Some(SecretValue::String(s.clone()))),
        (Some(_), Some(_)) => cx.fail(
            &rules::VALUE_EXCLUSIVE,
            ApiError::code_only(
                "InvalidParameterException",
                "You can't specify both a binary secret value and a string secret value in the same secret.",
            ),
        ),
        (Some(s), None) => Ok(Some(SecretValue::String(s.clone()))),
        (None, Some(b)) => Ok(Some(SecretValue::Binary(b.clone()))),
        (None, None) => Ok(None),
    }
}
