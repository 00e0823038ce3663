//! What a run exercised: requests per operation, outcomes per operation (success or error code),
//! and states reached (a stalled AWSPENDING, an empty pending version, deprecated versions, a
//! secret scheduled for deletion, a completed rotation, an outcome AWS leaves open), so that a
//! green run says what it covered.

use sm_model::labels::is_stalled;
use sm_model::{Model, Outcome, Request};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Counters for one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Requests sent, by operation.
    pub requests: BTreeMap<String, u64>,
    /// Outcomes by operation and result (`ok` or the error code).
    pub outcomes: BTreeMap<(String, String), u64>,
    /// Steps after which a state of interest held, by state name.
    pub states: BTreeMap<&'static str, u64>,
    /// Rules that decided at least one matched outcome, with counts.
    pub rules: BTreeMap<&'static str, u64>,
    /// Rules that decided an outcome the target did not give (it was tested on them and diverged),
    /// with counts.
    pub diverged_rules: BTreeMap<&'static str, u64>,
}

impl Coverage {
    /// Records one step: its request, the outcome the target matched, and the model states after it.
    pub fn record(&mut self, request: &Request, outcome: Option<&Outcome>, states: &[Model]) {
        *self.requests.entry(request.op().to_string()).or_default() += 1;
        if let Some(o) = outcome {
            let result = o.error_code().unwrap_or("ok").to_string();
            *self.outcomes.entry((request.op().to_string(), result)).or_default() += 1;
            for r in &o.rules {
                *self.rules.entry(r.id).or_default() += 1;
            }
        }
        if states.len() > 1 {
            *self.states.entry("several outcomes allowed").or_default() += 1;
        }
        if let Some(m) = states.first() {
            let secrets = || m.secrets.values();
            let mut mark = |name: &'static str, held: bool| {
                if held {
                    *self.states.entry(name).or_default() += 1;
                }
            };
            mark("stalled AWSPENDING", secrets().any(is_stalled));
            mark("empty pending version", secrets().any(|s| s.versions.values().any(|v| v.value.is_none())));
            mark("deprecated version", secrets().any(|s| s.versions.values().any(|v| v.is_deprecated())));
            mark(
                "custom label",
                secrets().any(|s| {
                    s.versions.values().any(|v| v.labels.iter().any(|l| !l.starts_with("AWS") || l == "AWSSOMETHING"))
                }),
            );
            mark("scheduled for deletion", secrets().any(|s| s.deleted));
            mark("rotation completed", secrets().any(|s| s.rotation.rotated));
            mark("rotation cancelled", secrets().any(|s| s.rotation.enabled == Some(false)));
        }
    }

    /// Records a divergent step: its request, the allowed outcome closest to the answer, and the
    /// model states after it. The outcome's rules were exercised: the target diverged from them.
    pub fn record_divergent(&mut self, request: &Request, expected: &Outcome, states: &[Model]) {
        self.record(request, None, states);
        for r in &expected.rules {
            *self.diverged_rules.entry(r.id).or_default() += 1;
        }
    }

    /// Whether a request the rule decided was sent (the target met it or diverged from it).
    pub fn exercised(&self, rule: &str) -> bool {
        self.rules.contains_key(rule) || self.diverged_rules.contains_key(rule)
    }

    /// Adds another run's counters.
    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.requests {
            *self.requests.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.states {
            *self.states.entry(k).or_default() += v;
        }
        for (k, v) in &other.rules {
            *self.rules.entry(k).or_default() += v;
        }
        for (k, v) in &other.diverged_rules {
            *self.diverged_rules.entry(k).or_default() += v;
        }
    }

    /// Total requests sent.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// A readable summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "requests by operation:");
        for (op, n) in &self.requests {
            let results: Vec<String> =
                self.outcomes.iter().filter(|((o, _), _)| o == op).map(|((_, r), c)| format!("{r} {c}")).collect();
            let _ = writeln!(out, "  {op:<26} {n:>6}  ({})", results.join(", "));
        }
        let _ = writeln!(out, "states reached (steps after which it held):");
        for (s, n) in &self.states {
            let _ = writeln!(out, "  {s:<26} {n:>6}");
        }
        let total = sm_model::rules::ALL.len();
        let exercised = sm_model::rules::ALL.iter().filter(|r| self.exercised(r.id)).count();
        let only_diverged: Vec<&str> = sm_model::rules::ALL
            .iter()
            .map(|r| r.id)
            .filter(|id| !self.rules.contains_key(id) && self.diverged_rules.contains_key(id))
            .collect();
        let _ = writeln!(out, "model rules exercised: {exercised} of {total}");
        if !only_diverged.is_empty() {
            let _ = writeln!(out, "  only where the target diverged: {}", only_diverged.join(", "));
        }
        let unfired: Vec<&str> = sm_model::rules::ALL.iter().map(|r| r.id).filter(|id| !self.exercised(id)).collect();
        if !unfired.is_empty() {
            let _ = writeln!(out, "  never exercised: {}", unfired.join(", "));
        }
        out
    }
}
