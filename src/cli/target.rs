//! The target options every command that talks to a target shares (`--target`, `--endpoint-url`,
//! …), their checks, and building the target they describe. The managed emulators among the
//! `--target` choices come from the registry.

use super::exit::{target_failure, usage_msg, Failure};
use clap::builder::PossibleValuesParser;
use clap::Args;
use sm_harness::runner::Session;
use sm_harness::target::emulator::managed::{ManagedOptions, ManagedTarget};
use sm_harness::target::emulator::pool::{fitting_jobs, PoolTarget};
use sm_harness::target::emulator::EmulatorSpec;
use sm_harness::target::endpoint::{EndpointConfig, EndpointTarget};
use sm_harness::target::model::ModelTarget;
use sm_harness::target::{registry, FaultKind, Observed, Target, TargetError};
use sm_model::FunctionBehaviour;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What `--target` names.
#[derive(Clone, Copy, Debug)]
pub enum TargetKind {
    /// A managed emulator from the registry.
    Managed(&'static EmulatorSpec),
    /// The reference model in process (must always conform).
    Model,
    /// Any Secrets Manager endpoint (`--endpoint-url`).
    Endpoint,
    /// Real AWS (needs --allow-real-aws and --name-prefix).
    Aws,
}

impl TargetKind {
    /// Parses a `--target` value.
    pub fn parse(name: &str) -> Option<TargetKind> {
        match name {
            "model" => Some(TargetKind::Model),
            "endpoint" => Some(TargetKind::Endpoint),
            "aws" => Some(TargetKind::Aws),
            other => registry::managed(other).map(TargetKind::Managed),
        }
    }
}

/// Every `--target` value: the registry's emulators, then model, endpoint, aws.
fn target_names() -> PossibleValuesParser {
    let mut names = registry::names();
    names.extend(["model", "endpoint", "aws"]);
    PossibleValuesParser::new(names)
}

#[derive(Args, Clone)]
pub struct TargetArgs {
    /// What to test: a managed emulator (provisioned and started by smconform on loopback; the
    /// first is the default), the model, any endpoint (--endpoint-url) or real AWS.
    #[arg(long, default_value = "moto", value_parser = target_names())]
    pub target: String,
    /// Endpoint URL for `--target endpoint`.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Region, e.g. us-east-1 (default: the standard AWS configuration chain; us-east-1 for
    /// loopback endpoints).
    #[arg(long)]
    pub region: Option<String>,
    /// Opt in to sending requests to real AWS (`--target aws`).
    #[arg(long)]
    pub allow_real_aws: bool,
    /// Prefix of every secret name the run creates (required for `--target aws`).
    #[arg(long)]
    pub name_prefix: Option<String>,
    /// A rotation function that exists on the target: ARN=BEHAVIOUR, where BEHAVIOUR is complete,
    /// fail-at-createSecret|setSecret|testSecret|finishSecret or not-invocable (endpoint/aws only).
    #[arg(long = "function", value_name = "ARN=BEHAVIOUR")]
    pub functions: Vec<String>,
    /// Per-request time-out in seconds (1 to 600). Response bodies are limited to 4 MiB; a
    /// larger one is a fault.
    #[arg(long, default_value_t = 10, value_parser = super::bounds::timeout)]
    pub timeout: u64,
}

impl TargetArgs {
    /// The options of a managed emulator, with defaults for everything else.
    pub fn managed(spec: &'static EmulatorSpec) -> TargetArgs {
        TargetArgs {
            target: spec.name.to_string(),
            endpoint_url: None,
            region: None,
            allow_real_aws: false,
            name_prefix: None,
            functions: Vec::new(),
            timeout: 10,
        }
    }

    fn kind(&self) -> Result<TargetKind, Failure> {
        TargetKind::parse(&self.target).ok_or_else(|| usage_msg(format!("--target {:?}: unknown target", self.target)))
    }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:08x}", (nanos as u64 ^ ((std::process::id() as u64) << 32)) as u32)
}

fn valid_prefix(p: &str) -> bool {
    !p.is_empty() && p.len() <= 64 && p.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

fn parse_functions(specs: &[String]) -> Result<BTreeMap<String, FunctionBehaviour>, Failure> {
    let mut out = BTreeMap::new();
    for s in specs {
        let (arn, b) =
            s.split_once('=').ok_or_else(|| usage_msg(format!("--function {s:?}: expected ARN=BEHAVIOUR")))?;
        let behaviour = FunctionBehaviour::parse(b)
            .ok_or_else(|| usage_msg(format!("--function {s:?}: unknown behaviour {b:?}")))?;
        out.insert(arn.to_string(), behaviour);
    }
    Ok(out)
}

/// Checks the target arguments and returns the run prefix.
pub fn check_target_args(t: &TargetArgs) -> Result<String, Failure> {
    if let Some(p) = &t.name_prefix {
        if !valid_prefix(p) {
            return Err(usage_msg(format!("--name-prefix {p:?}: use 1-64 of A-Z a-z 0-9 /_+=.@-")));
        }
    }
    match t.kind()? {
        TargetKind::Aws => {
            if !t.allow_real_aws {
                return Err(usage_msg("--target aws sends requests to real AWS: add --allow-real-aws to confirm"));
            }
            if t.name_prefix.is_none() {
                return Err(usage_msg("--target aws needs --name-prefix: every secret the run creates starts with it"));
            }
            if t.endpoint_url.is_some() {
                return Err(usage_msg("--endpoint-url is for --target endpoint, not aws"));
            }
        }
        TargetKind::Endpoint => match &t.endpoint_url {
            None => return Err(usage_msg("--target endpoint needs --endpoint-url URL")),
            Some(url) => check_endpoint_url(url)?,
        },
        TargetKind::Managed(_) | TargetKind::Model => {
            if t.endpoint_url.is_some() {
                return Err(usage_msg("--endpoint-url only goes with --target endpoint"));
            }
            if !t.functions.is_empty() {
                return Err(usage_msg("--function only goes with --target endpoint or aws"));
            }
        }
    }
    if let Some(r) = &t.region {
        if !super::bounds::valid_region(r) {
            return Err(usage_msg(format!("--region {r:?}: not a region name (e.g. us-east-1)")));
        }
    }
    let base = t.name_prefix.clone().unwrap_or_else(|| "smconform-".to_string());
    Ok(format!("{base}{}-", run_id()))
}

/// Checks an endpoint URL: http or https, a host, a port in range, nothing after the path.
fn check_endpoint_url(url: &str) -> Result<(), Failure> {
    let bad =
        |why: String| usage_msg(format!("--endpoint-url {url:?}: {why}; expected http://HOST[:PORT] or https://…"));
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad("not an http:// or https:// URL".into()));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a query or fragment has no meaning here".into()));
    }
    Ok(())
}

/// Builds (and for a managed emulator, starts) the target the arguments describe.
/// `prefix` is the run's name prefix (the preflight stays within it).
pub async fn build_target(t: &TargetArgs, prefix: &str) -> Result<Arc<dyn Target>, Failure> {
    build_target_for_jobs(t, prefix, 1).await
}

/// The job count a run uses when `--jobs` is not given: for a managed emulator one instance per
/// core, as many as the memory holds; for the model one job per core; 4 otherwise.
pub fn default_jobs(t: &TargetArgs) -> usize {
    match TargetKind::parse(&t.target) {
        Some(TargetKind::Managed(spec)) => fitting_jobs(spec),
        Some(TargetKind::Model) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        _ => 4,
    }
}

/// [`build_target`] for a run of `jobs` jobs: a managed emulator becomes a pool of `jobs`
/// instances, one per job, each on its own loopback port.
pub async fn build_target_for_jobs(t: &TargetArgs, prefix: &str, jobs: usize) -> Result<Arc<dyn Target>, Failure> {
    let functions = parse_functions(&t.functions)?;
    let timeout = Duration::from_secs(t.timeout);
    Ok(match t.kind()? {
        TargetKind::Model => Arc::new(ModelTarget::new()),
        TargetKind::Managed(spec) if jobs > 1 => {
            let options = ManagedOptions { operation_timeout: timeout, ..ManagedOptions::default() };
            Arc::new(PoolTarget::start(spec, &options, jobs).await.map_err(target_failure)?)
        }
        TargetKind::Managed(spec) => {
            let options = ManagedOptions { operation_timeout: timeout, ..ManagedOptions::default() };
            Arc::new(ManagedTarget::start(spec, &options).await.map_err(target_failure)?)
        }
        kind @ (TargetKind::Endpoint | TargetKind::Aws) => {
            let mut config = EndpointConfig::new(t.endpoint_url.clone());
            config.region = t.region.clone();
            config.operation_timeout = timeout;
            config.functions = functions;
            // Real AWS rotates asynchronously: wait for each rotation to settle (up to 2 minutes,
            // as AWS-validated tests do) before the next request.
            if matches!(kind, TargetKind::Aws) {
                config.rotation_settle = Some(Duration::from_secs(120));
            }
            config.label = match &t.endpoint_url {
                Some(u) => format!("endpoint {u}"),
                None => "aws".to_string(),
            };
            let target = EndpointTarget::new(config).await.map_err(target_failure)?;
            preflight(&target, t.endpoint_url.as_deref().unwrap_or("AWS"), prefix).await.map_err(target_failure)?;
            Arc::new(target)
        }
    })
}

/// Checks, before a run starts, that an endpoint answers like Secrets Manager: DescribeSecret of
/// a name inside the run's prefix that no case creates must be answered with a service error
/// (ResourceNotFoundException, or a refusal such as AccessDeniedException). No answer is
/// "unreachable"; a success, or an answer that is not a Secrets Manager answer, means the
/// endpoint is something else.
async fn preflight(target: &dyn Target, endpoint: &str, prefix: &str) -> Result<(), TargetError> {
    let probe =
        sm_model::Request::DescribeSecret(sm_model::request::SecretIdOnly { secret_id: format!("{prefix}preflight") });
    let not_sm = |what: String| {
        TargetError::Other(format!("the endpoint at {endpoint} does not answer like Secrets Manager: {what}"))
    };
    match target.send(&probe).await {
        Observed::Fault { kind: FaultKind::Connection | FaultKind::Timeout, detail } => {
            Err(TargetError::Unreachable { endpoint: endpoint.to_string(), detail })
        }
        Observed::Fault { kind: FaultKind::Malformed, detail } => Err(not_sm(detail)),
        Observed::Ok(v) => Err(not_sm(format!(
            "DescribeSecret of a secret that does not exist succeeded ({})",
            v.to_string().chars().take(80).collect::<String>()
        ))),
        // A service error is what Secrets Manager answers; a 5xx or throttling is a fault the
        // run will report.
        Observed::Error { .. } | Observed::Fault { .. } => Ok(()),
    }
}

/// Waits for Ctrl-C or SIGTERM and raises the session's interrupt flag (the run then stops
/// between requests and cleans up, as it does for Ctrl-C).
pub fn watch_interrupt(session: Arc<Session>) {
    // The handlers are installed now, before anything runs: a signal that arrives before the task
    // below is first polled is kept for it (and never takes the default action, which would kill
    // the run without its clean-up).
    let signals = Signals::install();
    tokio::spawn(async move {
        let signal = signals.next().await;
        eprintln!("\n{signal}: finishing the requests in flight and deleting what the run created…");
        session.interrupt();
    });
}

/// SIGINT (Ctrl-C) and SIGTERM, listened to from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals { interrupt: signal(SignalKind::interrupt()).ok(), terminate: signal(SignalKind::terminate()).ok() }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves when one arrives; names it ("interrupted", "terminated (interrupted)").
    async fn next(self) -> &'static str {
        #[cfg(unix)]
        {
            let (mut int, mut term) = (self.interrupt, self.terminate);
            let int = async {
                match int.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            let term = async {
                match term.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = int => "interrupted",
                _ = term => "terminated (interrupted)",
            }
        }
        #[cfg(not(unix))]
        match tokio::signal::ctrl_c().await {
            Ok(()) => "interrupted",
            Err(_) => std::future::pending().await,
        }
    }
}
