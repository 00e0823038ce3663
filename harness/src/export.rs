//! Machine-readable run reports: JSON (everything a run found and covered), JUnit XML (one test
//! case per catalogue entry and per new divergence, for CI systems to display), and a markdown
//! parity table (rules of the model against what the run saw on the target).

use crate::baseline::{Classified, Replayed};
use crate::catalogue::Catalogue;
use crate::runner::RunReport;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The report formats `run --report` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Junit,
    Markdown,
}

impl ReportFormat {
    /// The file name the report is written to inside the output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "report.json",
            ReportFormat::Junit => "report.junit.xml",
            ReportFormat::Markdown => "report.md",
        }
    }
}

/// Everything the exports need about one run.
pub struct RunSummary<'a> {
    pub report: &'a RunReport,
    pub seed: u64,
    pub catalogue: Option<&'a Catalogue>,
    pub classified: Option<&'a Classified>,
}

impl RunSummary<'_> {
    fn entry_of_found(&self, i: usize) -> Option<&str> {
        self.classified?.known.iter().find(|(f, _)| *f == i).map(|(_, id)| id.as_str())
    }
}

/// The JSON report.
pub fn json_report(s: &RunSummary) -> Value {
    let r = s.report;
    let divergences: Vec<Value> = r
        .found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            json!({
                "signature": f.signature.to_string(),
                "cause": f.cause.to_string(),
                "after_adoption": f.after_adoption,
                "status": match (s.classified, s.entry_of_found(i)) {
                    (None, _) => "found",
                    (Some(_), Some(_)) => "known",
                    (Some(_), None) => "new",
                },
                "entry": s.entry_of_found(i),
                "mismatch": f.mismatch.to_string(),
                "rules": f.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
                "step": f.step,
                "steps": f.trace.steps.len(),
                "original_steps": f.original_steps,
                "cases": f.hits,
                "case": f.case,
                "reproduction": f.path.display().to_string(),
                "trace": f.trace.to_json(),
            })
        })
        .collect();
    let faults: Vec<Value> = r
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let entry = s.classified.and_then(|c| c.known_faults.iter().find(|(x, _)| *x == i)).map(|(_, id)| id);
            json!({"case": f.case, "step": f.step, "operation": f.op, "input": f.input, "kind": f.kind.name(), "detail": f.detail, "entry": entry})
        })
        .collect();
    let replayed: Vec<Value> = s
        .classified
        .map(|c| {
            c.replayed
                .iter()
                .map(|(id, how)| match how {
                    Replayed::StillPresent => json!({"entry": id, "status": "still present"}),
                    Replayed::Fixed => json!({"entry": id, "status": "fixed"}),
                    Replayed::Changed(w) => json!({"entry": id, "status": "changed", "now": w}),
                    Replayed::Unknown(w) => json!({"entry": id, "status": "unknown this run", "fault": w}),
                })
                .collect()
        })
        .unwrap_or_default();
    let cov = &r.coverage;
    let outcomes: BTreeMap<String, BTreeMap<String, u64>> =
        cov.outcomes.iter().fold(BTreeMap::new(), |mut m, ((op, res), n)| {
            m.entry(op.clone()).or_default().insert(res.clone(), *n);
            m
        });
    json!({
        "format": "smconform-report/1",
        "target": r.target,
        "seed": s.seed,
        "cases_run": r.cases_run,
        "requests": cov.total_requests(),
        "interrupted": r.interrupted,
        "aborted": r.aborted,
        "leaked": r.leaked,
        "cleanup": {
            "left": r.cleanup.left,
            "verified": r.cleanup.verified,
            "late_arrivals_deleted": r.cleanup.late,
            "failed_deletes_retried": r.cleanup.retried,
            "listing_error": r.cleanup.listing_error,
        },
        "divergences": divergences,
        "faults": faults,
        "fault_reproductions": r.fault_reproductions.iter().map(|f| json!({
            "signature": f.signature, "steps": f.trace.steps.len(), "case": f.case, "reproduction": f.path.display().to_string(),
        })).collect::<Vec<_>>(),
        "catalogue_replays": replayed,
        "coverage": {
            "requests": cov.requests,
            "outcomes": outcomes,
            "states": cov.states,
            "rules": cov.rules,
        },
    })
}

/// The JUnit XML report (written with `quick-junit`): one test case per catalogue entry (passing
/// while the divergence is still there as recorded, failing when it was fixed or changed), one
/// failing test case per new divergence and per new kind of fault, and one for the run as a whole.
pub fn junit_report(s: &RunSummary) -> String {
    let r = s.report;
    let mut suite = TestSuite::new(format!("smconform {}", r.target));
    if let (Some(cat), Some(c)) = (s.catalogue, s.classified) {
        for e in &cat.entries {
            let replay = c.replayed.iter().find(|(id, _)| *id == e.id).map(|(_, how)| how);
            let (status, out) = match replay {
                Some(Replayed::Fixed) => {
                    (failure(format!("fixed upstream: remove the entry {}", e.id), e.path.display().to_string()), None)
                }
                Some(Replayed::Changed(w)) => {
                    (failure(format!("diverges differently now: update the entry {}", e.id), w.clone()), None)
                }
                Some(Replayed::Unknown(w)) => {
                    let mut skipped = TestCaseStatus::skipped();
                    skipped.set_message(format!("unknown this run: its replay met a target fault ({w})"));
                    (skipped, None)
                }
                _ => (TestCaseStatus::success(), Some(format!("known cause ({}): {}", e.cause, e.explanation))),
            };
            let mut case = TestCase::new(e.id.as_str(), status);
            case.set_classname(format!("smconform.{}.{}", e.target, e.rule()));
            if let Some(out) = out {
                case.set_system_out(out);
            }
            suite.add_test_case(case);
        }
    }
    let new: Vec<usize> = match s.classified {
        Some(c) => c.new.clone(),
        None => (0..r.found.len()).collect(),
    };
    for i in new {
        let f = &r.found[i];
        let steps = crate::report::render_trace(&f.trace);
        let status = failure(f.mismatch.to_string(), format!("{steps}\nreproduction: {}", f.path.display()));
        let mut case = TestCase::new(format!("new: {}", f.signature), status);
        case.set_classname(format!("smconform.{}", r.target));
        suite.add_test_case(case);
    }
    let new_faults: Vec<usize> = match s.classified {
        Some(c) => c.new_faults.clone(),
        None => (0..r.faults.len()).collect(),
    };
    let mut fault_kinds: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for i in new_faults {
        *fault_kinds.entry((r.faults[i].op.clone(), r.faults[i].kind.name())).or_default() += 1;
    }
    for ((op, kind), n) in fault_kinds {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(format!("{n} {kind} fault(s)"));
        let mut case = TestCase::new(format!("fault: {op} {kind}"), status);
        case.set_classname(format!("smconform.{}", r.target));
        suite.add_test_case(case);
    }
    let mut run = TestCase::new(format!("run (seed {})", s.seed), TestCaseStatus::success());
    run.set_classname(format!("smconform.{}", r.target));
    run.set_system_out(format!("{} cases, {} requests", r.cases_run, r.coverage.total_requests()));
    suite.add_test_case(run);
    let mut report = Report::new("smconform");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}

fn failure(message: String, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message);
    status.set_description(description);
    status
}

/// A markdown table of the model's rules against this run: diverges (with the catalogue entry or
/// the new signature), exercised without divergence, or not exercised.
pub fn markdown_report(s: &RunSummary) -> String {
    let r = s.report;
    let mut by_rule: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, f) in r.found.iter().enumerate() {
        let label = match s.entry_of_found(i) {
            Some(id) => format!("known `{id}`"),
            None => format!("**new** `{}`", f.signature),
        };
        let rule = match (s.catalogue, s.entry_of_found(i)) {
            (Some(cat), Some(id)) => cat.entries.iter().find(|e| e.id == id).map(|e| e.rule().to_string()),
            _ => None,
        };
        let rule = rule.unwrap_or_else(|| f.cause.rule.id.to_string());
        if let Some(known) = sm_model::rules::by_id(&rule) {
            by_rule.entry(known.id).or_default().push(label);
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "# smconform run against {} (seed {})\n", r.target, s.seed);
    let _ = writeln!(out, "{} cases, {} requests.\n", r.cases_run, r.coverage.total_requests());
    let _ = writeln!(out, "{}", crate::report::render_cleanup(&r.cleanup).trim());
    let _ = writeln!(out);
    let _ = writeln!(out, "| rule | source | confidence | {} |", r.target);
    let _ = writeln!(out, "|---|---|---|---|");
    for rule in sm_model::rules::ALL {
        let status = match by_rule.get(rule.id) {
            Some(list) => format!("diverges: {}", list.join(", ")),
            None if r.coverage.rules.contains_key(rule.id) => "conforms where exercised".to_string(),
            None => "not exercised".to_string(),
        };
        let _ = writeln!(out, "| `{}` | {} | {} | {status} |", rule.id, rule.section, rule.confidence.tag());
    }
    out
}
