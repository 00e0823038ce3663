//! The asynchronous front of the service, shared by the HTTP listener and the in-process SDK
//! client: it decodes a request (target header, credential scope, JSON body), runs it on the
//! [`Core`] under one lock on a blocking thread (the journal's fsync never blocks an async
//! thread), starts the rotation a URL function must run, and encodes the answer.

use crate::config::ServerConfig;
use crate::core::{Call, Core, RotationJob};
use crate::journal::JournalError;
use crate::rotation::{self, Invoker};
use crate::wire::{self, Answer, WireError};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A running service: cheap to clone, every clone reaches the same state.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    core: Mutex<Core>,
    invoker: Invoker,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

/// Wall-clock time in epoch milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Service {
    /// A service for `config`, its journal (if any) replayed. Reads the journal synchronously.
    pub fn new(config: &ServerConfig) -> Result<Service, JournalError> {
        let core = Core::new(config)?;
        Ok(Service {
            inner: Arc::new(Inner { core: Mutex::new(core), invoker: Invoker::new(config.function_timeout) }),
        })
    }

    /// Runs `f` on the core, under the lock, on a blocking thread.
    async fn with_core<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> T + Send + 'static,
    ) -> Result<T, WireError> {
        let inner = self.inner.clone();
        let joined = tokio::task::spawn_blocking(move || match inner.core.lock() {
            Ok(mut core) => Ok(f(&mut core)),
            Err(_) => Err(WireError::internal("the service state is unusable after an earlier failure")),
        })
        .await;
        joined.unwrap_or_else(|e| Err(WireError::internal(format!("request task failed: {e}"))))
    }

    /// Serves one API request: `target` is the `X-Amz-Target` header, `authorization` the
    /// `Authorization` header, `body` the request body.
    pub async fn handle(&self, target: Option<&str>, authorization: Option<&str>, body: &[u8]) -> Answer {
        let Some(op) = target.and_then(wire::operation_from_target) else {
            return WireError::unknown_operation().into();
        };
        let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            match serde_json::from_slice(body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return WireError::serialization("The request body must be a JSON object.").into(),
                Err(e) => return WireError::serialization(format!("The request body is not valid JSON: {e}")).into(),
            }
        };
        let call = Call {
            op: op.to_string(),
            input,
            region: authorization.and_then(wire::region_from_authorization),
            now_ms: now_ms(),
        };
        let reply = match self.with_core(move |core| core.call(call)).await {
            Ok(r) => r,
            Err(e) => return e.into(),
        };
        if let Some(job) = reply.rotation {
            self.spawn_rotation(job);
        }
        match reply.answer {
            Ok(v) => Answer::ok(&v),
            Err(e) => e.into(),
        }
    }

    fn spawn_rotation(&self, job: RotationJob) {
        let service = self.clone();
        tokio::spawn(async move { rotation::run(service, job).await });
    }

    /// The invoker of URL rotation functions.
    pub(crate) fn invoker(&self) -> &Invoker {
        &self.inner.invoker
    }

    /// The service's clean-up after a URL function's four steps succeeded.
    pub(crate) async fn rotation_finished(&self, job: RotationJob) -> Result<bool, String> {
        let now = now_ms();
        match self.with_core(move |core| core.rotation_finished(&job, now)).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.message.unwrap_or_default()),
        }
    }

    /// Forgets every secret (and empties the journal).
    pub async fn reset(&self) -> Result<(), WireError> {
        match self.with_core(|core| core.reset()).await? {
            Ok(()) => Ok(()),
            Err(e) => Err(WireError::internal(e.to_string())),
        }
    }

    /// `{"status": "ok", "secrets": {region: count}}`.
    pub async fn health(&self) -> Result<Value, WireError> {
        let counts = self.with_core(|core| core.secret_counts()).await?;
        Ok(json!({ "status": "ok", "secrets": counts }))
    }
}
