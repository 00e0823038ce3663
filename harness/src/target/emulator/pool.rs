//! A pool of managed emulators, one per job: the run's job `j` sends every request of its cases
//! (and of the shrinking it does) to instance `j`, each instance on its own loopback port, so a
//! run against a single-threaded emulator such as moto scales with the jobs. Every instance is
//! a [`ManagedTarget`], so each stops on every exit path (shutdown, drop, unwinding, and through
//! its watchdog when the harness dies); a pool that fails to start stops the instances it had.
//!
//! [`fitting_jobs`] is the default job count for an emulator: the cores, limited by the memory
//! available for one instance per job.

use super::managed::{ManagedOptions, ManagedTarget};
use super::EmulatorSpec;
use crate::target::{BoxFuture, Capabilities, Observed, Target, TargetError};
use sm_model::{FunctionBehaviour, Request};
use std::collections::BTreeMap;

/// Several instances of one emulator.
#[derive(Debug)]
pub struct PoolTarget {
    instances: Vec<ManagedTarget>,
}

impl PoolTarget {
    /// Starts `size` instances (at least one) at once; on any failure the ones started are
    /// stopped and the first error is returned.
    pub async fn start(
        spec: &'static EmulatorSpec,
        options: &ManagedOptions,
        size: usize,
    ) -> Result<PoolTarget, TargetError> {
        let starts = (0..size.max(1)).map(|_| ManagedTarget::start(spec, options));
        let results = futures_util::future::join_all(starts).await;
        let mut instances = Vec::new();
        let mut error = None;
        for r in results {
            match r {
                Ok(t) => instances.push(t),
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = error {
            for t in instances {
                t.shutdown().await;
            }
            return Err(e);
        }
        Ok(PoolTarget { instances })
    }

    /// The instances, in job order.
    pub fn instances(&self) -> &[ManagedTarget] {
        &self.instances
    }

    /// Stops every instance and waits for them to end.
    pub async fn shutdown(self) {
        for t in self.instances {
            t.shutdown().await;
        }
    }

    fn first(&self) -> &ManagedTarget {
        &self.instances[0]
    }
}

impl Target for PoolTarget {
    fn name(&self) -> String {
        self.first().name()
    }

    /// One job per instance.
    fn capabilities(&self) -> Capabilities {
        Capabilities { max_jobs: self.instances.len(), ..self.first().capabilities() }
    }

    /// Provides the functions on every instance.
    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            for t in &self.instances {
                t.prepare(functions).await?;
            }
            Ok(())
        })
    }

    /// Requests not sent by a job (a baseline's replays, a preflight) go to the first instance.
    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed> {
        self.first().send(request)
    }

    fn for_job(&self, job: usize) -> Option<&dyn Target> {
        Some(&self.instances[job % self.instances.len()])
    }

    /// A name lives on whichever instance created it: every instance deletes every name
    /// (a missing one is not a failure), and a name is left over when any instance failed.
    fn cleanup<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            let mut failed = Vec::new();
            for t in &self.instances {
                for name in t.cleanup(names).await {
                    if !failed.contains(&name) {
                        failed.push(name);
                    }
                }
            }
            failed
        })
    }
}

/// The default job count against `spec`: one per core, but no more instances than the memory
/// available holds (at the spec's [`EmulatorSpec::instance_memory_mb`] each), and at least one.
pub fn fitting_jobs(spec: &EmulatorSpec) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let by_memory = available_memory_mb().map(|mb| (mb / spec.instance_memory_mb.max(1)) as usize);
    fit(cores, by_memory)
}

fn fit(cores: usize, by_memory: Option<usize>) -> usize {
    cores.min(by_memory.unwrap_or(usize::MAX)).max(1)
}

/// `MemAvailable` from `/proc/meminfo`, in MiB (Linux); `None` elsewhere.
fn available_memory_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_fits_cores_and_memory() {
        assert_eq!(fit(8, Some(3)), 3);
        assert_eq!(fit(2, Some(100)), 2);
        assert_eq!(fit(4, None), 4);
        assert_eq!(fit(4, Some(0)), 1);
        assert!(fitting_jobs(&crate::target::moto::SPEC) >= 1);
    }
}
