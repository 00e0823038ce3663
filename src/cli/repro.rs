//! `smconform repro`: turn a reproduction (a trace or a catalogue entry) into a script to attach
//! to a bug report.

use super::exit::{usage, usage_msg, Failure};
use clap::Args;
use sm_harness::{catalogue, repro};
use std::path::PathBuf;

#[derive(Args)]
pub struct ReproArgs {
    /// A trace file or a catalogue entry.
    pub trace: PathBuf,
    /// aws-cli (a bash script) or boto3 (a Python script that also checks each step against AWS).
    #[arg(long, value_parser = ["aws-cli", "boto3"])]
    pub format: String,
    /// Write the script here instead of to standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn cmd_repro(args: ReproArgs) -> Result<u8, Failure> {
    let trace = catalogue::load_trace(&args.trace).map_err(usage)?;
    let format = repro::ReproFormat::parse(&args.format)
        .ok_or_else(|| usage_msg(format!("--format {:?}: expected aws-cli or boto3", args.format)))?;
    let script = repro::render(&trace, format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, script).map_err(|e| usage_msg(format!("writing {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{script}"),
    }
    Ok(0)
}
