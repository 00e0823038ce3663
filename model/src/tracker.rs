//! Following a target through a sequence when AWS allows several outcomes: the tracker holds every
//! model state still consistent with what the target showed so far. Each observed response keeps
//! only the branches whose outcome it matches, so an ambiguity (say, whether AWSPENDING stayed on
//! the new AWSCURRENT after a rotation) is carried until a later read settles it. A call whose
//! outcome is unknown (a time-out) keeps every branch.

use crate::engine::{branches, Branch};
use crate::outcome::Outcome;
use crate::request::Request;
use crate::state::Model;

/// At most this many candidate states are kept; beyond it the oldest-explored branches are
/// dropped (deterministically) and [`Tracker::truncated`] says so.
pub const MAX_STATES: usize = 64;

/// The set of model states consistent with the observations so far.
#[derive(Clone, Debug)]
pub struct Tracker {
    states: Vec<Model>,
    truncated: bool,
}

impl Tracker {
    pub fn new(model: Model) -> Self {
        Tracker { states: vec![model], truncated: false }
    }

    /// The candidate states, canonical first.
    pub fn states(&self) -> &[Model] {
        &self.states
    }

    /// Whether candidates were ever dropped for exceeding [`MAX_STATES`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Every distinct outcome AWS allows for `req` from any candidate state.
    pub fn expected(&self, req: &Request) -> Vec<Outcome> {
        let mut out: Vec<Outcome> = Vec::new();
        for s in &self.states {
            for b in branches(s, req) {
                if !out.contains(&b.outcome) {
                    out.push(b.outcome);
                }
            }
        }
        out
    }

    fn all_branches(&self, req: &Request) -> Vec<Branch> {
        self.states.iter().flat_map(|s| branches(s, req)).collect()
    }

    /// Keeps the branches whose outcome `matches` accepts. On no match the tracker is unchanged and
    /// the allowed outcomes are returned (the divergence).
    pub fn observe(&mut self, req: &Request, matches: impl Fn(&Outcome) -> bool) -> Result<Outcome, Vec<Outcome>> {
        let all = self.all_branches(req);
        let kept: Vec<Branch> = all.iter().filter(|b| matches(&b.outcome)).cloned().collect();
        if kept.is_empty() {
            let mut outcomes: Vec<Outcome> = Vec::new();
            for b in all {
                if !outcomes.contains(&b.outcome) {
                    outcomes.push(b.outcome);
                }
            }
            return Err(outcomes);
        }
        let first = kept[0].outcome.clone();
        self.replace(kept.into_iter().map(|b| b.state));
        Ok(first)
    }

    /// The call's outcome is unknown (e.g. it timed out): every branch stays possible, including
    /// the request never having taken effect.
    pub fn observe_unknown(&mut self, req: &Request) {
        // "Nothing happened" still takes a tick of the clock, like every branch does.
        let mut next: Vec<Model> = self
            .states
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.clock += 1;
                s
            })
            .collect();
        next.extend(self.all_branches(req).into_iter().map(|b| b.state));
        self.replace(next.into_iter());
    }

    /// Replaces the candidates with `states` (a caller that knows better: states the target was
    /// found to be in after it diverged).
    pub fn adopt(&mut self, states: Vec<Model>) {
        self.replace(states.into_iter());
    }

    fn replace(&mut self, states: impl Iterator<Item = Model>) {
        let mut next: Vec<Model> = Vec::new();
        for s in states {
            if !next.contains(&s) {
                if next.len() == MAX_STATES {
                    self.truncated = true;
                    break;
                }
                next.push(s);
            }
        }
        self.states = next;
    }
}
