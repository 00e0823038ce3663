//! `smconform bench serve`: how fast `smconform serve` answers, next to moto on the same request
//! mix, and how much memory it needs to hold many secrets. Figures are printed, never asserted.
//!
//! - Throughput and latency: `--clients` concurrent raw HTTP clients (awsJson1.1 POSTs over
//!   keep-alive connections, not the SDK) send a fixed mix (GetSecretValue 60%, DescribeSecret
//!   20%, PutSecretValue 10%, ListSecretVersionIds 10%) on `--working-set` secrets for
//!   `--duration` seconds; requests/s, p50 and p99 latency, and errors (any answer but HTTP 200)
//!   per target. serve is this binary's `serve` in a process of its own; moto is the managed
//!   emulator, started as the other commands start it.
//! - Memory: serve, reset, is filled with `--secrets` secrets of `--versions` versions each
//!   (CreateSecret then PutSecretValue) by the same clients; its resident set size (VmRSS of
//!   `/proc/PID/status`) is read before and after.

use crate::cli::exit::{target_failure, usage_msg, Failure};
use anyhow::anyhow;
use clap::Args;
use sm_harness::target::emulator::{EmulatorServer, StartOptions};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt as _;

#[derive(Args)]
pub struct ServeBenchArgs {
    /// Seconds each target is driven (1 to 300).
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
    /// Concurrent raw HTTP clients (1 to 256).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Secrets the request mix works on (1 to 10000).
    #[arg(long, default_value_t = 100)]
    pub working_set: usize,
    /// Secrets serve holds for the memory figure (0 skips it; at most 100000).
    #[arg(long, default_value_t = 10_000)]
    pub secrets: usize,
    /// Versions of each of those secrets (1 to 100).
    #[arg(long, default_value_t = 20)]
    pub versions: usize,
    /// Measure serve only (moto is not started).
    #[arg(long)]
    pub no_moto: bool,
}

/// The request mix, in tenths.
const MIX: [Op; 10] =
    [Op::Get, Op::Describe, Op::Get, Op::Put, Op::Get, Op::List, Op::Get, Op::Describe, Op::Get, Op::Get];

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Describe,
    Put,
    List,
}

/// What one target measured.
struct Figures {
    requests: usize,
    errors: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

fn check(args: &ServeBenchArgs) -> Result<(), Failure> {
    let bound = |name: &str, v: usize, lo: usize, hi: usize| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(usage_msg(format!("--{name} must be between {lo} and {hi}, not {v}")))
        }
    };
    bound("duration", args.duration as usize, 1, 300)?;
    bound("clients", args.clients, 1, 256)?;
    bound("working-set", args.working_set, 1, 10_000)?;
    bound("secrets", args.secrets, 0, 100_000)?;
    bound("versions", args.versions, 1, 100)
}

pub async fn cmd_bench_serve(args: ServeBenchArgs) -> Result<u8, Failure> {
    check(&args)?;
    let run = format!("bench-{}", std::process::id());
    println!(
        "smconform bench serve: {} clients, {} s per target, mix GetSecretValue 60% / DescribeSecret 20% / PutSecretValue 10% / ListSecretVersionIds 10% on {} secrets",
        args.clients, args.duration, args.working_set
    );
    let serve = ServeProcess::start().await.map_err(target)?;
    let figures = drive(&serve.url, &args, &run).await.map_err(target)?;
    let mut rows = vec![("serve".to_string(), figures)];
    if !args.no_moto {
        let moto = EmulatorServer::start(&sm_harness::target::moto::SPEC, &StartOptions::default())
            .await
            .map_err(target_failure)?;
        let figures = drive(moto.endpoint_url(), &args, &run).await;
        let label = moto.spec().label();
        moto.shutdown().await;
        rows.push((label, figures.map_err(target)?));
    }
    println!("{:<12} {:>10} {:>7} {:>10} {:>8} {:>8}", "target", "requests", "errors", "req/s", "p50 ms", "p99 ms");
    for (name, f) in &rows {
        println!(
            "{:<12} {:>10} {:>7} {:>10.0} {:>8.2} {:>8.2}",
            name,
            f.requests,
            f.errors,
            f.per_second(),
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3
        );
    }
    if let [(_, serve_f), (moto_name, moto_f), ..] = rows.as_slice() {
        println!("serve/{moto_name}: {:.1}x the requests/s", serve_f.per_second() / moto_f.per_second().max(1e-9));
    }
    if args.secrets > 0 {
        reset(&serve.url).await.map_err(target)?;
        let empty = serve.rss_kib().map_err(target)?;
        let start = Instant::now();
        let errors = fill(&serve.url, &args, &run).await.map_err(target)?;
        let took = start.elapsed();
        let full = serve.rss_kib().map_err(target)?;
        println!(
            "memory: serve holding {} secrets x {} versions: RSS {:.1} MB (empty {:.1} MB; filled in {:.1} s, {:.0} requests/s, {errors} errors)",
            args.secrets,
            args.versions,
            full as f64 / 1024.0,
            empty as f64 / 1024.0,
            took.as_secs_f64(),
            (args.secrets * args.versions) as f64 / took.as_secs_f64().max(1e-9)
        );
    }
    serve.stop().await;
    Ok(0)
}

fn target(e: anyhow::Error) -> Failure {
    Failure { code: crate::cli::exit::EXIT_TARGET, error: e }
}

/// `smconform serve --port 0` in a process of its own.
struct ServeProcess {
    child: tokio::process::Child,
    url: String,
    /// Kept open so that serve can still write to it.
    _output: tokio::io::BufReader<tokio::process::ChildStdout>,
}

impl ServeProcess {
    async fn start() -> anyhow::Result<ServeProcess> {
        let exe = std::env::current_exe().map_err(|e| anyhow!("cannot find this program to start serve: {e}"))?;
        let mut child = tokio::process::Command::new(exe)
            .args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow!("cannot start serve: {e}"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("serve has no output"))?;
        let mut line = String::new();
        let mut output = tokio::io::BufReader::new(stdout);
        tokio::time::timeout(Duration::from_secs(30), output.read_line(&mut line))
            .await
            .map_err(|_| anyhow!("serve did not say it was ready within 30 s"))?
            .map_err(|e| anyhow!("cannot read serve's output: {e}"))?;
        let url = line
            .trim()
            .strip_prefix("smconform serve: listening on ")
            .ok_or_else(|| anyhow!("serve said {line:?} instead of its URL"))?
            .to_string();
        Ok(ServeProcess { child, url, _output: output })
    }

    /// Resident set size in KiB.
    fn rss_kib(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().ok_or_else(|| anyhow!("serve is no longer running"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| anyhow!("cannot read serve's memory (/proc/{pid}/status): {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One raw awsJson1.1 client on one keep-alive connection.
struct Client {
    http: reqwest::Client,
    url: String,
}

/// A credential scope so that every target reads the region (moto also the service) from it;
/// the signature is not checked by either.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-target, Signature=0";

impl Client {
    fn new(url: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow!("cannot build an HTTP client: {e}"))?;
        Ok(Client { http, url: url.to_string() })
    }

    /// Sends one request; `Ok(true)` for HTTP 200.
    async fn call(&self, op: &str, body: String) -> anyhow::Result<bool> {
        let answer = self
            .http
            .post(&self.url)
            .header("x-amz-target", format!("secretsmanager.{op}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("authorization", AUTHORIZATION)
            .body(body)
            .send()
            .await
            .map_err(|e| anyhow!("{op} to {} failed: {e}", self.url))?;
        let ok = answer.status().as_u16() == 200;
        answer.bytes().await.map_err(|e| anyhow!("{op} answer from {} unreadable: {e}", self.url))?;
        Ok(ok)
    }
}

fn name(run: &str, set: &str, i: usize) -> String {
    format!("{run}/{set}/{i}")
}

/// A ClientRequestToken never used before in this process (the SDKs add one to each change).
fn token() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn create_body(name: &str) -> String {
    serde_json::json!({"Name": name, "SecretString": "bench-value", "ClientRequestToken": token()}).to_string()
}

fn put_body(name: &str, n: usize) -> String {
    serde_json::json!({"SecretId": name, "SecretString": format!("bench-value-{n}"), "ClientRequestToken": token()})
        .to_string()
}

/// Runs `work(client, i)` for i in 0..n over the clients, in order of i per client.
async fn spread<F, Fut>(url: &str, clients: usize, n: usize, work: F) -> anyhow::Result<usize>
where
    F: Fn(Arc<Client>, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<bool>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = Arc::new(Client::new(url)?);
        let (next, work) = (next.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<usize, anyhow::Error>(errors);
                }
                if !work(client.clone(), i).await? {
                    errors += 1;
                }
            }
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.map_err(|e| anyhow!("a client task failed: {e}"))??;
    }
    Ok(errors)
}

/// Creates the working set, then drives the mix for the duration.
async fn drive(url: &str, args: &ServeBenchArgs, run: &str) -> anyhow::Result<Figures> {
    let run = run.to_string();
    let set_errors = {
        let run = run.clone();
        spread(url, args.clients, args.working_set, move |c, i| {
            let body = create_body(&name(&run, "mix", i));
            async move { c.call("CreateSecret", body).await }
        })
        .await?
    };
    if set_errors > 0 {
        return Err(anyhow!(
            "{set_errors} of {} CreateSecret requests of the working set failed at {url}",
            args.working_set
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let client = Client::new(url)?;
        let (run, set) = (run.clone(), args.working_set);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = c;
            while Instant::now() < deadline {
                let secret = name(&run, "mix", (i * 7919) % set);
                let (op, body) = match MIX[i % MIX.len()] {
                    Op::Get => ("GetSecretValue", serde_json::json!({"SecretId": secret}).to_string()),
                    Op::Describe => ("DescribeSecret", serde_json::json!({"SecretId": secret}).to_string()),
                    Op::Put => ("PutSecretValue", put_body(&secret, i)),
                    Op::List => ("ListSecretVersionIds", serde_json::json!({"SecretId": secret}).to_string()),
                };
                let sent = Instant::now();
                if !client.call(op, body).await? {
                    errors += 1;
                }
                latencies.push(sent.elapsed());
                i += 1;
            }
            Ok::<_, anyhow::Error>((latencies, errors))
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.map_err(|e| anyhow!("a client task failed: {e}"))??;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at =
        |q: f64| latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1))).copied();
    Ok(Figures {
        requests: latencies.len(),
        errors,
        seconds,
        p50: at(0.50).unwrap_or_default(),
        p99: at(0.99).unwrap_or_default(),
    })
}

/// Fills serve with `secrets` secrets of `versions` versions each.
async fn fill(url: &str, args: &ServeBenchArgs, run: &str) -> anyhow::Result<usize> {
    let (run, versions) = (run.to_string(), args.versions);
    spread(url, args.clients, args.secrets, move |c, i| {
        let secret = name(&run, "mem", i);
        async move {
            let mut ok = c.call("CreateSecret", create_body(&secret)).await?;
            for v in 1..versions {
                ok &= c.call("PutSecretValue", put_body(&secret, v)).await?;
            }
            Ok(ok)
        }
    })
    .await
}

/// Forgets every secret serve holds.
async fn reset(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let answer =
        http.post(format!("{url}/_smconform/reset")).send().await.map_err(|e| anyhow!("reset of {url} failed: {e}"))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(anyhow!("reset of {url} answered HTTP {}", answer.status()))
    }
}
