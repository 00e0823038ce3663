//! The `smconform` command line: `run` generates request sequences against a target and reports
//! divergences from the reference model with minimal reproductions; `replay` runs trace files;
//! `repro` turns one into a script; `merge` joins a sharded run's outputs; `matrix` writes the parity matrix; `setup` provisions the
//! managed emulators. Each command is a module of [`cli`]; exit codes are in [`cli::exit`].

mod cli;

use anyhow::Context as _;
use clap::{Parser as _, Subcommand};
use cli::exit::EXIT_TARGET;
use std::process::ExitCode;

#[derive(clap::Parser)]
#[command(
    name = "smconform",
    version,
    about = "Conformance suite for AWS Secrets Manager versions, staging labels and rotation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate request sequences, run them against a target, report divergences from the model.
    Run(cli::run::RunArgs),
    /// Replay trace files against a target, checking each step's `expect` and the model.
    Replay(cli::replay::ReplayArgs),
    /// Write the parity matrix (rules x targets) from the divergence catalogues, into docs/ and
    /// README.md.
    #[command(alias = "parity")]
    Matrix(cli::matrix::MatrixArgs),
    /// Merge the output folders of a sharded run (`run --shard I/N`) into the whole run's.
    Merge(cli::merge::MergeArgs),
    /// Turn a reproduction (a trace or a catalogue entry) into a script to attach to a bug report.
    Repro(cli::repro::ReproArgs),
    /// Replay the evidence corpus (traces of recorded real-AWS interactions) on the model and
    /// report every recording the model does not explain.
    Evidence(cli::evidence::EvidenceArgs),
    /// Provision managed emulators (each pinned, in a virtual environment under the cache folder,
    /// $SMCONFORM_CACHE or ~/.cache/smconform) without running anything.
    Setup(cli::setup::SetupArgs),
    /// Maintain the divergence catalogues: grow one over many seeds until it saturates.
    Catalogue(cli::catalogue::CatalogueArgs),
    /// Serve the reference model as a Secrets Manager endpoint (awsJson1.1) that runs rotation
    /// functions. Any credentials are accepted.
    Serve(sm_server::cli::ServeArgs),
    /// Benchmarks: measured speed and memory, printed as a report.
    Bench(cli::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::exit::parse_error(e),
    };
    // Commands that only read and write files run without a runtime; the others on one.
    let result = match cli.command {
        Command::Matrix(a) if !a.run => cli::matrix::cmd_matrix(a),
        Command::Repro(a) => cli::repro::cmd_repro(a),
        Command::Evidence(a) => cli::evidence::cmd_evidence(a),
        Command::Merge(a) => cli::merge::cmd_merge(a),
        command => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
            let runtime = match runtime.context("starting the runtime") {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::from(EXIT_TARGET);
                }
            };
            runtime.block_on(async {
                match command {
                    Command::Run(a) => cli::run::cmd_run(a).await,
                    Command::Replay(a) => cli::replay::cmd_replay(a).await,
                    Command::Setup(a) => cli::setup::cmd_setup(a).await,
                    Command::Catalogue(a) => cli::catalogue::cmd_catalogue(a).await,
                    Command::Serve(a) => Ok(sm_server::cli::run(a).await),
                    Command::Bench(a) => cli::bench::cmd_bench(a).await,
                    Command::Matrix(a) => cli::matrix::cmd_matrix_run(a).await,
                    Command::Repro(a) => cli::repro::cmd_repro(a),
                    Command::Evidence(a) => cli::evidence::cmd_evidence(a),
                    Command::Merge(a) => cli::merge::cmd_merge(a),
                }
            })
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
