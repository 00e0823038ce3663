//! The `smconform` command line: `run` generates request sequences against a target and reports
//! divergences from the reference model with minimal reproductions; `replay` runs trace files.
//!
//! Exit codes: 0 conformant, 1 divergences found, 2 bad usage or a bad trace file, 3 target
//! unreachable or failing, 130 interrupted.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sm_harness::baseline::{classify, Classified};
use sm_harness::catalogue::{self, Catalogue};
use sm_harness::export::{self, ReportFormat, RunSummary};
use sm_harness::parity;
use sm_harness::report::{render_replay, render_run};
use sm_harness::repro;
use sm_harness::runner::{replay, run, RunConfig, Session};
use sm_harness::target::endpoint::{EndpointConfig, EndpointTarget};
use sm_harness::target::localstack::{self, LocalStackOptions, LocalStackTarget};
use sm_harness::target::model::ModelTarget;
use sm_harness::target::moto::{self, MotoOptions, MotoTarget};
use sm_harness::target::{FaultKind, Observed, Target, TargetError};
use sm_model::FunctionBehaviour;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const EXIT_DIVERGENT: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_TARGET: u8 = 3;
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
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
    Run(RunArgs),
    /// Replay trace files against a target, checking each step's `expect` and the model.
    Replay(ReplayArgs),
    /// Write the parity matrix (rules x targets) from the divergence catalogues, into docs/ and
    /// README.md.
    #[command(alias = "parity")]
    Matrix(MatrixArgs),
    /// Turn a reproduction (a trace or a catalogue entry) into a script to attach to a bug report.
    Repro(ReproArgs),
    /// Replay the evidence corpus (traces of recorded real-AWS interactions) on the model and
    /// report every recording the model does not explain.
    Evidence(EvidenceArgs),
    /// Provision the embedded emulators (pinned moto[server], and with --localstack pinned
    /// localstack-core, each in a virtual environment under the cache folder, $SMCONFORM_CACHE
    /// or ~/.cache/smconform) without running anything.
    Setup(SetupArgs),
    /// Serve the reference model as a Secrets Manager endpoint (awsJson1.1) that runs rotation
    /// functions. Any credentials are accepted.
    Serve(sm_server::cli::ServeArgs),
}

#[derive(Args)]
struct EvidenceArgs {
    /// Evidence trace files or folders (default: fixtures/evidence).
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TargetKind {
    /// moto, provisioned and started by smconform on a loopback port (the default).
    Moto,
    /// LocalStack community in host mode, provisioned and started by smconform on loopback.
    Localstack,
    /// The reference model in process (must always conform).
    Model,
    /// Any Secrets Manager endpoint (`--endpoint-url`).
    Endpoint,
    /// Real AWS (needs --allow-real-aws and --name-prefix).
    Aws,
}

#[derive(Args, Clone)]
struct TargetArgs {
    /// What to test.
    #[arg(long, value_enum, default_value_t = TargetKind::Moto)]
    target: TargetKind,
    /// Endpoint URL for `--target endpoint`.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Region (default: the standard AWS configuration chain; us-east-1 for loopback endpoints).
    #[arg(long)]
    region: Option<String>,
    /// Opt in to sending requests to real AWS (`--target aws`).
    #[arg(long)]
    allow_real_aws: bool,
    /// Prefix of every secret name the run creates (required for `--target aws`).
    #[arg(long)]
    name_prefix: Option<String>,
    /// A rotation function that exists on the target: ARN=BEHAVIOUR, where BEHAVIOUR is complete,
    /// fail-at-createSecret|setSecret|testSecret|finishSecret or not-invocable (endpoint/aws only).
    #[arg(long = "function", value_name = "ARN=BEHAVIOUR")]
    functions: Vec<String>,
    /// Per-request time-out in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Number of generated cases.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// Maximum requests per case.
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Seed (default: from the clock; printed so the run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Cases run at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Where minimal reproductions are written.
    #[arg(long, default_value = "smconform-out")]
    out: PathBuf,
    /// Upper bound on shrink attempts per divergence.
    #[arg(long, default_value_t = 500)]
    max_shrink: usize,
    /// A divergence catalogue (e.g. fixtures/divergences/moto): divergences it holds are known,
    /// the others new; entries the run does not meet are replayed to see whether they are fixed.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// With --baseline: fail on known divergences and fixed entries too, not only on new ones.
    #[arg(long, requires = "baseline")]
    strict: bool,
    /// Reports to write into --out: json, junit, markdown (repeatable).
    #[arg(long = "report", value_enum)]
    reports: Vec<ReportKind>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ReportKind {
    Json,
    Junit,
    Markdown,
}

#[derive(Args)]
struct SetupArgs {
    /// Also provision LocalStack (about 500 MB).
    #[arg(long)]
    localstack: bool,
}

#[derive(Args)]
struct ReproArgs {
    /// A trace file or a catalogue entry.
    trace: PathBuf,
    /// aws-cli (a bash script) or boto3 (a Python script that also checks each step against AWS).
    #[arg(long, value_parser = ["aws-cli", "boto3"])]
    format: String,
    /// Write the script here instead of to standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct MatrixArgs {
    /// Targets to put in the matrix (the model is always the reference column).
    #[arg(long, value_delimiter = ',', default_value = "model,moto,localstack")]
    targets: Vec<String>,
    /// The folder holding one catalogue folder per target.
    #[arg(long, default_value = "fixtures/divergences")]
    catalogues: PathBuf,
    /// Where the full markdown table goes.
    #[arg(long, default_value = "docs/matrix.md")]
    markdown: PathBuf,
    /// Where the JSON table goes.
    #[arg(long, default_value = "docs/matrix.json")]
    json: PathBuf,
    /// README whose block between `<!-- matrix:begin -->` and `<!-- matrix:end -->` gets the summary.
    #[arg(long, default_value = "README.md")]
    readme: PathBuf,
    /// Only check that the files are up to date (exit 1 if not).
    #[arg(long, conflicts_with = "run")]
    check: bool,
    /// Also run the same generated cases against every listed emulator and mark what each run
    /// exercised and any divergence its catalogue does not hold. Writes into --out, not docs/.
    #[arg(long)]
    run: bool,
    /// With --run: cases per target, steps per case, seed, and where the tables go.
    #[arg(long, default_value_t = 300, requires = "run")]
    cases: usize,
    #[arg(long, default_value_t = 30, requires = "run")]
    steps: usize,
    #[arg(long, default_value_t = 1, requires = "run")]
    seed: u64,
    #[arg(long, default_value = "smconform-out", requires = "run")]
    out: PathBuf,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Trace files (smconform-trace/1).
    #[arg(required = true)]
    traces: Vec<PathBuf>,
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure { code: EXIT_USAGE, error: e.into() }
}

fn target_failure(e: TargetError) -> Failure {
    Failure { code: EXIT_TARGET, error: e.into() }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:08x}", (nanos as u64 ^ ((std::process::id() as u64) << 32)) as u32)
}

fn valid_prefix(p: &str) -> bool {
    !p.is_empty() && p.len() <= 64 && p.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

fn parse_functions(specs: &[String]) -> Result<std::collections::BTreeMap<String, FunctionBehaviour>, Failure> {
    let mut out = std::collections::BTreeMap::new();
    for s in specs {
        let (arn, b) =
            s.split_once('=').ok_or_else(|| usage(anyhow::anyhow!("--function {s:?}: expected ARN=BEHAVIOUR")))?;
        let behaviour = FunctionBehaviour::parse(b)
            .ok_or_else(|| usage(anyhow::anyhow!("--function {s:?}: unknown behaviour {b:?}")))?;
        out.insert(arn.to_string(), behaviour);
    }
    Ok(out)
}

/// Checks the target arguments and returns the run prefix.
fn check_target_args(t: &TargetArgs) -> Result<String, Failure> {
    if let Some(p) = &t.name_prefix {
        if !valid_prefix(p) {
            return Err(usage(anyhow::anyhow!("--name-prefix {p:?}: use 1-64 of A-Z a-z 0-9 /_+=.@-")));
        }
    }
    match t.target {
        TargetKind::Aws => {
            if !t.allow_real_aws {
                return Err(usage(anyhow::anyhow!(
                    "--target aws sends requests to real AWS: add --allow-real-aws to confirm"
                )));
            }
            if t.name_prefix.is_none() {
                return Err(usage(anyhow::anyhow!(
                    "--target aws needs --name-prefix: every secret the run creates starts with it"
                )));
            }
            if t.endpoint_url.is_some() {
                return Err(usage(anyhow::anyhow!("--endpoint-url is for --target endpoint, not aws")));
            }
        }
        TargetKind::Endpoint => match &t.endpoint_url {
            None => return Err(usage(anyhow::anyhow!("--target endpoint needs --endpoint-url URL"))),
            Some(url) => {
                let host = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
                if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
                    return Err(usage(anyhow::anyhow!(
                        "--endpoint-url {url:?}: expected http://HOST[:PORT] or https://…"
                    )));
                }
            }
        },
        TargetKind::Moto | TargetKind::Model | TargetKind::Localstack => {
            if t.endpoint_url.is_some() {
                return Err(usage(anyhow::anyhow!("--endpoint-url only goes with --target endpoint")));
            }
            if !t.functions.is_empty() {
                return Err(usage(anyhow::anyhow!("--function only goes with --target endpoint or aws")));
            }
        }
    }
    let base = t.name_prefix.clone().unwrap_or_else(|| "smconform-".to_string());
    Ok(format!("{base}{}-", run_id()))
}

async fn build_target(t: &TargetArgs) -> Result<Arc<dyn Target>, Failure> {
    let functions = parse_functions(&t.functions)?;
    let timeout = Duration::from_secs(t.timeout.max(1));
    Ok(match t.target {
        TargetKind::Model => Arc::new(ModelTarget::new()),
        TargetKind::Moto => {
            let options = MotoOptions { operation_timeout: timeout, ..MotoOptions::default() };
            Arc::new(MotoTarget::start(options).await.map_err(target_failure)?)
        }
        TargetKind::Localstack => {
            let options = LocalStackOptions { operation_timeout: timeout, ..LocalStackOptions::default() };
            Arc::new(LocalStackTarget::start(options).await.map_err(target_failure)?)
        }
        TargetKind::Endpoint | TargetKind::Aws => {
            let mut config = EndpointConfig::new(t.endpoint_url.clone());
            config.region = t.region.clone();
            config.operation_timeout = timeout;
            config.functions = functions;
            // Real AWS rotates asynchronously: wait for each rotation to settle (up to 2 minutes,
            // as AWS-validated tests do) before the next request.
            if t.target == TargetKind::Aws {
                config.rotation_settle = Some(Duration::from_secs(120));
            }
            config.label = match &t.endpoint_url {
                Some(u) => format!("endpoint {u}"),
                None => "aws".to_string(),
            };
            let target = EndpointTarget::new(config).await.map_err(target_failure)?;
            preflight(&target, t.endpoint_url.as_deref().unwrap_or("AWS")).await.map_err(target_failure)?;
            Arc::new(target)
        }
    })
}

/// Checks that an endpoint answers at all before a run starts, with a read of a name no run
/// creates (so it touches no secret).
async fn preflight(target: &dyn Target, endpoint: &str) -> Result<(), TargetError> {
    let probe = sm_model::Request::DescribeSecret(sm_model::request::SecretIdOnly {
        secret_id: "smconform-preflight-does-not-exist".into(),
    });
    match target.send(&probe).await {
        Observed::Fault { kind: FaultKind::Connection | FaultKind::Timeout, detail } => {
            Err(TargetError::Unreachable { endpoint: endpoint.to_string(), detail })
        }
        _ => Ok(()),
    }
}

/// Waits for Ctrl-C and raises the session's interrupt flag (the run then stops between
/// requests and cleans up).
fn watch_interrupt(session: Arc<Session>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: finishing the requests in flight and deleting what the run created…");
            session.interrupt();
        }
    });
}

async fn final_cleanup(target: &dyn Target, session: &Session) -> Vec<String> {
    let left = session.registry.drain();
    if left.is_empty() {
        return Vec::new();
    }
    target.cleanup(&left).await
}

async fn cmd_run(args: RunArgs) -> Result<u8, Failure> {
    let prefix = check_target_args(&args.target)?;
    if args.cases == 0 || args.steps == 0 || args.jobs == 0 {
        return Err(usage(anyhow::anyhow!("--cases, --steps and --jobs must be at least 1")));
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    let baseline = match &args.baseline {
        Some(dir) => Some(Catalogue::load(dir).map_err(usage)?),
        None => None,
    };
    // Reproductions and reports go to --out: find out now, not after the run, if it is unusable.
    std::fs::create_dir_all(&args.out)
        .map_err(|e| usage(anyhow::anyhow!("--out {}: cannot create the folder: {e}", args.out.display())))?;
    let target = build_target(&args.target).await?;
    let session = Session::new(prefix);
    watch_interrupt(session.clone());
    eprintln!(
        "smconform run: target {}, seed {seed}, {} cases of up to {} steps, {} jobs",
        target.name(),
        args.cases,
        args.steps,
        args.jobs
    );
    let config = RunConfig {
        cases: args.cases,
        steps: args.steps,
        seed,
        jobs: args.jobs,
        out_dir: args.out.clone(),
        max_shrink_iters: args.max_shrink,
    };
    let progress = (!args.quiet).then(|| progress_bar(session.clone(), args.cases));
    let mut report = run(target.clone(), config, session.clone()).await;
    if let Some(p) = progress {
        p.abort();
    }
    let classified: Option<Classified> = match &baseline {
        Some(cat) if !report.interrupted => Some(classify(&report, cat, &*target, &session).await),
        _ => None,
    };
    report.leaked.extend(final_cleanup(&*target, &session).await);
    print!("{}", render_run(&report, seed));
    if let (Some(cat), Some(c)) = (&baseline, &classified) {
        print!("{}", render_baseline(&report, cat, c));
    }
    let summary = RunSummary { report: &report, seed, catalogue: baseline.as_ref(), classified: classified.as_ref() };
    write_reports(&args.reports, &args.out, &summary).map_err(|e| Failure { code: EXIT_TARGET, error: e })?;
    let divergent = match &classified {
        Some(c) => c.failing(args.strict),
        None => !report.found.is_empty(),
    };
    let faulted = match &classified {
        Some(c) => !c.new_faults.is_empty(),
        None => !report.faults.is_empty(),
    };
    Ok(if report.interrupted {
        EXIT_INTERRUPTED
    } else if divergent {
        EXIT_DIVERGENT
    } else if faulted || report.aborted.is_some() {
        EXIT_TARGET
    } else {
        0
    })
}

fn render_baseline(report: &sm_harness::runner::RunReport, cat: &Catalogue, c: &Classified) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let fault_entries: std::collections::BTreeSet<&String> = c.known_faults.iter().map(|(_, id)| id).collect();
    let _ = writeln!(
        out,
        "\nbaseline: {} known, {} new, {} known fault kind(s), {} new fault(s); of {} entries {} fixed, {} changed",
        c.known.len(),
        c.new.len(),
        fault_entries.len(),
        c.new_faults.len(),
        cat.entries.len(),
        c.fixed().len(),
        c.changed().len()
    );
    for (i, id) in &c.known {
        let _ = writeln!(out, "  known   {id}: {}", report.found[*i].signature);
    }
    for id in fault_entries {
        let _ = writeln!(out, "  known   {id} (fault)");
    }
    for i in &c.new {
        let f = &report.found[*i];
        let _ = writeln!(out, "  NEW     {} ({})", f.signature, f.path.display());
    }
    for i in &c.new_faults {
        let f = &report.faults[*i];
        let _ = writeln!(
            out,
            "  NEW     fault {} {}: {}",
            f.op,
            f.kind.name(),
            f.detail.chars().take(120).collect::<String>()
        );
    }
    for id in c.fixed() {
        let _ = writeln!(out, "  FIXED   {id}: its reproduction no longer diverges (fixed upstream: remove the entry)");
    }
    for (id, what) in c.changed() {
        let _ = writeln!(out, "  CHANGED {id}: now {what}");
    }
    out
}

fn write_reports(kinds: &[ReportKind], out: &std::path::Path, s: &RunSummary) -> anyhow::Result<()> {
    for kind in kinds {
        let format = match kind {
            ReportKind::Json => ReportFormat::Json,
            ReportKind::Junit => ReportFormat::Junit,
            ReportKind::Markdown => ReportFormat::Markdown,
        };
        let text = match format {
            ReportFormat::Json => serde_json::to_string_pretty(&export::json_report(s))? + "\n",
            ReportFormat::Junit => export::junit_report(s),
            ReportFormat::Markdown => export::markdown_report(s),
        };
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let path = out.join(format.file_name());
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A progress bar on stderr while a run goes, only when stderr is a terminal.
fn progress_bar(session: Arc<Session>, cases: usize) -> tokio::task::JoinHandle<()> {
    use std::io::IsTerminal as _;
    tokio::spawn(async move {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = indicatif::ProgressBar::new(cases as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed} (eta {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        loop {
            bar.set_position(session.cases_done());
            if session.cases_done() >= cases as u64 {
                bar.finish_and_clear();
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn cmd_evidence(args: EvidenceArgs) -> Result<u8, Failure> {
    use sm_harness::evidence;
    let roots = if args.paths.is_empty() { vec![PathBuf::from("fixtures/evidence")] } else { args.paths };
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            files.extend(evidence::files(r).map_err(|e| usage(anyhow::anyhow!("{}: {e}", r.display())))?);
        } else if r.exists() {
            files.push(r.clone());
        } else {
            return Err(usage(anyhow::anyhow!("{}: no such file or folder", r.display())));
        }
    }
    let checked = evidence::check_files(&files).map_err(usage)?;
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

fn cmd_repro(args: ReproArgs) -> Result<u8, Failure> {
    let trace = catalogue::load_trace(&args.trace).map_err(usage)?;
    let format = repro::ReproFormat::parse(&args.format)
        .ok_or_else(|| usage(anyhow::anyhow!("--format {:?}: expected aws-cli or boto3", args.format)))?;
    let script = repro::render(&trace, format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, script).map_err(|e| usage(anyhow::anyhow!("writing {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{script}"),
    }
    Ok(0)
}

/// Targets with a divergence catalogue, and the rotation-function behaviours each can run.
const CATALOGUED_TARGETS: &[(&str, &[FunctionBehaviour])] =
    &[("moto", moto::BEHAVIOURS), ("localstack", localstack::BEHAVIOURS)];

/// The catalogued targets `--targets` names, with their catalogues.
fn matrix_columns(args: &MatrixArgs) -> Result<Vec<parity::Column>, Failure> {
    let known: Vec<&str> = CATALOGUED_TARGETS.iter().map(|(t, _)| *t).collect();
    if let Some(bad) = args.targets.iter().find(|t| *t != "model" && !known.contains(&t.as_str())) {
        return Err(usage(anyhow::anyhow!("--targets: unknown target {bad:?} (model, {})", known.join(", "))));
    }
    let mut columns = Vec::new();
    for (target, behaviours) in CATALOGUED_TARGETS.iter().filter(|(t, _)| args.targets.iter().any(|x| x == t)) {
        let dir = args.catalogues.join(target);
        let catalogue = if dir.exists() { Catalogue::load(&dir).map_err(usage)? } else { Catalogue::default() };
        columns.push(parity::Column {
            target: target.to_string(),
            behaviours: behaviours.to_vec(),
            catalogue,
            run: None,
        });
    }
    Ok(columns)
}

/// `matrix --run`: the same seed against every listed emulator, classified against its catalogue.
async fn cmd_matrix_run(args: MatrixArgs) -> Result<u8, Failure> {
    let mut columns = matrix_columns(&args)?;
    let mut any_new = false;
    for column in &mut columns {
        let target_args = TargetArgs {
            target: if column.target == "moto" { TargetKind::Moto } else { TargetKind::Localstack },
            endpoint_url: None,
            region: None,
            allow_real_aws: false,
            name_prefix: None,
            functions: Vec::new(),
            timeout: 10,
        };
        let prefix = check_target_args(&target_args)?;
        let target = build_target(&target_args).await?;
        let session = Session::new(prefix);
        watch_interrupt(session.clone());
        eprintln!(
            "matrix: {} cases of up to {} steps (seed {}) against {}",
            args.cases,
            args.steps,
            args.seed,
            target.name()
        );
        let config = RunConfig {
            cases: args.cases,
            steps: args.steps,
            seed: args.seed,
            jobs: 4,
            out_dir: args.out.join(&column.target),
            max_shrink_iters: 500,
        };
        let report = run(target.clone(), config, session.clone()).await;
        let classified = classify(&report, &column.catalogue, &*target, &session).await;
        final_cleanup(&*target, &session).await;
        if report.interrupted {
            return Ok(EXIT_INTERRUPTED);
        }
        let new: Vec<(String, String)> = classified
            .new
            .iter()
            .map(|i| {
                let f = &report.found[*i];
                (f.rules.last().map(|r| r.id.to_string()).unwrap_or_default(), f.signature.clone())
            })
            .collect();
        any_new |= !new.is_empty() || !classified.changed().is_empty();
        let exercised = report.coverage.rules.keys().map(|r| r.to_string()).collect();
        column.run = Some(parity::RunEvidence { exercised, new });
    }
    let markdown = parity::markdown(&columns);
    let json = serde_json::to_string_pretty(&parity::json(&columns)).map_err(|e| usage(anyhow::anyhow!(e)))? + "\n";
    std::fs::create_dir_all(&args.out).map_err(|e| usage(anyhow::anyhow!("creating {}: {e}", args.out.display())))?;
    for (name, text) in [("matrix.md", &markdown), ("matrix.json", &json)] {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| usage(anyhow::anyhow!("writing {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    Ok(if any_new { EXIT_DIVERGENT } else { 0 })
}

fn cmd_matrix(args: MatrixArgs) -> Result<u8, Failure> {
    let columns = matrix_columns(&args)?;
    let markdown = parity::markdown(&columns);
    let json = serde_json::to_string_pretty(&parity::json(&columns)).map_err(|e| usage(anyhow::anyhow!(e)))? + "\n";
    let readme_now = std::fs::read_to_string(&args.readme)
        .map_err(|e| usage(anyhow::anyhow!("reading {}: {e}", args.readme.display())))?;
    let readme = parity::replace_block(&readme_now, &parity::summary(&columns)).ok_or_else(|| {
        usage(anyhow::anyhow!("{} has no <!-- matrix:begin --> … <!-- matrix:end --> block", args.readme.display()))
    })?;
    let files = [(&args.markdown, &markdown), (&args.json, &json), (&args.readme, &readme)];
    if args.check {
        let stale: Vec<String> = files
            .iter()
            .filter(|(p, text)| !std::fs::read_to_string(p).is_ok_and(|t| &t == *text))
            .map(|(p, _)| p.display().to_string())
            .collect();
        if stale.is_empty() {
            println!("the parity matrix is up to date");
            return Ok(0);
        }
        eprintln!("out of date: {} (run `cargo run -- matrix`)", stale.join(", "));
        return Ok(EXIT_DIVERGENT);
    }
    for (path, text) in files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| usage(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
        }
        std::fs::write(path, text).map_err(|e| usage(anyhow::anyhow!("writing {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    Ok(0)
}

async fn cmd_replay(args: ReplayArgs) -> Result<u8, Failure> {
    let prefix = check_target_args(&args.target)?;
    // Every trace is read and checked before anything is sent.
    let mut traces = Vec::new();
    for path in &args.traces {
        let trace = catalogue::load_trace(path).map_err(usage)?;
        traces.push((path.clone(), trace));
    }
    let target = build_target(&args.target).await?;
    let session = Session::new(prefix);
    watch_interrupt(session.clone());
    let (mut failed, mut faulted, mut interrupted) = (0, 0, false);
    for (path, trace) in &traces {
        let r = replay(&*target, trace, &session).await;
        print!("{}", render_replay(&path.display().to_string(), &r));
        if !r.leaked.is_empty() {
            eprintln!("WARNING: could not delete these secrets: {}", r.leaked.join(", "));
        }
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
    final_cleanup(&*target, &session).await;
    println!(
        "{} trace(s): {} passed, {} failed, {} faulted",
        traces.len(),
        traces.len() - failed - faulted,
        failed,
        faulted
    );
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else if failed > 0 {
        EXIT_DIVERGENT
    } else if faulted > 0 {
        EXIT_TARGET
    } else {
        0
    })
}

async fn cmd_setup(args: SetupArgs) -> Result<u8, Failure> {
    let cache = moto::cache_dir().map_err(target_failure)?;
    let venv = moto::provision(&cache).await.map_err(target_failure)?;
    println!("moto {} ready in {}", moto::MOTO_VERSION, venv.display());
    if args.localstack {
        let venv = localstack::provision(&cache).await.map_err(target_failure)?;
        println!("localstack {} ready in {}", localstack::LOCALSTACK_VERSION, venv.display());
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_TARGET);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(a) => cmd_run(a).await,
            Command::Replay(a) => cmd_replay(a).await,
            Command::Setup(a) => cmd_setup(a).await,
            Command::Matrix(a) if a.run => cmd_matrix_run(a).await,
            Command::Matrix(a) => cmd_matrix(a),
            Command::Repro(a) => cmd_repro(a),
            Command::Evidence(a) => cmd_evidence(a),
            Command::Serve(a) => Ok(sm_server::cli::run(a).await),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
