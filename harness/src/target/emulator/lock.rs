//! A lock file guarding the provisioning of one virtual environment across processes (several
//! test binaries, or a test and a run, may provision the same emulator at once).

use crate::target::TargetError;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncWriteExt as _;

/// How long to wait for another process that is provisioning the same environment.
const LOCK_WAIT: Duration = Duration::from_secs(20 * 60);

/// A lock file older than this is taken to be left over from a crashed process.
const LOCK_STALE: Duration = Duration::from_secs(30 * 60);

/// A lock file created with `create_new`; removed on drop.
pub(crate) struct LockFile {
    path: PathBuf,
}

impl LockFile {
    /// Takes the lock, waiting for another holder. `Ok(None)`: while waiting, the file `done`
    /// appeared (the other holder finished), so there is nothing left to do. `what` names it in
    /// errors.
    pub(crate) async fn acquire(path: &Path, done: &Path, what: &str) -> Result<Option<LockFile>, TargetError> {
        let error = |detail: String| TargetError::Provision { what: what.to_string(), detail };
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match tokio::fs::OpenOptions::new().write(true).create_new(true).open(path).await {
                Ok(mut file) => {
                    // The pid is only informative (for stale-lock detection); a failed write is harmless.
                    let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes()).await;
                    return Ok(Some(LockFile { path: path.to_path_buf() }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if tokio::fs::try_exists(done).await.unwrap_or(false) {
                        return Ok(None);
                    }
                    if is_stale(path).await {
                        let _ = tokio::fs::remove_file(path).await;
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
        // One unlink: too small to be worth a thread.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A lock is stale when its holder is gone (its pid has no `/proc` entry, where `/proc` exists)
/// or when it is older than [`LOCK_STALE`].
pub(crate) async fn is_stale(path: &Path) -> bool {
    let proc = Path::new("/proc");
    if tokio::fs::try_exists(proc.join("self")).await.unwrap_or(false) {
        let pid = tokio::fs::read_to_string(path).await.ok().and_then(|t| t.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            if !tokio::fs::try_exists(proc.join(pid.to_string())).await.unwrap_or(true) {
                return true;
            }
        }
    }
    tokio::fs::metadata(path)
        .await
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > LOCK_STALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exclusive_and_stale_locks_are_taken_over() {
        let dir = std::env::temp_dir().join(format!("smconform-lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("x.lock");
        let ready = dir.join("ready");
        let held = LockFile::acquire(&lock, &ready, "x").await.unwrap().expect("free lock");
        // Held by this (live) process: a second taker waits, and gives up when the environment
        // becomes ready meanwhile.
        std::fs::write(&ready, "").unwrap();
        assert!(LockFile::acquire(&lock, &ready, "x").await.unwrap().is_none());
        drop(held);
        assert!(!lock.exists());
        // A lock whose holder is gone is stale, and taken over.
        std::fs::write(&lock, "4294967295\n").unwrap();
        if Path::new("/proc/self").exists() {
            assert!(is_stale(&lock).await);
            std::fs::remove_file(&ready).unwrap();
            assert!(LockFile::acquire(&lock, &ready, "x").await.unwrap().is_some());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
