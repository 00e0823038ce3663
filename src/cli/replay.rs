//! `smconform replay`: run trace files (or catalogue entries) against a target, checking each
//! step's `expect` and the model.

use super::exit::{exit_code, usage, Failure, Outcome};
use super::target::{build_target, check_target_args, watch_interrupt, TargetArgs};
use clap::Args;
use sm_harness::catalogue;
use sm_harness::report::{render_cleanup, render_replay};
use sm_harness::runner::{replay, sweep, Session};
use std::path::PathBuf;

#[derive(Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Trace files (smconform-trace/1).
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
}

pub async fn cmd_replay(args: ReplayArgs) -> Result<u8, Failure> {
    let prefix = check_target_args(&args.target)?;
    // Every trace is read and checked before anything is sent.
    let mut traces = Vec::new();
    for path in &args.traces {
        let trace = catalogue::load_trace(path).map_err(usage)?;
        traces.push((path.clone(), trace));
    }
    let target = build_target(&args.target, &prefix).await?;
    let session = Session::new(prefix);
    watch_interrupt(session.clone());
    let (mut failed, mut faulted, mut interrupted) = (0, 0, false);
    for (path, trace) in &traces {
        let r = replay(&*target, trace, &session).await;
        print!("{}", render_replay(&path.display().to_string(), &r));
        if r.fault.is_some() {
            faulted += 1;
        } else if !r.passed() {
            failed += 1;
        }
        if r.interrupted {
            interrupted = true;
            break;
        }
    }
    let cleanup = sweep(&*target, &session).await;
    print!("{}", render_cleanup(&cleanup));
    println!(
        "{} trace(s): {} passed, {} failed, {} faulted",
        traces.len(),
        traces.len() - failed - faulted,
        failed,
        faulted
    );
    Ok(exit_code(Outcome {
        interrupted,
        divergent: failed > 0,
        target_failing: faulted > 0,
        left_behind: !cleanup.left.is_empty(),
        aborted: false,
    }))
}
