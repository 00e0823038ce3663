//! Human-readable reports: a run summary with each divergence's minimal reproduction as a step
//! table, replay results, and coverage.

use crate::runner::{ReplayReport, RunReport};
use crate::trace::Trace;
use serde_json::Value;
use sm_model::narrative::compact;
use std::fmt::Write as _;

fn outcome_line(v: &Value) -> String {
    if let Some(ok) = v.get("ok") {
        return format!("ok {}", compact(ok));
    }
    if let Some(e) = v.get("error") {
        let code = e.get("code").and_then(Value::as_str).unwrap_or("?");
        return match e.get("message").and_then(Value::as_str) {
            Some(m) => format!("{code}: {m}"),
            None => code.to_string(),
        };
    }
    if let Some(f) = v.get("fault") {
        let kind = f.get("kind").and_then(Value::as_str).unwrap_or("?");
        let detail: String = f.get("detail").and_then(Value::as_str).unwrap_or_default().chars().take(120).collect();
        return format!("{kind} fault: {detail}");
    }
    compact(v)
}

/// A trace as a step table: request, what AWS must answer, what the target answered.
pub fn render_trace(trace: &Trace) -> String {
    let mut out = String::new();
    for (i, s) in trace.steps.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}. {} {}", i + 1, s.request.op(), compact(&s.request.input_json()));
        if let Some(e) = &s.expect {
            let _ = writeln!(out, "      AWS:    {}", outcome_line(&e.to_json()));
        }
        if let Some(o) = &s.observed {
            let _ = writeln!(out, "      target: {}", outcome_line(o));
        }
        if let Some(n) = &s.note {
            let _ = writeln!(out, "      >>> {n}");
        }
    }
    out
}

/// The summary of a run.
pub fn render_run(r: &RunReport, seed: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "target {}: {} cases run, {} requests sent, {} divergence(s), {} fault(s)",
        r.target,
        r.cases_run,
        r.coverage.total_requests(),
        r.found.len(),
        r.faults.len()
    );
    // Findings are causes: the divergences one cause explains are listed under it. How firm a
    // cause is: the confidence of the rule the target breaks. Causes from firm rules (stated,
    // verified, recorded) come first.
    let causes = r.causes();
    let n_firm = causes.iter().filter(|(c, _)| c.rule.confidence.is_firm()).count();
    if !causes.is_empty() {
        let _ = writeln!(
            out,
            "{} cause(s): {n_firm} from firm rules (S stated, V verified, R recorded), {} from inferred or unknown ones (I, U)",
            causes.len(),
            causes.len() - n_firm
        );
    }
    let mut n = 0;
    for (i, (cause, found)) in causes.iter().enumerate() {
        let how = match cause.rule.confidence.is_firm() {
            true => "firm rule",
            false => "inferred or unknown rule: a probe of AWS would settle it",
        };
        let _ = writeln!(
            out,
            "
cause {}: {} {cause}",
            i + 1,
            r.target
        );
        let _ = writeln!(out, "  rule: {} — {} ({how})", cause.rule, cause.rule.summary);
        for f in found {
            n += 1;
            let after =
                if f.after_adoption { " (found after following the target past an earlier divergence)" } else { "" };
            let _ = writeln!(
                out,
                "
  divergence {n}: {} — {}{after}",
                f.signature, f.mismatch
            );
            let _ = writeln!(
                out,
                "  seen in {} case(s); minimal reproduction ({} steps, from {}): {}",
                f.hits,
                f.trace.steps.len(),
                f.original_steps,
                f.path.display()
            );
            out.push_str(&render_trace(&f.trace));
        }
    }
    if !r.faults.is_empty() {
        let _ = writeln!(out, "\ntarget faults (not divergences):");
        for f in r.faults.iter().take(20) {
            let detail: String = f.detail.chars().take(160).collect();
            let input = sm_model::narrative::compact(&f.input);
            let _ = writeln!(out, "  case {} step {} {} {input}: {} ({detail})", f.case, f.step, f.op, f.kind.name());
        }
        if r.faults.len() > 20 {
            let _ = writeln!(out, "  … and {} more", r.faults.len() - 20);
        }
    }
    for f in &r.fault_reproductions {
        let _ = writeln!(
            out,
            "\n{} — minimal reproduction ({} steps): {}",
            f.signature,
            f.trace.steps.len(),
            f.path.display()
        );
        out.push_str(&render_trace(&f.trace));
    }
    if let Some(why) = &r.aborted {
        let _ = writeln!(out, "\nrun aborted: {why}");
    }
    if r.interrupted {
        let _ = writeln!(out, "\nrun interrupted: results above are partial");
    }
    if !r.leaked.is_empty() {
        let _ = writeln!(out, "\nWARNING: could not delete these secrets: {}", r.leaked.join(", "));
    }
    let _ = writeln!(out, "\ncoverage:");
    out.push_str(&r.coverage.render());
    let _ = writeln!(out, "rerun with: --seed {seed}");
    out
}

/// The result of replaying one trace.
pub fn render_replay(name: &str, r: &ReplayReport) -> String {
    let mut out = String::new();
    if r.passed() && !r.interrupted {
        let _ = writeln!(out, "PASS {name} ({} steps)", r.steps.len());
        return out;
    }
    let _ = writeln!(out, "FAIL {name}");
    for (i, s) in r.steps.iter().enumerate() {
        let expect = match &s.expect_check {
            None => "-".to_string(),
            Some(Ok(())) => "ok".to_string(),
            Some(Err(m)) => format!("DIFFERS ({m})"),
        };
        let model = match &s.model_check {
            None => "not checked (the secret was retired after an earlier divergence)".to_string(),
            Some(Ok(())) => "ok".to_string(),
            Some(Err(m)) => format!("DIFFERS ({m})"),
        };
        let _ = writeln!(out, "  {:>2}. {} {}", i + 1, s.request.op(), compact(&s.request.input_json()));
        let _ = writeln!(out, "      observed: {}", outcome_line(&crate::trace::observed_json(&s.observed)));
        let _ = writeln!(out, "      vs expect: {expect}; vs model: {model}");
    }
    if let Some((step, kind, detail)) = &r.fault {
        let _ = writeln!(out, "  target fault at step {step}: {} ({detail})", kind.name());
    }
    if r.interrupted {
        let _ = writeln!(out, "  interrupted");
    }
    out
}
