//! A managed emulator as a [`Target`]: an [`EmulatorServer`] and an [`EndpointTarget`] pointed
//! at it, with the capabilities its [`EmulatorSpec`] declares. Dropping it stops the emulator.

use super::{EmulatorServer, EmulatorSpec, Function, StartOptions};
use crate::target::endpoint::{EndpointConfig, EndpointTarget};
use crate::target::{BoxFuture, Capabilities, Observed, Target, TargetError};
use sm_model::{FunctionBehaviour, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

/// How a managed target is started.
#[derive(Clone, Debug)]
pub struct ManagedOptions {
    pub start: StartOptions,
    /// Limit on one request sent through the target.
    pub operation_timeout: Duration,
}

impl Default for ManagedOptions {
    fn default() -> Self {
        ManagedOptions { start: StartOptions::default(), operation_timeout: Duration::from_secs(30) }
    }
}

/// A running managed emulator and a client talking to it.
#[derive(Debug)]
pub struct ManagedTarget {
    // Declared first so that the client goes before the server it talks to.
    inner: EndpointTarget,
    server: EmulatorServer,
    /// Rotation-function ARNs already provided on this instance.
    provided: Mutex<BTreeSet<String>>,
}

impl ManagedTarget {
    /// Provisions (if needed) and starts the emulator, and connects a client to it.
    pub async fn start(spec: &'static EmulatorSpec, options: &ManagedOptions) -> Result<ManagedTarget, TargetError> {
        let server = EmulatorServer::start(spec, &options.start).await?;
        let mut config = EndpointConfig::new(Some(server.endpoint_url().to_string()));
        config.operation_timeout = options.operation_timeout;
        config.label = spec.label();
        let inner = EndpointTarget::new(config).await?;
        Ok(ManagedTarget { inner, server, provided: Mutex::new(BTreeSet::new()) })
    }

    /// The emulator.
    pub fn spec(&self) -> &'static EmulatorSpec {
        self.server.spec()
    }

    /// The running server.
    pub fn server(&self) -> &EmulatorServer {
        &self.server
    }

    /// The SDK-backed target talking to the server.
    pub fn endpoint(&self) -> &EndpointTarget {
        &self.inner
    }

    /// Stops the emulator and waits for it to end.
    pub async fn shutdown(self) {
        let ManagedTarget { inner, server, .. } = self;
        drop(inner);
        server.shutdown().await;
    }

    fn is_provided(&self, arn: &str) -> bool {
        self.provided.lock().map(|p| p.contains(arn)).unwrap_or(false)
    }
}

impl Target for ManagedTarget {
    fn name(&self) -> String {
        self.spec().label()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { behaviours: self.spec().behaviours.to_vec(), omit_token: false, max_jobs: self.spec().max_jobs }
    }

    /// Not-invocable ARNs need nothing; every other behaviour the emulator can express is
    /// provided once per ARN by its hooks; any other behaviour is an error.
    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let spec = self.spec();
            for (arn, behaviour) in functions {
                if *behaviour == FunctionBehaviour::NotInvocable {
                    continue;
                }
                // Checked before the ARN is looked up: an ARN provided with one behaviour cannot
                // be declared with another.
                if !spec.behaviours.contains(behaviour) {
                    return Err(TargetError::Other(format!(
                        "{} cannot express the rotation-function behaviour {} (of {arn})",
                        spec.label(),
                        behaviour.name()
                    )));
                }
                if self.is_provided(arn) {
                    continue;
                }
                spec.hooks.provide_function(Function { server: &self.server, arn, behaviour: *behaviour }).await?;
                if let Ok(mut provided) = self.provided.lock() {
                    provided.insert(arn.clone());
                }
            }
            Ok(())
        })
    }

    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed> {
        self.inner.send(request)
    }

    fn cleanup<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Vec<String>> {
        self.inner.cleanup(names)
    }

    fn list_prefixed<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Option<Result<Vec<String>, String>>> {
        self.inner.list_prefixed(prefix)
    }

    fn late_arrival_window(&self) -> Duration {
        self.inner.late_arrival_window()
    }
}
