//! One instance of each managed emulator per process, started on first use: what test binaries
//! use, so that a binary with a hundred tests against moto starts moto once.
//!
//! The instance lives in a static with a runtime of its own (two worker threads), so that its
//! connections outlive any one test's runtime. Tests run their futures with
//! [`Shared::block_on`] (from a plain `#[test]`). Statics are not dropped at exit: the emulator
//! is stopped by its watchdog when the process ends (see [`super::process`]), and its folder is
//! removed by the next start.
//!
//! Sharing is safe because every case and every replayed entry uses its own name prefix.

use super::managed::{ManagedOptions, ManagedTarget};
use super::EmulatorSpec;
use crate::target::{Target, TargetError};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

/// A started shared instance.
pub struct Shared {
    runtime: tokio::runtime::Runtime,
    target: Arc<ManagedTarget>,
}

impl Shared {
    /// The target.
    pub fn target(&self) -> &Arc<ManagedTarget> {
        &self.target
    }

    /// The target as a trait object.
    pub fn dyn_target(&self) -> Arc<dyn Target> {
        self.target.clone()
    }

    /// Runs a future to completion on the calling thread, within the instance's runtime (tasks
    /// it spawns, such as connections, go to that runtime). Many threads may call it at once.
    /// Panics when called from async code.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.handle().block_on(future)
    }
}

type Cell = &'static OnceLock<Result<&'static Shared, TargetError>>;

/// The shared instance of `spec`, started (and provisioned) on first call; callers that come
/// meanwhile wait for it. A failed start is remembered: every caller gets the same error.
pub fn shared(spec: &'static EmulatorSpec) -> Result<&'static Shared, TargetError> {
    static CELLS: OnceLock<Mutex<BTreeMap<&'static str, Cell>>> = OnceLock::new();
    let cell: Cell = {
        let mut cells = CELLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(spec.name).or_insert_with(|| Box::leak(Box::new(OnceLock::new())))
    };
    match cell.get_or_init(|| start(spec)) {
        Ok(shared) => Ok(shared),
        Err(TargetError::NoPython(m)) => Err(TargetError::NoPython(m.clone())),
        Err(e) => Err(TargetError::Other(e.to_string())),
    }
}

/// Starts an instance on a thread of its own (the caller may be inside another runtime).
fn start(spec: &'static EmulatorSpec) -> Result<&'static Shared, TargetError> {
    let started = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(format!("shared-{}", spec.name))
            .enable_all()
            .build()
            .map_err(|e| TargetError::Other(format!("cannot start a runtime for {}: {e}", spec.label())))?;
        let target = runtime.block_on(ManagedTarget::start(spec, &ManagedOptions::default()))?;
        Ok::<_, TargetError>(Shared { runtime, target: Arc::new(target) })
    })
    .join()
    .map_err(|_| TargetError::Other(format!("starting {} panicked", spec.label())))??;
    Ok(Box::leak(Box::new(started)))
}
