//! One running emulator process, and every way it stops.
//!
//! [`EmulatorServer::start`] provisions the emulator if needed and starts it on a free loopback
//! port below 32768 (above that, an outgoing connection may take the port between choosing it and
//! binding it), in a process group of its own and in a folder of its own under the cache, with its
//! output appended to a log file. It returns once the readiness probe passes.
//!
//! It stops, with everything in its process group:
//! - on [`EmulatorServer::shutdown`]: SIGTERM, then SIGKILL after a grace period;
//! - on drop (also while unwinding from a panic): SIGKILL at once, then the process is reaped;
//! - when the harness dies without either (SIGKILL, abort, or a test binary exiting with the
//!   instance in a static): a watchdog `sh` in the same group holds a pipe whose only write end is
//!   in this process; when the pipe closes it kills the group.
//!
//! An emulator in its own process group also does not receive the terminal's Ctrl-C: the harness
//! gets it, finishes its clean-up, and then stops the emulator itself.

use super::provision::{cache_dir, provision, tail};
use super::{ready, EmulatorSpec};
use crate::target::TargetError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long [`EmulatorServer::shutdown`] waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How many lines of the log go into error reports.
const REPORT_LINES: usize = 30;

/// Ports are chosen in `PORT_BASE..PORT_BASE + PORT_SPAN` (below Linux's ephemeral range).
const PORT_BASE: u32 = 20_000;
const PORT_SPAN: u32 = 12_000;

/// Options for starting an emulator.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Cache folder holding the virtual environments and the instances' folders; `None` means
    /// [`cache_dir`].
    pub cache: Option<PathBuf>,
    /// Append the emulator's output to this file (kept); without it the output goes to the
    /// instance's folder and is removed with it.
    pub log_file: Option<PathBuf>,
    /// Overrides the spec's readiness time-out.
    pub ready_timeout: Option<Duration>,
}

/// A running emulator on a loopback port.
#[derive(Debug)]
pub struct EmulatorServer {
    spec: &'static EmulatorSpec,
    child: Option<Child>,
    /// `sh` in the emulator's process group, reading a pipe from this process; it kills the
    /// group when the pipe closes. Kept (with its stdin) as long as the server.
    watchdog: Option<Child>,
    /// The emulator's process group (its pid).
    pgid: Option<u32>,
    port: u16,
    endpoint_url: String,
    /// This instance's folder: `fs/`, `tmp/` and (without a log file option) the log.
    instance_dir: PathBuf,
    log_path: PathBuf,
}

impl EmulatorServer {
    /// Provisions the emulator if needed and starts it; returns once it is ready.
    pub async fn start(spec: &'static EmulatorSpec, options: &StartOptions) -> Result<EmulatorServer, TargetError> {
        let cache = match &options.cache {
            Some(dir) => dir.clone(),
            None => cache_dir()?,
        };
        let venv = provision(spec, &cache).await?;
        Self::start_in(spec, &venv, &cache, options).await
    }

    /// Starts the emulator from an already provisioned virtual environment, with its instance
    /// folder under `cache`.
    pub async fn start_in(
        spec: &'static EmulatorSpec,
        venv: &Path,
        cache: &Path,
        options: &StartOptions,
    ) -> Result<EmulatorServer, TargetError> {
        let run_dir = cache.join(format!("{}-run", spec.name));
        remove_stale_instances(run_dir.clone()).await;
        let port = free_port().await.map_err(|e| other(spec, format!("cannot find a free loopback port: {e}")))?;
        let instance_dir = run_dir.join(format!("{}-{port}", std::process::id()));
        let log_path = options.log_file.clone().unwrap_or_else(|| instance_dir.join(format!("{}.log", spec.name)));
        let (log, log_err) = match open_instance(&instance_dir, &log_path).await {
            Ok(files) => files,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&instance_dir).await;
                return Err(other(spec, e));
            }
        };

        let fill =
            |text: &str| text.replace("{port}", &port.to_string()).replace("{dir}", &instance_dir.to_string_lossy());
        let program = venv.join("bin").join(spec.start.program);
        let mut command = Command::new(&program);
        command
            .args(spec.start.args.iter().map(|a| fill(a)))
            .envs(spec.start.env.iter().map(|(k, v)| (*k, fill(v))))
            .current_dir(&instance_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&instance_dir).await;
                return Err(TargetError::Provision {
                    what: spec.label(),
                    detail: format!("cannot start {}: {e}", program.display()),
                });
            }
        };
        let pgid = child.id();
        let endpoint_url = format!("http://127.0.0.1:{port}");
        let mut server = EmulatorServer {
            spec,
            child: Some(child),
            watchdog: None,
            pgid,
            port,
            endpoint_url,
            instance_dir,
            log_path,
        };
        // From here on, dropping `server` stops the emulator.
        #[cfg(unix)]
        if let Some(pgid) = pgid {
            server.watchdog = Some(spawn_watchdog(spec, pgid)?);
        }
        server.wait_ready(options.ready_timeout.unwrap_or(spec.ready.timeout)).await?;
        spec.hooks.after_ready(&server).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), TargetError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        return Err(TargetError::Provision {
                            what: self.spec.label(),
                            detail: format!(
                                "it exited during start-up ({status}); its output:\n{}",
                                self.log_tail(REPORT_LINES).await
                            ),
                        });
                    }
                    Ok(None) => {}
                    Err(e) => return Err(other(self.spec, format!("cannot check on the process: {e}"))),
                }
            }
            let last = match ready::probe(&self.spec.ready, self.port).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(TargetError::Unreachable {
                    endpoint: self.endpoint_url.clone(),
                    detail: format!(
                        "{} was not ready within {timeout:?} (last: {last}); its output:\n{}",
                        self.spec.label(),
                        self.log_tail(REPORT_LINES).await
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The emulator this server runs.
    pub fn spec(&self) -> &'static EmulatorSpec {
        self.spec
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id, which is also its process group id (`None` once stopped).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and(self.pgid)
    }

    /// The file its output goes to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last `n` lines it printed (its request log and any tracebacks).
    pub async fn log_tail(&self, n: usize) -> String {
        match tokio::fs::read(&self.log_path).await {
            Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), n),
            Err(e) => format!("(cannot read {}: {e})", self.log_path.display()),
        }
    }

    /// Stops it (SIGTERM to its process group, SIGKILL after a grace period), waits for it to
    /// end, and removes its folder.
    pub async fn shutdown(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pgid) = self.pgid {
                signal_group(pgid, Signal::Term);
                let _ = tokio::time::timeout(STOP_GRACE, child.wait()).await;
                signal_group(pgid, Signal::Kill);
            }
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), watchdog.wait()).await;
        }
        let _ = tokio::fs::remove_dir_all(&self.instance_dir).await;
    }
}

impl Drop for EmulatorServer {
    /// SIGKILL to the whole group, then a short reap (a killed process ends within
    /// milliseconds), so that nothing of it is left when the drop returns. The folder is removed
    /// on a thread of its own.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pgid) = self.pgid {
            signal_group(pgid, Signal::Kill);
        }
        let _ = child.start_kill();
        reap(&mut child);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.start_kill();
            reap(&mut watchdog);
        }
        let dir = self.instance_dir.clone();
        let _ = std::thread::Builder::new().name("emulator-cleanup".into()).spawn(move || {
            let _ = std::fs::remove_dir_all(dir);
        });
    }
}

/// Waits up to a second for a killed child to end, and reaps it.
fn reap(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while let Ok(None) = child.try_wait() {
        if Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn other(spec: &EmulatorSpec, detail: impl std::fmt::Display) -> TargetError {
    TargetError::Other(format!("{}: {detail}", spec.label()))
}

/// Creates the instance folder (with `fs/` and `tmp/`) and opens the log twice (stdout, stderr).
async fn open_instance(dir: &Path, log_path: &Path) -> Result<(std::fs::File, std::fs::File), String> {
    for sub in ["fs", "tmp"] {
        let d = dir.join(sub);
        tokio::fs::create_dir_all(&d).await.map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .await
        .map_err(|e| format!("cannot open the log {}: {e}", log_path.display()))?
        .into_std()
        .await;
    let log_err = log.try_clone().map_err(|e| format!("cannot open the log {}: {e}", log_path.display()))?;
    Ok((log, log_err))
}

/// A loopback port that was free a moment ago, below the ephemeral range. Successive calls in
/// one process start from different ports, so that instances started at once do not collide.
pub async fn free_port() -> std::io::Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ std::process::id().wrapping_mul(2_654_435_761))
        .unwrap_or(0);
    let _ = NEXT.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
    let mut last = None;
    for _ in 0..64 {
        let n = NEXT.fetch_add(7919, Ordering::Relaxed);
        let port = (PORT_BASE + n % PORT_SPAN) as u16;
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return Ok(listener.local_addr()?.port()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

/// Sends a signal to every process in group `pgid`; errors (the group is gone) are ignored.
fn signal_group(pgid: u32, signal: Signal) {
    #[cfg(unix)]
    {
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        if let Ok(pgid) = libc::pid_t::try_from(pgid) {
            // SAFETY: killpg takes plain integers and touches no memory of this process.
            unsafe {
                libc::killpg(pgid, signal);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (pgid, signal);
}

/// Starts `sh` in process group `pgid`, reading a pipe whose write end only this process holds
/// (Rust opens pipes close-on-exec). When the pipe closes, because the server was dropped or the
/// harness died, the shell kills its whole process group.
#[cfg(unix)]
fn spawn_watchdog(spec: &EmulatorSpec, pgid: u32) -> Result<Child, TargetError> {
    let pgid = i32::try_from(pgid).map_err(|_| other(spec, format!("process id {pgid} out of range")))?;
    Command::new("sh")
        .args(["-c", "read -r _; kill -s KILL 0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(pgid)
        .spawn()
        .map_err(|e| other(spec, format!("cannot start the watchdog: {e}")))
}

/// Removes the folders of instances whose process (named by the folder's `<pid>-<port>`) is
/// gone, where `/proc` tells. Runs on a blocking thread.
async fn remove_stale_instances(run_dir: PathBuf) {
    let _ = tokio::task::spawn_blocking(move || {
        let proc = Path::new("/proc");
        if !proc.join("self").exists() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&run_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ports_are_loopback_below_the_ephemeral_range_and_differ() {
        let a = free_port().await.unwrap();
        let b = free_port().await.unwrap();
        assert_ne!(a, b);
        for p in [a, b] {
            assert!((PORT_BASE as u16..(PORT_BASE + PORT_SPAN) as u16).contains(&p), "{p}");
        }
    }

    #[tokio::test]
    async fn stale_instance_folders_are_removed() {
        let dir = std::env::temp_dir().join(format!("smconform-stale-test-{}", std::process::id()));
        let ours = dir.join(format!("{}-1", std::process::id()));
        let gone = dir.join("4294967295-2");
        let other = dir.join("notes");
        for d in [&ours, &gone, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        remove_stale_instances(dir.clone()).await;
        assert!(ours.exists() && other.exists());
        assert_eq!(gone.exists(), !Path::new("/proc/self").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
