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
    /// Region (default: the standard AWS configuration chain; us-east-1 for loopback endpoints).
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
    /// Per-request time-out in seconds.
    #[arg(long, default_value_t = 10)]
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
            Some(url) => {
                let host = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
                if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
                    return Err(usage_msg(format!("--endpoint-url {url:?}: expected http://HOST[:PORT] or https://…")));
                }
            }
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
    let base = t.name_prefix.clone().unwrap_or_else(|| "smconform-".to_string());
    Ok(format!("{base}{}-", run_id()))
}

/// Builds (and for a managed emulator, starts) the target the arguments describe.
pub async fn build_target(t: &TargetArgs) -> Result<Arc<dyn Target>, Failure> {
    build_target_for_jobs(t, 1).await
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
pub async fn build_target_for_jobs(t: &TargetArgs, jobs: usize) -> Result<Arc<dyn Target>, Failure> {
    let functions = parse_functions(&t.functions)?;
    let timeout = Duration::from_secs(t.timeout.max(1));
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
pub fn watch_interrupt(session: Arc<Session>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: finishing the requests in flight and deleting what the run created…");
            session.interrupt();
        }
    });
}

/// Deletes whatever the session still has registered; returns what could not be deleted.
pub async fn final_cleanup(target: &dyn Target, session: &Session) -> Vec<String> {
    let left = session.registry.drain();
    if left.is_empty() {
        return Vec::new();
    }
    target.cleanup(&left).await
}
