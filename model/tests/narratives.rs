//! Narratives: short request sequences through the model, rendered as step tables
//! (`narrative::step_table`) and pinned as insta snapshots. Each snapshot was reviewed against
//! `semantics.md`; a snapshot is an assertion about the model, so a change in one is a change in
//! the model's reading of AWS. Covered: a stalled AWSPENDING blocking RotateSecret and its clearing
//! (§5.10, §6), a failed createSecret leaving an empty AWSPENDING version (§1.6, §13.13), cancel
//! during rotation (§5.11), a user-made stall and its abandonment (§5.3.8, §13.3), custom labels
//! surviving AWSCURRENT moves (§5.1, §13.6), deprecated versions (§1.4, §13.10), a secret created
//! without a value (§13.1), deletion and restore (§5.12, §5.13, §8), and both end states of a
//! successful rotation (§5.10 effect 6).

use serde_json::{json, Value};
use sm_model::narrative::{state_summary, step_table};
use sm_model::{apply, branches, FunctionBehaviour, Model, Outcome, Request, Step};

const V1: &str = "v1-000000000000000000000000000000";
const V2: &str = "v2-000000000000000000000000000000";
const V3: &str = "v3-000000000000000000000000000000";
const V4: &str = "v4-000000000000000000000000000000";
const R1: &str = "r1-000000000000000000000000000000";
const R2: &str = "r2-000000000000000000000000000000";
const R3: &str = "r3-000000000000000000000000000000";

const COMPLETE: &str = "arn:aws:lambda:us-east-1:111122223333:function:complete";
const FAIL_CREATE: &str = "arn:aws:lambda:us-east-1:111122223333:function:fail-at-createSecret";
const FAIL_SET: &str = "arn:aws:lambda:us-east-1:111122223333:function:fail-at-setSecret";
const FAIL_TEST: &str = "arn:aws:lambda:us-east-1:111122223333:function:fail-at-testSecret";

fn model() -> Model {
    Model::new()
        .with_function(COMPLETE, FunctionBehaviour::Complete)
        .with_function(FAIL_CREATE, FunctionBehaviour::FailAt(Step::CreateSecret))
        .with_function(FAIL_SET, FunctionBehaviour::FailAt(Step::SetSecret))
        .with_function(FAIL_TEST, FunctionBehaviour::FailAt(Step::TestSecret))
}

type Steps = Vec<(Request, Outcome, Model)>;

/// Runs `(op, input)` pairs through `apply`, collecting (request, outcome, state after).
fn run(m: &mut Model, steps: &[(&str, Value)]) -> Steps {
    steps
        .iter()
        .map(|(op, input)| {
            let r = Request::from_parts(op, input.clone()).expect("narrative requests are well-formed");
            let o = apply(m, &r);
            (r, o, m.clone())
        })
        .collect()
}

fn create(token: &str, value: &str) -> (&'static str, Value) {
    ("CreateSecret", json!({"Name": "s1", "ClientRequestToken": token, "SecretString": value}))
}
fn put(token: &str, value: &str) -> (&'static str, Value) {
    ("PutSecretValue", json!({"SecretId": "s1", "ClientRequestToken": token, "SecretString": value}))
}
fn put_stages(token: &str, value: &str, stages: &[&str]) -> (&'static str, Value) {
    (
        "PutSecretValue",
        json!({"SecretId": "s1", "ClientRequestToken": token, "SecretString": value, "VersionStages": stages}),
    )
}
fn rotate(token: &str, arn: Option<&str>) -> (&'static str, Value) {
    let mut input = json!({"SecretId": "s1", "ClientRequestToken": token});
    if let Some(arn) = arn {
        input["RotationLambdaARN"] = json!(arn);
    }
    ("RotateSecret", input)
}
fn describe() -> (&'static str, Value) {
    ("DescribeSecret", json!({"SecretId": "s1"}))
}
fn get(input: Value) -> (&'static str, Value) {
    let mut i = json!({"SecretId": "s1"});
    i.as_object_mut().unwrap().extend(input.as_object().unwrap().clone());
    ("GetSecretValue", i)
}
fn list(include_deprecated: bool) -> (&'static str, Value) {
    ("ListSecretVersionIds", json!({"SecretId": "s1", "IncludeDeprecated": include_deprecated}))
}
fn usvs(stage: &str, move_to: Option<&str>, remove_from: Option<&str>) -> (&'static str, Value) {
    let mut i = json!({"SecretId": "s1", "VersionStage": stage});
    if let Some(m) = move_to {
        i["MoveToVersionId"] = json!(m);
    }
    if let Some(r) = remove_from {
        i["RemoveFromVersionId"] = json!(r);
    }
    ("UpdateSecretVersionStage", i)
}

fn codes(steps: &Steps) -> Vec<Option<&str>> {
    steps.iter().map(|(_, o, _)| o.error_code()).collect()
}

/// (a) A function failing at setSecret leaves AWSPENDING on the new version; every RotateSecret is
/// then refused with M12 until AWSPENDING is removed by hand (path X of §6); a complete function
/// then rotates normally.
#[test]
fn a_stalled_pending_blocks_rotation() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            rotate(R1, Some(FAIL_SET)),
            describe(),
            rotate(R2, None),
            rotate(R2, Some(COMPLETE)),
            usvs("AWSPENDING", None, Some(R1)),
            rotate(R3, Some(COMPLETE)),
            get(json!({})),
            list(true),
            describe(),
        ],
    );
    let irx = Some("InvalidRequestException");
    assert_eq!(codes(&steps), vec![None, None, None, irx, irx, None, None, None, None, None]);
    insta::assert_snapshot!(step_table(&steps));
}

/// (b) A function failing at createSecret leaves AWSPENDING on an empty version: DescribeSecret
/// shows it, ListSecretVersionIds does not (even with IncludeDeprecated), and reading it is
/// ResourceNotFoundException by stage (M2) and by id (§1.6, §5.6, §13.13).
#[test]
fn b_failed_create_secret_leaves_an_empty_pending_version() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            rotate(R1, Some(FAIL_CREATE)),
            describe(),
            list(true),
            get(json!({"VersionStage": "AWSPENDING"})),
            get(json!({"VersionId": R1})),
            get(json!({"VersionId": R1, "VersionStage": "AWSPENDING"})),
            get(json!({})),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (c) CancelRotateSecret during a stalled rotation returns the pending VersionId, turns rotation
/// off and leaves AWSPENDING where it is, so RotateSecret still refuses with M12 (§5.11).
#[test]
fn c_cancel_during_rotation() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            rotate(R1, Some(FAIL_TEST)),
            ("CancelRotateSecret", json!({"SecretId": "s1"})),
            describe(),
            rotate(R2, None),
        ],
    );
    assert_eq!(steps[2].1.response().unwrap()["VersionId"], json!(R1));
    insta::assert_snapshot!(step_table(&steps));
}

/// (d) A user PutSecretValue with VersionStages [AWSPENDING] stalls rotation just like a failed
/// rotation; a default put (a manual new AWSCURRENT) abandons it and rotation works again (§5.3.8,
/// §13.3, §5.10 refusal 6).
#[test]
fn d_user_pending_and_abandonment() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            put_stages(V2, "next", &["AWSPENDING"]),
            get(json!({})),
            rotate(R1, Some(COMPLETE)),
            put(V3, "manual"),
            describe(),
            rotate(R1, Some(COMPLETE)),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (e) Custom labels stay where they are when AWSCURRENT moves, by PutSecretValue or by
/// UpdateSecretVersionStage; only AWSPREVIOUS follows AWSCURRENT (§5.1, §13.5, §13.6).
#[test]
fn e_custom_labels_survive_current_moves() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            put_stages(V2, "two", &["AWSCURRENT", "custom"]),
            put(V3, "three"),
            usvs("AWSCURRENT", Some(V2), None),
            usvs("AWSCURRENT", Some(V2), Some(V3)),
            usvs("AWSCURRENT", Some(V1), Some(V2)),
            describe(),
            get(json!({"VersionStage": "custom"})),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (f) Three default puts leave the oldest version without labels (deprecated): the plain listing
/// omits it, IncludeDeprecated lists it without VersionStages, and it stays readable by VersionId
/// (§1.4, §5.6, §5.9, §13.10).
#[test]
fn f_deprecated_versions() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "one"),
            put(V2, "two"),
            put(V3, "three"),
            list(false),
            list(true),
            describe(),
            get(json!({"VersionId": V1})),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (g) A secret created without a value has no versions: Describe has no VersionIdsToStages,
/// GetSecretValue is M2 for AWSCURRENT, and the first put gets AWSCURRENT even when VersionStages
/// names only a custom label (§5.2, §5.3.4, §13.1).
#[test]
fn g_secret_without_a_value() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            ("CreateSecret", json!({"Name": "s1", "ClientRequestToken": V1, "Description": "empty"})),
            describe(),
            get(json!({})),
            list(true),
            put_stages(V2, "first", &["custom"]),
            get(json!({})),
            describe(),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (h) DeleteSecret schedules deletion: reads and writes are refused, Describe shows DeletedDate,
/// the name cannot be re-created (M8); RestoreSecret brings everything back; a forced delete then
/// removes the secret (§5.12, §5.13, §8, §13.20).
#[test]
fn h_deletion_and_restore() {
    let mut m = model();
    let steps = run(
        &mut m,
        &[
            create(V1, "v0"),
            put(V2, "v1"),
            ("DeleteSecret", json!({"SecretId": "s1", "RecoveryWindowInDays": 7})),
            get(json!({})),
            put(V3, "v2"),
            describe(),
            create(V3, "again"),
            ("RestoreSecret", json!({"SecretId": "s1"})),
            get(json!({})),
            describe(),
            ("DeleteSecret", json!({"SecretId": "s1", "ForceDeleteWithoutRecovery": true})),
            describe(),
            create(V4, "new"),
        ],
    );
    insta::assert_snapshot!(step_table(&steps));
}

/// (i) A successful rotation with a complete function has two allowed end states (§5.10 effect 6,
/// §9.1): AWSPENDING removed by the service, or still on the new AWSCURRENT. Each is followed by a
/// Describe, a read of AWSPENDING and a second rotation, which is accepted in both (AWSPENDING on
/// the AWSCURRENT version is not a stall).
#[test]
fn i_successful_rotation_end_states() {
    let mut m = model();
    let mut out = String::new();
    let setup = run(&mut m, &[create(V1, "v0")]);
    out.push_str(&step_table(&setup));
    let r = Request::from_parts(
        "RotateSecret",
        json!({"SecretId": "s1", "ClientRequestToken": R1, "RotationLambdaARN": COMPLETE, "RotationRules": {"ScheduleExpression": "rate(10 days)", "Duration": "2h"}}),
    )
    .unwrap();
    let all = branches(&m, &r);
    assert_eq!(all.len(), 2);
    for (n, b) in all.into_iter().enumerate() {
        out.push_str(&format!("\n=== end state {} of 2: {}", n + 1, state_summary(&b.state)));
        let mut state = b.state.clone();
        let mut steps = vec![(r.clone(), b.outcome, b.state)];
        steps.extend(run(
            &mut state,
            &[describe(), get(json!({"VersionStage": "AWSPENDING"})), list(false), rotate(R2, None), describe()],
        ));
        out.push_str(&step_table(&steps));
    }
    insta::assert_snapshot!(out);
}
