//! Provisioning: one virtual environment per emulator and version, `<cache>/<name>-venv-<version>`,
//! built with `python3 -m venv` and the pip installs of its [`EmulatorSpec`] (PyPI must be
//! reachable), and marked finished with a file once the version check passes. Concurrent callers,
//! in this process or others, wait for one another (a mutex and a lock file).

use super::lock::LockFile;
use super::EmulatorSpec;
use crate::target::TargetError;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use tokio::process::Command;

/// File written into the virtual environment once provisioning succeeded.
const MARKER: &str = ".smconform-ok";

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
    Err(TargetError::Other("cannot find a cache folder: set SMCONFORM_CACHE, XDG_CACHE_HOME or HOME".into()))
}

/// The virtual environment of `spec` inside a cache folder.
pub fn venv_dir(spec: &EmulatorSpec, cache: &Path) -> PathBuf {
    cache.join(format!("{}-venv-{}", spec.name, spec.version))
}

fn marker(venv: &Path) -> PathBuf {
    venv.join(MARKER)
}

async fn exists(path: &Path) -> bool {
    tokio::fs::try_exists(path).await.unwrap_or(false)
}

fn error(spec: &EmulatorSpec, detail: impl Into<String>) -> TargetError {
    TargetError::Provision { what: spec.label(), detail: detail.into() }
}

/// The last `n` lines of a text.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// Makes sure `spec` is installed in [`venv_dir`] and returns that folder. Reuses a finished
/// environment, adopts an unmarked one whose version check passes, and otherwise builds it.
pub async fn provision(spec: &EmulatorSpec, cache: &Path) -> Result<PathBuf, TargetError> {
    let venv = venv_dir(spec, cache);
    if exists(&marker(&venv)).await {
        return Ok(venv);
    }
    let _in_process = PROVISION.lock().await;
    if exists(&marker(&venv)).await {
        return Ok(venv);
    }
    tokio::fs::create_dir_all(cache)
        .await
        .map_err(|e| error(spec, format!("cannot create cache folder {}: {e}", cache.display())))?;
    let lock_path = cache.join(format!("{}-venv-{}.lock", spec.name, spec.version));
    let Some(_lock) = LockFile::acquire(&lock_path, &marker(&venv), &spec.label()).await? else {
        // Another process finished provisioning while we waited.
        return Ok(venv);
    };
    if !exists(&marker(&venv)).await {
        build(spec, cache, &venv).await?;
    }
    Ok(venv)
}

/// Creates (or adopts) the virtual environment. Called with the lock held.
async fn build(spec: &EmulatorSpec, cache: &Path, venv: &Path) -> Result<(), TargetError> {
    if exists(venv).await {
        // An environment without the marker: installed by hand, or interrupted. Adopt it if the
        // version check passes, otherwise start again.
        if installed_version(spec, venv).await.as_deref() == Some(spec.version) {
            return write_marker(spec, venv).await;
        }
        tokio::fs::remove_dir_all(venv)
            .await
            .map_err(|e| error(spec, format!("cannot remove incomplete {}: {e}", venv.display())))?;
    }
    check_python(spec).await?;
    let created = run(spec, Command::new("python3").arg("-m").arg("venv").arg(venv), "python3 -m venv").await;
    if let Err(e) = created {
        let _ = tokio::fs::remove_dir_all(venv).await;
        return Err(e);
    }
    let pip = venv.join("bin").join("pip");
    for step in spec.install {
        let mut command = Command::new(&pip);
        command.args(["install", "--quiet", "--disable-pip-version-check", "--no-input"]).env("PIP_NO_INPUT", "1");
        let mut what = String::from("pip install");
        if let Some((file, content)) = step.constraints {
            let path = cache.join(file);
            tokio::fs::write(&path, content)
                .await
                .map_err(|e| error(spec, format!("cannot write {}: {e}", path.display())))?;
            command.arg("-c").arg(&path);
            what.push_str(&format!(" -c {file}"));
        }
        command.args(step.requirements);
        for r in step.requirements {
            what.push_str(&format!(" '{r}'"));
        }
        if let Err(e) = run(spec, &mut command, &what).await {
            let _ = tokio::fs::remove_dir_all(venv).await;
            return Err(e);
        }
    }
    match installed_version(spec, venv).await {
        Some(v) if v == spec.version => write_marker(spec, venv).await,
        other => {
            let _ = tokio::fs::remove_dir_all(venv).await;
            Err(error(spec, format!("pip finished but the version check found {other:?}, not {}", spec.version)))
        }
    }
}

async fn check_python(spec: &EmulatorSpec) -> Result<(), TargetError> {
    match Command::new("python3").arg("--version").stdin(Stdio::null()).output().await {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(TargetError::NoPython(format!(
            "`python3 --version` failed (needed for {}): {}",
            spec.label(),
            tail(&output_text(&out), 5)
        ))),
        Err(e) => Err(TargetError::NoPython(format!(
            "cannot run python3 ({e}), needed for {}; install python3 and python3-venv (Debian/Ubuntu: apt-get install python3 python3-venv)",
            spec.label()
        ))),
    }
}

/// Runs a provisioning command to its end; its output goes into the error when it fails.
async fn run(spec: &EmulatorSpec, command: &mut Command, what: &str) -> Result<(), TargetError> {
    let out =
        command.stdin(Stdio::null()).output().await.map_err(|e| error(spec, format!("cannot run `{what}`: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(error(spec, format!("`{what}` failed:\n{}", tail(&output_text(&out), 20))))
    }
}

async fn write_marker(spec: &EmulatorSpec, venv: &Path) -> Result<(), TargetError> {
    let requirements: Vec<&str> = spec.install.iter().flat_map(|s| s.requirements.iter().copied()).collect();
    let path = marker(venv);
    tokio::fs::write(&path, requirements.join("\n") + "\n")
        .await
        .map_err(|e| error(spec, format!("cannot write {}: {e}", path.display())))
}

/// What the spec's version check prints in a virtual environment (`None` when it fails).
pub async fn installed_version(spec: &EmulatorSpec, venv: &Path) -> Option<String> {
    let out = Command::new(venv.join("bin").join("python"))
        .arg("-c")
        .arg(spec.version_check.script())
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
