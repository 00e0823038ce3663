//! The embedded LocalStack target: provisions a pinned LocalStack community
//! (`localstack-core[runtime]==4.13.1`, installed against that release's own pinned runtime
//! requirements) into a virtual environment in the user's cache, runs it in host mode (no Docker)
//! on a free loopback port, and drives it through [`EndpointTarget`].
//!
//! [`LocalStackServer`] owns the LocalStack process. It runs in a process group of its own, and
//! everything in that group is stopped (SIGTERM, then SIGKILL after a grace period) when the
//! server is shut down or dropped. A small watchdog shell in the same group holds a pipe from this
//! process: if the harness dies without dropping the server (SIGKILL, abort), the pipe closes and
//! the watchdog kills the group, so LocalStack never outlives the harness. Each server gets its own
//! folder under the cache (`FILESYSTEM_ROOT`, `TMPDIR`, its log), removed when it stops.
//!
//! Rotation: LocalStack's RotateSecret asks its Lambda service for the function
//! (`GetFunction`, by the full ARN, so in the ARN's account) and refuses with
//! ResourceNotFoundException when there is none. With a function, it creates the AWSPENDING
//! version without a value, then invokes the function synchronously, before answering; without
//! Docker the invocation always fails, LocalStack swallows the failure, and the rotation ends
//! with the empty AWSPENDING version still in place. That is what AWS does with a function that
//! fails at `createSecret` ([`FunctionBehaviour::FailAt`]`(`[`Step::CreateSecret`]`)`), so
//! [`LocalStackTarget::prepare`] creates a function (in the ARN's account and region) for every
//! ARN with that behaviour, and ARNs that must not be invocable get none.

use super::endpoint::{EndpointConfig, EndpointTarget};
use super::moto::{cache_dir, free_port, output_text, parse_status, tail, LockFile};
use super::{BoxFuture, Capabilities, Observed, Target, TargetError};
use base64::Engine as _;
use serde_json::{json, Value};
use sm_model::{FunctionBehaviour, Request, Step};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The LocalStack release this suite is tested against (the newest that runs on Python 3.11).
pub const LOCALSTACK_VERSION: &str = "4.13.1";

/// The rotation-function behaviours LocalStack can express: a function that exists but whose
/// invocation fails (it can never run without Docker) is `fail-at-createSecret`, and an ARN with
/// no function is `not-invocable`.
pub const BEHAVIOURS: &[FunctionBehaviour] =
    &[FunctionBehaviour::FailAt(Step::CreateSecret), FunctionBehaviour::NotInvocable];

/// The pip requirement that installs LocalStack, against [`CONSTRAINTS`].
const REQUIREMENT: &str = "localstack-core[runtime]==4.13.1";

/// Installed afterwards, without the constraints: the pinned python-dotenv is too old.
const DOTENV_REQUIREMENT: &str = "python-dotenv>=1.2.2";

/// LocalStack 4.13.1's own pinned runtime requirements (a copy of the file beside
/// `emulators.md`), written into the cache folder before pip runs.
const CONSTRAINTS: &str = include_str!("../../data/localstack-4.13.1-constraints.txt");

/// File name of [`CONSTRAINTS`] in the cache folder.
const CONSTRAINTS_FILE: &str = "localstack-4.13.1-constraints.txt";

/// File written into the virtual environment once provisioning succeeded.
const MARKER: &str = ".smconform-ok";

/// Folder of the cache holding one sub-folder per running server.
const RUN_DIR: &str = "localstack-run";

/// The services LocalStack loads (Lambda for rotation functions; IAM and STS because Lambda
/// uses them).
const SERVICES: &str = "secretsmanager,lambda,iam,sts";

/// How long [`LocalStackServer::shutdown`] waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long dropping a [`LocalStackServer`] waits (blocking) after SIGTERM before SIGKILL.
const DROP_GRACE: Duration = Duration::from_secs(2);

/// How many lines of LocalStack's log go into error reports.
const REPORT_LINES: usize = 30;

/// The execution role given to rotation functions (LocalStack only checks its shape).
const FUNCTION_ROLE: &str = "arn:aws:iam::000000000000:role/smconform";

/// The code of every rotation function this target creates. It never runs here (no Docker);
/// should it ever run, it fails at the first step, as the declared behaviour says.
const FUNCTION_CODE: &str = "def handler(event, context):\n    raise RuntimeError(\"smconform: this rotation function fails at \" + str(event.get(\"Step\")))\n";

/// Serialises provisioning inside one process (the lock file does it across processes).
static PROVISION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The virtual environment for [`LOCALSTACK_VERSION`] inside a cache folder.
pub fn venv_dir(cache: &Path) -> PathBuf {
    cache.join(format!("localstack-venv-{LOCALSTACK_VERSION}"))
}

fn python_bin(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn is_provisioned(venv: &Path) -> bool {
    python_bin(venv).is_file() && venv.join(MARKER).is_file()
}

fn provision_error(detail: impl Into<String>) -> TargetError {
    TargetError::Provision { what: format!("localstack {LOCALSTACK_VERSION}"), detail: detail.into() }
}

/// Makes sure LocalStack is installed in `venv_dir(cache)` and returns that folder. Reuses a
/// finished environment; otherwise creates it with `python3 -m venv` and pip (which needs network
/// access to PyPI), under a lock file so that concurrent callers wait for one another.
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
    let lock_path = cache.join(format!("localstack-venv-{LOCALSTACK_VERSION}.lock"));
    let what = format!("localstack {LOCALSTACK_VERSION}");
    let Some(_lock) = LockFile::acquire(&lock_path, || is_provisioned(&venv), &what).await? else {
        // Another process finished provisioning while we waited.
        return Ok(venv);
    };
    if is_provisioned(&venv) {
        return Ok(venv);
    }
    build_venv(cache, &venv).await?;
    Ok(venv)
}

/// Creates (or adopts) the virtual environment. Called with the lock held.
async fn build_venv(cache: &Path, venv: &Path) -> Result<(), TargetError> {
    let marker = venv.join(MARKER);
    let write_marker = || {
        std::fs::write(&marker, format!("{REQUIREMENT}\n{DOTENV_REQUIREMENT}\n"))
            .map_err(|e| provision_error(format!("cannot write {}: {e}", marker.display())))
    };

    if venv.exists() {
        // An environment without the marker: installed by hand, or interrupted. Adopt it if
        // LocalStack imports at the pinned version, otherwise start again.
        if installed_version(venv).await.as_deref() == Some(LOCALSTACK_VERSION) {
            return write_marker();
        }
        std::fs::remove_dir_all(venv)
            .map_err(|e| provision_error(format!("cannot remove incomplete {}: {e}", venv.display())))?;
    }

    match Command::new("python3").arg("--version").output().await {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return Err(TargetError::NoPython(format!(
                "`python3 --version` failed (needed for the LocalStack target): {}",
                tail(&output_text(&out), 5)
            )))
        }
        Err(e) => {
            return Err(TargetError::NoPython(format!(
                "cannot run python3 ({e}), needed for the LocalStack target; install python3 and python3-venv (Debian/Ubuntu: apt-get install python3 python3-venv)"
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

    let constraints = cache.join(CONSTRAINTS_FILE);
    std::fs::write(&constraints, CONSTRAINTS)
        .map_err(|e| provision_error(format!("cannot write {}: {e}", constraints.display())))?;
    let constraints_arg = constraints.to_string_lossy().into_owned();
    let steps: [(&[&str], String); 2] = [
        (&["-c", &constraints_arg, REQUIREMENT], format!("pip install -c {CONSTRAINTS_FILE} '{REQUIREMENT}'")),
        (&[DOTENV_REQUIREMENT], format!("pip install '{DOTENV_REQUIREMENT}'")),
    ];
    let pip = venv.join("bin").join("pip");
    for (args, what) in steps {
        let out = Command::new(&pip)
            .args(["install", "--quiet", "--disable-pip-version-check", "--no-input"])
            .args(args)
            .env("PIP_NO_INPUT", "1")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| provision_error(format!("cannot run {}: {e}", pip.display())))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(venv);
            return Err(provision_error(format!("`{what}` failed:\n{}", tail(&output_text(&out), 20))));
        }
    }
    match installed_version(venv).await {
        Some(v) if v == LOCALSTACK_VERSION => write_marker(),
        other => {
            let _ = std::fs::remove_dir_all(venv);
            Err(provision_error(format!(
                "pip finished but LocalStack does not import at version {LOCALSTACK_VERSION} (found {other:?})"
            )))
        }
    }
}

/// The LocalStack version importable in a virtual environment, provided its python-dotenv is
/// recent enough.
async fn installed_version(venv: &Path) -> Option<String> {
    const CHECK: &str = "import sys, importlib.metadata as m\n\
        import localstack.runtime.main, dotenv\n\
        d = tuple(int(x) for x in m.version('python-dotenv').split('.')[:3] if x.isdigit())\n\
        sys.stdout.write(m.version('localstack-core') if d >= (1, 2, 2) else 'python-dotenv too old')\n";
    let out = Command::new(python_bin(venv)).args(["-c", CHECK]).stdin(Stdio::null()).output().await.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Options for starting LocalStack.
#[derive(Clone, Debug)]
pub struct LocalStackOptions {
    /// Cache folder holding the virtual environment and the servers' folders; `None` means
    /// [`cache_dir`].
    pub cache: Option<PathBuf>,
    /// How long LocalStack may take to report Secrets Manager available after it was started.
    pub ready_timeout: Duration,
    /// Limit on one request sent through the target.
    pub operation_timeout: Duration,
    /// Also keep LocalStack's output in this file (appended). Without it the output goes to the
    /// server's own folder and is removed with it.
    pub log_file: Option<PathBuf>,
}

impl Default for LocalStackOptions {
    fn default() -> Self {
        LocalStackOptions {
            cache: None,
            ready_timeout: Duration::from_secs(90),
            operation_timeout: Duration::from_secs(30),
            log_file: None,
        }
    }
}

/// A running LocalStack (host mode) on a loopback port.
#[derive(Debug)]
pub struct LocalStackServer {
    child: Option<Child>,
    /// `sh` in LocalStack's process group, reading a pipe from this process; it kills the group
    /// when the pipe closes. Kept (with its stdin) as long as the server.
    watchdog: Option<Child>,
    /// LocalStack's process group (its pid).
    pgid: Option<u32>,
    port: u16,
    endpoint_url: String,
    /// This server's folder: `fs/`, `tmp/` and (without a log file option) the log.
    instance_dir: PathBuf,
    log_path: PathBuf,
}

impl LocalStackServer {
    /// Provisions LocalStack if needed and starts it on a free loopback port; returns once it
    /// reports Secrets Manager available.
    pub async fn start(options: &LocalStackOptions) -> Result<LocalStackServer, TargetError> {
        let cache = match &options.cache {
            Some(dir) => dir.clone(),
            None => cache_dir()?,
        };
        let venv = provision(&cache).await?;
        Self::start_in(&venv, &cache, options).await
    }

    /// Starts LocalStack from an already provisioned virtual environment, with its folder under
    /// `cache`.
    pub async fn start_in(
        venv: &Path,
        cache: &Path,
        options: &LocalStackOptions,
    ) -> Result<LocalStackServer, TargetError> {
        let run_dir = cache.join(RUN_DIR);
        remove_stale_instances(&run_dir);
        let port = free_port()
            .map_err(|e| TargetError::Other(format!("cannot find a free loopback port for LocalStack: {e}")))?;
        let endpoint_url = format!("http://127.0.0.1:{port}");
        let instance_dir = run_dir.join(format!("{}-{port}", std::process::id()));
        let fs_root = instance_dir.join("fs");
        let tmp = instance_dir.join("tmp");
        let log_path = options.log_file.clone().unwrap_or_else(|| instance_dir.join("localstack.log"));
        let prepared = (|| {
            for dir in [&fs_root, &tmp] {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .map_err(|e| format!("cannot open LocalStack log {}: {e}", log_path.display()))?;
            let log_err = log.try_clone().map_err(|e| format!("cannot open LocalStack log: {e}"))?;
            Ok::<_, String>((log, log_err))
        })();
        let (log, log_err) = prepared.map_err(|e| {
            let _ = std::fs::remove_dir_all(&instance_dir);
            TargetError::Other(e)
        })?;

        let python = python_bin(venv);
        let mut command = Command::new(&python);
        command
            .args(["-m", "localstack.runtime.main"])
            .envs(server_env(port, &fs_root, &tmp))
            .current_dir(&instance_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = command.spawn().map_err(|e| {
            let _ = std::fs::remove_dir_all(&instance_dir);
            provision_error(format!("cannot start {} -m localstack.runtime.main: {e}", python.display()))
        })?;
        let pgid = child.id();
        let mut server =
            LocalStackServer { child: Some(child), watchdog: None, pgid, port, endpoint_url, instance_dir, log_path };
        // From here on, dropping `server` stops LocalStack.
        #[cfg(unix)]
        if let Some(pgid) = pgid {
            server.watchdog = Some(spawn_watchdog(pgid)?);
        }
        server.wait_ready(options.ready_timeout).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), TargetError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        return Err(provision_error(format!(
                            "LocalStack exited during start-up ({status}); its output:\n{}",
                            self.log_tail(REPORT_LINES)
                        )));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(TargetError::Other(format!("cannot check on LocalStack: {e}"))),
                }
            }
            let last =
                match http_request(self.port, "GET", "/_localstack/health", &[], "", Duration::from_secs(2)).await {
                    Ok(r) if r.status == 200 => match secretsmanager_state(&r.body) {
                        Some(state) if state == "available" || state == "running" => return Ok(()),
                        Some(state) => format!("secretsmanager is {state:?}"),
                        None => format!("unexpected health answer {:?}", tail(&r.body, 3)),
                    },
                    Ok(r) => format!("health check answered HTTP {}", r.status),
                    Err(e) => e.to_string(),
                };
            if Instant::now() >= deadline {
                return Err(TargetError::Unreachable {
                    endpoint: self.endpoint_url.clone(),
                    detail: format!(
                        "LocalStack did not report secretsmanager available within {timeout:?} (last: {last}); its output:\n{}",
                        self.log_tail(REPORT_LINES)
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// The loopback port LocalStack listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// LocalStack's process id, which is also its process group id (`None` once stopped).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and(self.pgid)
    }

    /// The file LocalStack's output goes to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last `n` lines LocalStack printed (its request log and any Python tracebacks).
    pub fn log_tail(&self, n: usize) -> String {
        match std::fs::read(&self.log_path) {
            Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), n),
            Err(e) => format!("(cannot read {}: {e})", self.log_path.display()),
        }
    }

    /// Creates the Lambda function a rotation ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`)
    /// names, in that account and region, unless it exists. LocalStack takes the account from the
    /// access key id when it is 12 digits, and does not check signatures.
    pub async fn create_function(&self, arn: &str) -> Result<(), TargetError> {
        let f = FunctionArn::parse(arn).ok_or_else(|| {
            TargetError::Other(format!("cannot create a LocalStack function for {arn:?}: not a Lambda function ARN"))
        })?;
        let zip = stored_zip("index.py", FUNCTION_CODE.as_bytes());
        let body = json!({
            "FunctionName": f.name,
            "Runtime": "python3.12",
            "Role": FUNCTION_ROLE,
            "Handler": "index.handler",
            "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
        })
        .to_string();
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/{}/lambda/aws4_request, SignedHeaders=host, Signature=0",
            f.account, f.region
        );
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Amz-Date", "20260101T000000Z"),
            ("Authorization", authorization.as_str()),
        ];
        let response =
            http_request(self.port, "POST", "/2015-03-31/functions", &headers, &body, Duration::from_secs(30))
                .await
                .map_err(|e| TargetError::Unreachable { endpoint: self.endpoint_url.clone(), detail: e.to_string() })?;
        match response.status {
            200..=299 => Ok(()),
            409 if response.body.contains("ResourceConflictException") => Ok(()),
            status => Err(TargetError::Other(format!(
                "LocalStack refused to create the rotation function {arn}: HTTP {status}: {}",
                tail(&response.body, 5)
            ))),
        }
    }

    /// Stops LocalStack (SIGTERM to its process group, SIGKILL after a grace period), waits for
    /// it to end, and removes its folder.
    pub async fn shutdown(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pgid) = self.pgid {
                signal_group(pgid, "TERM");
                let _ = tokio::time::timeout(STOP_GRACE, child.wait()).await;
                signal_group(pgid, "KILL");
            }
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), watchdog.wait()).await;
        }
        self.remove_instance_dir();
    }

    fn remove_instance_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.instance_dir);
    }
}

impl Drop for LocalStackServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pgid) = self.pgid {
                signal_group(pgid, "TERM");
                reap_blocking(&mut child, DROP_GRACE);
                signal_group(pgid, "KILL");
            }
            let _ = child.start_kill();
            reap_blocking(&mut child, Duration::from_secs(1));
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.start_kill();
            reap_blocking(&mut watchdog, Duration::from_secs(1));
        }
        self.remove_instance_dir();
    }
}

/// Waits (blocking) up to `limit` for a child to end, and reaps it; `false` if it is still
/// running.
fn reap_blocking(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The environment LocalStack runs with (emulators.md), on top of the inherited one.
/// `GATEWAY_SERVER=hypercorn` is there because the default (twisted) gateway ignores the host
/// in `GATEWAY_LISTEN` and listens on every interface; hypercorn binds 127.0.0.1 only.
fn server_env(port: u16, fs_root: &Path, tmp: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("OVERRIDE_IN_DOCKER", "0".into()),
        ("FILESYSTEM_ROOT", fs_root.to_string_lossy().into_owned()),
        ("TMPDIR", tmp.to_string_lossy().into_owned()),
        ("GATEWAY_LISTEN", format!("127.0.0.1:{port}")),
        ("GATEWAY_SERVER", "hypercorn".into()),
        ("SERVICES", SERVICES.into()),
        ("DISABLE_EVENTS", "1".into()),
        ("SKIP_SSL_CERT_DOWNLOAD", "1".into()),
        ("DNS_ADDRESS", "0".into()),
    ]
}

/// Starts `sh` in process group `pgid`, reading a pipe whose write end only this process holds
/// (Rust opens pipes close-on-exec). When the pipe closes, because the harness dropped the
/// server or died, the shell kills its whole process group.
#[cfg(unix)]
fn spawn_watchdog(pgid: u32) -> Result<Child, TargetError> {
    let pgid = i32::try_from(pgid).map_err(|_| TargetError::Other(format!("process id {pgid} out of range")))?;
    Command::new("sh")
        .args(["-c", "read -r _; kill -s KILL 0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(pgid)
        .spawn()
        .map_err(|e| TargetError::Other(format!("cannot start the watchdog for LocalStack: {e}")))
}

/// Sends `signal` (`TERM`, `KILL`) to every process in group `pgid`, through the shell's `kill`
/// (no libc needed). Errors (the group is gone) are ignored.
fn signal_group(pgid: u32, signal: &str) {
    if cfg!(unix) {
        let _ = std::process::Command::new("sh")
            .args(["-c", "kill -s \"$0\" -- \"-$1\" 2>/dev/null", signal, &pgid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Removes the folders of servers whose process (named by the folder's `<pid>-<port>`) is gone,
/// where `/proc` tells.
fn remove_stale_instances(run_dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(run_dir) else {
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
}

/// The state `GET /_localstack/health` gives for secretsmanager.
fn secretsmanager_state(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("services")?.get("secretsmanager")?.as_str().map(str::to_string)
}

/// The parts of a Lambda function ARN.
#[derive(Debug, PartialEq, Eq)]
struct FunctionArn<'a> {
    region: &'a str,
    account: &'a str,
    name: &'a str,
}

impl<'a> FunctionArn<'a> {
    /// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME` (no qualifier).
    fn parse(arn: &'a str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", region, account, "function", name]
                if !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !name.is_empty() =>
            {
                Some(FunctionArn { region, account, name })
            }
            _ => None,
        }
    }
}

/// A ZIP archive holding one file, stored (not compressed).
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    // Two-byte and four-byte little-endian fields. The archive is tiny, so the casts never truncate.
    fn u16le(out: &mut Vec<u8>, v: usize) {
        out.extend_from_slice(&(v as u16).to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    const DOS_DATE: usize = (1 << 5) | 1; // 1980-01-01
    let crc = crc32(data);
    let size = data.len() as u32;
    let mut out = Vec::new();
    // Local file header.
    u32le(&mut out, 0x0403_4b50);
    u16le(&mut out, 10); // version needed: 1.0
    u16le(&mut out, 0); // flags
    u16le(&mut out, 0); // method: stored
    u16le(&mut out, 0); // time
    u16le(&mut out, DOS_DATE);
    u32le(&mut out, crc);
    u32le(&mut out, size);
    u32le(&mut out, size);
    u16le(&mut out, name.len());
    u16le(&mut out, 0); // extra field length
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    // Central directory.
    let central = out.len() as u32;
    u32le(&mut out, 0x0201_4b50);
    u16le(&mut out, 0x0314); // made by: Unix, 2.0
    u16le(&mut out, 10);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, DOS_DATE);
    u32le(&mut out, crc);
    u32le(&mut out, size);
    u32le(&mut out, size);
    u16le(&mut out, name.len());
    u16le(&mut out, 0); // extra field length
    u16le(&mut out, 0); // comment length
    u16le(&mut out, 0); // disk
    u16le(&mut out, 0); // internal attributes
    u32le(&mut out, 0o100644 << 16); // external attributes: a regular file, rw-r--r--
    u32le(&mut out, 0); // offset of the local header
    out.extend_from_slice(name.as_bytes());
    let central_size = out.len() as u32 - central;
    // End of central directory.
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 1);
    u16le(&mut out, 1);
    u32le(&mut out, central_size);
    u32le(&mut out, central);
    u16le(&mut out, 0);
    out
}

/// CRC-32 (IEEE), as ZIP uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// An HTTP response: status and body (de-chunked).
#[derive(Debug, PartialEq, Eq)]
struct HttpResponse {
    status: u16,
    body: String,
}

/// Sends one HTTP/1.1 request to LocalStack on loopback (`Connection: close`) and reads the
/// whole response.
async fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    let exchange = async {
        let mut stream = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        parse_response(&response)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time")))
}

/// Parses an HTTP/1.x response read to its end.
fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let status = parse_status(raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let chunked = head.lines().any(|l| l.strip_prefix("transfer-encoding:").is_some_and(|v| v.contains("chunked")));
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    Some(HttpResponse { status, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Decodes a chunked body.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// LocalStack as a target: the server and an [`EndpointTarget`] pointed at it. Dropping it stops
/// LocalStack.
#[derive(Debug)]
pub struct LocalStackTarget {
    // Declared first so that the client goes before the server it talks to.
    inner: EndpointTarget,
    server: LocalStackServer,
    /// Rotation-function ARNs already created in LocalStack.
    created: Mutex<BTreeSet<String>>,
}

impl LocalStackTarget {
    /// Provisions (if needed) and starts LocalStack, and connects a client to it.
    pub async fn start(options: LocalStackOptions) -> Result<LocalStackTarget, TargetError> {
        let server = LocalStackServer::start(&options).await?;
        let mut config = EndpointConfig::new(Some(server.endpoint_url().to_string()));
        config.operation_timeout = options.operation_timeout;
        config.label = format!("localstack {LOCALSTACK_VERSION}");
        let inner = EndpointTarget::new(config).await?;
        Ok(LocalStackTarget { inner, server, created: Mutex::new(BTreeSet::new()) })
    }

    /// The running server.
    pub fn server(&self) -> &LocalStackServer {
        &self.server
    }

    /// The SDK-backed target talking to the server.
    pub fn endpoint(&self) -> &EndpointTarget {
        &self.inner
    }

    /// Stops LocalStack and waits for it to end.
    pub async fn shutdown(self) {
        let LocalStackTarget { inner, server, .. } = self;
        drop(inner);
        server.shutdown().await;
    }

    fn is_created(&self, arn: &str) -> bool {
        self.created.lock().map(|c| c.contains(arn)).unwrap_or(false)
    }
}

/// Starts LocalStack with default options: [`LocalStackTarget::start`].
pub async fn localstack_target() -> Result<LocalStackTarget, TargetError> {
    LocalStackTarget::start(LocalStackOptions::default()).await
}

impl Target for LocalStackTarget {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { behaviours: BEHAVIOURS.to_vec(), omit_token: false, max_jobs: 4 }
    }

    /// Creates a Lambda function for every ARN whose behaviour is `fail-at-createSecret` (once per
    /// ARN); `not-invocable` ARNs get none. A behaviour this target cannot express is an error.
    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            for (arn, behaviour) in functions {
                match behaviour {
                    FunctionBehaviour::NotInvocable => {}
                    FunctionBehaviour::FailAt(Step::CreateSecret) => {
                        if self.is_created(arn) {
                            continue;
                        }
                        self.server.create_function(arn).await?;
                        if let Ok(mut created) = self.created.lock() {
                            created.insert(arn.clone());
                        }
                    }
                    other => {
                        return Err(TargetError::Other(format!(
                            "LocalStack cannot express the rotation-function behaviour {} (of {arn}): without Docker it runs no function",
                            other.name()
                        )))
                    }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn scratch_dir(tag: &str) -> PathBuf {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("smconform-localstack-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn zip_layout() {
        let data = b"print(1)\n";
        let zip = stored_zip("index.py", data);
        // Local header (30 + name + data), central header (46 + name), end record (22).
        assert_eq!(zip.len(), 30 + 8 + data.len() + 46 + 8 + 22);
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[30..38], b"index.py");
        assert_eq!(&zip[38..38 + data.len()], data);
        let central = 38 + data.len();
        assert_eq!(&zip[central..central + 4], b"PK\x01\x02");
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        assert_eq!(u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize, central);
        assert_eq!(u32::from_le_bytes(zip[14..18].try_into().unwrap()), crc32(data));
    }

    /// The archive opens with Python's zipfile, when python3 is there.
    #[test]
    fn zip_opens_in_python() {
        let dir = scratch_dir("zip");
        let path = dir.join("f.zip");
        std::fs::write(&path, stored_zip("index.py", FUNCTION_CODE.as_bytes())).unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; sys.stdout.write(z.read('index.py').decode())",
            ])
            .arg(&path)
            .output();
        if let Ok(out) = out {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), FUNCTION_CODE);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn function_arns() {
        assert_eq!(
            FunctionArn::parse("arn:aws:lambda:us-east-1:123456789012:function:smconform-fail-at-createSecret"),
            Some(FunctionArn { region: "us-east-1", account: "123456789012", name: "smconform-fail-at-createSecret" })
        );
        assert_eq!(FunctionArn::parse("arn:aws:lambda:us-east-1:123456789012:function:f:1"), None);
        assert_eq!(FunctionArn::parse("arn:aws:lambda:us-east-1:test:function:f"), None);
        assert_eq!(FunctionArn::parse("arn:aws:s3:::bucket"), None);
        assert_eq!(FunctionArn::parse(""), None);
    }

    #[test]
    fn responses() {
        let plain = b"HTTP/1.1 200 \r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain), Some(HttpResponse { status: 200, body: "{}".into() }));
        let chunked =
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some(HttpResponse { status: 201, body: "{\"a\":1}".into() }));
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), None);
        assert_eq!(parse_response(b"garbage"), None);
    }

    #[test]
    fn health_states() {
        let body = r#"{"services": {"lambda": "available", "secretsmanager": "running"}, "version": "4.13.1"}"#;
        assert_eq!(secretsmanager_state(body).as_deref(), Some("running"));
        assert_eq!(secretsmanager_state(r#"{"services": {}}"#), None);
        assert_eq!(secretsmanager_state("not json"), None);
    }

    #[test]
    fn environment_is_loopback_and_contained() {
        let env: BTreeMap<_, _> = server_env(4566, Path::new("/c/fs"), Path::new("/c/tmp")).into_iter().collect();
        assert_eq!(env["GATEWAY_LISTEN"], "127.0.0.1:4566");
        assert_eq!(env["GATEWAY_SERVER"], "hypercorn");
        assert_eq!(env["FILESYSTEM_ROOT"], "/c/fs");
        assert_eq!(env["TMPDIR"], "/c/tmp");
        assert_eq!(env["OVERRIDE_IN_DOCKER"], "0");
        assert_eq!(env["SERVICES"], SERVICES);
    }

    #[test]
    fn stale_instance_folders_are_removed() {
        let dir = scratch_dir("stale");
        let ours = dir.join(format!("{}-1", std::process::id()));
        let gone = dir.join("4294967295-2");
        let other = dir.join("notes");
        for d in [&ours, &gone, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        remove_stale_instances(&dir);
        assert!(ours.exists() && other.exists());
        assert_eq!(gone.exists(), !Path::new("/proc/self").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn provision_lock_is_exclusive() {
        let dir = scratch_dir("lock");
        let lock = dir.join("x.lock");
        let venv = dir.join("venv");
        let held = LockFile::acquire(&lock, || is_provisioned(&venv), "localstack").await.unwrap().expect("free lock");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(python_bin(&venv), "").unwrap();
        std::fs::write(venv.join(MARKER), "").unwrap();
        // Held by this (live) process: a second taker gives up once the environment is ready.
        assert!(LockFile::acquire(&lock, || is_provisioned(&venv), "localstack").await.unwrap().is_none());
        drop(held);
        assert!(!lock.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Builds a fresh environment in a scratch cache and starts it (needs python3 and PyPI;
    /// takes about a minute). Prints how long each part took.
    #[tokio::test]
    #[ignore = "downloads LocalStack from PyPI"]
    async fn provision_from_scratch() {
        let cache = scratch_dir("provision");
        let started = Instant::now();
        let (a, b) = tokio::join!(provision(&cache), provision(&cache));
        let venv = a.unwrap();
        assert_eq!(b.unwrap(), venv);
        let provisioned = started.elapsed();
        assert!(is_provisioned(&venv));
        assert_eq!(installed_version(&venv).await.as_deref(), Some(LOCALSTACK_VERSION));
        let started = Instant::now();
        let server = LocalStackServer::start(&LocalStackOptions { cache: Some(cache.clone()), ..Default::default() })
            .await
            .unwrap();
        let ready = started.elapsed();
        eprintln!("fresh provisioning took {provisioned:?}; start-up took {ready:?}");
        server.shutdown().await;
        let _ = std::fs::remove_dir_all(&cache);
    }
}
