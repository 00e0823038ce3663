//! The divergence catalogue: what is known about a target, as data, one entry per *cause*. Each
//! entry (`fixtures/divergences/<target>/<id>.json`, format `smconform-divergence/2`) names the
//! cause ([`Cause`]: the rule of `semantics.md` the target breaks and how), explains it, records
//! the target version it was seen on and an upstream issue where one exists, and carries one
//! minimal reproduction per symptom it explains (an operation and what differed there), each a
//! `smconform-trace/1` whose `expect` members are what AWS answers and whose `observed` members
//! are what the target answered when it was recorded.
//!
//! A run's divergence is *known* when an entry names its cause, whatever operation it was seen
//! on; otherwise it is *new*. An entry none of whose reproductions diverges any more is *fixed*.

use crate::finding::{Cause, Deviation, DivergenceId};
use crate::follow::{Followed, Follower};
use crate::runner::Found;
use crate::target::Observed;
use crate::trace::{observed_from_json, Trace, TraceError};
use serde_json::{json, Map, Value};
use sm_model::Model;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "smconform-divergence/2";

/// One symptom of a cause: a minimal reproduction ending at the divergent step.
#[derive(Clone, Debug, PartialEq)]
pub struct Reproduction {
    /// Short, stable id (unique within the target's catalogue).
    pub id: String,
    /// The divergence at the last step (operation, what differed, deciding rule).
    pub divergence: DivergenceId,
    /// What the target does here, for a reader.
    pub explanation: String,
    pub trace: Trace,
}

/// One known cause of divergences of one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Short, stable id (also the file name without `.json`).
    pub id: String,
    /// `moto`, `localstack`, …
    pub target: String,
    /// The target version the cause was recorded on.
    pub target_version: String,
    pub cause: Cause,
    /// One paragraph for a reader.
    pub explanation: String,
    /// Upstream issue or pull request, when one exists.
    pub upstream: Option<String>,
    /// One reproduction per symptom (at least one).
    pub reproductions: Vec<Reproduction>,
    /// Where the entry was read from.
    pub path: PathBuf,
}

impl Entry {
    /// The rule the target breaks.
    pub fn rule(&self) -> &'static str {
        self.cause.rule.id
    }

    /// The operations the cause was seen on.
    pub fn operations(&self) -> Vec<&'static str> {
        let mut ops: Vec<&'static str> = self.reproductions.iter().map(|r| r.divergence.operation).collect();
        ops.sort();
        ops.dedup();
        ops
    }

    /// Whether the entry holds a reproduction of `divergence` (a symptom it has shown before).
    pub fn holds(&self, divergence: &DivergenceId) -> bool {
        self.reproductions.iter().any(|r| r.divergence == *divergence)
    }

    /// Whether a divergence found by a run is explained by this entry.
    pub fn matches(&self, found: &Found) -> bool {
        found.cause == self.cause
    }

    /// Parses an entry; errors carry the reason (and the trace step, where relevant).
    pub fn from_json(v: &Value, path: &Path) -> Result<Entry, TraceError> {
        let err = |step: Option<usize>, what: String| TraceError { file: path.to_path_buf(), step, what };
        let Value::Object(o) = v else { return Err(err(None, "an entry must be a JSON object".into())) };
        if o.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(err(None, format!("not a catalogue entry (expected \"format\": \"{FORMAT}\")")));
        }
        let known = ["format", "id", "target", "target_version", "cause", "explanation", "upstream", "reproductions"];
        if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(err(None, format!("unknown member `{k}`")));
        }
        let cause = text(o, "cause", path)?.parse::<Cause>().map_err(|e| err(None, e.to_string()))?;
        let Some(list) = o.get("reproductions").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            return Err(err(None, "`reproductions` must be a non-empty list".into()));
        };
        let reproductions = list
            .iter()
            .enumerate()
            .map(|(i, r)| reproduction(r, path).map_err(|e| err(e.step, format!("reproduction {}: {}", i + 1, e.what))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Entry {
            id: text(o, "id", path)?,
            target: text(o, "target", path)?,
            target_version: text(o, "target_version", path)?,
            cause,
            explanation: text(o, "explanation", path)?,
            upstream: o.get("upstream").and_then(Value::as_str).map(str::to_string),
            reproductions,
            path: path.to_path_buf(),
        })
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let reproductions: Vec<Value> = self
            .reproductions
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "divergence": r.divergence.to_string(),
                    "explanation": r.explanation,
                    "trace": r.trace.to_json(),
                })
            })
            .collect();
        json!({
            "format": FORMAT,
            "id": self.id,
            "target": self.target,
            "target_version": self.target_version,
            "cause": self.cause.to_string(),
            "explanation": self.explanation,
            "upstream": self.upstream,
            "reproductions": reproductions,
        })
    }

    /// Writes the entry to `path` (pretty JSON).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json()).map_err(std::io::Error::other)? + "\n";
        std::fs::write(path, text)
    }
}

fn text(o: &Map<String, Value>, k: &str, path: &Path) -> Result<String, TraceError> {
    match o.get(k).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => {
            Err(TraceError { file: path.to_path_buf(), step: None, what: format!("`{k}` must be a non-empty string") })
        }
    }
}

/// Parses one reproduction of an entry.
pub fn reproduction(v: &Value, path: &Path) -> Result<Reproduction, TraceError> {
    let err = |step: Option<usize>, what: String| TraceError { file: path.to_path_buf(), step, what };
    let Value::Object(o) = v else { return Err(err(None, "a reproduction must be a JSON object".into())) };
    if let Some(k) = o.keys().find(|k| !["id", "divergence", "explanation", "trace"].contains(&k.as_str())) {
        return Err(err(None, format!("unknown member `{k}`")));
    }
    let divergence = text(o, "divergence", path)?.parse::<DivergenceId>().map_err(|e| err(None, e.to_string()))?;
    let trace =
        Trace::from_json(o.get("trace").unwrap_or(&Value::Null)).map_err(|(s, w)| err(s, format!("trace: {w}")))?;
    if trace.steps.last().map(|s| s.request.op()) != Some(divergence.operation) {
        return Err(err(None, format!("the reproduction must end with the diverging {} call", divergence.operation)));
    }
    Ok(Reproduction { id: text(o, "id", path)?, divergence, explanation: text(o, "explanation", path)?, trace })
}

/// The entries of one target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    pub entries: Vec<Entry>,
}

impl Catalogue {
    /// Reads every `*.json` entry in `dir` (sorted by file name).
    pub fn load(dir: &Path) -> Result<Catalogue, TraceError> {
        let err = |what: String| TraceError { file: dir.to_path_buf(), step: None, what };
        let read = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read the catalogue folder: {e}")))?;
        let mut paths: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut entries: Vec<Entry> = Vec::new();
        for p in paths {
            let entry = load_entry(&p)?;
            let clash = |e: &Entry| {
                e.id == entry.id
                    || e.cause == entry.cause
                    || e.reproductions.iter().any(|r| entry.reproductions.iter().any(|x| x.id == r.id))
            };
            if let Some(other) = entries.iter().find(|e| clash(e)) {
                let what = format!("same id, cause or reproduction id as {}", other.path.display());
                return Err(TraceError { file: p, step: None, what });
            }
            entries.push(entry);
        }
        Ok(Catalogue { entries })
    }

    /// The entry that explains a found divergence, if any.
    pub fn classify(&self, found: &Found) -> Option<&Entry> {
        self.entries.iter().find(|e| e.matches(found))
    }

    /// The entry of a cause, if any.
    pub fn entry_of(&self, cause: &Cause) -> Option<&Entry> {
        self.entries.iter().find(|e| e.cause == *cause)
    }

    /// Every divergence the catalogue holds a minimal reproduction of (a run with this catalogue
    /// as baseline need not shrink them again: [`crate::runner::RunConfig::already_reproduced`]).
    pub fn reproduced(&self) -> std::collections::BTreeSet<crate::runner::Finding> {
        self.entries
            .iter()
            .flat_map(|e| e.reproductions.iter().map(|r| (r.divergence.clone(), e.cause.clone())))
            .collect()
    }

    /// How many reproductions the catalogue holds.
    pub fn reproductions(&self) -> usize {
        self.entries.iter().map(|e| e.reproductions.len()).sum()
    }
}

/// Reads one catalogue entry.
pub fn load_entry(path: &Path) -> Result<Entry, TraceError> {
    Entry::from_json(&read_json(path)?, path)
}

fn read_json(path: &Path) -> Result<Value, TraceError> {
    let err = |what: String| TraceError { file: path.to_path_buf(), step: None, what };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))
}

/// Reads a trace file, or every reproduction of a catalogue entry (labelled `<entry>/<id>`).
pub fn load_traces(path: &Path) -> Result<Vec<(String, Trace)>, TraceError> {
    let v = read_json(path)?;
    let label = path.display().to_string();
    if v.get("format").and_then(Value::as_str) == Some(FORMAT) {
        let e = Entry::from_json(&v, path)?;
        return Ok(e.reproductions.into_iter().map(|r| (format!("{label}#{}", r.id), r.trace)).collect());
    }
    let trace = Trace::from_json(&v).map_err(|(step, what)| TraceError { file: path.to_path_buf(), step, what })?;
    Ok(vec![(label, trace)])
}

/// Reads a trace file, or the first reproduction of a catalogue entry (`entry.json#<id>` names
/// another one).
pub fn load_trace(path: &Path) -> Result<Trace, TraceError> {
    let text = path.to_string_lossy();
    let (file, wanted) = match text.rsplit_once('#') {
        Some((f, id)) => (PathBuf::from(f), Some(id.to_string())),
        None => (path.to_path_buf(), None),
    };
    let traces = load_traces(&file)?;
    let found = match &wanted {
        None => traces.into_iter().next(),
        Some(id) => traces.into_iter().find(|(label, _)| label.rsplit_once('#').is_some_and(|(_, x)| x == id)),
    };
    found.map(|(_, t)| t).ok_or_else(|| TraceError {
        file: file.clone(),
        step: None,
        what: format!("no reproduction {:?} in this entry", wanted.unwrap_or_default()),
    })
}

/// Follows a recorded trace on the model, with what the target answered when it was recorded
/// (each step's `observed`), and returns the divergence and cause shown at the last step, if it
/// diverges there. A catalogue reproduction must show its entry's cause this way; no target is
/// needed.
pub fn recorded_cause(trace: &Trace) -> Result<Option<(DivergenceId, Cause)>, String> {
    let mut model = Model::new();
    model.functions.extend(trace.rotation_functions.iter().map(|(k, v)| (k.clone(), *v)));
    let mut follower = Follower::new(model);
    let mut last = None;
    for (i, step) in trace.steps.iter().enumerate() {
        let observed = step
            .observed
            .as_ref()
            .and_then(observed_from_json)
            .ok_or_else(|| format!("step {}: no valid `observed` recording", i + 1))?;
        last = match (follower.step(&step.request, &observed), &observed) {
            (Followed::Diverged(d), _) => {
                Some((crate::runner::signature(&step.request, &d.mismatch, Some(&d.expected)), d.cause))
            }
            (Followed::Unknown(Some(expected)), Observed::Fault { kind, .. }) => {
                let rule = crate::attribute::deciding_rule(&expected);
                let id =
                    DivergenceId { operation: step.request.op(), difference: format!("fault {}", kind.name()), rule };
                Some((id, Cause { rule, deviation: Deviation::Fault(kind.name().to_string()) }))
            }
            _ => None,
        };
    }
    Ok(last)
}
