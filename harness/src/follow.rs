//! Following a target through a sequence, past its divergences: the one place that decides what
//! the model believes after each answer.
//!
//! - An answer AWS allows keeps the model states that explain it ([`Tracker::observe`]).
//! - A fault leaves the outcome unknown: every branch stays possible.
//! - A divergent read changes nothing the model tracks but the dates it stamps: both stay possible.
//! - A divergent write is attributed ([`crate::attribute`]). When the model with the broken rule
//!   switched off allows what the target did, and the state it leads to is one AWS can reach
//!   (the target refused with another rule's error, so nothing changed; or it let through a
//!   request AWS's input validation refuses), the sequence goes on from that state: the target's
//!   state is *adopted*. Otherwise the secret it wrote is *retired*: the model no longer knows its
//!   state, so the rest of the sequence leaves it alone and goes on with the others.

use crate::attribute::{attribute, Attribution};
use crate::finding::{Cause, Deviation};
use crate::matcher::{check, Mismatch};
use crate::target::Observed;
use sm_model::state::name_of;
use sm_model::{Model, Outcome, Request, Tracker};
use std::collections::BTreeSet;

/// What the follower did after a divergence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Continuation {
    /// A read: the states are kept (with and without its date stamps).
    Read,
    /// The target's state was adopted (a state AWS allows).
    Adopted,
    /// The secret (logical name) was retired from the sequence.
    Retired(String),
}

/// A step whose answer AWS does not allow.
#[derive(Clone, Debug)]
pub struct Diverged {
    /// The allowed outcome closest to the answer.
    pub expected: Outcome,
    pub mismatch: Mismatch,
    /// Every outcome the model allowed.
    pub allowed: Vec<Outcome>,
    pub cause: Cause,
    pub continuation: Continuation,
    /// Whether an earlier divergent write of this sequence was followed past (the finding was
    /// made from a state the target reached by diverging).
    pub after_adoption: bool,
}

/// The result of one step.
#[derive(Clone, Debug)]
pub enum Followed {
    Matched(Outcome),
    /// A fault: the outcome is unknown. What AWS would have answered (canonically), if anything.
    Unknown(Option<Outcome>),
    Diverged(Box<Diverged>),
    /// The request names a retired secret: the model does not know its state, nothing is checked.
    Unchecked,
}

/// The model's belief about the target through one sequence.
#[derive(Clone, Debug)]
pub struct Follower {
    tracker: Tracker,
    retired: BTreeSet<String>,
    followed_past: bool,
}

impl Follower {
    pub fn new(model: Model) -> Self {
        Follower { tracker: Tracker::new(model), retired: BTreeSet::new(), followed_past: false }
    }

    /// The candidate states, canonical first.
    pub fn states(&self) -> &[Model] {
        self.tracker.states()
    }

    /// Secrets (logical names) retired so far.
    pub fn retired(&self) -> &BTreeSet<String> {
        &self.retired
    }

    /// Follows one answer.
    pub fn step(&mut self, request: &Request, observed: &Observed) -> Followed {
        let retired = self.retired.contains(name_of(request.secret_id()));
        // A fault is a fault whichever secret it names: reported as such, never dropped. On a
        // retired secret the model expects nothing and follows nothing.
        if let (Observed::Fault { .. }, true) = (observed, retired) {
            return Followed::Unknown(None);
        }
        if retired {
            return Followed::Unchecked;
        }
        if let Observed::Fault { .. } = observed {
            let expected = self.tracker.expected(request).into_iter().next();
            self.tracker.observe_unknown(request);
            return Followed::Unknown(expected);
        }
        let allowed = match self.tracker.observe(request, |o| check(&o.expect, observed).is_ok()) {
            Ok(outcome) => return Followed::Matched(outcome),
            Err(allowed) => allowed,
        };
        let (expected, mismatch) = closest(&allowed, observed);
        let Attribution { cause, adoptable } = attribute(self.states(), request, observed, &expected, &mismatch);
        let after_adoption = self.followed_past;
        let continuation = if is_read(request) {
            self.tracker.observe_unknown(request);
            Continuation::Read
        } else {
            self.followed_past = true;
            match adoptable.filter(|_| reachable_on_aws(&cause)) {
                Some(states) => {
                    self.tracker.adopt(states);
                    Continuation::Adopted
                }
                None => {
                    let name = name_of(request.secret_id()).to_string();
                    self.retired.insert(name.clone());
                    Continuation::Retired(name)
                }
            }
        };
        Followed::Diverged(Box::new(Diverged { expected, mismatch, allowed, cause, continuation, after_adoption }))
    }
}

/// Whether the state the ablated model reached is one AWS can be in: the target refused (with
/// another rule's error), so nothing changed; or it let through what only input validation
/// refuses, so the state holds what an allowed request would have stored.
fn reachable_on_aws(cause: &Cause) -> bool {
    match cause.deviation {
        Deviation::CheckedLate => true,
        Deviation::NotEnforced => cause.rule.id.starts_with("input."),
        _ => false,
    }
}

/// Whether a request only reads (and so cannot change the state the model tracks).
pub fn is_read(request: &Request) -> bool {
    matches!(request, Request::GetSecretValue(_) | Request::DescribeSecret(_) | Request::ListSecretVersionIds(_))
}

/// Picks the allowed outcome closest to the observation (same kind first) and its mismatch.
pub fn closest(allowed: &[Outcome], observed: &Observed) -> (Outcome, Mismatch) {
    let rank = |m: &Mismatch| match m {
        Mismatch::Field { .. } | Mismatch::Message { .. } | Mismatch::Order { .. } => 0,
        Mismatch::Code { .. } => 1,
        Mismatch::Kind { .. } => 2,
    };
    let mut best: Option<(Outcome, Mismatch)> = None;
    for o in allowed {
        if let Err(m) = check(&o.expect, observed) {
            if best.as_ref().is_none_or(|(_, b)| rank(&m) < rank(b)) {
                best = Some((o.clone(), m));
            }
        }
    }
    best.expect("a divergence has at least one allowed outcome")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm_model::request::{Blob, CreateSecret, DeleteSecret, PutSecretValue, SecretIdOnly};
    use sm_model::state::logical_arn;

    const T1: &str = "00000000-0000-4000-8000-000000000001";
    const T2: &str = "00000000-0000-4000-8000-000000000002";

    fn create(string: Option<&str>, binary: bool) -> Request {
        Request::CreateSecret(CreateSecret {
            name: "s0".into(),
            client_request_token: Some(T1.into()),
            secret_string: string.map(str::to_string),
            secret_binary: binary.then(|| Blob(vec![0, 1])),
            ..Default::default()
        })
    }

    fn created() -> Observed {
        Observed::Ok(serde_json::json!({"ARN": logical_arn("s0"), "Name": "s0", "VersionId": T1}))
    }

    #[test]
    fn a_write_let_through_against_input_validation_is_adopted() {
        let mut f = Follower::new(Model::new());
        let Followed::Diverged(d) = f.step(&create(Some("v0"), true), &created()) else { panic!("diverges") };
        assert_eq!(d.continuation, Continuation::Adopted);
        assert!(!d.after_adoption);
        let describe = Request::DescribeSecret(SecretIdOnly { secret_id: "s0".into() });
        let answer = sm_model::apply(&mut f.states()[0].clone(), &describe);
        assert!(answer.is_ok(), "the adopted state holds the secret: {answer:?}");
    }

    #[test]
    fn a_write_the_model_cannot_follow_retires_its_secret() {
        let mut f = Follower::new(Model::new());
        assert!(matches!(f.step(&create(Some("v0"), false), &created()), Followed::Matched(_)));
        let delete = Request::DeleteSecret(DeleteSecret { secret_id: "s0".into(), ..Default::default() });
        let deleted = Observed::Ok(serde_json::json!({"ARN": logical_arn("s0"), "Name": "s0", "DeletionDate": 1.0}));
        assert!(matches!(f.step(&delete, &deleted), Followed::Matched(_)));
        // A put on a secret scheduled for deletion that the target accepts: not a state AWS reaches.
        let put = Request::PutSecretValue(PutSecretValue {
            secret_id: "s0".into(),
            client_request_token: Some(T2.into()),
            secret_string: Some("v1".into()),
            ..Default::default()
        });
        let stored = Observed::Ok(serde_json::json!({"ARN": logical_arn("s0"), "Name": "s0", "VersionId": T2}));
        let Followed::Diverged(d) = f.step(&put, &stored) else { panic!("diverges") };
        assert_eq!(d.cause.to_string(), "does not enforce secret.deleted");
        assert_eq!(d.continuation, Continuation::Retired("s0".into()));
        assert!(f.retired().contains("s0"));
        assert!(matches!(f.step(&put, &stored), Followed::Unchecked), "a retired secret is not checked");
        // ... but a fault on it is still a fault.
        let reset = Observed::Fault { kind: crate::target::FaultKind::Connection, detail: "reset".into() };
        assert!(matches!(f.step(&put, &reset), Followed::Unknown(None)), "a fault is never dropped");
    }
}
