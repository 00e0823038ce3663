//! Switching a refusal rule off (ablation, `Model::waiving`): the request goes through the check
//! as if its condition did not hold, and the next check (or the effect) decides. The harness uses
//! this to say which rule a target breaks and how.

use rstest::rstest;
use sm_model::request::{Blob, CreateSecret, DeleteSecret, PutSecretValue, SecretIdOnly};
use sm_model::rules::{self, Rule};
use sm_model::{apply, Model, Request};

const T1: &str = "00000000-0000-4000-8000-000000000001";
const T2: &str = "00000000-0000-4000-8000-000000000002";

fn create(token: &str, string: Option<&str>, binary: bool) -> Request {
    Request::CreateSecret(CreateSecret {
        name: "s0".into(),
        client_request_token: Some(token.into()),
        secret_string: string.map(str::to_string),
        secret_binary: binary.then(|| Blob(vec![0, 1])),
        ..Default::default()
    })
}

fn put(token: &str) -> Request {
    Request::PutSecretValue(PutSecretValue {
        secret_id: "s0".into(),
        client_request_token: Some(token.into()),
        secret_string: Some("v1".into()),
        ..Default::default()
    })
}

fn delete() -> Request {
    Request::DeleteSecret(DeleteSecret { secret_id: "s0".into(), ..Default::default() })
}

/// (set-up, request, rule, AWS's answer, the answer with the rule switched off: `ok` or a code
/// and the rule that then decides).
#[rstest]
#[case::both_values(vec![], create(T1, Some("v0"), true), &rules::VALUE_EXCLUSIVE, "InvalidParameterException", "ok")]
#[case::both_values_on_an_existing_name(vec![create(T1, None, false)], create(T2, Some("v0"), true), &rules::VALUE_EXCLUSIVE, "InvalidParameterException", "ResourceExistsException create.exists")]
#[case::short_token(vec![], create("0000000000000000000000000000000", Some("v0"), false), &rules::TOKEN_LENGTH, "ValidationException", "ok")]
#[case::put_on_a_deleted_secret(vec![create(T1, Some("v0"), false), delete()], put(T2), &rules::SECRET_DELETED, "InvalidRequestException", "ok")]
#[case::create_over_a_deleted_name(vec![create(T1, Some("v0"), false), delete()], create(T2, Some("v0"), false), &rules::CREATE_DELETED_NAME, "InvalidRequestException", "ResourceExistsException create.exists")]
fn a_waived_rule_lets_the_request_through(
    #[case] setup: Vec<Request>,
    #[case] request: Request,
    #[case] rule: &'static Rule,
    #[case] aws: &str,
    #[case] waived: &str,
) {
    let mut model = Model::new();
    for r in &setup {
        apply(&mut model, r);
    }
    let mut strict = model.clone();
    let o = apply(&mut strict, &request);
    assert_eq!(o.error_code(), Some(aws), "{o:?}");
    assert_eq!(o.rules.last().map(|r| r.id), Some(rule.id));
    let mut ablated = model.waiving(rule);
    let o = apply(&mut ablated, &request);
    let shown = match o.error_code() {
        None => "ok".to_string(),
        Some(code) => format!("{code} {}", o.rules.last().map(|r| r.id).unwrap_or("?")),
    };
    assert_eq!(shown, waived, "{o:?}");
    assert!(!o.rules.contains(&rule), "a waived rule decides nothing");
}

#[test]
fn waiving_one_rule_leaves_the_others() {
    let mut model = Model::new().waiving(&rules::VALUE_EXCLUSIVE);
    apply(&mut model, &create(T1, Some("v0"), false));
    let o = apply(&mut model, &Request::DescribeSecret(SecretIdOnly { secret_id: "nope".into() }));
    assert_eq!(o.error_code(), Some("ResourceNotFoundException"));
}
