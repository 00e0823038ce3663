//! Readable renderings: compact JSON, a one-line summary of a model state, and step tables of
//! request/outcome sequences. Used by the edge-case snapshots and by the harness's reports.

use crate::outcome::Outcome;
use crate::request::Request;
use crate::state::Model;
use serde_json::Value;
use std::fmt::Write as _;

/// JSON on one line, without the quotes a reader does not need around keys.
pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Shortens a version id for tables: the model's narratives use ids like
/// `v1-000000000000000000000000000000` and a reader only needs the part before the first `-`.
pub fn short_id(id: &str) -> &str {
    match id.split_once('-') {
        Some((head, _)) if !head.is_empty() => head,
        _ => id,
    }
}

/// One line per secret: its versions in creation order with their labels; `∅` marks a version
/// without a value, `(deleted)` a secret scheduled for deletion.
pub fn state_summary(m: &Model) -> String {
    let mut out = String::new();
    for s in m.secrets.values() {
        let mut versions: Vec<_> = s.versions.values().collect();
        versions.sort_by_key(|v| v.seq);
        let parts: Vec<String> = versions
            .iter()
            .map(|v| {
                let labels: Vec<&str> = v.labels.iter().map(String::as_str).collect();
                let empty = if v.value.is_none() { "∅" } else { "" };
                format!("{}{}[{}]", short_id(&v.id), empty, labels.join(","))
            })
            .collect();
        let deleted = if s.deleted { " (deleted)" } else { "" };
        let _ = write!(out, "{}{}: {}", s.name, deleted, parts.join(" "));
        if let Some(e) = s.rotation.enabled {
            let _ = write!(out, " rotation={}", if e { "on" } else { "off" });
        }
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("(no secrets)\n");
    }
    out
}

/// A step table: number, operation, input, outcome, the rules that decided it, and the state after.
pub fn step_table(steps: &[(Request, Outcome, Model)]) -> String {
    let mut out = String::new();
    for (n, (req, outcome, after)) in steps.iter().enumerate() {
        let _ = writeln!(out, "{:>2}. {} {}", n + 1, req.op(), compact(&req.input_json()));
        let _ = writeln!(out, "    -> {}", outcome.expect.summary());
        let _ = writeln!(out, "    rules: {}", outcome.rule_ids());
        for line in state_summary(after).lines() {
            let _ = writeln!(out, "    state: {line}");
        }
    }
    out
}
