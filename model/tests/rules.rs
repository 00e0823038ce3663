//! The rule catalogue as tables: one row per documented rule of `semantics.md` (§2-§8, §13), with
//! the exact error code, the exact message where AWS's text is known (`message_known`), and the
//! rule id the outcome must cite. Where AWS allows several outcomes (rules marked [U]), the row
//! states the exact set of outcomes `branches` must return. Successes that a rule allows (valid
//! schedule expressions, boundary values, reads of deleted secrets) have their own table, and a few
//! rules that need a follow-up read (nothing saved after M11, state kept after a refusal, version
//! quota and clean-up) have their own tests.

use rstest::rstest;
use serde_json::{json, Value};
use sm_model::{apply, branches, Expect, FunctionBehaviour, Model, Outcome, Request, Step, ANY};
use std::collections::BTreeSet;

// ---- fixtures ---------------------------------------------------------------------------------

const V1: &str = "v1-000000000000000000000000000000";
const V2: &str = "v2-000000000000000000000000000000";
const V3: &str = "v3-000000000000000000000000000000";
const V9: &str = "v9-000000000000000000000000000000";
const R1: &str = "r1-000000000000000000000000000000";
const R2: &str = "r2-000000000000000000000000000000";
/// 31 and 65 characters: just outside ClientRequestToken / VersionId bounds.
const SHORT: &str = "short-0000000000000000000000000";
const LONG: &str = "long-000000000000000000000000000000000000000000000000000000000000";
/// Exactly 32 and 64 characters: the bounds themselves.
const MIN_TOKEN: &str = "min-0000000000000000000000000000";
const MAX_TOKEN: &str = "max-000000000000000000000000000000000000000000000000000000000000";

const COMPLETE: &str = "arn:aws:lambda:us-east-1:111122223333:function:complete";
const FAIL_CREATE: &str = "arn:aws:lambda:us-east-1:111122223333:function:fail-at-createSecret";
const FAIL_SET: &str = "arn:aws:lambda:us-east-1:111122223333:function:fail-at-setSecret";
const DENIED: &str = "arn:aws:lambda:us-east-1:111122223333:function:not-invocable";
const UNKNOWN_FN: &str = "arn:aws:lambda:us-east-1:111122223333:function:never-declared";

const M1: &str = "Secrets Manager can't find the specified secret.";
const M4: &str = "You provided a VersionStage that is not associated to the provided VersionId.";
const M7: &str = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
const M8: &str = "You can't create this secret because a secret with this name is already scheduled for deletion.";
const M10: &str = "No Lambda rotation function ARN is associated with this secret.";
const M11: &str = "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.";
const M12: &str = "A previous rotation isn't complete. That rotation will be reattempted.";
const M13: &str = "You cannot specify both rotation frequency and schedule expression together.";
const NAME_PATTERN: &str =
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";

const IPE: &str = "InvalidParameterException";
const IRE: &str = "InvalidRequestException";
const VE: &str = "ValidationException";
const RNF: &str = "ResourceNotFoundException";
const REE: &str = "ResourceExistsException";
const ADE: &str = "AccessDeniedException";
const LEE: &str = "LimitExceededException";

fn m2(label: &str) -> Option<String> {
    Some(format!("Secrets Manager can't find the specified secret value for staging label: {label}"))
}
fn m3(id: &str) -> Option<String> {
    Some(format!("Secrets Manager can't find the specified secret value for VersionId: {id}"))
}
fn m5(name: &str) -> Option<String> {
    Some(format!("The operation failed because the secret {name} already exists."))
}
fn m6(token: &str) -> Option<String> {
    Some(format!(
        "You can't use ClientRequestToken {token} because that value is already in use for a version of secret arn:aws:secretsmanager:<region>:<account>:secret:s1."
    ))
}
fn m14(holder: &str) -> Option<String> {
    Some(format!(
        "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version {holder}, so you must explicitly reference that version in RemoveFromVersionId."
    ))
}

/// A starting state, built through the model's own API so every fixture is reachable.
#[derive(Clone, Copy, Debug)]
enum Given {
    /// No secrets (the rotation functions are declared).
    Empty,
    /// `s1` = v1[AWSCURRENT] with value "v0".
    One,
    /// `s1` = v1[AWSPREVIOUS] v2[AWSCURRENT].
    Two,
    /// `s1` = v1[] (deprecated) v2[AWSPREVIOUS] v3[AWSCURRENT].
    Three,
    /// `s1` created without a value: no versions.
    NoValue,
    /// `One`, then DeleteSecret with a 7-day window.
    Deleted,
    /// `One`, then a rotation whose function failed at setSecret: r1[AWSPENDING] holds a value.
    Stalled,
    /// `One`, then a rotation whose function failed at createSecret: r1 is an empty AWSPENDING version.
    Placeholder,
    /// `One`, then v2 = [c1..c19]: exactly 20 labels on the secret.
    TwentyLabels,
}

fn functions() -> Model {
    Model::new()
        .with_function(COMPLETE, FunctionBehaviour::Complete)
        .with_function(FAIL_CREATE, FunctionBehaviour::FailAt(Step::CreateSecret))
        .with_function(FAIL_SET, FunctionBehaviour::FailAt(Step::SetSecret))
        .with_function(DENIED, FunctionBehaviour::NotInvocable)
}

fn req(op: &str, input: Value) -> Request {
    Request::from_parts(op, input).expect("test requests are well-formed")
}

/// Applies a setup step that must succeed.
fn setup(m: &mut Model, op: &str, input: Value) {
    let o = apply(m, &req(op, input.clone()));
    assert!(o.is_ok(), "setup step {op} {input} failed: {:?}", o.expect);
}

fn given(g: Given) -> Model {
    let mut m = functions();
    let create = json!({"Name": "s1", "SecretString": "v0", "ClientRequestToken": V1});
    match g {
        Given::Empty => {}
        Given::One => setup(&mut m, "CreateSecret", create),
        Given::Two => {
            setup(&mut m, "CreateSecret", create);
            setup(&mut m, "PutSecretValue", json!({"SecretId": "s1", "SecretString": "two", "ClientRequestToken": V2}));
        }
        Given::Three => {
            setup(&mut m, "CreateSecret", create);
            setup(&mut m, "PutSecretValue", json!({"SecretId": "s1", "SecretString": "two", "ClientRequestToken": V2}));
            setup(
                &mut m,
                "PutSecretValue",
                json!({"SecretId": "s1", "SecretString": "three", "ClientRequestToken": V3}),
            );
        }
        Given::NoValue => setup(&mut m, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1})),
        Given::Deleted => {
            setup(&mut m, "CreateSecret", create);
            setup(&mut m, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 7}));
        }
        Given::Stalled | Given::Placeholder => {
            setup(&mut m, "CreateSecret", create);
            let arn = if matches!(g, Given::Stalled) { FAIL_SET } else { FAIL_CREATE };
            setup(
                &mut m,
                "RotateSecret",
                json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": arn}),
            );
        }
        Given::TwentyLabels => {
            setup(&mut m, "CreateSecret", create);
            let labels: Vec<String> = (1..=19).map(|i| format!("c{i}")).collect();
            setup(
                &mut m,
                "PutSecretValue",
                json!({"SecretId": "s1", "SecretString": "two", "ClientRequestToken": V2, "VersionStages": labels}),
            );
            assert_eq!(m.secrets["s1"].label_count(), 20);
        }
    }
    m
}

/// "ok" or the error code: the part of an outcome the rule tables compare as a set.
fn kind(o: &Outcome) -> String {
    match &o.expect {
        Expect::Ok(_) => "ok".to_string(),
        Expect::Err(e) => e.code.clone(),
    }
}

fn cites(o: &Outcome, rule: &str) -> bool {
    o.rules.iter().any(|r| r.id == rule)
}

fn string_of(n: usize, c: char) -> String {
    std::iter::repeat_n(c, n).collect()
}

// ---- refusals ---------------------------------------------------------------------------------

/// Every branch of the request must be one of `kinds` (and every kind must occur), every error must
/// carry `message` exactly when the message is known (and be marked unknown otherwise), and every
/// branch must cite `rule`. The canonical outcome (`apply`) must be the first branch.
#[rstest]
// -- §2 input validation
#[case::name_pattern(Given::Empty, "CreateSecret", json!({"Name": "bad name", "ClientRequestToken": V1, "SecretString": "x"}), &[VE], Some(NAME_PATTERN.into()), "input.name-pattern")]
#[case::name_pattern_symbol(Given::Empty, "CreateSecret", json!({"Name": "a#b", "ClientRequestToken": V1}), &[VE], Some(NAME_PATTERN.into()), "input.name-pattern")]
#[case::name_empty(Given::Empty, "CreateSecret", json!({"Name": "", "ClientRequestToken": V1, "SecretString": "x"}), &[VE], None, "input.name-length")]
#[case::name_513(Given::Empty, "CreateSecret", json!({"Name": string_of(513, 'n'), "ClientRequestToken": V1, "SecretString": "x"}), &[VE], None, "input.name-length")]
// -- M7: the token is checked first (before existence) with RotateSecret's own code
#[case::m7_create(Given::Empty, "CreateSecret", json!({"Name": "s1", "SecretString": "x"}), &[IRE], Some(M7.into()), "input.token-required")]
#[case::m7_create_existing(Given::One, "CreateSecret", json!({"Name": "s1", "SecretString": "x"}), &[IRE], Some(M7.into()), "input.token-required")]
#[case::m7_put_missing_secret(Given::Empty, "PutSecretValue", json!({"SecretId": "nope", "SecretString": "x"}), &[IRE], Some(M7.into()), "input.token-required")]
#[case::m7_update_missing_secret(Given::Empty, "UpdateSecret", json!({"SecretId": "nope", "SecretString": "x"}), &[IRE], Some(M7.into()), "input.token-required")]
#[case::m7_rotate_missing_secret(Given::Empty, "RotateSecret", json!({"SecretId": "nope", "RotationLambdaARN": COMPLETE}), &[IPE], Some(M7.into()), "input.token-required")]
#[case::m7_rotate(Given::One, "RotateSecret", json!({"SecretId": "s1", "RotationLambdaARN": COMPLETE}), &[IPE], Some(M7.into()), "input.token-required")]
#[case::m7_put_deleted(Given::Deleted, "PutSecretValue", json!({"SecretId": "s1", "SecretString": "x"}), &[IRE], Some(M7.into()), "input.token-required")]
// -- token length 32..64
#[case::token_31_create(Given::Empty, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": SHORT, "SecretString": "x"}), &[VE], None, "input.token-length")]
#[case::token_65_put(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": LONG, "SecretString": "x"}), &[VE], None, "input.token-length")]
#[case::token_31_update(Given::One, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": SHORT, "SecretString": "x"}), &[VE], None, "input.token-length")]
#[case::token_31_update_metadata(Given::One, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": SHORT, "Description": "d"}), &[VE], None, "input.token-length")]
#[case::token_65_rotate(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": LONG, "RotationLambdaARN": COMPLETE}), &[VE], None, "input.token-length")]
// -- values
#[case::both_values_create(Given::Empty, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "x", "SecretBinary": "AQI="}), &[IPE], None, "input.value-exclusive")]
#[case::both_values_put(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "SecretBinary": "AQI="}), &[IPE], None, "input.value-exclusive")]
#[case::both_values_update(Given::One, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "SecretBinary": "AQI="}), &[IPE], None, "input.value-exclusive")]
#[case::put_no_value(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2}), &[IPE, IRE], None, "input.value-required")]
#[case::put_no_value_stages(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "VersionStages": ["c1"]}), &[IPE, IRE], None, "input.value-required")]
#[case::empty_string(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": ""}), &[VE], None, "input.value-length")]
#[case::empty_binary(Given::Empty, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretBinary": ""}), &[VE], None, "input.value-length")]
#[case::string_65537(Given::One, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": string_of(65537, 'x')}), &[VE], None, "input.value-length")]
#[case::description_2049(Given::Empty, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "Description": string_of(2049, 'd')}), &[VE], None, "input.description-length")]
// -- VersionStages: 1..20 labels of 1..256 characters
#[case::stages_none(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "VersionStages": []}), &[VE], None, "input.stages-shape")]
#[case::stages_21(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "VersionStages": (0..21).map(|i| format!("l{i}")).collect::<Vec<_>>()}), &[VE], None, "input.stages-shape")]
#[case::stages_empty_label(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "VersionStages": [""]}), &[VE], None, "input.stages-shape")]
#[case::stages_257(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "VersionStages": [string_of(257, 'l')]}), &[VE], None, "input.stages-shape")]
#[case::usvs_empty_label(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "", "MoveToVersionId": V1}), &[VE], None, "input.stages-shape")]
#[case::usvs_257(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": string_of(257, 'l'), "MoveToVersionId": V1}), &[VE], None, "input.stages-shape")]
#[case::usvs_short_move_to(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c1", "MoveToVersionId": SHORT}), &[VE], None, "input.version-id-length")]
#[case::usvs_long_remove_from(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c1", "RemoveFromVersionId": LONG}), &[VE], None, "input.version-id-length")]
#[case::get_short_version_id(Given::One, "GetSecretValue", json!({"SecretId": "s1", "VersionId": SHORT}), &[VE], None, "input.version-id-length")]
#[case::get_257_stage(Given::One, "GetSecretValue", json!({"SecretId": "s1", "VersionStage": string_of(257, 'l')}), &[VE], None, "input.stages-shape")]
// -- M1 for every operation that takes a SecretId
#[case::m1_put(Given::One, "PutSecretValue", json!({"SecretId": "nope", "ClientRequestToken": V2, "SecretString": "x"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_update_value(Given::One, "UpdateSecret", json!({"SecretId": "nope", "ClientRequestToken": V2, "SecretString": "x"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_update_metadata(Given::One, "UpdateSecret", json!({"SecretId": "nope", "Description": "d"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_usvs(Given::One, "UpdateSecretVersionStage", json!({"SecretId": "nope", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_get(Given::One, "GetSecretValue", json!({"SecretId": "nope"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_describe(Given::One, "DescribeSecret", json!({"SecretId": "nope"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_list(Given::One, "ListSecretVersionIds", json!({"SecretId": "nope", "IncludeDeprecated": true}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_rotate(Given::One, "RotateSecret", json!({"SecretId": "nope", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_cancel(Given::One, "CancelRotateSecret", json!({"SecretId": "nope"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_delete(Given::One, "DeleteSecret", json!({"SecretId": "nope"}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_delete_window(Given::One, "DeleteSecret", json!({"SecretId": "nope", "RecoveryWindowInDays": 7}), &[RNF], Some(M1.into()), "secret.not-found")]
#[case::m1_restore(Given::One, "RestoreSecret", json!({"SecretId": "nope"}), &[RNF], Some(M1.into()), "secret.not-found")]
// -- CreateSecret on existing and deleted names, token reuse with another value
#[case::m5(Given::One, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V2, "SecretString": "v0"}), &[REE], m5("s1"), "create.exists")]
#[case::m5_without_value(Given::One, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1}), &[REE], m5("s1"), "create.exists")]
#[case::m5_empty_secret(Given::NoValue, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "v0"}), &[REE], m5("s1"), "create.exists")]
#[case::m6_create(Given::One, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "other"}), &[REE], m6(V1), "token.other-value")]
#[case::m6_create_binary(Given::One, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretBinary": "djA="}), &[REE], m6(V1), "token.other-value")]
#[case::m6_put(Given::Two, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V1, "SecretString": "other"}), &[REE], m6(V1), "token.other-value")]
#[case::m6_update(Given::Two, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "other"}), &[REE], m6(V2), "token.other-value")]
#[case::m8(Given::Deleted, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V2, "SecretString": "x"}), &[IRE], Some(M8.into()), "create.deleted-name")]
#[case::m8_same_token(Given::Deleted, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "v0"}), &[IRE], Some(M8.into()), "create.deleted-name")]
// -- M9: a secret scheduled for deletion refuses reads and writes (text [I]: code only)
#[case::m9_get(Given::Deleted, "GetSecretValue", json!({"SecretId": "s1"}), &[IRE], None, "secret.deleted")]
#[case::m9_put(Given::Deleted, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x"}), &[IRE], None, "secret.deleted")]
#[case::m9_update(Given::Deleted, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x"}), &[IRE], None, "secret.deleted")]
#[case::m9_update_metadata(Given::Deleted, "UpdateSecret", json!({"SecretId": "s1", "Description": "d"}), &[IRE], None, "secret.deleted")]
#[case::m9_usvs(Given::Deleted, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c1", "MoveToVersionId": V1}), &[IRE], None, "secret.deleted")]
#[case::m9_rotate(Given::Deleted, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE}), &[IRE], None, "secret.deleted")]
#[case::m9_cancel(Given::Deleted, "CancelRotateSecret", json!({"SecretId": "s1"}), &[IRE], None, "secret.deleted")]
// -- GetSecretValue: M2, M3, M4 and the placeholder
#[case::m2_unheld_stage(Given::One, "GetSecretValue", json!({"SecretId": "s1", "VersionStage": "AWSPENDING"}), &[RNF], m2("AWSPENDING"), "get.no-stage")]
#[case::m2_custom_stage(Given::Two, "GetSecretValue", json!({"SecretId": "s1", "VersionStage": "nowhere"}), &[RNF], m2("nowhere"), "get.no-stage")]
#[case::m2_no_value(Given::NoValue, "GetSecretValue", json!({"SecretId": "s1"}), &[RNF], m2("AWSCURRENT"), "get.no-stage")]
#[case::m2_no_value_by_stage(Given::NoValue, "GetSecretValue", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT"}), &[RNF], m2("AWSCURRENT"), "get.no-stage")]
#[case::m3(Given::One, "GetSecretValue", json!({"SecretId": "s1", "VersionId": V9}), &[RNF], m3(V9), "get.no-version")]
#[case::m3_no_value(Given::NoValue, "GetSecretValue", json!({"SecretId": "s1", "VersionId": V1}), &[RNF], m3(V1), "get.no-version")]
#[case::m4(Given::Two, "GetSecretValue", json!({"SecretId": "s1", "VersionId": V1, "VersionStage": "AWSCURRENT"}), &[IRE], Some(M4.into()), "get.mismatch")]
#[case::m4_stage_nowhere(Given::Two, "GetSecretValue", json!({"SecretId": "s1", "VersionId": V1, "VersionStage": "nowhere"}), &[IRE], Some(M4.into()), "get.mismatch")]
#[case::placeholder_by_stage(Given::Placeholder, "GetSecretValue", json!({"SecretId": "s1", "VersionStage": "AWSPENDING"}), &[RNF], m2("AWSPENDING"), "get.placeholder")]
#[case::placeholder_by_id(Given::Placeholder, "GetSecretValue", json!({"SecretId": "s1", "VersionId": R1}), &[RNF], None, "get.placeholder")]
#[case::placeholder_by_id_and_stage(Given::Placeholder, "GetSecretValue", json!({"SecretId": "s1", "VersionId": R1, "VersionStage": "AWSPENDING"}), &[RNF], m2("AWSPENDING"), "get.no-stage")]
// -- RotateSecret refusals
#[case::m10(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1}), &[IRE], Some(M10.into()), "rotate.no-lambda")]
#[case::m10_with_rules(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationRules": {"AutomaticallyAfterDays": 7}}), &[IRE], Some(M10.into()), "rotate.no-lambda")]
#[case::m11(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": DENIED}), &[ADE], Some(M11.into()), "rotate.not-invocable")]
#[case::m11_unknown_function(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": UNKNOWN_FN}), &[ADE], Some(M11.into()), "rotate.not-invocable")]
#[case::m12(Given::Stalled, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R2}), &[IRE], Some(M12.into()), "rotate.stalled-pending")]
#[case::m12_new_function(Given::Stalled, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R2, "RotationLambdaARN": COMPLETE}), &[IRE], Some(M12.into()), "rotate.stalled-pending")]
#[case::m12_not_immediately(Given::Stalled, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R2, "RotateImmediately": false}), &[IRE], Some(M12.into()), "rotate.stalled-pending")]
#[case::m12_placeholder(Given::Placeholder, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R2, "RotationLambdaARN": COMPLETE}), &[IRE], Some(M12.into()), "rotate.stalled-pending")]
#[case::m12_same_token(Given::Stalled, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1}), &[IRE], Some(M12.into()), "rotate.stalled-pending")]
#[case::m13(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": {"AutomaticallyAfterDays": 7, "ScheduleExpression": "rate(10 days)"}}), &[IPE], Some(M13.into()), "rotate.rules-exclusive")]
#[case::days_0(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": {"AutomaticallyAfterDays": 0}}), &[VE], None, "rotate.days-range")]
#[case::days_1001(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": {"AutomaticallyAfterDays": 1001}}), &[VE], None, "rotate.days-range")]
#[case::days_negative(Given::One, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": {"AutomaticallyAfterDays": -1}}), &[VE], None, "rotate.days-range")]
#[case::rules_before_existence(Given::Empty, "RotateSecret", json!({"SecretId": "nope", "ClientRequestToken": R1, "RotationRules": {"AutomaticallyAfterDays": 7, "ScheduleExpression": "rate(1 day)"}}), &[IPE], Some(M13.into()), "rotate.rules-exclusive")]
// -- UpdateSecretVersionStage
#[case::m14(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1}), &[IPE], m14(V2), "usvs.remove-required")]
#[case::remove_required_custom(Given::TwentyLabels, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c1", "MoveToVersionId": V1}), &[IPE], None, "usvs.remove-required")]
#[case::remove_from_mismatch(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1, "RemoveFromVersionId": V1}), &[IPE], None, "usvs.remove-mismatch")]
#[case::remove_only_mismatch(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSPREVIOUS", "RemoveFromVersionId": V2}), &[IPE], None, "usvs.remove-mismatch")]
#[case::remove_only_unheld(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "nowhere", "RemoveFromVersionId": V2}), &[IPE], None, "usvs.remove-mismatch")]
#[case::same_holder_wrong_remove(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V2, "RemoveFromVersionId": V1}), &[IPE], None, "usvs.remove-mismatch")]
#[case::remove_current(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "RemoveFromVersionId": V2}), &[IPE], None, "usvs.current-not-removable")]
#[case::neither_id(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT"}), &[IPE], None, "usvs.no-version")]
#[case::unknown_move_to(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c1", "MoveToVersionId": V9}), &[IPE, RNF], None, "usvs.unknown-version")]
#[case::unknown_move_to_current(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V9, "RemoveFromVersionId": V2}), &[IPE, RNF], None, "usvs.unknown-version")]
#[case::limit_usvs(Given::TwentyLabels, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "c20", "MoveToVersionId": V1}), &[LEE], None, "label.limit-20")]
#[case::limit_put_stages(Given::TwentyLabels, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "x", "VersionStages": ["c20"]}), &[LEE], None, "label.limit-20")]
#[case::limit_rotation_placeholder(Given::TwentyLabels, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": FAIL_CREATE}), &[LEE], None, "label.limit-20")]
#[case::limit_rotation(Given::TwentyLabels, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE}), &[LEE], None, "label.limit-20")]
#[case::limit_put_default(Given::TwentyLabels, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "x"}), &[LEE], None, "label.limit-20")]
// -- DeleteSecret
#[case::window_6(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 6}), &[IPE], Some("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".to_string()), "delete.window-range")]
#[case::window_31(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 31}), &[IPE], Some("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".to_string()), "delete.window-range")]
#[case::window_6_missing_secret(Given::Empty, "DeleteSecret", json!({"SecretId": "nope", "RecoveryWindowInDays": 6}), &[IPE], Some("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".to_string()), "delete.window-range")]
#[case::force_and_window(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 7, "ForceDeleteWithoutRecovery": true}), &[IPE], None, "delete.force-excludes-window")]
// -- several outcomes allowed ([U] rules): the exact set
#[case::restore_live(Given::One, "RestoreSecret", json!({"SecretId": "s1"}), &["ok", IRE], None, "restore.not-deleted")]
#[case::delete_twice(Given::Deleted, "DeleteSecret", json!({"SecretId": "s1"}), &["ok", IRE], None, "delete.twice")]
#[case::cancel_never_configured(Given::One, "CancelRotateSecret", json!({"SecretId": "s1"}), &["ok", IRE], None, "cancel.never-configured")]
#[case::list_deleted(Given::Deleted, "ListSecretVersionIds", json!({"SecretId": "s1"}), &["ok", IRE], None, "list.deleted")]
#[case::duration_100h(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(10 days)", "Duration": "100h"})), &[VE], None, "rotate.duration")]
#[case::duration_no_unit(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(10 days)", "Duration": "3"})), &[VE], None, "rotate.duration")]
#[case::list_max_results_0(Given::One, "ListSecretVersionIds", json!({"SecretId": "s1", "MaxResults": 0}), &[VE], None, "list.pages")]
#[case::list_max_results_101(Given::One, "ListSecretVersionIds", json!({"SecretId": "s1", "MaxResults": 101}), &[VE], None, "list.pages")]
#[case::list_foreign_token(Given::One, "ListSecretVersionIds", json!({"SecretId": "s1", "NextToken": "not-ours"}), &[IPE, VE], None, "list.pages")]
#[case::describe_bad_name(Given::Empty, "DescribeSecret", json!({"SecretId": "Inv Name"}), &[VE], Some(NAME_PATTERN.to_string()), "input.name-pattern")]
#[case::delete_force_bad_name(Given::Empty, "DeleteSecret", json!({"SecretId": "Inv*Name?", "ForceDeleteWithoutRecovery": true}), &[VE], Some(NAME_PATTERN.to_string()), "input.name-pattern")]
#[case::rotate_empty_secret_id(Given::Empty, "RotateSecret", json!({"SecretId": "", "ClientRequestToken": R1}), &[VE], Some(NAME_PATTERN.to_string()), "input.name-pattern")]
#[case::rotate_token_in_use(Given::Two, "RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": V1, "RotationLambdaARN": COMPLETE}), &[REE, IRE], None, "rotate.placeholder")]
fn refusals(
    #[case] given_state: Given,
    #[case] op: &str,
    #[case] input: Value,
    #[case] kinds: &[&str],
    #[case] message: Option<String>,
    #[case] rule: &str,
) {
    let model = given(given_state);
    let request = req(op, input);
    let all = branches(&model, &request);
    let got: BTreeSet<String> = all.iter().map(|b| kind(&b.outcome)).collect();
    let want: BTreeSet<String> = kinds.iter().map(|k| k.to_string()).collect();
    assert_eq!(got, want, "outcome kinds of {op}");
    for b in &all {
        assert!(
            cites(&b.outcome, rule),
            "{op}: {:?} does not cite {rule} (cites {})",
            b.outcome.expect,
            b.outcome.rule_ids()
        );
        if let Expect::Err(e) = &b.outcome.expect {
            match &message {
                Some(text) => {
                    assert!(e.message_known, "{op}: the {} text should be known", e.code);
                    assert_eq!(&e.message, text, "{op}");
                }
                None => {
                    assert!(!e.message_known, "{op}: the {} text should be marked unverified: {}", e.code, e.message)
                }
            }
            // A refusal never changes the state (apart from the clock).
            let mut before = model.clone();
            before.clock = b.state.clock;
            assert_eq!(b.state, before, "{op}: a refusal changed the state");
        }
    }
    let mut m = model.clone();
    assert_eq!(apply(&mut m, &request), all[0].outcome, "apply is the first branch");
}

// ---- acceptances ------------------------------------------------------------------------------

fn rotate_with(rules: Value) -> Value {
    json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": rules})
}

/// Requests a rule allows: every branch succeeds and cites `rule`, and the response has the given
/// members (a subset; `null` = the member must be absent).
#[rstest]
// -- §7.3 documented cron examples and §7.2 rate examples
#[case::cron_every_8h_from_midnight(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 /8 * * ? *)"})), "rotate.saves-config", json!({"VersionId": R1}))]
#[case::cron_8_every_8h(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 8/8 * * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_2_every_10h(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 2/10 * * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_daily_10(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 10 * * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_saturday(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 18 ? * SAT *)"})), "rotate.saves-config", json!({}))]
#[case::cron_first_of_month(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 8 1 * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_quarterly_first_sunday(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 1 ? 1/3 SUN#1 *)"})), "rotate.saves-config", json!({}))]
#[case::cron_last_day(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 17 L * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_weekdays(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 8 ? * MON-FRI *)"})), "rotate.saves-config", json!({}))]
#[case::cron_twice_a_month(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 16 1,15 * ? *)"})), "rotate.saves-config", json!({}))]
#[case::cron_first_sunday(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 0 ? * SUN#1 *)"})), "rotate.saves-config", json!({}))]
#[case::rate_4_hours(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(4 hours)"})), "rotate.saves-config", json!({}))]
#[case::rate_1_day(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(1 day)"})), "rotate.saves-config", json!({}))]
#[case::rate_10_days(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(10 days)"})), "rotate.saves-config", json!({}))]
// -- §7.1 ranges and Duration
#[case::days_1(Given::One, "RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 1})), "rotate.saves-config", json!({}))]
#[case::days_1000(Given::One, "RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 1000})), "rotate.saves-config", json!({}))]
#[case::duration_1h(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(4 hours)", "Duration": "1h"})), "rotate.saves-config", json!({}))]
#[case::duration_4h_rate_4_hours(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(4 hours)", "Duration": "4h"})), "rotate.saves-config", json!({}))]
#[case::duration_24h_days(Given::One, "RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 7, "Duration": "24h"})), "rotate.saves-config", json!({}))]
#[case::duration_3h_days(Given::One, "RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 7, "Duration": "3h"})), "rotate.saves-config", json!({}))]
#[case::duration_2h_cron(Given::One, "RotateSecret", rotate_with(json!({"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"})), "rotate.saves-config", json!({}))]
// -- boundaries
#[case::name_512(Given::Empty, "CreateSecret", json!({"Name": string_of(512, 'n'), "ClientRequestToken": V1, "SecretString": "x"}), "create.versions", json!({"VersionId": V1}))]
#[case::name_charset(Given::Empty, "CreateSecret", json!({"Name": "a/b_c+d=e.f@g-h", "ClientRequestToken": V1}), "create.versions", json!({"VersionId": null}))]
#[case::token_32(Given::Empty, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": MIN_TOKEN, "SecretString": "x"}), "create.versions", json!({"VersionId": MIN_TOKEN}))]
#[case::token_64(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": MAX_TOKEN, "SecretString": "x"}), "put.default-current", json!({"VersionId": MAX_TOKEN, "VersionStages": ["AWSCURRENT"]}))]
#[case::update_metadata_without_token(Given::One, "UpdateSecret", json!({"SecretId": "s1", "Description": "d"}), "update.metadata-only", json!({"VersionId": null}))]
#[case::update_metadata_ignores_token(Given::One, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V9, "Description": "d"}), "update.metadata-only", json!({"VersionId": null}))]
#[case::stages_20(Given::One, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x", "VersionStages": (0..19).map(|i| format!("l{i}")).collect::<Vec<_>>()}), "put.stages", json!({}))]
#[case::stage_256(Given::Two, "UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": string_of(256, 'l'), "MoveToVersionId": V1}), "usvs.attach-unheld", json!({"VersionId": null}))]
#[case::window_7(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 7}), "delete.schedules", json!({"DeletionDate": ANY}))]
#[case::window_30(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 30}), "delete.schedules", json!({"DeletionDate": ANY}))]
#[case::force_missing(Given::Empty, "DeleteSecret", json!({"SecretId": "nope", "ForceDeleteWithoutRecovery": true}), "delete.force", json!({"Name": "nope", "DeletionDate": ANY}))]
#[case::force_deleted(Given::Deleted, "DeleteSecret", json!({"SecretId": "s1", "ForceDeleteWithoutRecovery": true}), "delete.force", json!({"Name": "s1"}))]
#[case::force_false_with_window(Given::One, "DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 7, "ForceDeleteWithoutRecovery": false}), "delete.schedules", json!({}))]
// -- reads that work
#[case::describe_deleted(Given::Deleted, "DescribeSecret", json!({"SecretId": "s1"}), "describe.deleted", json!({"DeletedDate": ANY, "VersionIdsToStages": {V1: ["AWSCURRENT"]}}))]
#[case::describe_live(Given::One, "DescribeSecret", json!({"SecretId": "s1"}), "describe.fields", json!({"DeletedDate": null, "RotationEnabled": null}))]
#[case::describe_placeholder(Given::Placeholder, "DescribeSecret", json!({"SecretId": "s1"}), "describe.fields", json!({"VersionIdsToStages": {V1: ["AWSCURRENT"], R1: ["AWSPENDING"]}}))]
#[case::describe_by_arn(Given::One, "DescribeSecret", json!({"SecretId": "arn:aws:secretsmanager:<region>:<account>:secret:s1"}), "describe.fields", json!({"Name": "s1"}))]
#[case::get_default(Given::Two, "GetSecretValue", json!({"SecretId": "s1"}), "get.default-current", json!({"VersionId": V2, "SecretString": "two", "VersionStages": ["AWSCURRENT"]}))]
#[case::list_placeholder_hidden(Given::Placeholder, "ListSecretVersionIds", json!({"SecretId": "s1", "IncludeDeprecated": true}), "list.versions", json!({"Versions": [{"VersionId": V1, "VersionStages": ["AWSCURRENT"], "CreatedDate": ANY}]}))]
#[case::restore(Given::Deleted, "RestoreSecret", json!({"SecretId": "s1"}), "restore.effect", json!({"Name": "s1"}))]
#[case::get_deprecated(Given::Three, "GetSecretValue", json!({"SecretId": "s1", "VersionId": V1}), "get.deprecated", json!({"VersionId": V1, "SecretString": "v0"}))]
#[case::list_without_deprecated(Given::Three, "ListSecretVersionIds", json!({"SecretId": "s1"}), "list.versions", json!({"Versions": [{"VersionId": V2, "VersionStages": ["AWSPREVIOUS"], "CreatedDate": ANY}, {"VersionId": V3, "VersionStages": ["AWSCURRENT"], "CreatedDate": ANY}]}))]
#[case::list_with_deprecated(Given::Three, "ListSecretVersionIds", json!({"SecretId": "s1", "IncludeDeprecated": true}), "list.versions", json!({"Versions": [{"VersionId": V1, "VersionStages": null, "CreatedDate": ANY}, {"VersionId": V2, "VersionStages": ["AWSPREVIOUS"], "CreatedDate": ANY}, {"VersionId": V3, "VersionStages": ["AWSCURRENT"], "CreatedDate": ANY}]}))]
#[case::first_current(Given::NoValue, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "x"}), "label.first-current", json!({"VersionStages": ["AWSCURRENT"]}))]
#[case::fill_placeholder(Given::Placeholder, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": R1, "SecretString": "x", "VersionStages": ["AWSPENDING"]}), "token.fills-placeholder", json!({"VersionId": R1, "VersionStages": ["AWSPENDING"]}))]
#[case::describe_dates(Given::One, "DescribeSecret", json!({"SecretId": "s1"}), "describe.dates", json!({"CreatedDate": "<any>", "LastChangedDate": "<any>", "LastAccessedDate": null, "KmsKeyId": null, "Tags": null}))]
#[case::cancel_stalled(Given::Stalled, "CancelRotateSecret", json!({"SecretId": "s1"}), "cancel.effect", json!({"VersionId": R1}))]
fn acceptances(
    #[case] given_state: Given,
    #[case] op: &str,
    #[case] input: Value,
    #[case] rule: &str,
    #[case] members: Value,
) {
    let model = given(given_state);
    let request = req(op, input);
    let all = branches(&model, &request);
    for b in &all {
        let Expect::Ok(response) = &b.outcome.expect else {
            panic!("{op} was refused: {:?}", b.outcome.expect);
        };
        assert!(cites(&b.outcome, rule), "{op} does not cite {rule} (cites {})", b.outcome.rule_ids());
        for (k, v) in members.as_object().expect("members is an object") {
            let got = response.get(k).unwrap_or(&Value::Null);
            assert!(same_member(got, v), "{op}: member {k} of {response}: expected {v}");
        }
    }
}

/// The rejected schedule expressions and durations of §7.2/§7.3 (all InvalidParameterException
/// with unverified texts).
#[rstest]
#[case::minutes_not_zero(json!({"ScheduleExpression": "cron(30 10 * * ? *)"}), "rotate.schedule-expression")]
#[case::year_not_star(json!({"ScheduleExpression": "cron(0 10 * * ? 2030)"}), "rotate.schedule-expression")]
#[case::every_2_hours(json!({"ScheduleExpression": "cron(0 /2 * * ? *)"}), "rotate.schedule-expression")]
#[case::hours_3_apart(json!({"ScheduleExpression": "cron(0 1,4 * * ? *)"}), "rotate.schedule-expression")]
#[case::wrap_3_hours(json!({"ScheduleExpression": "cron(0 2,23 * * ? *)"}), "rotate.schedule-expression")]
#[case::rate_3_hours(json!({"ScheduleExpression": "rate(3 hours)"}), "rotate.schedule-expression")]
#[case::rate_0_days(json!({"ScheduleExpression": "rate(0 days)"}), "rotate.schedule-expression")]
#[case::rate_minutes(json!({"ScheduleExpression": "rate(300 minutes)"}), "rotate.schedule-expression")]
#[case::rate_1000_days(json!({"ScheduleExpression": "rate(1000 days)"}), "rotate.schedule-expression")]
#[case::both_question_marks(json!({"ScheduleExpression": "cron(0 10 ? * ? *)"}), "rotate.schedule-expression")]
#[case::no_question_mark(json!({"ScheduleExpression": "cron(0 10 1 * MON *)"}), "rotate.schedule-expression")]
#[case::five_fields(json!({"ScheduleExpression": "cron(0 10 * * ?)"}), "rotate.schedule-expression")]
#[case::garbage(json!({"ScheduleExpression": "every day"}), "rotate.schedule-expression")]
#[case::bad_charset(json!({"ScheduleExpression": "cron(0 10 * * ? *);"}), "rotate.schedule-expression")]
#[case::hour_24(json!({"ScheduleExpression": "cron(0 24 * * ? *)"}), "rotate.schedule-expression")]
#[case::month_13(json!({"ScheduleExpression": "cron(0 10 1 13 ? *)"}), "rotate.schedule-expression")]
#[case::duration_0h(json!({"ScheduleExpression": "rate(1 day)", "Duration": "0h"}), "rotate.duration")]
#[case::duration_5h_rate_4_hours(json!({"ScheduleExpression": "rate(4 hours)", "Duration": "5h"}), "rotate.duration")]
#[case::duration_25h_days(json!({"AutomaticallyAfterDays": 7, "Duration": "25h"}), "rotate.duration")]
#[case::duration_crosses_midnight(json!({"ScheduleExpression": "cron(0 20 * * ? *)", "Duration": "5h"}), "rotate.duration")]
#[case::duration_over_cron_interval(json!({"ScheduleExpression": "cron(0 /8 * * ? *)", "Duration": "9h"}), "rotate.duration")]
fn rejected_rotation_rules(#[case] rules: Value, #[case] rule: &str) {
    let model = given(Given::One);
    let request = req("RotateSecret", rotate_with(rules.clone()));
    let all = branches(&model, &request);
    assert_eq!(all.len(), 1, "{rules}: one outcome");
    let o = &all[0].outcome;
    let Expect::Err(e) = &o.expect else { panic!("{rules} was accepted") };
    assert_eq!(e.code, IPE, "{rules}");
    assert!(!e.message_known, "{rules}: the text is unverified");
    assert!(cites(o, rule), "{rules}: cites {} not {rule}", o.rule_ids());
    assert_eq!(o.rules.last().map(|r| r.id), Some(rule), "{rules}: {rule} decided the refusal");
}

// ---- rules that need a follow-up read ---------------------------------------------------------

fn describe(m: &mut Model) -> Value {
    let o = apply(m, &req("DescribeSecret", json!({"SecretId": "s1"})));
    o.response().cloned().expect("DescribeSecret succeeds")
}

/// M11 saves nothing: no rotation settings, no AWSPENDING version (§13.16, §5.10 refusal 5).
#[test]
fn not_invocable_function_saves_nothing() {
    let mut m = given(Given::One);
    let o = apply(&mut m, &req("RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 7}))));
    assert!(o.is_ok(), "control: a complete function is accepted");
    for arn in [DENIED, UNKNOWN_FN] {
        let mut m = given(Given::One);
        let o = apply(
            &mut m,
            &req(
                "RotateSecret",
                json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": arn, "RotationRules": {"AutomaticallyAfterDays": 7}}),
            ),
        );
        assert_eq!(o.error_code(), Some(ADE));
        let d = describe(&mut m);
        assert_eq!(d["RotationEnabled"], Value::Null, "{arn}: {d}");
        assert_eq!(d["RotationLambdaARN"], Value::Null, "{arn}: {d}");
        assert_eq!(d["RotationRules"], Value::Null, "{arn}: {d}");
        assert_eq!(d["VersionIdsToStages"], json!({V1: ["AWSCURRENT"]}), "{arn}: no pending version");
    }
}

/// M10 and M12 refusals save nothing either (§13.15; §5.10 refusal 6 "assume not").
#[test]
fn refused_rotations_save_nothing() {
    let mut m = given(Given::One);
    assert_eq!(
        apply(&mut m, &req("RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1}))).error_code(),
        Some(IRE)
    );
    assert_eq!(describe(&mut m)["RotationEnabled"], Value::Null);

    let mut m = given(Given::Stalled);
    let before = describe(&mut m);
    let o = apply(&mut m, &req("RotateSecret", rotate_with(json!({"ScheduleExpression": "rate(10 days)"}))));
    assert_eq!(o.error_code(), Some(IRE));
    let after = describe(&mut m);
    assert_eq!(after["RotationLambdaARN"], json!(FAIL_SET), "the stored function is unchanged");
    assert_eq!(after["RotationRules"], before["RotationRules"]);
}

/// Describe after CancelRotateSecret during a stalled rotation: RotationEnabled false, function
/// kept, AWSPENDING still there (§5.11).
#[test]
fn cancel_keeps_pending_and_function() {
    let mut m = given(Given::Stalled);
    let o = apply(&mut m, &req("CancelRotateSecret", json!({"SecretId": "s1"})));
    assert!(cites(&o, "cancel.effect"));
    let d = describe(&mut m);
    assert_eq!(d["RotationEnabled"], json!(false));
    assert_eq!(d["RotationLambdaARN"], json!(FAIL_SET));
    assert_eq!(d["NextRotationDate"], Value::Null);
    assert_eq!(d["VersionIdsToStages"][R1], json!(["AWSPENDING"]));
}

/// A stalled secret and an uninvocable function: which refusal AWS reports first is unknown, so
/// both are allowed, each with its own recorded text (§5.10 refusals 5 and 6).
#[test]
fn stalled_and_not_invocable_allows_either_refusal() {
    let m = given(Given::Stalled);
    let all = branches(
        &m,
        &req("RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R2, "RotationLambdaARN": DENIED})),
    );
    let got: BTreeSet<(String, String, &str)> = all
        .iter()
        .map(|b| match &b.outcome.expect {
            Expect::Err(e) if e.message_known => {
                (e.code.clone(), e.message.clone(), b.outcome.rules.last().unwrap().id)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        BTreeSet::from([
            (IRE.to_string(), M12.to_string(), "rotate.stalled-pending"),
            (ADE.to_string(), M11.to_string(), "rotate.not-invocable"),
        ])
    );
}

/// Attaching an unheld label with a RemoveFromVersionId that holds nothing is [U] (§5.5 step 2):
/// the attach succeeds, or the mismatch refusal.
#[test]
fn attach_unheld_with_remove_from_allows_both() {
    let m = given(Given::Two);
    let r = req(
        "UpdateSecretVersionStage",
        json!({"SecretId": "s1", "VersionStage": "nowhere", "MoveToVersionId": V1, "RemoveFromVersionId": V2}),
    );
    let got: BTreeSet<(String, &str)> =
        branches(&m, &r).iter().map(|b| (kind(&b.outcome), b.outcome.rules.last().unwrap().id)).collect();
    assert_eq!(
        got,
        BTreeSet::from([("ok".to_string(), "usvs.attach-unheld"), (IPE.to_string(), "usvs.remove-mismatch")])
    );
}

/// Re-creating a just force-deleted name may succeed or hit M8 (§5.12).
#[test]
fn create_after_force_delete_has_two_outcomes() {
    let mut m = given(Given::One);
    setup(&mut m, "DeleteSecret", json!({"SecretId": "s1", "ForceDeleteWithoutRecovery": true}));
    let all = branches(&m, &req("CreateSecret", json!({"Name": "s1", "ClientRequestToken": V2, "SecretString": "x"})));
    let kinds: BTreeSet<String> = all.iter().map(|b| kind(&b.outcome)).collect();
    assert_eq!(kinds, BTreeSet::from(["ok".to_string(), IRE.to_string()]));
    for b in &all {
        assert!(cites(&b.outcome, "create.after-force-delete"));
        if let Expect::Err(e) = &b.outcome.expect {
            assert_eq!(e.message, M8);
        }
    }
}

/// A repeated token with the same value is a no-op returning the same response (§4).
#[rstest]
#[case::create(Given::One, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "v0"}), json!({"VersionId": V1}))]
#[case::put_old_version(Given::Two, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V1, "SecretString": "v0"}), json!({"VersionId": V1, "VersionStages": ["AWSPREVIOUS"]}))]
#[case::put_with_other_stages(Given::Two, "PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V1, "SecretString": "v0", "VersionStages": ["AWSCURRENT"]}), json!({"VersionId": V1, "VersionStages": ["AWSPREVIOUS"]}))]
#[case::update(Given::Two, "UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "two"}), json!({"VersionId": V2}))]
fn same_token_same_value_is_a_no_op(
    #[case] given_state: Given,
    #[case] op: &str,
    #[case] input: Value,
    #[case] members: Value,
) {
    let model = given(given_state);
    let mut m = model.clone();
    let o = apply(&mut m, &req(op, input));
    assert!(cites(&o, "token.same-value"), "{op}: cites {}", o.rule_ids());
    let response = o.response().expect("succeeds");
    for (k, v) in members.as_object().unwrap() {
        assert_eq!(&response[k], v, "{op}: {k}");
    }
    m.clock = model.clock;
    assert_eq!(m, model, "{op}: nothing changed");
}

/// From 100 versions on a new version may be refused (quota, [U]); with more than 100 versions,
/// deprecated versions at least 24 hours old may be removed (§1.5). The exact set of outcomes.
#[test]
fn version_quota_and_clean_up() {
    let mut m = given(Given::One);
    for i in 0..99 {
        setup(
            &mut m,
            "PutSecretValue",
            json!({"SecretId": "s1", "ClientRequestToken": format!("p{i:031}"), "SecretString": format!("x{i}")}),
        );
    }
    assert_eq!(m.secrets["s1"].versions.len(), 100);
    m.advance_clock(24 * 60 * 60);
    let put = req("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V9, "SecretString": "new"}));
    let all = branches(&m, &put);
    let summary: BTreeSet<(String, usize, bool)> = all
        .iter()
        .map(|b| (kind(&b.outcome), b.state.secrets["s1"].versions.len(), cites(&b.outcome, "version.gc")))
        .collect();
    assert_eq!(
        summary,
        BTreeSet::from([(LEE.to_string(), 100, false), ("ok".to_string(), 101, false), ("ok".to_string(), 100, true),])
    );
    let refused = all.iter().find(|b| !b.outcome.is_ok()).unwrap();
    assert!(cites(&refused.outcome, "put.version-quota"));
    // Only a deprecated version (the oldest) may go; every labelled version stays.
    let collected = all.iter().find(|b| cites(&b.outcome, "version.gc")).unwrap();
    let s = &collected.state.secrets["s1"];
    assert!(!s.versions.contains_key(V1), "the oldest deprecated version is removed first");
    assert_eq!(s.label_count(), 2);
    assert!(s.holder("AWSCURRENT") == Some(V9) && s.holder("AWSPREVIOUS").is_some());
}

/// A version younger than 24 hours is never removed, however many there are (§1.5).
#[test]
fn young_versions_are_never_collected() {
    let mut m = given(Given::One);
    for i in 0..100 {
        setup(
            &mut m,
            "PutSecretValue",
            json!({"SecretId": "s1", "ClientRequestToken": format!("p{i:031}"), "SecretString": format!("x{i}")}),
        );
    }
    let put = req("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V9, "SecretString": "new"}));
    for b in branches(&m, &put) {
        assert!(!cites(&b.outcome, "version.gc"));
        if b.outcome.is_ok() {
            assert_eq!(b.state.secrets["s1"].versions.len(), 102);
        }
    }
}

// ---- successes and the label algebra (§5.1, §13) ----------------------------------------------

fn labels_of(m: &Model, id: &str) -> Vec<String> {
    m.secrets["s1"].versions[id].labels.iter().cloned().collect()
}

/// Each §5.1/§13 state rule, as (setup steps, request, expected labels afterwards, rule cited).
#[rstest]
#[case::create_value(vec![], ("CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "v0"})), vec![(V1, vec!["AWSCURRENT"])], "create.versions")]
#[case::put_default(vec![], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["AWSCURRENT"])], "label.previous-follows-current")]
#[case::put_default_deprecates(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c"})), vec![(V1, vec![]), (V2, vec!["AWSPREVIOUS"]), (V3, vec!["AWSCURRENT"])], "put.default-current")]
#[case::put_custom_only(vec![], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["c1"]})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec!["c1"])], "put.stages")]
#[case::put_pending_only(vec![], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSPENDING"]})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec!["AWSPENDING"])], "put.stages")]
#[case::put_moves_custom(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["one", "two"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c", "VersionStages": ["one", "two"]})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec![]), (V3, vec!["one", "two"])], "label.moves")]
#[case::put_current_and_custom(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["PUT0"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c", "VersionStages": ["AWSCURRENT", "PUT1"]})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["PUT0"]), (V3, vec!["AWSCURRENT", "PUT1"])], "label.previous-follows-current")]
#[case::put_keeps_old_custom(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSCURRENT", "keep"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c"})), vec![(V1, vec![]), (V2, vec!["AWSPREVIOUS", "keep"]), (V3, vec!["AWSCURRENT"])], "label.previous-follows-current")]
#[case::put_abandons_rotation(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSPENDING"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c"})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec![]), (V3, vec!["AWSCURRENT"])], "put.rotation-abandoned")]
#[case::put_pending_with_current_on_it(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSCURRENT", "AWSPENDING"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c"})), vec![(V1, vec![]), (V2, vec!["AWSPREVIOUS"]), (V3, vec!["AWSCURRENT"])], "put.rotation-abandoned")]
#[case::put_pending_and_custom_moves_pending(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSCURRENT", "AWSPENDING", "mine"]}))], ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c", "VersionStages": ["AWSPENDING", "PUT2"]})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["AWSCURRENT", "mine"]), (V3, vec!["AWSPENDING", "PUT2"])], "put.stages")]
#[case::update_value(vec![], ("UpdateSecret", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["AWSCURRENT"])], "update.new-current")]
#[case::usvs_move_current(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSCURRENT", "AWSPENDING", "x"]})), ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c", "VersionStages": ["AWSPREVIOUS"]}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1, "RemoveFromVersionId": V2})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec!["AWSPENDING", "AWSPREVIOUS", "x"]), (V3, vec![])], "usvs.move")]
#[case::usvs_current_keeps_pending(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSPENDING", "y"]}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V2, "RemoveFromVersionId": V1})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["AWSCURRENT", "AWSPENDING", "y"])], "label.pending-kept-on-move")]
#[case::usvs_current_onto_previous(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1, "RemoveFromVersionId": V2})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec!["AWSPREVIOUS"])], "label.previous-follows-current")]
#[case::usvs_remove(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["AWSPENDING"]}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSPENDING", "RemoveFromVersionId": V2})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec![])], "usvs.remove")]
#[case::usvs_attach_unheld(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSSOMETHING", "MoveToVersionId": V1})), vec![(V1, vec!["AWSPREVIOUS", "AWSSOMETHING"]), (V2, vec!["AWSCURRENT"])], "usvs.attach-unheld")]
#[case::usvs_relabel_deprecated(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"})), ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V3, "SecretString": "c"}))], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1, "RemoveFromVersionId": V3})), vec![(V1, vec!["AWSCURRENT"]), (V2, vec![]), (V3, vec!["AWSPREVIOUS"])], "usvs.move")]
#[case::usvs_same_version(vec![], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1})), vec![(V1, vec!["AWSCURRENT"])], "usvs.same-version")]
#[case::usvs_same_version_with_remove(vec![], ("UpdateSecretVersionStage", json!({"SecretId": "s1", "VersionStage": "AWSCURRENT", "MoveToVersionId": V1, "RemoveFromVersionId": V1})), vec![(V1, vec!["AWSCURRENT"])], "usvs.same-version")]
#[case::delete_keeps_versions(vec![("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b"}))], ("DeleteSecret", json!({"SecretId": "s1"})), vec![(V1, vec!["AWSPREVIOUS"]), (V2, vec!["AWSCURRENT"])], "delete.schedules")]
fn label_algebra(
    #[case] steps: Vec<(&str, Value)>,
    #[case] request: (&str, Value),
    #[case] expected: Vec<(&str, Vec<&str>)>,
    #[case] rule: &str,
) {
    let mut m = given(Given::Empty);
    if request.0 != "CreateSecret" {
        setup(&mut m, "CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "SecretString": "v0"}));
    }
    for (op, input) in steps {
        setup(&mut m, op, input);
    }
    let r = req(request.0, request.1);
    let all = branches(&m, &r);
    assert_eq!(all.len(), 1, "{}: a single outcome", request.0);
    let o = apply(&mut m, &r);
    assert!(o.is_ok(), "{:?}", o.expect);
    assert!(cites(&o, rule), "cites {} not {rule}", o.rule_ids());
    let ids: BTreeSet<&str> = m.secrets["s1"].versions.keys().map(String::as_str).collect();
    assert_eq!(ids, expected.iter().map(|(id, _)| *id).collect(), "the versions");
    for (id, labels) in expected {
        assert_eq!(labels_of(&m, id), labels, "labels of {id}");
    }
}

/// PutSecretValue's response lists the labels now on the new version (§5.3), the first version
/// gets AWSCURRENT whatever VersionStages says (§5.3.4), and a RotateSecret response names the
/// pending version (§13.11).
#[test]
fn responses_name_the_version() {
    let mut m = given(Given::NoValue);
    let o = apply(
        &mut m,
        &req(
            "PutSecretValue",
            json!({"SecretId": "s1", "ClientRequestToken": V2, "SecretString": "b", "VersionStages": ["c1"]}),
        ),
    );
    assert!(cites(&o, "put.first-version-current"));
    assert_eq!(o.response().unwrap()["VersionStages"], json!(["AWSCURRENT", "c1"]));

    let mut m = given(Given::One);
    let o = apply(&mut m, &req("RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 30}))));
    assert!(cites(&o, "rotate.response"));
    assert_eq!(o.response().unwrap()["VersionId"], json!(R1));
}

/// A successful rotation (§5.10 effect 6): two end states, AWSPENDING gone or still on the new
/// AWSCURRENT; the old current gets AWSPREVIOUS either way.
#[test]
fn successful_rotation_has_two_end_states() {
    let m = given(Given::One);
    let all = branches(&m, &req("RotateSecret", rotate_with(json!({"AutomaticallyAfterDays": 30}))));
    let ends: BTreeSet<Vec<String>> = all
        .iter()
        .map(|b| {
            assert!(b.outcome.is_ok() && cites(&b.outcome, "rotate.end-states"));
            assert_eq!(labels_of(&b.state, V1), vec!["AWSPREVIOUS"]);
            labels_of(&b.state, R1)
        })
        .collect();
    assert_eq!(
        ends,
        BTreeSet::from([vec!["AWSCURRENT".to_string()], vec!["AWSCURRENT".to_string(), "AWSPENDING".to_string()]])
    );
}

/// RotateImmediately=false tests the function only: AWSCURRENT stays, nothing is left pending, and
/// the test version may or may not remain as a deprecated copy (§5.10).
#[test]
fn rotate_not_immediately_only_tests() {
    let m = given(Given::One);
    let mut input = rotate_with(json!({"AutomaticallyAfterDays": 30}));
    input["RotateImmediately"] = json!(false);
    let all = branches(&m, &req("RotateSecret", input));
    assert_eq!(all.len(), 2);
    for b in &all {
        assert!(cites(&b.outcome, "rotate.test-only"));
        let s = &b.state.secrets["s1"];
        assert_eq!(s.holder("AWSCURRENT"), Some(V1));
        assert_eq!(s.holder("AWSPENDING"), None);
        assert_eq!(s.rotation.enabled, Some(true));
        if let Some(copy) = s.versions.get(R1) {
            assert!(copy.is_deprecated());
            assert_eq!(copy.value, s.versions[V1].value);
        }
    }
}

/// The two actors of a rotation (§6): the service's placeholder (R1), then the function's steps
/// (R2-R5) through the ordinary label algebra; a failure at any step leaves AWSPENDING stalled on
/// the token's version, with a value only if createSecret ran. Canonical end states.
#[rstest]
#[case::complete(Given::One, COMPLETE, true, vec!["AWSCURRENT"], "rotate.end-states")]
#[case::fail_at_create(Given::One, FAIL_CREATE, false, vec!["AWSPENDING"], "rotate.failure-stalls")]
#[case::fail_at_set(Given::One, FAIL_SET, true, vec!["AWSPENDING"], "rotate.failure-stalls")]
#[case::fail_at_test(Given::One, "fn:fail-test", true, vec!["AWSPENDING"], "rotate.failure-stalls")]
#[case::fail_at_finish(Given::One, "fn:fail-finish", true, vec!["AWSPENDING"], "rotate.failure-stalls")]
#[case::no_current_value(Given::NoValue, COMPLETE, false, vec!["AWSPENDING"], "rotate.failure-stalls")]
fn rotation_phases(
    #[case] given_state: Given,
    #[case] arn: &str,
    #[case] filled: bool,
    #[case] token_labels: Vec<&str>,
    #[case] rule: &str,
) {
    let mut m = given(given_state)
        .with_function("fn:fail-test", FunctionBehaviour::FailAt(Step::TestSecret))
        .with_function("fn:fail-finish", FunctionBehaviour::FailAt(Step::FinishSecret));
    let o = apply(
        &mut m,
        &req("RotateSecret", json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": arn})),
    );
    assert_eq!(o.response().map(|r| r["VersionId"].clone()), Some(json!(R1)), "{arn}: {:?}", o.expect);
    for id in ["rotate.settled-before-next-call", "rotate.placeholder", "rotate.function-steps", rule] {
        assert!(cites(&o, id), "{arn}: cites {} not {id}", o.rule_ids());
    }
    let s = &m.secrets["s1"];
    assert_eq!(s.versions[R1].value.is_some(), filled, "{arn}: whether createSecret stored a value");
    assert_eq!(labels_of(&m, R1), token_labels, "{arn}");
    assert_eq!(sm_model::labels::is_stalled(s), rule == "rotate.failure-stalls", "{arn}");
    assert_eq!(s.rotation.enabled, Some(true));
    assert_eq!(s.rotation.rotated, rule == "rotate.end-states", "{arn}: LastRotatedDate only after success");
}

/// Every rule of the catalogue has at least one row (or test) in this file naming it.
#[test]
fn every_rule_has_a_row() {
    let source = include_str!("rules.rs");
    let missing: Vec<&str> =
        sm_model::rules::ALL.iter().map(|r| r.id).filter(|id| !source.contains(&format!("\"{id}\""))).collect();
    assert!(missing.is_empty(), "rules without a row: {missing:?}");
}

/// A member of a model response against a row's expectation: `"<any>"` stands for any present
/// value (dates are numbers from the model's clock); objects compare member by member.
fn same_member(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (g, Value::String(w)) if w == sm_model::ANY => !g.is_null(),
        (Value::Object(g), Value::Object(w)) => {
            w.iter().all(|(k, wv)| same_member(g.get(k).unwrap_or(&Value::Null), wv))
        }
        (Value::Array(g), Value::Array(w)) => g.len() == w.len() && g.iter().zip(w).all(|(a, b)| same_member(a, b)),
        (g, w) => g == w,
    }
}

/// LastAccessedDate appears once GetSecretValue read a version (secret and version), and a read
/// leaves LastChangedDate alone; a write moves it.
#[test]
fn reads_stamp_access_and_writes_stamp_change() {
    let mut m = given(Given::One);
    let describe = req("DescribeSecret", json!({"SecretId": "s1"}));
    let changed = |m: &mut Model| match apply(m, &describe).expect {
        Expect::Ok(v) => (v["LastChangedDate"].clone(), v["LastAccessedDate"].clone()),
        other => panic!("{other:?}"),
    };
    let (before, accessed) = changed(&mut m);
    assert!(accessed.is_null());
    apply(&mut m, &req("GetSecretValue", json!({"SecretId": "s1"})));
    let (after_read, accessed) = changed(&mut m);
    assert_eq!(after_read, before, "a read changes nothing");
    assert!(accessed.is_number(), "LastAccessedDate after a read");
    let list = apply(&mut m, &req("ListSecretVersionIds", json!({"SecretId": "s1"})));
    let Expect::Ok(list) = list.expect else { panic!() };
    assert!(list["Versions"][0]["LastAccessedDate"].is_number());
    apply(&mut m, &req("UpdateSecret", json!({"SecretId": "s1", "Description": "d"})));
    let (after_write, _) = changed(&mut m);
    assert!(after_write.as_f64() > before.as_f64(), "a write moves LastChangedDate");
}
