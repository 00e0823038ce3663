//! Managed emulators: Secrets Manager implementations that smconform installs from PyPI and runs
//! itself on a loopback port (moto, LocalStack, MiniStack).
//!
//! Everything they have in common lives here, driven by one table per emulator, an
//! [`EmulatorSpec`]: what to install ([`provision`]), how to start it and when it is ready
//! ([`process`], [`ready`]), and what it can express. A managed emulator is then a small file of
//! what is specific to it (its spec, and [`Hooks`] where it needs more than the table says), and
//! [`super::registry`] lists them.
//!
//! - [`provision`]: one virtual environment per emulator and version under the cache folder,
//!   built once (under a lock file) with pip from the spec's requirements and constraints.
//! - [`process`]: one running emulator: its own process group, output captured to a log file,
//!   stopped on shutdown, on drop (also while unwinding) and, through a watchdog process, when the
//!   harness itself dies.
//! - [`ready`]: the readiness probe, an HTTP request the spec describes.
//! - [`managed`]: an emulator as a [`super::Target`]: the server and an SDK client pointed at it.
//! - [`pool`]: several instances of one emulator, one per job of a run.
//! - [`shared`]: one lazily started instance per emulator and process, for test binaries.
//! - [`moto_tests`]: moto's AWS-verified tests, provisioned the same way, to run against an
//!   endpoint.
//!
//! Blocking work (file system, pip, sleeps) never runs on an async worker thread: processes are
//! `tokio::process`, files `tokio::fs` or `spawn_blocking`, waits `tokio::time`.

pub mod http;
pub mod managed;
pub mod moto_tests;
pub mod pool;
pub mod process;
pub mod provision;
pub mod ready;
pub mod shared;

mod lock;

pub use managed::ManagedTarget;
pub use pool::PoolTarget;
pub use process::{EmulatorServer, StartOptions};
pub use provision::{cache_dir, provision, venv_dir};

use super::{BoxFuture, TargetError};
use sm_model::FunctionBehaviour;
use std::time::Duration;

/// What smconform needs to know to install, start and drive one emulator.
pub struct EmulatorSpec {
    /// Short name: the `--target` value, the catalogue folder, the matrix column.
    pub name: &'static str,
    /// The pinned release (also in the virtual environment's folder name).
    pub version: &'static str,
    /// One line for `--help` and error messages.
    pub about: &'static str,
    /// Whether `smconform setup` provisions it without being asked (the small ones).
    pub setup_by_default: bool,
    /// pip installs, in order, into a fresh virtual environment.
    pub install: &'static [PipInstall],
    /// How to tell the installed version; an environment is ready when it is
    /// [`EmulatorSpec::version`].
    pub version_check: VersionCheck,
    /// How to start it.
    pub start: StartSpec,
    /// When it is ready to answer.
    pub ready: ReadySpec,
    /// Rotation-function behaviours it can express (generation stays within them).
    pub behaviours: &'static [FunctionBehaviour],
    /// Cases that may run against one instance at once.
    pub max_jobs: usize,
    /// About how much memory one running instance takes (MiB): how many instances the default
    /// job count starts ([`pool::fitting_jobs`]).
    pub instance_memory_mb: u64,
    /// The run whose every divergence and fault its catalogue (`fixtures/divergences/<name>/`)
    /// holds: a run of it with the catalogue as baseline finds nothing new and meets every entry.
    pub catalogue_run: CatalogueRun,
    /// What the table cannot say.
    pub hooks: &'static dyn Hooks,
}

impl EmulatorSpec {
    /// A spec with the common choices, for a file to override what differs (`..defaults(..)`):
    /// installed by `setup` without being asked, the distribution `name` at `version` as the
    /// version check, ready when `POST /` answers within 30 s, only not-invocable rotation
    /// functions, 4 jobs, 200 MiB an instance, a catalogue run of 300 cases of 30 steps with seed 1, no hooks. The
    /// install and start fields are empty: every emulator sets them.
    pub const fn defaults(name: &'static str, version: &'static str) -> EmulatorSpec {
        EmulatorSpec {
            name,
            version,
            about: "",
            setup_by_default: true,
            install: &[],
            version_check: VersionCheck::Distribution(name),
            start: StartSpec { program: "", args: &[], env: &[] },
            ready: ReadySpec {
                method: "POST",
                path: "/",
                headers: &[],
                body: "{}",
                accept: Accept::AnyResponse,
                timeout: Duration::from_secs(30),
            },
            behaviours: &[FunctionBehaviour::NotInvocable],
            max_jobs: 4,
            instance_memory_mb: 200,
            catalogue_run: CatalogueRun { cases: 300, steps: 30, seed: 1 },
            hooks: &NoHooks,
        }
    }

    /// `name version`, as reports show the target.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

impl std::fmt::Debug for EmulatorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorSpec").field("name", &self.name).field("version", &self.version).finish()
    }
}

/// How to tell which version a virtual environment holds.
#[derive(Clone, Copy, Debug)]
pub enum VersionCheck {
    /// The version of an installed distribution (`importlib.metadata.version`).
    Distribution(&'static str),
    /// A Python program that prints the version, and fails when the environment is unusable.
    Script(&'static str),
}

impl VersionCheck {
    /// The Python program.
    pub fn script(self) -> String {
        match self {
            VersionCheck::Distribution(d) => {
                format!("import sys, importlib.metadata as m; sys.stdout.write(m.version({d:?}))")
            }
            VersionCheck::Script(s) => s.to_string(),
        }
    }
}

/// The shape of a deterministic run: `run --seed S --cases N --steps M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueRun {
    pub cases: usize,
    pub steps: usize,
    pub seed: u64,
}

/// One `pip install` of [`EmulatorSpec::install`].
#[derive(Clone, Copy, Debug)]
pub struct PipInstall {
    /// Requirement specifiers (`moto[server]==5.2.5`).
    pub requirements: &'static [&'static str],
    /// A constraints file given as `-c`: its file name and content (written into the cache
    /// folder before pip runs).
    pub constraints: Option<(&'static str, &'static str)>,
}

/// How to start an emulator. In `args` and `env` values, `{port}` is the port it must listen on
/// (always on 127.0.0.1), `{dir}` a folder of its own (the working directory; `{dir}/fs` and
/// `{dir}/tmp` exist), removed when it stops.
#[derive(Clone, Copy, Debug)]
pub struct StartSpec {
    /// The program, relative to the virtual environment's `bin/`.
    pub program: &'static str,
    pub args: &'static [&'static str],
    pub env: &'static [(&'static str, &'static str)],
}

/// The readiness probe: an HTTP request to the emulator, repeated until it is accepted or the
/// time is up.
#[derive(Clone, Copy, Debug)]
pub struct ReadySpec {
    pub method: &'static str,
    pub path: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: &'static str,
    /// Which answers mean ready.
    pub accept: Accept,
    /// How long it may take after the process started.
    pub timeout: Duration,
}

/// Which answers to the readiness probe mean ready.
#[derive(Clone, Copy, Debug)]
pub enum Accept {
    /// Any HTTP response.
    AnyResponse,
    /// A 2xx response.
    Success,
    /// A 2xx JSON response whose member at `pointer` (RFC 6901) is one of `values`.
    JsonMember { pointer: &'static str, values: &'static [&'static str] },
}

/// What an emulator needs beyond its table. Every method has a default that does nothing.
pub trait Hooks: Sync {
    /// Runs once the emulator is ready, before the target is handed out.
    fn after_ready<'a>(&'a self, _server: &'a EmulatorServer) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async { Ok(()) })
    }

    /// Makes a rotation function exist (with one of the spec's behaviours other than
    /// not-invocable). Called once per ARN and instance.
    fn provide_function<'a>(&'a self, f: Function<'a>) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let what = format!("{} ({})", f.arn, f.behaviour.name());
            Err(TargetError::Other(format!("{} cannot provide the rotation function {what}", f.server.spec().label())))
        })
    }
}

/// A rotation function to provide: on which server, its ARN and its behaviour.
#[derive(Clone, Copy, Debug)]
pub struct Function<'a> {
    pub server: &'a EmulatorServer,
    pub arn: &'a str,
    pub behaviour: FunctionBehaviour,
}

/// The hooks of an emulator that needs none.
pub struct NoHooks;

impl Hooks for NoHooks {}
