//! The embedded moto target: provisions a pinned moto (`moto[server]==5.2.5`) into a virtual
//! environment in the user's cache, runs `moto_server` on a free loopback port, and drives it
//! through [`EndpointTarget`].
//!
//! [`MotoServer`] owns the moto process: it is killed when the server is dropped (also on panic,
//! through `kill_on_drop`) or shut down. [`MotoTarget`] keeps the server alive as long as the
//! target. Provisioning is guarded by a lock file, so several processes (or parallel tests) that
//! start moto at once build the virtual environment only once.

use super::endpoint::{EndpointConfig, EndpointTarget};
use super::{BoxFuture, Capabilities, Observed, Target, TargetError};
use sm_model::{FunctionBehaviour, Request};
use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The moto release this suite is tested against.
pub const MOTO_VERSION: &str = "5.2.5";

/// The rotation-function behaviours moto can express: without Docker it runs no function, and
/// an ARN its Lambda backend does not know is the not-invocable case.
pub const BEHAVIOURS: &[FunctionBehaviour] = &[FunctionBehaviour::NotInvocable];

/// The pip requirement that installs it.
const REQUIREMENT: &str = "moto[server]==5.2.5";

/// File written into the virtual environment once provisioning succeeded.
const MARKER: &str = ".smconform-ok";

/// How long to wait for another process that is provisioning the same environment.
const LOCK_WAIT: Duration = Duration::from_secs(20 * 60);

/// A lock file older than this is taken to be left over from a crashed process.
const LOCK_STALE: Duration = Duration::from_secs(30 * 60);

/// How many lines of moto's output [`MotoServer`] keeps for error reports.
const LOG_LINES: usize = 200;

/// Serialises provisioning inside one process (the lock file does it across processes).
static PROVISION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The cache folder: `$SMCONFORM_CACHE`, else `$XDG_CACHE_HOME/smconform`, else
/// `$HOME/.cache/smconform`.
pub fn cache_dir() -> Result<PathBuf, TargetError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("SMCONFORM_CACHE") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(dir.join("smconform"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home.join(".cache").join("smconform"));
    }
    Err(TargetError::Other("cannot find a cache folder for moto: set SMCONFORM_CACHE, XDG_CACHE_HOME or HOME".into()))
}

/// The virtual environment for [`MOTO_VERSION`] inside a cache folder.
pub fn venv_dir(cache: &Path) -> PathBuf {
    cache.join(format!("moto-venv-{MOTO_VERSION}"))
}

fn moto_server_bin(venv: &Path) -> PathBuf {
    venv.join("bin").join("moto_server")
}

fn is_provisioned(venv: &Path) -> bool {
    moto_server_bin(venv).is_file() && venv.join(MARKER).is_file()
}

fn provision_error(detail: impl Into<String>) -> TargetError {
    TargetError::Provision { what: format!("moto {MOTO_VERSION}"), detail: detail.into() }
}

/// The last `n` lines of a text.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub(crate) fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// Makes sure moto is installed in `venv_dir(cache)` and returns that folder. Reuses a finished
/// environment; otherwise creates it with `python3 -m venv` and pip (which needs network access
/// to PyPI), under a lock file so that concurrent callers wait for one another.
pub async fn provision(cache: &Path) -> Result<PathBuf, TargetError> {
    let venv = venv_dir(cache);
    if is_provisioned(&venv) {
        return Ok(venv);
    }
    let _in_process = PROVISION.lock().await;
    if is_provisioned(&venv) {
        return Ok(venv);
    }
    std::fs::create_dir_all(cache)
        .map_err(|e| provision_error(format!("cannot create cache folder {}: {e}", cache.display())))?;
    let lock_path = cache.join(format!("moto-venv-{MOTO_VERSION}.lock"));
    let what = format!("moto {MOTO_VERSION}");
    let Some(_lock) = LockFile::acquire(&lock_path, || is_provisioned(&venv), &what).await? else {
        // Another process finished provisioning while we waited.
        return Ok(venv);
    };
    if is_provisioned(&venv) {
        return Ok(venv);
    }
    build_venv(&venv).await?;
    Ok(venv)
}

/// Creates (or adopts) the virtual environment. Called with the lock held.
async fn build_venv(venv: &Path) -> Result<(), TargetError> {
    let marker = venv.join(MARKER);
    let write_marker = || {
        std::fs::write(&marker, format!("{REQUIREMENT}\n"))
            .map_err(|e| provision_error(format!("cannot write {}: {e}", marker.display())))
    };

    if venv.exists() {
        // An environment without the marker: installed by hand, or interrupted. Adopt it if moto
        // imports at the pinned version, otherwise start again.
        if moto_server_bin(venv).is_file() && installed_version(venv).await.as_deref() == Some(MOTO_VERSION) {
            return write_marker();
        }
        std::fs::remove_dir_all(venv)
            .map_err(|e| provision_error(format!("cannot remove incomplete {}: {e}", venv.display())))?;
    }

    match Command::new("python3").arg("--version").output().await {
        Ok(out) if out.status.success() => {}
        Ok(out) => return Err(TargetError::NoPython(format!("`python3 --version` failed: {}", tail(&output_text(&out), 5)))),
        Err(e) => {
            return Err(TargetError::NoPython(format!(
                "cannot run python3 ({e}); install python3 and python3-venv (Debian/Ubuntu: apt-get install python3 python3-venv)"
            )))
        }
    }

    let out = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| provision_error(format!("cannot run python3 -m venv: {e}")))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(venv);
        return Err(provision_error(format!(
            "`python3 -m venv {}` failed (is python3-venv installed?):\n{}",
            venv.display(),
            tail(&output_text(&out), 20)
        )));
    }

    let pip = venv.join("bin").join("pip");
    let out = Command::new(&pip)
        .args(["install", "--quiet", "--disable-pip-version-check", "--no-input", REQUIREMENT])
        .env("PIP_NO_INPUT", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| provision_error(format!("cannot run {}: {e}", pip.display())))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(venv);
        return Err(provision_error(format!(
            "`pip install '{REQUIREMENT}'` failed:\n{}",
            tail(&output_text(&out), 20)
        )));
    }
    if !moto_server_bin(venv).is_file() {
        return Err(provision_error(format!("pip finished but {} is missing", moto_server_bin(venv).display())));
    }
    write_marker()
}

/// The moto version importable in a virtual environment (with its server dependencies).
async fn installed_version(venv: &Path) -> Option<String> {
    let out = Command::new(venv.join("bin").join("python"))
        .args(["-c", "import sys, moto, moto.server, moto.secretsmanager; sys.stdout.write(moto.__version__)"])
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A lock file created with `create_new`, guarding the provisioning of one virtual environment
/// across processes (moto's and LocalStack's); removed on drop.
pub(crate) struct LockFile {
    path: PathBuf,
}

impl LockFile {
    /// Takes the lock, waiting for another holder. `Ok(None)`: while waiting, the environment
    /// became `ready`, so there is nothing left to do. `what` names it in errors.
    pub(crate) async fn acquire(
        path: &Path,
        ready: impl Fn() -> bool,
        what: &str,
    ) -> Result<Option<LockFile>, TargetError> {
        let error = |detail: String| TargetError::Provision { what: what.to_string(), detail };
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    // The pid is only informative (for stale-lock detection); a failed write is harmless.
                    let _ = writeln!(file, "{}", std::process::id());
                    return Ok(Some(LockFile { path: path.to_path_buf() }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if ready() {
                        return Ok(None);
                    }
                    if lock_is_stale(path) {
                        let _ = std::fs::remove_file(path);
                        continue;
                    }
                    if Instant::now() >= deadline {
                        return Err(error(format!(
                            "timed out waiting for another process to provision it (lock file {}; remove it if no smconform is running)",
                            path.display()
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(error(format!("cannot create lock file {}: {e}", path.display()))),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A lock is stale when its holder is gone (its pid has no `/proc` entry, where `/proc` exists)
/// or when it is older than [`LOCK_STALE`].
fn lock_is_stale(path: &Path) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        if let Some(pid) = std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse::<u32>().ok()) {
            if !proc.join(pid.to_string()).exists() {
                return true;
            }
        }
    }
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > LOCK_STALE)
}

/// Options for starting moto.
#[derive(Clone, Debug)]
pub struct MotoOptions {
    /// Cache folder holding the virtual environment; `None` means [`cache_dir`].
    pub cache: Option<PathBuf>,
    /// How long moto may take to answer after it was started.
    pub ready_timeout: Duration,
    /// Limit on one request sent through the target.
    pub operation_timeout: Duration,
    /// Also append moto's output to this file (it is always kept in memory, last lines only).
    pub log_file: Option<PathBuf>,
}

impl Default for MotoOptions {
    fn default() -> Self {
        MotoOptions {
            cache: None,
            ready_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(30),
            log_file: None,
        }
    }
}

/// Moto's recent output, shared with the tasks that read its pipes.
type LogBuffer = Arc<Mutex<VecDeque<String>>>;

/// A running `moto_server` on a loopback port.
#[derive(Debug)]
pub struct MotoServer {
    child: Option<Child>,
    port: u16,
    endpoint_url: String,
    log: LogBuffer,
}

impl MotoServer {
    /// Provisions moto if needed and starts it on a free loopback port; returns once it answers.
    pub async fn start(options: &MotoOptions) -> Result<MotoServer, TargetError> {
        let cache = match &options.cache {
            Some(dir) => dir.clone(),
            None => cache_dir()?,
        };
        let venv = provision(&cache).await?;
        Self::start_in(&venv, options).await
    }

    /// Starts moto from an already provisioned virtual environment.
    pub async fn start_in(venv: &Path, options: &MotoOptions) -> Result<MotoServer, TargetError> {
        let port =
            free_port().map_err(|e| TargetError::Other(format!("cannot find a free loopback port for moto: {e}")))?;
        let endpoint_url = format!("http://127.0.0.1:{port}");
        let bin = moto_server_bin(venv);
        let mut child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| provision_error(format!("cannot start {}: {e}", bin.display())))?;

        let log: LogBuffer = Arc::new(Mutex::new(VecDeque::new()));
        let file = match &options.log_file {
            Some(path) => Some(Arc::new(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| TargetError::Other(format!("cannot open moto log {}: {e}", path.display())))?,
            ))),
            None => None,
        };
        let sink = LogSink { lines: log.clone(), file };
        let follow = |result: std::io::Result<()>| {
            result.map_err(|e| TargetError::Other(format!("cannot read moto's output: {e}")))
        };
        if let Some(out) = child.stdout.take() {
            follow(sink.follow(out))?;
        }
        if let Some(err) = child.stderr.take() {
            follow(sink.follow(err))?;
        }

        let mut server = MotoServer { child: Some(child), port, endpoint_url, log };
        server.wait_ready(options.ready_timeout).await?;
        // Makes Lambda invocation a no-op instead of an attempt to reach Docker. Harmless if it
        // fails: rotation functions are never created on this target.
        let _ =
            http_post(port, "/moto-api/config", r#"{"lambda": {"use_docker": false}}"#, Duration::from_secs(5)).await;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), TargetError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        // Give the pipe readers a moment to collect the last words.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Err(provision_error(format!(
                            "moto_server exited during start-up ({status}):\n{}",
                            self.log_tail(20)
                        )));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(TargetError::Other(format!("cannot check on moto_server: {e}"))),
                }
            }
            let last_error = match http_post(self.port, "/", "{}", Duration::from_secs(2)).await {
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(TargetError::Unreachable {
                    endpoint: self.endpoint_url.clone(),
                    detail: format!(
                        "moto did not answer within {timeout:?} (last error: {last_error}); its output:\n{}",
                        self.log_tail(20)
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// The loopback port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The last `n` lines moto printed (its request log and any Python tracebacks).
    pub fn log_tail(&self, n: usize) -> String {
        match self.log.lock() {
            Ok(log) => {
                let skip = log.len().saturating_sub(n);
                log.iter().skip(skip).cloned().collect::<Vec<_>>().join("\n")
            }
            Err(_) => String::new(),
        }
    }

    /// Forgets every resource in this moto (`POST /moto-api/reset`).
    pub async fn reset(&self) -> Result<(), TargetError> {
        match http_post(self.port, "/moto-api/reset", "", Duration::from_secs(10)).await {
            Ok(status) if (200..300).contains(&status) => Ok(()),
            Ok(status) => Err(TargetError::Other(format!("moto reset answered HTTP {status}"))),
            Err(e) => Err(TargetError::Unreachable { endpoint: self.endpoint_url.clone(), detail: e.to_string() }),
        }
    }

    /// Stops moto and waits for the process to end.
    pub async fn shutdown(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Where moto's output goes: the last [`LOG_LINES`] lines in memory, and optionally a file.
#[derive(Clone)]
struct LogSink {
    lines: LogBuffer,
    file: Option<Arc<Mutex<std::fs::File>>>,
}

impl LogSink {
    fn record(&self, raw: &[u8]) {
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(file) = &self.file {
            if let Ok(mut f) = file.lock() {
                let _ = writeln!(f, "{line}");
            }
        }
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() >= LOG_LINES {
                lines.pop_front();
            }
            lines.push_back(line.to_string());
        }
    }

    /// Reads a pipe to its end on a thread of its own, so that moto never blocks on a full pipe,
    /// whatever happens to the async runtime that started it.
    #[cfg(unix)]
    fn follow<P>(&self, pipe: P) -> std::io::Result<()>
    where
        P: IntoBlockingFd,
    {
        use std::io::BufRead as _;
        let mut reader = std::io::BufReader::new(std::fs::File::from(pipe.into_blocking_fd()?));
        let sink = self.clone();
        std::thread::Builder::new().name("moto-output".into()).spawn(move || {
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => sink.record(&line),
                }
            }
        })?;
        Ok(())
    }

    /// Reads a pipe to its end on a task of the current runtime.
    #[cfg(not(unix))]
    fn follow<P>(&self, pipe: P) -> std::io::Result<()>
    where
        P: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        use tokio::io::AsyncBufReadExt as _;
        let sink = self.clone();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => sink.record(&line),
                }
            }
        });
        Ok(())
    }
}

/// A child's pipe that can become a blocking file descriptor.
#[cfg(unix)]
trait IntoBlockingFd {
    fn into_blocking_fd(self) -> std::io::Result<std::os::fd::OwnedFd>;
}

#[cfg(unix)]
impl IntoBlockingFd for tokio::process::ChildStdout {
    fn into_blocking_fd(self) -> std::io::Result<std::os::fd::OwnedFd> {
        self.into_owned_fd()
    }
}

#[cfg(unix)]
impl IntoBlockingFd for tokio::process::ChildStderr {
    fn into_blocking_fd(self) -> std::io::Result<std::os::fd::OwnedFd> {
        self.into_owned_fd()
    }
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(listener.local_addr()?.port())
}

/// Sends `POST path` with a JSON body to moto over plain HTTP/1.1 and returns the status code.
async fn http_post(port: u16, path: &str, body: &str, timeout: Duration) -> std::io::Result<u16> {
    let exchange = async {
        let mut stream = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        parse_status(&response)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time")))
}

/// The status code of an HTTP/1.x response.
pub(crate) fn parse_status(response: &[u8]) -> Option<u16> {
    let line = response.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

/// moto as a target: the server and an [`EndpointTarget`] pointed at it. Dropping it stops moto.
#[derive(Debug)]
pub struct MotoTarget {
    // Declared first so that the client goes before the server it talks to.
    inner: EndpointTarget,
    server: MotoServer,
}

impl MotoTarget {
    /// Provisions (if needed) and starts moto, and connects a client to it.
    pub async fn start(options: MotoOptions) -> Result<MotoTarget, TargetError> {
        let server = MotoServer::start(&options).await?;
        let mut config = EndpointConfig::new(Some(server.endpoint_url().to_string()));
        config.operation_timeout = options.operation_timeout;
        config.label = format!("moto {MOTO_VERSION}");
        let inner = EndpointTarget::new(config).await?;
        Ok(MotoTarget { inner, server })
    }

    /// The running server.
    pub fn server(&self) -> &MotoServer {
        &self.server
    }

    /// The SDK-backed target talking to the server.
    pub fn endpoint(&self) -> &EndpointTarget {
        &self.inner
    }

    /// Stops moto and waits for it to end.
    pub async fn shutdown(self) {
        let MotoTarget { inner, server } = self;
        drop(inner);
        server.shutdown().await;
    }
}

/// Starts moto with default options: [`MotoTarget::start`].
pub async fn moto_target() -> Result<MotoTarget, TargetError> {
    MotoTarget::start(MotoOptions::default()).await
}

impl Target for MotoTarget {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        // Without Docker moto cannot run a rotation function; an ARN its Lambda backend does not
        // know is the not-invocable case.
        Capabilities { behaviours: BEHAVIOURS.to_vec(), omit_token: false, max_jobs: 4 }
    }

    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        self.inner.prepare(functions)
    }

    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed> {
        self.inner.send(request)
    }

    fn cleanup<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Vec<String>> {
        self.inner.cleanup(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sm_model::request as input;

    fn scratch_dir(tag: &str) -> PathBuf {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("smconform-moto-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 404 NOT FOUND\r\nServer: x\r\n\r\n"), Some(404));
        assert_eq!(parse_status(b"HTTP/1.0 200 OK\r\n"), Some(200));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }

    #[tokio::test]
    async fn lock_file_is_exclusive_and_stale_locks_are_taken_over() {
        let dir = scratch_dir("lock");
        let lock = dir.join("x.lock");
        let venv = dir.join("venv");
        let held = LockFile::acquire(&lock, || is_provisioned(&venv), "moto").await.unwrap().expect("free lock");
        // Held by this (live) process: a second taker waits, and gives up when the environment
        // becomes ready meanwhile.
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("bin").join("moto_server"), "").unwrap();
        std::fs::write(venv.join(MARKER), "").unwrap();
        assert!(LockFile::acquire(&lock, || is_provisioned(&venv), "moto").await.unwrap().is_none());
        drop(held);
        assert!(!lock.exists());
        // A lock whose holder is gone is stale.
        std::fs::write(&lock, "4294967295\n").unwrap();
        assert!(lock_is_stale(&lock) || !Path::new("/proc/self").exists());
        std::fs::remove_file(venv.join(MARKER)).unwrap();
        if Path::new("/proc/self").exists() {
            let taken = LockFile::acquire(&lock, || is_provisioned(&venv), "moto").await.unwrap();
            assert!(taken.is_some());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Starts moto or explains why the test is skipped (no python3 on this machine).
    async fn start_or_skip() -> Option<MotoTarget> {
        match moto_target().await {
            Ok(t) => Some(t),
            Err(TargetError::NoPython(m)) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping the moto test: {m}");
                None
            }
            Err(e) => panic!("moto did not start: {e}"),
        }
    }

    #[tokio::test]
    async fn moto_round_trip() {
        // Two at once: provisioning and ports must not collide.
        let (a, b) = tokio::join!(start_or_skip(), start_or_skip());
        let (Some(target), Some(other)) = (a, b) else {
            return;
        };
        assert_ne!(target.server().port(), other.server().port());
        assert_eq!(target.name(), "moto 5.2.5");
        assert_eq!(target.capabilities().behaviours, vec![FunctionBehaviour::NotInvocable]);
        target.prepare(&BTreeMap::new()).await.unwrap();

        let token = "00000000-0000-4000-8000-000000000001";
        let create = Request::CreateSecret(input::CreateSecret {
            name: "smconform-test-a".into(),
            client_request_token: Some(token.into()),
            secret_string: Some("hello".into()),
            ..Default::default()
        });
        let created = match target.send(&create).await {
            Observed::Ok(v) => v,
            other => panic!("CreateSecret: {other:?}"),
        };
        let arn = created["ARN"].as_str().unwrap_or_default().to_string();
        assert!(
            arn.starts_with("arn:aws:secretsmanager:us-east-1:") && arn.contains(":secret:smconform-test-a-"),
            "{arn}"
        );
        assert_eq!(created["Name"], json!("smconform-test-a"));
        assert_eq!(created["VersionId"], json!(token));

        let get = Request::GetSecretValue(input::GetSecretValue {
            secret_id: "smconform-test-a".into(),
            ..Default::default()
        });
        let got = match target.send(&get).await {
            Observed::Ok(v) => v,
            other => panic!("GetSecretValue: {other:?}"),
        };
        assert_eq!(got["ARN"], json!(arn));
        assert_eq!(got["Name"], json!("smconform-test-a"));
        assert_eq!(got["VersionId"], json!(token));
        assert_eq!(got["SecretString"], json!("hello"));
        assert_eq!(got["VersionStages"], json!(["AWSCURRENT"]));
        assert!(got.get("SecretBinary").is_none());
        assert!(got["CreatedDate"].is_number());

        let missing = Request::GetSecretValue(input::GetSecretValue {
            secret_id: "smconform-test-missing".into(),
            ..Default::default()
        });
        match target.send(&missing).await {
            Observed::Error { code, status, .. } => {
                assert_eq!(code, "ResourceNotFoundException");
                assert!(status.is_some_and(|s| (400..500).contains(&s)), "{status:?}");
            }
            other => panic!("missing secret: {other:?}"),
        }
        // The other instance is a separate moto: it has no such secret.
        assert!(matches!(other.send(&get).await, Observed::Error { .. }));

        assert!(target.cleanup(&["smconform-test-a".into(), "smconform-test-missing".into()]).await.is_empty());
        assert!(matches!(target.send(&get).await, Observed::Error { .. }));

        // moto's request log is captured (the readiness probe at least).
        let mut logged = false;
        for _ in 0..20 {
            logged = target.server().log_tail(LOG_LINES).contains("POST /");
            if logged {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(logged, "{}", target.server().log_tail(20));

        let url = target.server().endpoint_url().to_string();
        target.shutdown().await;
        drop(other);
        // Stopped means stopped: nothing answers on that port any more.
        let port = url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
        assert!(http_post(port, "/", "{}", Duration::from_secs(2)).await.is_err());
    }

    /// Builds a fresh environment in a scratch cache (needs python3 and PyPI; takes minutes).
    #[tokio::test]
    #[ignore = "downloads moto from PyPI"]
    async fn provision_from_scratch() {
        let cache = scratch_dir("provision");
        let (a, b) = tokio::join!(provision(&cache), provision(&cache));
        let venv = a.unwrap();
        assert_eq!(b.unwrap(), venv);
        assert!(is_provisioned(&venv));
        assert_eq!(installed_version(&venv).await.as_deref(), Some(MOTO_VERSION));
        let server =
            MotoServer::start(&MotoOptions { cache: Some(cache.clone()), ..Default::default() }).await.unwrap();
        server.reset().await.unwrap();
        server.shutdown().await;
        let _ = std::fs::remove_dir_all(&cache);
    }
}
