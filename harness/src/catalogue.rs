//! The divergence catalogue: what is known about a target, as data. Each entry
//! (`fixtures/divergences/<target>/<id>.json`, format `smconform-divergence/1`) names the rule of
//! `semantics.md` the target breaks, explains it, records the target version it was seen on and
//! an upstream issue where one exists, and carries the minimal reproduction as a
//! `smconform-trace/1` whose `expect` members are what AWS answers.
//!
//! A run's divergence is *known* when an entry has the same operation, the same kind of
//! difference (error code, message, or which response member, and how) and its rule is among
//! the rules behind the model's expectation; otherwise it is *new*. An entry whose reproduction
//! no longer diverges is *fixed*.

use crate::runner::Found;
use crate::trace::{Trace, TraceError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "smconform-divergence/1";

/// One known divergence of one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Short, stable id (also the file name without `.json`).
    pub id: String,
    /// `moto`, `localstack`, …
    pub target: String,
    /// The target version the divergence was recorded on.
    pub target_version: String,
    /// The model rule the target breaks (an id from `sm_model::rules`).
    pub rule: String,
    /// The rule behind the model's expectation at the divergent step, when it is not `rule`
    /// itself (a read that shows the effect of an earlier write cites the read's rule, e.g.
    /// `describe.fields`, while the broken rule is the write's). Used for matching.
    pub decided_by: Option<String>,
    /// The AWS operation whose response differs.
    pub operation: String,
    /// What differs: `code`, `message`, `kind`, or `field <path> <how>` (see
    /// [`crate::matcher::Mismatch::aspect`]; version ids in paths are blanked).
    pub difference: String,
    /// One paragraph for a reader.
    pub explanation: String,
    /// Upstream issue or pull request, when one exists.
    pub upstream: Option<String>,
    /// The minimal reproduction; its last step is where the target diverges.
    pub trace: Trace,
    /// Where the entry was read from.
    pub path: PathBuf,
}

impl Entry {
    /// The run signature this entry stands for (`<operation> <difference> [<deciding rule>]`).
    pub fn signature(&self) -> String {
        format!("{} {} [{}]", self.operation, self.difference, self.deciding_rule())
    }

    /// The rule that must be behind a found divergence's expectation for it to be this entry.
    pub fn deciding_rule(&self) -> &str {
        self.decided_by.as_deref().unwrap_or(&self.rule)
    }

    /// Whether a divergence found by a run is this entry.
    pub fn matches(&self, found: &Found) -> bool {
        found.signature == self.signature()
    }

    /// Parses an entry; errors carry the reason (and the trace step, where relevant).
    pub fn from_json(v: &Value, path: &Path) -> Result<Entry, TraceError> {
        let err = |step: Option<usize>, what: String| TraceError { file: path.to_path_buf(), step, what };
        let Value::Object(o) = v else { return Err(err(None, "an entry must be a JSON object".into())) };
        if o.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(err(None, format!("not a catalogue entry (expected \"format\": \"{FORMAT}\")")));
        }
        for k in o.keys() {
            let known = [
                "format",
                "id",
                "target",
                "target_version",
                "rule",
                "decided_by",
                "operation",
                "difference",
                "explanation",
                "upstream",
                "trace",
            ];
            if !known.contains(&k.as_str()) {
                return Err(err(None, format!("unknown member `{k}`")));
            }
        }
        let text = |k: &str| -> Result<String, TraceError> {
            match o.get(k).and_then(Value::as_str) {
                Some(s) if !s.is_empty() => Ok(s.to_string()),
                _ => Err(err(None, format!("`{k}` must be a non-empty string"))),
            }
        };
        let rule = text("rule")?;
        let decided_by = o.get("decided_by").and_then(Value::as_str).map(str::to_string);
        for r in std::iter::once(&rule).chain(decided_by.as_ref()) {
            if sm_model::rules::by_id(r).is_none() {
                return Err(err(None, format!("unknown rule {r:?}")));
            }
        }
        let trace =
            Trace::from_json(o.get("trace").unwrap_or(&Value::Null)).map_err(|(s, w)| err(s, format!("trace: {w}")))?;
        if trace.steps.is_empty() {
            return Err(err(None, "the reproduction has no steps".into()));
        }
        let operation = text("operation")?;
        if trace.steps.last().map(|s| s.request.op()) != Some(operation.as_str()) {
            return Err(err(None, format!("the reproduction must end with the diverging {operation} call")));
        }
        Ok(Entry {
            id: text("id")?,
            target: text("target")?,
            target_version: text("target_version")?,
            rule,
            decided_by,
            operation,
            difference: text("difference")?,
            explanation: text("explanation")?,
            upstream: o.get("upstream").and_then(Value::as_str).map(str::to_string),
            trace,
            path: path.to_path_buf(),
        })
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        json!({
            "format": FORMAT,
            "id": self.id,
            "target": self.target,
            "target_version": self.target_version,
            "rule": self.rule,
            "decided_by": self.decided_by,
            "operation": self.operation,
            "difference": self.difference,
            "explanation": self.explanation,
            "upstream": self.upstream,
            "trace": self.trace.to_json(),
        })
    }
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
            if entries.iter().any(|e| e.id == entry.id) {
                return Err(TraceError { file: p, step: None, what: format!("duplicate id {:?}", entry.id) });
            }
            entries.push(entry);
        }
        Ok(Catalogue { entries })
    }

    /// The entry a found divergence is, if any.
    pub fn classify(&self, found: &Found) -> Option<&Entry> {
        self.entries.iter().find(|e| e.matches(found))
    }
}

/// Reads one catalogue entry.
pub fn load_entry(path: &Path) -> Result<Entry, TraceError> {
    let err = |what: String| TraceError { file: path.to_path_buf(), step: None, what };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))?;
    Entry::from_json(&v, path)
}

/// Reads a trace file, or the reproduction inside a catalogue entry.
pub fn load_trace(path: &Path) -> Result<Trace, TraceError> {
    let err = |what: String| TraceError { file: path.to_path_buf(), step: None, what };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))?;
    if v.get("format").and_then(Value::as_str) == Some(FORMAT) {
        return Entry::from_json(&v, path).map(|e| e.trace);
    }
    Trace::from_json(&v).map_err(|(step, what)| TraceError { file: path.to_path_buf(), step, what })
}
