//! Attribution by ablation: which rule a target breaks, and how, when one of its answers falls
//! outside what AWS allows.
//!
//! The divergent answer is compared with the model made smaller: the refusal rule that decided the
//! expected error is switched off ([`sm_model::Model::waiving`]) in every state the target could be
//! in. If that model allows what the target did, the target "does not enforce" the rule (it went
//! through) or "checks it late" (another refusal rule, one AWS checks after it, came first; which
//! one is a symptom of the same cause).
//! Otherwise the difference itself names the cause: another code or message for the rule, a
//! refusal of what the rule allows, or an effect that differs under the rule that decided a
//! success. Which code, member or earlier check showed it is the symptom ([`DivergenceId`]), so
//! one cause groups what one behaviour of the target explains. The model states the ablated
//! model reached are returned too, so a run can go on from what the target did
//! ([`crate::follow`]).
//!
//! [`DivergenceId`]: crate::finding::DivergenceId

use crate::finding::{Cause, Deviation};
use crate::matcher::{check, Mismatch};
use crate::target::Observed;
use sm_model::engine::branches;
use sm_model::rules::Rule;
use sm_model::{Model, Outcome, Request};

/// A divergence's cause, and the states the model reaches when it allows what the target did.
#[derive(Clone, Debug)]
pub struct Attribution {
    pub cause: Cause,
    /// When the ablated model allows the target's answer: the states it leads to (with every rule
    /// back on), which a sequence can continue from.
    pub adoptable: Option<Vec<Model>>,
}

/// The rule that decided `outcome` (the last one it cites).
pub fn deciding_rule(outcome: &Outcome) -> &'static Rule {
    outcome.rules.last().copied().unwrap_or(&sm_model::rules::SECRET_NOT_FOUND)
}

/// Attributes the target's `observed` answer to `request`, made from any of `states`, where the
/// model's closest allowed outcome was `expected` and the difference `mismatch`.
pub fn attribute(
    states: &[Model],
    request: &Request,
    observed: &Observed,
    expected: &Outcome,
    mismatch: &Mismatch,
) -> Attribution {
    let rule = deciding_rule(expected);
    if let Observed::Fault { kind, .. } = observed {
        return Attribution {
            cause: Cause { rule, deviation: Deviation::Fault(kind.name().to_string()) },
            adoptable: None,
        };
    }
    if !expected.is_ok() {
        if let Some((outcome, adopted)) = ablate(states, request, observed, rule) {
            let deviation = match outcome.is_ok() {
                true => Deviation::NotEnforced,
                false => Deviation::CheckedLate,
            };
            return Attribution { cause: Cause { rule, deviation }, adoptable: Some(adopted) };
        }
    }
    let deviation = match (mismatch, observed) {
        (Mismatch::Code { .. }, _) => Deviation::OtherCode,
        (Mismatch::Message { .. }, _) => Deviation::Message,
        (Mismatch::Kind { .. }, Observed::Ok(_)) => Deviation::NotEnforced,
        (Mismatch::Kind { .. }, _) => Deviation::Refuses,
        (Mismatch::Field { .. } | Mismatch::Order { .. }, _) => Deviation::Effect,
    };
    Attribution { cause: Cause { rule, deviation }, adoptable: None }
}

/// How many refusal rules ablation switches off at most, one after another.
const MAX_WAIVED: usize = 4;

/// The first outcome the model allows for `request` with `rule` switched off that matches
/// `observed` exactly, and every state such outcomes lead to (with the rules back on). When the
/// request then fails on another refusal rule that does not match either, that rule is switched
/// off too (a target that looks the secret up first checks every validation after it), up to
/// [`MAX_WAIVED`] rules. An error must match exactly: one whose exact text AWS is known to use and
/// the target does not is another check's answer (the target's own, in its own words). A success
/// whose members differ does not match either: the target let the request through (the fallback
/// in [`attribute`] says so), but what it stored is not known, so there is no state to follow.
fn ablate(
    states: &[Model],
    request: &Request,
    observed: &Observed,
    rule: &'static Rule,
) -> Option<(Outcome, Vec<Model>)> {
    let mut waived: Vec<&'static Rule> = vec![rule];
    loop {
        let mut first: Option<Outcome> = None;
        let mut kept: Vec<Model> = Vec::new();
        let mut next: Option<&'static Rule> = None;
        for s in states {
            let ablated = waived.iter().fold(s.clone(), |m, r| m.waiving(r));
            for b in branches(&ablated, request) {
                if check(&b.outcome.expect, observed).is_ok() {
                    first.get_or_insert(b.outcome);
                    let mut state = b.state;
                    state.waived.clear();
                    if !kept.contains(&state) {
                        kept.push(state);
                    }
                } else if !b.outcome.is_ok() && next.is_none() {
                    next = Some(deciding_rule(&b.outcome)).filter(|r| !waived.contains(r));
                }
            }
        }
        if let Some(o) = first {
            return Some((o, kept));
        }
        match next {
            Some(r) if waived.len() < MAX_WAIVED => waived.push(r),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm_model::request::{CreateSecret, PutSecretValue};
    use sm_model::Tracker;

    fn create(name: &str, token: &str, string: Option<&str>, binary: Option<&[u8]>) -> Request {
        Request::CreateSecret(CreateSecret {
            name: name.into(),
            client_request_token: Some(token.into()),
            secret_string: string.map(str::to_string),
            secret_binary: binary.map(|b| sm_model::request::Blob(b.to_vec())),
            ..Default::default()
        })
    }

    /// Runs `steps` on the model, then attributes `observed` for `last`.
    fn attribute_after(steps: &[Request], last: &Request, observed: Observed) -> Attribution {
        let mut t = Tracker::new(Model::new());
        for s in steps {
            t.observe(s, |_| true).expect("the set-up is allowed");
        }
        let allowed = t.expected(last);
        let expected = allowed[0].clone();
        let mismatch = check(&expected.expect, &observed).expect_err("the observation diverges");
        attribute(t.states(), last, &observed, &expected, &mismatch)
    }

    fn ok(v: serde_json::Value) -> Observed {
        Observed::Ok(v)
    }

    fn err(code: &str, message: &str) -> Observed {
        Observed::Error { code: code.into(), message: message.into(), status: Some(400) }
    }

    const T1: &str = "00000000-0000-4000-8000-000000000001";
    const T2: &str = "00000000-0000-4000-8000-000000000002";

    #[test]
    fn accepting_both_values_is_not_enforcing_exclusivity() {
        let last = create("s0", T1, Some("v0"), Some(b"\x00\x01"));
        let a = attribute_after(
            &[],
            &last,
            ok(serde_json::json!({"ARN": sm_model::state::logical_arn("s0"), "Name": "s0", "VersionId": T1})),
        );
        assert_eq!(a.cause.to_string(), "does not enforce input.value-exclusive");
        let states = a.adoptable.expect("the ablated model allows it");
        assert!(states[0].secrets.contains_key("s0"), "the adopted state holds the created secret");
        assert!(states[0].waived.is_empty(), "adopted states have every rule back on");
    }

    #[test]
    fn a_success_with_other_members_names_the_cause_but_is_not_followed() {
        // The target lets both values through and leaves VersionId out of its answer: it does not
        // enforce exclusivity (the missing member is a cause of its own, seen on a plain create);
        // what version it stored is not known, so its state is not adopted.
        let last = create("s0", T1, Some("v0"), Some(b"\x00\x01"));
        let a = attribute_after(
            &[],
            &last,
            ok(serde_json::json!({"ARN": sm_model::state::logical_arn("s0"), "Name": "s0"})),
        );
        assert_eq!(a.cause.to_string(), "does not enforce input.value-exclusive");
        assert!(a.adoptable.is_none(), "the target's state is not the ablated model's");
    }

    #[test]
    fn looking_the_secret_up_first_is_checking_validation_late() {
        let first = create("s0", T1, None, None);
        let last = create("s0", T2, Some("v0"), Some(b"\x00\x01"));
        let a = attribute_after(
            &[first],
            &last,
            err("ResourceExistsException", "The operation failed because the secret s0 already exists."),
        );
        assert_eq!(a.cause.to_string(), "checks input.value-exclusive late");
    }

    #[test]
    fn every_validation_after_the_look_up_is_one_cause() {
        // A short token and both values on a secret that does not exist: a target that looks the
        // secret up first answers ResourceNotFoundException; it checks the token length (and the
        // value exclusivity behind it) after the look-up.
        let last = Request::PutSecretValue(PutSecretValue {
            secret_id: "s0".into(),
            client_request_token: Some("0".repeat(31)),
            secret_string: Some("v0".into()),
            secret_binary: Some(sm_model::request::Blob(vec![0, 1])),
            ..Default::default()
        });
        let a = attribute_after(
            &[],
            &last,
            err("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
        );
        assert_eq!(a.cause.to_string(), "checks input.token-length late");
    }

    #[test]
    fn a_late_check_is_one_cause_whichever_check_comes_first() {
        // A short token on a secret that does not exist (the look-up answers not found) and on a
        // name that exists (CreateSecret answers exists): one cause, two symptoms.
        let short = "0".repeat(31);
        let missing = Request::PutSecretValue(PutSecretValue {
            secret_id: "s0".into(),
            client_request_token: Some(short.clone()),
            secret_string: Some("v0".into()),
            ..Default::default()
        });
        let a = attribute_after(
            &[],
            &missing,
            err("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
        );
        let exists = create("s0", &short, Some("v1"), None);
        let b = attribute_after(
            &[create("s0", T1, None, None)],
            &exists,
            err("ResourceExistsException", "The operation failed because the secret s0 already exists."),
        );
        assert_eq!(a.cause, b.cause);
        assert_eq!(a.cause.to_string(), "checks input.token-length late");
        assert!(a.adoptable.is_some() && b.adoptable.is_some(), "a refusal changes nothing: the state is adoptable");
    }

    #[test]
    fn another_code_for_the_same_refusal() {
        let first = create("s0", T1, None, None);
        let last = Request::PutSecretValue(PutSecretValue {
            secret_id: "s0".into(),
            client_request_token: Some(T2.into()),
            ..Default::default()
        });
        // No value at all: AWS refuses with one of two codes; a third code is another answer.
        let a = attribute_after(&[first], &last, err("ValidationException", "no value"));
        // (switching input.value-required off lets the put through, which is not what happened)
        assert_eq!(a.cause.to_string(), "answers another error code for input.value-required");
        assert!(a.adoptable.is_none());
    }

    #[test]
    fn refusing_a_success_is_refusing_what_the_rule_allows() {
        let last = create("s0", T1, Some("v0"), None);
        let a = attribute_after(&[], &last, err("InternalFailure", "no"));
        assert_eq!(a.cause.to_string(), "refuses what label.first-current allows");
    }
}
