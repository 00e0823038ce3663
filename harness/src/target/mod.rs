//! Targets: the things a conformance run talks to. Every target implements [`Target`]; the runner
//! never knows which one it has. A target receives requests with physical (run-prefixed) secret
//! names and returns what it observed, un-normalised: the runner maps names and ARNs back and
//! compares.

pub mod emulator;
pub mod endpoint;
pub mod localstack;
pub mod ministack;
pub mod model;
pub mod moto;
pub mod registry;

use serde_json::Value;
use sm_model::{FunctionBehaviour, Request};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`Target`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a target answered to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// A successful response: a JSON object with AWS's member names (as the JSON wire protocol
    /// names them), absent members left out, dates as numbers or strings.
    Ok(Value),
    /// An error response from the service.
    Error {
        code: String,
        message: String,
        /// HTTP status, when the transport reports one.
        status: Option<u16>,
    },
    /// The target failed rather than answered: connection refused, time-out, HTTP 5xx,
    /// throttling. Never a divergence; the run reports it as a fault.
    Fault { kind: FaultKind, detail: String },
}

/// Kinds of target fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Could not connect or the connection broke: the outcome of a mutating call is unknown.
    Connection,
    /// The call timed out: its outcome is unknown.
    Timeout,
    /// HTTP 5xx or an internal error code.
    Server,
    /// Throttled.
    Throttled,
    /// The target answered something that is not an answer to the operation: an empty or cut
    /// body, a body that is not JSON or has the wrong shape, an error without an error code, a
    /// body over the size limit. Never compared with the model.
    Malformed,
}

impl FaultKind {
    /// Every kind, in declaration order.
    pub const ALL: [FaultKind; 4] =
        [FaultKind::Connection, FaultKind::Timeout, FaultKind::Server, FaultKind::Throttled];

    /// The kind a [`FaultKind::name`] stands for.
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Connection => "connection",
            FaultKind::Timeout => "timeout",
            FaultKind::Server => "server error",
            FaultKind::Throttled => "throttled",
            FaultKind::Malformed => "malformed response",
        }
    }
}

/// What a target can express, so that generation stays within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Rotation-function behaviours the target can run (an empty list: RotateSecret is only sent
    /// with functions it cannot invoke... and even those only when `NotInvocable` is listed).
    pub behaviours: Vec<FunctionBehaviour>,
    /// Whether a request can be sent without a ClientRequestToken (the AWS SDK always fills one).
    pub omit_token: bool,
    /// How many cases may run against the target at once.
    pub max_jobs: usize,
}

/// Errors setting a target up or tearing it down (not per-request faults).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("python3 was not found; install Python 3 (with the venv module) to run the embedded moto target: {0}")]
    NoPython(String),
    #[error("provisioning {what} failed: {detail}")]
    Provision { what: String, detail: String },
    #[error("the target at {endpoint} is unreachable: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("{0}")]
    Other(String),
}

/// A Secrets Manager implementation under test.
pub trait Target: Send + Sync {
    /// A short name for reports (`model`, `moto 5.2.5`, `endpoint http://…`).
    fn name(&self) -> String;

    /// What this target can express.
    fn capabilities(&self) -> Capabilities;

    /// Declares the rotation functions a case uses (ARN to behaviour). Called before a case's
    /// first request; a target that must create functions does so here.
    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>>;

    /// Sends one request (secret names already physical).
    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed>;

    /// The instance job `job` of a run should use, when the target is a pool of instances (one
    /// emulator per job); `None`: every job shares this target.
    fn for_job(&self, _job: usize) -> Option<&dyn Target> {
        None
    }

    /// Force-deletes the named secrets (physical names) without recovery, ignoring ones that do
    /// not exist. Used after every case and on shutdown; returns the names it could not delete.
    /// A delete that faults is retried with back-off ([`CLEANUP_BACKOFF`]); a fault may hide a
    /// delete that did happen, so a retry answered "not found" counts as deleted.
    fn cleanup<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            let mut failed = Vec::new();
            // Once one secret could not be deleted for faults after every retry, the target is
            // failing: the rest get one attempt each (the final sweep tries again).
            let mut retries = true;
            for name in names {
                match delete_with_retries(self, name, retries).await {
                    Deleted::Gone => {}
                    Deleted::Refused => failed.push(name.clone()),
                    Deleted::Faulted => {
                        retries = false;
                        failed.push(name.clone());
                    }
                }
            }
            failed
        })
    }

    /// Every secret on the target whose name starts with `prefix` (exactly, case included),
    /// secrets scheduled for deletion included. `None`: this target cannot list (the caller then
    /// only knows what it registered).
    fn list_prefixed<'a>(&'a self, _prefix: &'a str) -> BoxFuture<'a, Option<Result<Vec<String>, String>>> {
        Box::pin(async { None })
    }

    /// How long after a request whose outcome is unknown (a time-out, a broken connection) the
    /// target may still act on it: the final sweep waits this long before it lists what is left.
    fn late_arrival_window(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// Pauses between attempts to delete one secret during clean-up (their count is the number of
/// retries after the first attempt).
pub const CLEANUP_BACKOFF: [std::time::Duration; 4] = [
    std::time::Duration::from_millis(100),
    std::time::Duration::from_millis(300),
    std::time::Duration::from_millis(900),
    std::time::Duration::from_millis(2700),
];

/// What became of one clean-up delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted, or it did not exist.
    Gone,
    /// The target refused (an error other than "not found").
    Refused,
    /// Every attempt faulted.
    Faulted,
}

/// Force-deletes one secret, retrying faults with back-off when `retries` is set.
pub async fn delete_with_retries<T: Target + ?Sized>(target: &T, name: &str, retries: bool) -> Deleted {
    let req = Request::DeleteSecret(sm_model::request::DeleteSecret {
        secret_id: name.to_string(),
        recovery_window_in_days: None,
        force_delete_without_recovery: Some(true),
    });
    let pauses = if retries { &CLEANUP_BACKOFF[..] } else { &[] };
    for pause in std::iter::once(None).chain(pauses.iter().map(Some)) {
        if let Some(p) = pause {
            tokio::time::sleep(*p).await;
        }
        match target.send(&req).await {
            Observed::Ok(_) => return Deleted::Gone,
            Observed::Error { code, .. } if code == "ResourceNotFoundException" => return Deleted::Gone,
            // A refusal is an answer: retrying it changes nothing.
            Observed::Error { .. } => return Deleted::Refused,
            Observed::Fault { .. } => {}
        }
    }
    Deleted::Faulted
}
