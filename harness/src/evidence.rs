//! The evidence corpus (`fixtures/evidence/`): traces of interactions recorded from real AWS, each
//! naming its source. [`check`] walks a trace on the model alone and asks, at every step with an
//! `expect`, whether some outcome the model allows, answered as the model target answers it,
//! shows everything AWS was recorded answering (the same subset match a target's answer gets);
//! steps without `expect` keep every branch. So the model must not only allow each recorded
//! outcome but also emit every recorded member, or that member would never be compared on a
//! target. A trace that no model branch explains is a model error (or, when its evidence is
//! marked `contradicted_by`, a source error that stronger evidence shows).

use crate::matcher::{check as matches, Mismatch};
use crate::target::model::to_observed;
use crate::trace::{EvidenceKind, Trace, TraceError};
use serde_json::Value;
use sm_model::{Expect, Model, Tracker, ANY};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a trace and the model part ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// 1-based step.
    pub step: usize,
    /// The closest outcome the model allows, against what AWS was recorded answering.
    pub mismatch: Mismatch,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: {} (AWS's recorded side first, the model's second)", self.step, self.mismatch)
    }
}

/// Replays `trace` on the model; `Ok` when every recorded outcome is one the model allows.
pub fn check(trace: &Trace) -> Result<(), Disagreement> {
    let mut model = Model::new();
    model.functions.extend(trace.rotation_functions.iter().map(|(k, v)| (k.clone(), *v)));
    let mut tracker = Tracker::new(model);
    for (i, step) in trace.steps.iter().enumerate() {
        let Some(recorded) = &step.expect else {
            // The call was made and took effect as the model allows; what AWS answered was not
            // recorded (so every outcome stays possible, but not "it never happened").
            let _ = tracker.observe(&step.request, |_| true);
            continue;
        };
        let req = &step.request;
        let answer = |o: &sm_model::Outcome| to_observed(&fill_any(&o.expect, recorded), req);
        if let Err(allowed) = tracker.observe(req, |o| matches(recorded, &answer(o)).is_ok()) {
            let mismatch = allowed
                .iter()
                .filter_map(|o| matches(recorded, &answer(o)).err())
                .min_by_key(|m| matches!(m, Mismatch::Kind { .. }) as u8)
                .expect("a request has at least one outcome");
            return Err(Disagreement { step: i + 1, mismatch });
        }
    }
    Ok(())
}

/// Where the model allows any value (`"<any>"`, or an error text it does not know), it allows
/// the one AWS was recorded answering.
fn fill_any(model: &Expect, recorded: &Expect) -> Expect {
    fn fill(m: &Value, r: Option<&Value>) -> Value {
        match (m, r) {
            (Value::String(s), Some(r)) if s == ANY && !r.is_null() => r.clone(),
            (Value::Object(mo), Some(Value::Object(ro))) => {
                Value::Object(mo.iter().map(|(k, v)| (k.clone(), fill(v, ro.get(k)))).collect())
            }
            _ => m.clone(),
        }
    }
    match (model, recorded) {
        (Expect::Ok(m), Expect::Ok(r)) => Expect::Ok(fill(m, Some(r))),
        // A text the model does not know is not compared: AWS's recorded one stands.
        (Expect::Err(m), Expect::Err(r)) if !m.message_known => {
            Expect::Err(sm_model::ApiError { message: r.message.clone(), ..m.clone() })
        }
        _ => model.clone(),
    }
}

/// One evidence file and what the model made of it.
#[derive(Debug)]
pub struct Checked {
    pub path: PathBuf,
    pub trace: Trace,
    pub result: Result<(), Disagreement>,
}

impl Checked {
    /// Whether the file is as it should be: agreeing with the model, or disagreeing when it is
    /// marked as contradicted by stronger evidence.
    pub fn holds(&self) -> bool {
        let contradicted = self.trace.evidence.as_ref().is_some_and(|e| e.contradicted_by.is_some());
        self.result.is_ok() != contradicted
    }
}

/// Every `*.json` under `root` (recursively), sorted by path.
pub fn files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Loads and checks evidence files. A file without an `evidence` member is an error: the corpus
/// holds only recorded interactions.
pub fn check_files(paths: &[PathBuf]) -> Result<Vec<Checked>, TraceError> {
    let mut out = Vec::new();
    for p in paths {
        let trace = Trace::load(p)?;
        if trace.evidence.is_none() {
            return Err(TraceError {
                file: p.clone(),
                step: None,
                what: "not an evidence trace: no `evidence` member {\"id\", \"kind\"}".into(),
            });
        }
        let result = check(&trace);
        out.push(Checked { path: p.clone(), trace, result });
    }
    Ok(out)
}

/// Traces per kind of source.
pub fn counts(checked: &[Checked]) -> BTreeMap<EvidenceKind, usize> {
    let mut m = BTreeMap::new();
    for c in checked {
        if let Some(e) = &c.trace.evidence {
            *m.entry(e.kind).or_insert(0) += 1;
        }
    }
    m
}
