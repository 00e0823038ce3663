//! The outcome engine. Operations are written as ordinary deterministic code that asks
//! [`Ctx::choose`] wherever AWS allows more than one outcome; the engine runs an operation once per
//! combination of choices and returns every distinct (outcome, next state) pair. [`apply`] takes
//! the first (canonical) branch; [`branches`] returns them all. A request that ends in an error
//! never changes the state (other than the clock).

use crate::ops;
use crate::outcome::{ApiError, Expect, Outcome};
use crate::request::Request;
use crate::response::Response;
use crate::rules::Rule;
use crate::state::Model;
use std::collections::BTreeSet;

/// The context an operation runs in: its choices so far and the rules it consulted.
pub struct Ctx<'c> {
    choices: &'c [usize],
    arity: Vec<usize>,
    rules: Vec<&'static Rule>,
    waived: &'c BTreeSet<&'static str>,
}

impl<'c> Ctx<'c> {
    fn new(choices: &'c [usize], waived: &'c BTreeSet<&'static str>) -> Self {
        // Room for the rules a request usually cites, so the list is allocated once.
        Ctx { choices, arity: Vec::new(), rules: Vec::with_capacity(8), waived }
    }

    /// Whether the refusal `rule` is switched off ([`Model::waived`]): the check is skipped.
    pub fn waives(&self, rule: &Rule) -> bool {
        !self.waived.is_empty() && self.waived.contains(rule.id)
    }

    /// Picks one of `n` allowed alternatives; the engine explores every value in `0..n`.
    /// Alternative 0 is the canonical one.
    pub fn choose(&mut self, n: usize) -> usize {
        debug_assert!(n >= 1);
        let i = self.arity.len();
        self.arity.push(n);
        self.choices.get(i).copied().unwrap_or(0).min(n - 1)
    }

    /// Records that `rule` decided part of this outcome.
    pub fn cite(&mut self, rule: &'static Rule) {
        if self.rules.last() != Some(&rule) {
            self.rules.push(rule);
        }
    }

    /// Cites `rule` and returns `error` as the operation's result.
    pub fn fail<T>(&mut self, rule: &'static Rule, error: ApiError) -> Result<T, ApiError> {
        self.cite(rule);
        Err(error)
    }

    /// Cites `rule` and fails with one of several error codes AWS may use for it (the text is
    /// unknown, so only the code is compared).
    pub fn fail_any<T>(&mut self, rule: &'static Rule, codes: &[&str], message: &str) -> Result<T, ApiError> {
        let i = self.choose(codes.len());
        self.fail(rule, ApiError::code_only(codes[i], message))
    }
}

/// One possible result of a request: the outcome and the state it leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    pub outcome: Outcome,
    pub state: Model,
}

fn run(model: &Model, req: &Request, choices: &[usize]) -> (Branch, Vec<usize>) {
    let mut next = model.clone();
    next.clock += 1;
    let mut cx = Ctx::new(choices, &model.waived);
    let result: Result<Response, ApiError> = ops::dispatch(&mut next, req, &mut cx);
    let (expect, state) = match result {
        Ok(v) => {
            stamp_change(model, &mut next, req);
            (Expect::Ok(v), next)
        }
        Err(e) => {
            let mut unchanged = model.clone();
            unchanged.clock += 1;
            (Expect::Err(e), unchanged)
        }
    };
    (Branch { outcome: Outcome { expect, rules: cx.rules }, state }, cx.arity)
}

/// LastChangedDate: a request that changed the secret it names (other than the dates reads keep)
/// stamps it with the request's time. An idempotent retry changes nothing, so it stamps nothing.
fn stamp_change(before: &Model, after: &mut Model, req: &Request) {
    let name = crate::state::name_of(req.secret_id());
    let now = after.clock;
    let Some(s) = after.secrets.get(name) else { return };
    let changed = match before.secrets.get(name) {
        // The same node: the request never touched the secret (the state is shared, not copied).
        Some(old) if std::ptr::eq(old, s) => false,
        Some(old) => !old.same_content(s),
        None => true,
    };
    if changed {
        if let Some(s) = after.secrets.get_mut(name) {
            s.last_changed = now;
        }
    }
}

/// Every distinct outcome AWS allows for `req` in `model`, each with its next state, canonical first.
pub fn branches(model: &Model, req: &Request) -> Vec<Branch> {
    let mut out: Vec<Branch> = Vec::new();
    let mut choices: Vec<usize> = Vec::new();
    loop {
        let (branch, arity) = run(model, req, &choices);
        if !out.contains(&branch) {
            out.push(branch);
        }
        // Advance the choice vector like an odometer over the arities seen on this path.
        let mut next: Vec<usize> = (0..arity.len()).map(|i| choices.get(i).copied().unwrap_or(0)).collect();
        loop {
            match next.pop() {
                None => return out,
                Some(c) if c + 1 < arity[next.len()] => {
                    next.push(c + 1);
                    break;
                }
                Some(_) => {}
            }
        }
        choices = next;
    }
}

/// Applies `req` to `model`, taking the canonical outcome where AWS allows several.
pub fn apply(model: &mut Model, req: &Request) -> Outcome {
    let (branch, _) = run(model, req, &[]);
    *model = branch.state;
    branch.outcome
}
