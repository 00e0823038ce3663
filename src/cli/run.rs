//! `smconform run`: generate request sequences, run them against a target, report divergences
//! from the model (with a baseline: which are known, new, fixed), write reports.

use super::bounds;
use super::exit::{exit_code, usage, usage_msg, Failure, Outcome, EXIT_TARGET};
use super::target::{build_target_for_jobs, check_target_args, default_jobs, watch_interrupt, TargetArgs};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use sm_harness::baseline::{classify, Classified};
use sm_harness::catalogue::Catalogue;
use sm_harness::events::{RunEvent, Sink, Sinks, TraceFiles};
use sm_harness::export::{self, ReportFormat, RunSummary};
use sm_harness::report::render_run;
use sm_harness::runner::{run_shard, sweep, RunConfig, RunReport, Session, Shard};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Number of generated cases (1 to 1000000).
    #[arg(long, default_value_t = 200, value_parser = bounds::cases)]
    pub cases: usize,
    /// Maximum requests per case (1 to 1000).
    #[arg(long, default_value_t = 30, value_parser = bounds::steps)]
    pub steps: usize,
    /// Seed (default: from the clock; printed so the run can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Cases run at once (1 to 64; a target may allow fewer); against a managed emulator, one instance per job (default: one job per
    /// core, as many as memory holds; 4 for an endpoint or AWS).
    #[arg(long, value_parser = bounds::jobs)]
    pub jobs: Option<usize>,
    /// Run only shard I of N (1-based) of the seed's cases, for spreading one run over machines;
    /// `smconform merge` joins the shards' output folders into the whole run's (a sharded run
    /// always writes report.json).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Where minimal reproductions are written.
    #[arg(long, default_value = "smconform-out")]
    pub out: PathBuf,
    /// Upper bound on shrink attempts per divergence (0 to 100000).
    #[arg(long, default_value_t = 500, value_parser = bounds::shrink)]
    pub max_shrink: usize,
    /// A divergence catalogue (e.g. fixtures/divergences/moto): divergences it holds are known,
    /// the others new; entries the run does not meet are replayed to see whether they are fixed.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// With --baseline: fail on known divergences and fixed entries too, not only on new ones.
    #[arg(long, requires = "baseline")]
    pub strict: bool,
    /// Reports to write into --out: json, junit, markdown (repeatable).
    #[arg(long = "report", value_enum)]
    pub reports: Vec<ReportKind>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportKind {
    Json,
    Junit,
    Markdown,
}

pub async fn cmd_run(args: RunArgs) -> Result<u8, Failure> {
    let prefix = check_target_args(&args.target)?;
    if args.cases == 0 || args.steps == 0 || args.jobs == Some(0) {
        return Err(usage_msg("--cases, --steps and --jobs must be at least 1"));
    }
    let jobs = args.jobs.unwrap_or_else(|| default_jobs(&args.target));
    let shard = match &args.shard {
        Some(text) => text.parse::<Shard>().map_err(|e| usage_msg(format!("--shard {text:?}: {e}")))?,
        None => Shard::WHOLE,
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    let baseline = match &args.baseline {
        Some(dir) => Some(Catalogue::load(dir).map_err(usage)?),
        None => None,
    };
    // Reproductions and reports go to --out: find out now, not after the run, if it is unusable.
    tokio::fs::create_dir_all(&args.out)
        .await
        .map_err(|e| usage_msg(format!("--out {}: cannot create the folder: {e}", args.out.display())))?;
    let target = build_target_for_jobs(&args.target, &prefix, jobs).await?;
    let session = Session::new(prefix);
    watch_interrupt(session.clone());
    let of_shard = if args.shard.is_some() { format!(" (shard {shard})") } else { String::new() };
    eprintln!(
        "smconform run: target {}, seed {seed}, {} cases{of_shard} of up to {} steps, {jobs} jobs",
        target.name(),
        args.cases,
        args.steps,
    );
    let config = RunConfig {
        cases: args.cases,
        steps: args.steps,
        seed,
        jobs,
        out_dir: args.out.clone(),
        max_shrink_iters: args.max_shrink,
        already_reproduced: baseline.as_ref().map(Catalogue::reproduced).unwrap_or_default(),
    };
    let traces = Arc::new(TraceFiles::default());
    let mut sinks = Sinks(vec![traces.clone()]);
    if let Some(progress) = Progress::new(args.cases).filter(|_| !args.quiet) {
        sinks.0.push(Arc::new(progress));
    }
    let mut report = run_shard(target.clone(), config, shard, session.clone(), Arc::new(sinks)).await;
    for error in traces.errors() {
        eprintln!("warning: {error}");
    }
    let classified: Option<Classified> = match &baseline {
        Some(cat) if !report.interrupted => Some(classify(&report, cat, &*target, &session).await),
        _ => None,
    };
    // The baseline's replays created secrets too: sweep again, and report what that left.
    if classified.is_some() {
        report.cleanup.merge(sweep(&*target, &session).await);
        report.leaked = report.cleanup.left.clone();
    }
    print!("{}", render_run(&report, seed));
    if let (Some(cat), Some(c)) = (&baseline, &classified) {
        print!("{}", render_baseline(&report, cat, c));
    }
    let summary = RunSummary { report: &report, seed, catalogue: baseline.as_ref(), classified: classified.as_ref() };
    let mut kinds = args.reports.clone();
    if args.shard.is_some() && !kinds.contains(&ReportKind::Json) {
        // `merge` reads the shards' JSON reports.
        kinds.push(ReportKind::Json);
    }
    write_reports(&kinds, &args.out, &summary).await.map_err(|e| Failure { code: EXIT_TARGET, error: e })?;
    let outcome = Outcome {
        interrupted: report.interrupted,
        divergent: match &classified {
            Some(c) => c.failing(args.strict),
            None => !report.found.is_empty(),
        },
        aborted: report.aborted.is_some(),
        left_behind: !report.leaked.is_empty(),
        target_failing: match &classified {
            Some(c) => !c.new_faults.is_empty(),
            None => !report.faults.is_empty(),
        },
    };
    Ok(exit_code(outcome))
}

fn render_baseline(report: &RunReport, cat: &Catalogue, c: &Classified) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let fault_entries: std::collections::BTreeSet<&String> = c.known_faults.iter().map(|(_, id)| id).collect();
    let known: std::collections::BTreeSet<&String> = c.known.iter().map(|(_, id)| id).collect();
    let mut new_causes: Vec<&sm_harness::finding::Cause> = c.new.iter().map(|i| &report.found[*i].cause).collect();
    new_causes.sort();
    new_causes.dedup();
    let _ = writeln!(
        out,
        "\nbaseline: {} known cause(s), {} new cause(s), {} known fault kind(s), {} new fault(s); of {} entries {} fixed, {} changed, {} unknown this run",
        known.len(),
        new_causes.len(),
        fault_entries.len(),
        c.new_faults.len(),
        cat.entries.len(),
        c.fixed().len(),
        c.changed().len(),
        c.unknown().len()
    );
    for id in known {
        let entry = cat.entries.iter().find(|e| e.id == **id);
        // A symptom the entry holds no reproduction of is a new symptom of a known cause: listed,
        // not failed on (`catalogue grow` adds its reproduction).
        let recorded = |f: &sm_harness::runner::Found| entry.is_none_or(|e| e.holds(&f.signature));
        let shown: Vec<String> = c
            .known
            .iter()
            .filter(|(_, e)| e == id)
            .map(|(i, _)| &report.found[*i])
            .map(|f| match recorded(f) {
                true => f.signature.to_string(),
                false => format!("{} (new symptom)", f.signature),
            })
            .collect();
        let _ = writeln!(out, "  known   {id}: {}", shown.join("; "));
    }
    for id in fault_entries {
        let _ = writeln!(out, "  known   {id} (fault)");
    }
    for cause in new_causes {
        let _ = writeln!(out, "  NEW     {} {cause}", report.target);
        for i in c.new.iter().filter(|i| report.found[**i].cause == *cause) {
            let f = &report.found[*i];
            let _ = writeln!(out, "            {} ({})", f.signature, f.path.display());
        }
    }
    for i in &c.new_faults {
        let f = &report.faults[*i];
        let detail: String = f.detail.chars().take(120).collect();
        let _ = writeln!(out, "  NEW     fault {} {}: {detail}", f.op, f.kind.name());
    }
    for id in c.fixed() {
        let _ = writeln!(out, "  FIXED   {id}: no reproduction diverges any more (fixed upstream: remove the entry)");
    }
    for (id, what) in c.changed() {
        let _ = writeln!(out, "  CHANGED {id}: now {what}");
    }
    for (id, what) in c.unknown() {
        let _ = writeln!(out, "  UNKNOWN {id}: unknown this run, its replay met a target fault ({what})");
    }
    out
}

async fn write_reports(kinds: &[ReportKind], out: &Path, s: &RunSummary<'_>) -> anyhow::Result<()> {
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
        tokio::fs::create_dir_all(out).await.with_context(|| format!("creating {}", out.display()))?;
        let path = out.join(format.file_name());
        tokio::fs::write(&path, text).await.with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A progress bar of finished cases on stderr (only when stderr is a terminal): a sink of the
/// run's events.
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn new(cases: usize) -> Option<Progress> {
        use std::io::IsTerminal as _;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(cases as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed} (eta {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(Progress(bar))
    }
}

impl Sink for Progress {
    fn event(&self, event: &RunEvent<'_>) {
        match event {
            RunEvent::CaseFinished { .. } => self.0.inc(1),
            RunEvent::Finished { .. } => self.0.finish_and_clear(),
            _ => {}
        }
    }
}
