//! Classifying a run against a catalogue ([`crate::catalogue`]): every divergence found is *known*
//! (an entry names its cause) or *new*; every fault is known or new the same way (an entry whose
//! cause is that kind of fault, seen on that operation); every entry the run did not meet is
//! replayed, and is *still present*, *fixed* (no reproduction diverges any more: remove the entry)
//! or *changed* (it now diverges differently: update the entry).

use crate::catalogue::{Catalogue, Entry};
use crate::finding::Deviation;
use crate::runner::{replay, ReplayStep, RunReport, Session};
use crate::target::Target;

/// What became of one catalogue entry the run did not meet by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replayed {
    /// The reproduction still diverges the recorded way.
    StillPresent,
    /// The reproduction now conforms.
    Fixed,
    /// The reproduction diverges, but not the recorded way (what it does now).
    Changed(String),
}

/// The classification of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classified {
    /// Index into `RunReport::found`, with the entry id it matched.
    pub known: Vec<(usize, String)>,
    /// Indices into `RunReport::found` that no entry matches.
    pub new: Vec<usize>,
    /// Index into `RunReport::faults`, with the entry id it matched.
    pub known_faults: Vec<(usize, String)>,
    /// Indices into `RunReport::faults` that no entry matches.
    pub new_faults: Vec<usize>,
    /// Entries the run did not meet, with what their replay showed.
    pub replayed: Vec<(String, Replayed)>,
}

impl Classified {
    pub fn fixed(&self) -> Vec<&str> {
        self.replayed.iter().filter(|(_, r)| *r == Replayed::Fixed).map(|(id, _)| id.as_str()).collect()
    }
    pub fn changed(&self) -> Vec<(&str, &str)> {
        self.replayed
            .iter()
            .filter_map(|(id, r)| match r {
                Replayed::Changed(w) => Some((id.as_str(), w.as_str())),
                _ => None,
            })
            .collect()
    }
    /// Whether the run should fail: new divergences or changed entries always; known ones and
    /// fixed entries too when `strict`.
    pub fn failing(&self, strict: bool) -> bool {
        !self.new.is_empty()
            || !self.changed().is_empty()
            || (strict && (!self.known.is_empty() || !self.known_faults.is_empty() || !self.fixed().is_empty()))
    }
}

/// What replaying one reproduction showed.
fn replay_one(r: &crate::runner::ReplayReport, entry: &Entry, last: usize) -> Replayed {
    if let Some((step, kind, detail)) = &r.fault {
        let expected = matches!(&entry.cause.deviation, Deviation::Fault(k) if k == kind.name());
        return if *step == last && expected {
            Replayed::StillPresent
        } else {
            Replayed::Changed(format!("{} fault at step {step}: {detail}", kind.name()))
        };
    }
    let diverged: Vec<(usize, &ReplayStep)> =
        r.steps.iter().enumerate().filter(|(_, s)| matches!(s.model_check, Some(Err(_)))).collect();
    match diverged.last() {
        None => Replayed::Fixed,
        Some((i, s)) if i + 1 == last && s.cause.as_ref() == Some(&entry.cause) => Replayed::StillPresent,
        Some((i, s)) => {
            let what = s.model_check.clone().and_then(Result::err).map(|m| m.to_string()).unwrap_or_default();
            let cause = s.cause.as_ref().map(|c| c.to_string()).unwrap_or_default();
            Replayed::Changed(format!("step {}: {cause}: {what}", i + 1))
        }
    }
}

/// Replays an entry's reproductions: the cause is still present when one of them still shows it
/// at its last step, fixed when none diverges any more, changed otherwise.
pub async fn replay_entry(target: &dyn Target, entry: &Entry, session: &Session) -> Replayed {
    let mut outcomes = Vec::new();
    for rep in &entry.reproductions {
        let r = replay(target, &rep.trace, session).await;
        let one = replay_one(&r, entry, rep.trace.steps.len());
        if one == Replayed::StillPresent {
            return one;
        }
        outcomes.push(one);
    }
    outcomes.into_iter().find(|o| *o != Replayed::Fixed).unwrap_or(Replayed::Fixed)
}

/// Classifies `report` against `catalogue`, replaying the entries the run did not meet.
pub async fn classify(report: &RunReport, catalogue: &Catalogue, target: &dyn Target, session: &Session) -> Classified {
    let mut c = Classified::default();
    let mut met: Vec<&str> = Vec::new();
    for (i, f) in report.found.iter().enumerate() {
        match catalogue.classify(f) {
            Some(e) => {
                met.push(&e.id);
                c.known.push((i, e.id.clone()));
            }
            None => c.new.push(i),
        }
    }
    for (i, f) in report.faults.iter().enumerate() {
        let is_entry = |e: &&Entry| {
            matches!(&e.cause.deviation, Deviation::Fault(k) if k == f.kind.name())
                && e.reproductions.iter().any(|r| r.divergence.operation == f.op)
        };
        match catalogue.entries.iter().find(is_entry) {
            Some(e) => {
                met.push(&e.id);
                c.known_faults.push((i, e.id.clone()));
            }
            None => c.new_faults.push(i),
        }
    }
    for e in &catalogue.entries {
        if met.contains(&e.id.as_str()) || session.is_interrupted() {
            continue;
        }
        c.replayed.push((e.id.clone(), replay_entry(target, e, session).await));
    }
    c
}
