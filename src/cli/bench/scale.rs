//! `smconform bench scale`: in one run, the requests/s of generated runs against moto at several
//! job counts (one moto per job; no shrinking, so every request is a case's), the model's own
//! throughput on the cases the run generates (`apply`, and `branches` as the tracker calls it),
//! and memory: each moto's resident set after its runs and this process's peak. Figures are
//! printed, never asserted.
//!
//! A shared machine's speed drifts by tens of percent within a minute, so the job counts are
//! measured in rounds that take turns (1, 2, 4, 1, 2, 4, ...) and each is summarised by its
//! median round: a ratio between job counts then compares runs made side by side. Every pool of
//! motos is started, and each instance has answered a case, before the first round: neither the
//! start nor moto's first-request imports is on the clock.

use crate::cli::exit::{target_failure, usage_msg, Failure, EXIT_OK};
use clap::Args;
use sm_harness::events::{RunEvent, Sink};
use sm_harness::generate::Resolver;
use sm_harness::runner::{generate_case, run_with, RunConfig, Session};
use sm_harness::target::emulator::managed::ManagedOptions;
use sm_harness::target::emulator::PoolTarget;
use sm_harness::target::{moto, Target};
use sm_model::{apply, branches, Model, Request};
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
pub struct ScaleBenchArgs {
    /// Job counts to measure against moto (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub jobs: Vec<usize>,
    /// Cases per moto run.
    #[arg(long, default_value_t = 60)]
    pub cases: usize,
    /// Rounds: each job count is measured once per round, the rounds taking turns.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Steps per case.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Seed of the generated cases (the same at every job count).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cases whose requests the model throughput is measured on.
    #[arg(long, default_value_t = 2000)]
    pub model_cases: usize,
    /// Leave moto out (model figures only).
    #[arg(long)]
    pub no_moto: bool,
}

/// A sink that ignores everything (the benchmark writes no reproductions).
struct Quiet;

impl Sink for Quiet {
    fn event(&self, _: &RunEvent<'_>) {}
}

pub async fn cmd_bench_scale(args: ScaleBenchArgs) -> Result<u8, Failure> {
    if args.cases == 0 || args.steps == 0 || args.model_cases == 0 || args.rounds == 0 || args.jobs.contains(&0) {
        return Err(usage_msg("--cases, --rounds, --steps, --model-cases and every --jobs value must be at least 1"));
    }
    println!("smconform bench scale: seed {}, {} cases of {} steps per run", args.seed, args.cases, args.steps);
    if !args.no_moto {
        moto_rounds(&args).await?;
    }
    let (apply_rate, branches_rate, n) =
        tokio::task::spawn_blocking(move || model_throughput(args.seed, args.model_cases, args.steps))
            .await
            .map_err(|e| usage_msg(format!("the model benchmark failed: {e}")))?;
    println!("model apply: {apply_rate:.0} requests/s; branches: {branches_rate:.0} requests/s ({n} requests)");
    println!("peak RSS of this process: {} MiB", status_mib("self", "VmHWM").unwrap_or(0));
    Ok(EXIT_OK)
}

/// The pools (one per distinct job count, all started first), the rounds, and the summary.
async fn moto_rounds(args: &ScaleBenchArgs) -> Result<(), Failure> {
    let mut counts: Vec<usize> = Vec::new();
    for &jobs in &args.jobs {
        if !counts.contains(&jobs) {
            counts.push(jobs);
        }
    }
    let mut pools = Vec::new();
    for &jobs in &counts {
        let pool = PoolTarget::start(&moto::SPEC, &ManagedOptions::default(), jobs).await.map_err(target_failure)?;
        let pool = Arc::new(pool);
        // Untimed: every instance answers one case before the clock runs.
        moto_run(&pool, args, jobs, jobs, "warm").await?;
        pools.push(pool);
    }
    let mut runs: Vec<Vec<MotoRun>> = counts.iter().map(|_| Vec::new()).collect();
    for round in 1..=args.rounds {
        for (i, (&jobs, pool)) in counts.iter().zip(&pools).enumerate() {
            let run = moto_run(pool, args, jobs, args.cases, &format!("r{round}")).await?;
            println!(
                "round {round} moto --jobs {jobs}: {} requests in {:.2} s = {:.0} requests/s{}",
                run.requests,
                run.secs,
                run.rate,
                run.cpu_line()
            );
            runs[i].push(run);
        }
    }
    let medians: Vec<MotoRun> = runs.into_iter().map(median_run).collect();
    for (i, ((&jobs, run), pool)) in counts.iter().zip(&medians).zip(&pools).enumerate() {
        let speedup =
            if i == 0 { String::new() } else { format!(", {:.2}x --jobs {}", run.rate / medians[0].rate, counts[0]) };
        let rss: Vec<String> =
            pool.instances().iter().filter_map(|t| t.server().pid()).map(|p| rss_mib(p).to_string()).collect();
        println!(
            "moto --jobs {jobs} (median of {} rounds): {:.0} requests/s{speedup}; moto RSS {} MiB per instance",
            args.rounds,
            run.rate,
            rss.join("/")
        );
    }
    for pool in pools {
        if let Ok(pool) = Arc::try_unwrap(pool) {
            pool.shutdown().await;
        }
    }
    Ok(())
}

/// What one run against a pool of motos measured.
struct MotoRun {
    /// Requests/s over the run.
    rate: f64,
    requests: u64,
    secs: f64,
    /// CPU seconds the motos used during the run, all instances together (`None` off Linux).
    moto_cpu: Option<f64>,
    /// CPU seconds this process used during the run.
    own_cpu: Option<f64>,
}

impl MotoRun {
    /// Where the CPU time went (empty off Linux).
    fn cpu_line(&self) -> String {
        let (Some(moto), Some(own)) = (self.moto_cpu, self.own_cpu) else { return String::new() };
        let per = |cpu: f64| cpu * 1e6 / self.requests.max(1) as f64;
        format!(
            "; CPU per request: moto {:.0} us, smconform {:.0} us; {:.2} of {} cores busy",
            per(moto),
            per(own),
            (moto + own) / self.secs.max(1e-9),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        )
    }
}

/// The run of median rate (the lower middle one for an even count).
fn median_run(mut runs: Vec<MotoRun>) -> MotoRun {
    runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    runs.swap_remove((runs.len() - 1) / 2)
}

/// One run of `cases` cases against `pool`, `jobs` at once, timed from its first case to its
/// final sweep.
async fn moto_run(
    pool: &Arc<PoolTarget>,
    args: &ScaleBenchArgs,
    jobs: usize,
    cases: usize,
    label: &str,
) -> Result<MotoRun, Failure> {
    let pids: Vec<u32> = pool.instances().iter().filter_map(|t| t.server().pid()).collect();
    let target: Arc<dyn Target> = pool.clone();
    let config = RunConfig {
        cases,
        steps: args.steps,
        seed: args.seed,
        jobs,
        out_dir: std::env::temp_dir(),
        max_shrink_iters: 0,
        already_reproduced: Default::default(),
    };
    let cpu_of = |pids: &[u32]| pids.iter().map(|p| cpu_secs(&p.to_string())).sum::<Option<f64>>();
    let (moto_before, own_before) = (cpu_of(&pids), cpu_secs("self"));
    let started = Instant::now();
    let session = Session::new(format!("smconform-bench-j{jobs}-{label}-"));
    let report = run_with(target, config, session, Arc::new(Quiet)).await;
    let secs = started.elapsed().as_secs_f64();
    let moto_cpu = cpu_of(&pids).zip(moto_before).map(|(after, before)| after - before);
    let own_cpu = cpu_secs("self").zip(own_before).map(|(after, before)| after - before);
    if let Some(why) = report.aborted {
        return Err(usage_msg(format!("the run against moto --jobs {jobs} stopped: {why}")));
    }
    let requests = report.coverage.total_requests();
    Ok(MotoRun { rate: requests as f64 / secs.max(1e-9), requests, secs, moto_cpu, own_cpu })
}

/// A process's resident set in MiB (0 where it cannot be read).
fn rss_mib(pid: u32) -> u64 {
    status_mib(&pid.to_string(), "VmRSS").unwrap_or(0)
}

/// `apply` and `branches` throughput (requests/s) over the requests of `cases` generated cases,
/// each from an empty model, following the canonical branch.
fn model_throughput(seed: u64, cases: usize, steps: usize) -> (f64, f64, usize) {
    let caps = sm_harness::target::model::ModelTarget::new().capabilities();
    let resolver = Resolver::new(&caps.behaviours);
    let fresh = || {
        let mut m = Model::new();
        m.functions.extend(resolver.functions.iter().map(|(k, v)| (k.clone(), *v)));
        m
    };
    let sequences: Vec<Vec<Request>> = (0..cases)
        .map(|case| {
            let ops = generate_case(seed, case, steps, caps.omit_token).current();
            let mut r = resolver.clone();
            let mut m = fresh();
            ops.iter()
                .map(|op| {
                    let req = r.resolve(op, &m);
                    apply(&mut m, &req);
                    req
                })
                .collect()
        })
        .collect();
    let n: usize = sequences.iter().map(Vec::len).sum();
    let started = Instant::now();
    for seq in &sequences {
        let mut m = fresh();
        for r in seq {
            std::hint::black_box(apply(&mut m, r));
        }
    }
    let apply_rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let started = Instant::now();
    for seq in &sequences {
        let mut m = fresh();
        for r in seq {
            let mut all = branches(&m, r);
            m = all.swap_remove(0).state;
        }
    }
    let branches_rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
    (apply_rate, branches_rate, n)
}

/// The CPU time (user and system, every thread) a process has used so far, in seconds, from
/// `/proc/<pid>/stat` (Linux; `None` elsewhere). Clock ticks are 1/100 s on every Linux ABI.
fn cpu_secs(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
    // state (3), ..., utime (14), stime (15).
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in MiB (Linux; `None` elsewhere).
fn status_mib(pid: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
