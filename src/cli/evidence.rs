//! `smconform evidence`: replay the evidence corpus (traces of recorded real-AWS interactions) on
//! the model and report every recording the model does not explain.

use super::exit::{usage, usage_msg, Failure, EXIT_DIVERGENT};
use clap::Args;
use sm_harness::evidence;
use std::path::PathBuf;

#[derive(Args)]
pub struct EvidenceArgs {
    /// Evidence trace files or folders (default: fixtures/evidence).
    pub paths: Vec<PathBuf>,
    /// Also write the rule-to-evidence index (markdown) to this file.
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
}

pub fn cmd_evidence(args: EvidenceArgs) -> Result<u8, Failure> {
    let roots = if args.paths.is_empty() { vec![PathBuf::from("fixtures/evidence")] } else { args.paths };
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            files.extend(evidence::files(r).map_err(|e| usage_msg(format!("{}: {e}", r.display())))?);
        } else if r.exists() {
            files.push(r.clone());
        } else {
            return Err(usage_msg(format!("{}: no such file or folder", r.display())));
        }
    }
    let checked = evidence::check_files(&files).map_err(usage)?;
    if let Some(path) = &args.index {
        std::fs::write(path, evidence::index(&checked))
            .map_err(|e| usage_msg(format!("{}: cannot write: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    let mut bad = 0;
    for c in &checked {
        let id = c.trace.evidence.as_ref().map(|e| e.id.as_str()).unwrap_or_default();
        match (&c.result, c.holds()) {
            (Ok(()), true) => {}
            (Err(d), true) => println!("contradicted (as marked) {id} ({}): {d}", c.path.display()),
            (Ok(()), false) => {
                bad += 1;
                println!("FAIL {id} ({}): marked contradicted, but the model agrees", c.path.display());
            }
            (Err(d), false) => {
                bad += 1;
                println!("FAIL {id} ({}): {d}", c.path.display());
            }
        }
    }
    let per_kind: Vec<String> = evidence::counts(&checked).iter().map(|(k, n)| format!("{} {n}", k.name())).collect();
    println!(
        "{} evidence traces ({}); {} explained by the model, {bad} not",
        checked.len(),
        per_kind.join(", "),
        checked.len() - bad
    );
    Ok(if bad == 0 { 0 } else { EXIT_DIVERGENT })
}
