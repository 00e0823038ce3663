//! `smconform bench scale`: in one run, the requests/s of generated runs against moto at several
//! job counts (one moto per job, started before the clock starts; no shrinking, so every request
//! is a case's), the model's own throughput on the cases the run generates (`apply`, and
//! `branches` as the tracker calls it), and memory: each moto's resident set after its run and
//! this process's peak. Figures are printed, never asserted.

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
    if args.cases == 0 || args.steps == 0 || args.model_cases == 0 || args.jobs.contains(&0) {
        return Err(usage_msg("--cases, --steps, --model-cases and every --jobs value must be at least 1"));
    }
    println!("smconform bench scale: seed {}, {} steps per case", args.seed, args.steps);
    if !args.no_moto {
        let mut base = None;
        for &jobs in &args.jobs {
            let (rate, requests, secs, rss) = moto_run(&args, jobs).await?;
            let speedup = match base {
                None => {
                    base = Some(rate);
                    String::new()
                }
                Some(b) => format!(", {:.2}x --jobs {}", rate / b, args.jobs[0]),
            };
            println!(
                "moto --jobs {jobs}: {requests} requests in {secs:.1} s = {rate:.0} requests/s{speedup}; moto RSS {} MiB per instance",
                rss.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("/")
            );
        }
    }
    let (apply_rate, branches_rate, n) =
        tokio::task::spawn_blocking(move || model_throughput(args.seed, args.model_cases, args.steps))
            .await
            .map_err(|e| usage_msg(format!("the model benchmark failed: {e}")))?;
    println!("model apply: {apply_rate:.0} requests/s; branches: {branches_rate:.0} requests/s ({n} requests)");
    println!("peak RSS of this process: {} MiB", status_mib("self", "VmHWM").unwrap_or(0));
    Ok(EXIT_OK)
}

/// One run against `jobs` motos: requests/s over the run (the instances are started first) and
/// each instance's resident set afterwards.
async fn moto_run(args: &ScaleBenchArgs, jobs: usize) -> Result<(f64, u64, f64, Vec<u64>), Failure> {
    let pool = PoolTarget::start(&moto::SPEC, &ManagedOptions::default(), jobs).await.map_err(target_failure)?;
    let pids: Vec<u32> = pool.instances().iter().filter_map(|t| t.server().pid()).collect();
    let pool = Arc::new(pool);
    let target: Arc<dyn Target> = pool.clone();
    let config = RunConfig {
        cases: args.cases,
        steps: args.steps,
        seed: args.seed,
        jobs,
        out_dir: std::env::temp_dir(),
        max_shrink_iters: 0,
        already_reproduced: Default::default(),
    };
    let started = Instant::now();
    let report =
        run_with(target.clone(), config, Session::new(format!("smconform-bench-j{jobs}-")), Arc::new(Quiet)).await;
    let secs = started.elapsed().as_secs_f64();
    let requests = report.coverage.total_requests();
    let rss = pids.iter().map(|p| status_mib(&p.to_string(), "VmRSS").unwrap_or(0)).collect();
    drop(target);
    if let Ok(pool) = Arc::try_unwrap(pool) {
        pool.shutdown().await;
    }
    if let Some(why) = report.aborted {
        return Err(usage_msg(format!("the run against moto --jobs {jobs} stopped: {why}")));
    }
    Ok((requests as f64 / secs.max(1e-9), requests, secs, rss))
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

/// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in MiB (Linux; `None` elsewhere).
fn status_mib(pid: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
