//! What a run tells while it goes, and who listens. The runner never prints or writes a file:
//! it emits [`RunEvent`]s to a [`Sink`], and sinks write the reproductions ([`TraceFiles`]),
//! show progress (the command line's progress bar) or collect whatever they need.

use crate::runner::{FaultRecord, RunReport};
use crate::trace::Trace;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One thing that happened in a run.
#[derive(Clone, Copy, Debug)]
pub enum RunEvent<'a> {
    /// A generated case is about to run.
    CaseStarted { case: usize },
    /// One request of a case was answered (`step` is 1-based).
    Step { case: usize, step: usize, op: &'a str },
    /// A case ended (after its clean-up).
    CaseFinished { case: usize },
    /// A case showed a divergence no earlier case of the run showed (it is shrunk next).
    Divergence { case: usize, signature: &'a str },
    /// The target failed rather than answered.
    Fault { fault: &'a FaultRecord },
    /// A divergence or a kind of fault was shrunk to its minimal reproduction, which belongs at
    /// `path`.
    Shrunk { signature: &'a str, trace: &'a Trace, path: &'a Path },
    /// The run is over.
    Finished { report: &'a RunReport },
}

/// Receives a run's events. Called from the run's tasks: it must not block for long.
pub trait Sink: Send + Sync {
    fn event(&self, event: &RunEvent<'_>);
}

/// Hands every event to each of several sinks, in order.
#[derive(Clone, Default)]
pub struct Sinks(pub Vec<Arc<dyn Sink>>);

impl Sink for Sinks {
    fn event(&self, event: &RunEvent<'_>) {
        for sink in &self.0 {
            sink.event(event);
        }
    }
}

/// Writes each shrunk reproduction to its path, and keeps what it could not write.
#[derive(Debug, Default)]
pub struct TraceFiles {
    errors: Mutex<Vec<String>>,
}

impl TraceFiles {
    /// The reproductions that could not be written, with why.
    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Sink for TraceFiles {
    /// A reproduction is a few kilobytes, written once per distinct divergence: small enough
    /// to write in place.
    fn event(&self, event: &RunEvent<'_>) {
        if let RunEvent::Shrunk { trace, path, .. } = event {
            if let Err(e) = trace.save(path) {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.push(format!("could not write {}: {e}", path.display()));
                }
            }
        }
    }
}
