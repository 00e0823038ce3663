//! Merging the output folders of a sharded run ([`crate::shard`]) into what the whole run writes:
//! `report.json` and the reproductions it names.
//!
//! Every case keeps its index in every shard, and a run shrinks each divergence from the lowest
//! case showing it; so the whole run's reproduction of a divergence is the one of the shard
//! holding the lowest case showing it, byte for byte. The merged report takes, per divergence
//! signature (and per kind of fault), the entry of that shard with the cases showing it added up
//! over the shards; requests, cases and coverage counters add up; faults are ordered by case and
//! step, divergences by signature, as the whole run orders them. A report with a baseline's
//! classification keeps each divergence's status as its shard classified it and the union of
//! the shards' catalogue replays (an entry a shard replayed because it did not meet it may be
//! met by another shard).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The report file a run writes into its output folder.
pub const REPORT_FILE: &str = "report.json";

/// Why shard outputs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("{path}: not a smconform JSON report ({detail})")]
    Format { path: PathBuf, detail: String },
    #[error("the shards do not belong to one run: {0}")]
    Mismatch(String),
    #[error("writing {path}: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("nothing to merge: give at least one shard output folder")]
    Empty,
}

/// What a merge wrote.
#[derive(Debug)]
pub struct Merged {
    /// The merged report (also written to `<out>/report.json`).
    pub report: Value,
    /// Reproductions copied into the output folder.
    pub reproductions: Vec<PathBuf>,
}

/// Merges the shard output folders `dirs` into `out`.
pub fn merge_dirs(dirs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut reports = Vec::new();
    for dir in dirs {
        let path = dir.join(REPORT_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| MergeError::Read { path: path.clone(), detail: e.to_string() })?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| MergeError::Format { path: path.clone(), detail: e.to_string() })?;
        if value.get("format").and_then(Value::as_str) != Some("smconform-report/1") {
            return Err(MergeError::Format { path, detail: "no \"format\": \"smconform-report/1\"".into() });
        }
        reports.push((dir.clone(), value));
    }
    let (merged, files) = merge_reports(&reports, out)?;
    std::fs::create_dir_all(out).map_err(|e| MergeError::Write { path: out.to_path_buf(), detail: e.to_string() })?;
    let mut reproductions = Vec::new();
    for (from, to) in files {
        std::fs::copy(&from, &to)
            .map_err(|e| MergeError::Write { path: to.clone(), detail: format!("copying {}: {e}", from.display()) })?;
        reproductions.push(to);
    }
    let text = serde_json::to_string_pretty(&merged).expect("a JSON value serialises") + "\n";
    let path = out.join(REPORT_FILE);
    std::fs::write(&path, text).map_err(|e| MergeError::Write { path, detail: e.to_string() })?;
    Ok(Merged { report: merged, reproductions })
}

/// Merges parsed reports (each with the folder it came from); returns the merged report and the
/// reproduction files to copy (from, to).
fn merge_reports(reports: &[(PathBuf, Value)], out: &Path) -> Result<(Value, Vec<(PathBuf, PathBuf)>), MergeError> {
    let (_, first) = &reports[0];
    for key in ["target", "seed"] {
        for (dir, r) in reports {
            if r.get(key) != first.get(key) {
                return Err(MergeError::Mismatch(format!(
                    "{} has {key} {}, the first shard {}",
                    dir.display(),
                    r.get(key).unwrap_or(&Value::Null),
                    first.get(key).unwrap_or(&Value::Null)
                )));
            }
        }
    }
    let mut merged = first.clone();
    let sum = |key: &str| reports.iter().map(|(_, r)| r.get(key).and_then(Value::as_u64).unwrap_or(0)).sum::<u64>();
    merged["cases_run"] = Value::from(sum("cases_run"));
    merged["requests"] = Value::from(sum("requests"));
    merged["interrupted"] =
        Value::Bool(reports.iter().any(|(_, r)| r.get("interrupted").and_then(Value::as_bool).unwrap_or(false)));
    merged["aborted"] =
        reports.iter().find_map(|(_, r)| r.get("aborted").filter(|v| !v.is_null()).cloned()).unwrap_or(Value::Null);
    let mut leaked: Vec<Value> = reports.iter().flat_map(|(_, r)| array(r, "leaked")).collect();
    leaked.sort_by_key(|v| v.to_string());
    merged["leaked"] = Value::Array(leaked);

    let mut files = Vec::new();
    merged["divergences"] =
        Value::Array(lowest_case_per_signature(reports, "divergences", Some("cases"), out, &mut files));
    merged["fault_reproductions"] =
        Value::Array(lowest_case_per_signature(reports, "fault_reproductions", None, out, &mut files));
    let mut faults: Vec<Value> = reports.iter().flat_map(|(_, r)| array(r, "faults")).collect();
    faults.sort_by_key(|f| (f["case"].as_u64(), f["step"].as_u64()));
    merged["faults"] = Value::Array(faults);
    let mut replays: BTreeMap<String, Value> = BTreeMap::new();
    for (_, r) in reports {
        for e in array(r, "catalogue_replays") {
            replays.entry(e["entry"].to_string()).or_insert(e);
        }
    }
    merged["catalogue_replays"] = Value::Array(replays.into_values().collect());
    let mut coverage = Value::Object(Map::new());
    for (_, r) in reports {
        if let Some(c) = r.get("coverage") {
            add_counts(&mut coverage, c);
        }
    }
    merged["coverage"] = coverage;
    Ok((merged, files))
}

/// The entries of `key` in every report, one per signature: the one from the lowest case, with
/// `count` (when given) added up over the shards; ordered by signature. Each chosen entry's
/// reproduction is to be copied into `out`, and its path says so.
fn lowest_case_per_signature(
    reports: &[(PathBuf, Value)],
    key: &str,
    count: Option<&str>,
    out: &Path,
    files: &mut Vec<(PathBuf, PathBuf)>,
) -> Vec<Value> {
    let mut chosen: BTreeMap<String, (u64, Value, PathBuf)> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for (dir, r) in reports {
        for entry in array(r, key) {
            let sig = entry["signature"].as_str().unwrap_or_default().to_string();
            let case = entry["case"].as_u64().unwrap_or(u64::MAX);
            if let Some(c) = count {
                *totals.entry(sig.clone()).or_default() += entry[c].as_u64().unwrap_or(0);
            }
            if chosen.get(&sig).is_none_or(|(best, _, _)| case < *best) {
                chosen.insert(sig, (case, entry, dir.clone()));
            }
        }
    }
    chosen
        .into_iter()
        .map(|(sig, (_, mut entry, dir))| {
            if let Some(c) = count {
                entry[c] = Value::from(totals[&sig]);
            }
            if let Some(name) = entry["reproduction"].as_str().and_then(|p| Path::new(p).file_name()).map(PathBuf::from)
            {
                let to = out.join(&name);
                entry["reproduction"] = Value::String(to.display().to_string());
                files.push((dir.join(&name), to));
            }
            entry
        })
        .collect()
}

fn array(report: &Value, key: &str) -> Vec<Value> {
    report.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Adds the counters of `more` into `into`: numbers add up, objects merge member by member.
fn add_counts(into: &mut Value, more: &Value) {
    match (into, more) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => add_counts(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into @ Value::Number(_), Value::Number(n)) => {
            *into = Value::from(into.as_u64().unwrap_or(0) + n.as_u64().unwrap_or(0));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(cases: u64, divergences: Value, coverage: Value) -> Value {
        json!({"format": "smconform-report/1", "target": "t", "seed": 1, "cases_run": cases, "requests": cases * 3,
            "interrupted": false, "aborted": null, "leaked": [], "divergences": divergences, "faults": [],
            "fault_reproductions": [], "catalogue_replays": [], "coverage": coverage})
    }

    #[test]
    fn the_lowest_case_wins_and_counts_add_up() {
        let a = report(
            2,
            json!([{"signature": "X", "case": 4, "cases": 1, "reproduction": "a/x.json"}]),
            json!({"requests": {"GetSecretValue": 2}, "states": {"s": 1}}),
        );
        let b = report(
            3,
            json!([{"signature": "X", "case": 1, "cases": 2, "reproduction": "b/x.json"},
                   {"signature": "W", "case": 7, "cases": 1, "reproduction": "b/w.json"}]),
            json!({"requests": {"GetSecretValue": 1, "PutSecretValue": 4}}),
        );
        let (m, files) = merge_reports(&[("a".into(), a), ("b".into(), b)], Path::new("out")).unwrap();
        assert_eq!(m["cases_run"], json!(5));
        assert_eq!(m["requests"], json!(15));
        assert_eq!(
            m["divergences"],
            json!([{"signature": "W", "case": 7, "cases": 1, "reproduction": "out/w.json"},
                   {"signature": "X", "case": 1, "cases": 3, "reproduction": "out/x.json"}])
        );
        assert_eq!(m["coverage"], json!({"requests": {"GetSecretValue": 3, "PutSecretValue": 4}, "states": {"s": 1}}));
        assert_eq!(
            files,
            vec![
                (PathBuf::from("b/w.json"), PathBuf::from("out/w.json")),
                (PathBuf::from("b/x.json"), PathBuf::from("out/x.json"))
            ]
        );
    }

    #[test]
    fn shards_of_different_runs_are_refused() {
        let a = report(1, json!([]), json!({}));
        let mut b = a.clone();
        b["seed"] = json!(2);
        let e = merge_reports(&[("a".into(), a), ("b".into(), b)], Path::new("out")).unwrap_err();
        assert!(e.to_string().contains("seed"), "{e}");
    }
}
