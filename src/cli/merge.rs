//! `smconform merge DIR... --out DIR`: joins the output folders of a sharded run (`run --shard
//! I/N`) into what the whole run writes: `report.json` and its reproductions. The exit code is
//! the whole run's: 1 with divergences, 3 when a shard's target failed, 0 otherwise.

use super::exit::{exit_code, usage_msg, Failure, Outcome, EXIT_TARGET};
use clap::Args;
use serde_json::Value;
use sm_harness::merge::{merge_dirs, MergeError, REPORT_FILE};
use std::path::PathBuf;

#[derive(Args)]
pub struct MergeArgs {
    /// The shards' output folders (each holds the report.json its `run --shard` wrote).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged report and reproductions go.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn cmd_merge(args: MergeArgs) -> Result<u8, Failure> {
    let merged = merge_dirs(&args.dirs, &args.out).map_err(|e| match e {
        MergeError::Write { .. } => Failure { code: EXIT_TARGET, error: e.into() },
        other => usage_msg(other),
    })?;
    let r = &merged.report;
    let count = |key: &str| r[key].as_array().map(Vec::len).unwrap_or(0);
    println!(
        "merged {} shard(s): {} cases, {} requests, {} divergence(s), {} fault(s); wrote {REPORT_FILE} and {} reproduction(s) into {}",
        args.dirs.len(),
        r["cases_run"],
        r["requests"],
        count("divergences"),
        count("faults"),
        merged.reproductions.len(),
        args.out.display()
    );
    for d in r["divergences"].as_array().into_iter().flatten() {
        println!("  {} ({} cases)", d["signature"].as_str().unwrap_or("?"), d["cases"]);
    }
    Ok(exit_code(Outcome {
        interrupted: r["interrupted"] == Value::Bool(true),
        divergent: count("divergences") > 0,
        target_failing: count("faults") > 0,
        aborted: !r["aborted"].is_null(),
        left_behind: [&r["leaked"], &r["cleanup"]["left"]].iter().any(|l| l.as_array().is_some_and(|l| !l.is_empty())),
    }))
}
