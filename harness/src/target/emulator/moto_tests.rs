//! moto's own AWS-verified Secrets Manager tests, provisioned like an emulator so that any
//! endpoint (`smconform serve` above all) can be measured by a test suite written by others.
//!
//! [`provision`] makes, under the cache folder:
//! - `moto-tests-venv-5.2.5`: a virtual environment with pytest, boto3 and what the tests import
//!   (moto itself, freezegun), every distribution pinned by [`CONSTRAINTS`];
//! - `moto-tests-5.2.5`: the `tests/` folder and `pyproject.toml` of moto's 5.2.5 source
//!   distribution, downloaded with pip (its hash pinned) and unpacked.
//!
//! The [`AWS_VERIFIED`] tests are the ones decorated `@aws_verified` (or
//! `@secretsmanager_aws_verified`) in `tests/test_secretsmanager/`, less the two Lambda rotation
//! tests that also need IAM, Lambda and DynamoDB. With `MOTO_TEST_ALLOW_AWS_REQUEST=true` both
//! decorators call the test without `mock_aws`, so boto3 talks to whatever `AWS_ENDPOINT_URL`
//! names; `secretsmanager_aws_verified` also creates a secret before the test and deletes it
//! after (in us-east-1).

use super::provision::{cache_dir, provision as provision_venv};
use super::{EmulatorSpec, PipInstall, VersionCheck};
use crate::target::TargetError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// The moto release whose tests are run.
pub const VERSION: &str = "5.2.5";

/// sha256 of `moto-5.2.5.tar.gz` on PyPI.
pub const SDIST_SHA256: &str = "391857257d5dac144334013c2c10e599def5f0562f553e979160140bd7bd9cf6";

/// Every distribution of the test environment, pinned (pip's `-c`).
pub const CONSTRAINTS: &str = "\
boto3==1.44.8
botocore==1.44.8
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cryptography==50.0.2
freezegun==1.5.5
idna==3.20
iniconfig==2.3.1
jmespath==1.1.0
MarkupSafe==3.0.4
moto==5.2.5
packaging==26.4
pluggy==1.7.0
pycparser==3.12
Pygments==2.21.0
pytest==9.2.0
python-dateutil==2.9.0.post0
PyYAML==6.0.4
requests==2.34.2
responses==0.26.3
s3transfer==0.19.3
six==1.17.0
urllib3==2.8.0
Werkzeug==3.1.9
xmltodict==1.0.4
";

/// The test environment, provisioned by [`super::provision`] like an emulator's (never started).
pub static SPEC: EmulatorSpec = EmulatorSpec {
    about: "moto's AWS-verified Secrets Manager tests (pytest, boto3), run against an endpoint",
    install: &[PipInstall {
        requirements: &["moto==5.2.5", "boto3==1.44.8", "pytest==9.2.0", "freezegun==1.5.5"],
        constraints: Some(("moto-tests-constraints.txt", CONSTRAINTS)),
    }],
    version_check: VersionCheck::Script(
        "import sys, moto, moto.secretsmanager, boto3, pytest, freezegun; sys.stdout.write(moto.__version__)",
    ),
    ..EmulatorSpec::defaults("moto-tests", VERSION)
};

/// The AWS-verified tests, as pytest node ids relative to the unpacked source.
pub const AWS_VERIFIED: [&str; 13] = [
    "tests/test_secretsmanager/test_list_secrets.py::test_with_all_filter",
    "tests/test_secretsmanager/test_list_secrets.py::test_with_all_filter_special_characters",
    "tests/test_secretsmanager/test_list_secrets.py::test_with_duplicate_filter_keys",
    "tests/test_secretsmanager/test_list_secrets.py::test_with_filter_with_value_with_multiple_words",
    "tests/test_secretsmanager/test_secretsmanager.py::test_create_duplicate_secret_without_specifying_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_create_duplicate_secret_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_create_different_secret_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_put_same_secret_value_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_put_different_secret_value_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_update_same_secret_value_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_update_different_secret_value_with_same_token",
    "tests/test_secretsmanager/test_secretsmanager.py::test_update_secret_version_stage_manually",
    "tests/test_secretsmanager/test_secretsmanager.py::test_update_secret_version_stage_dont_specify_current_stage",
];

/// A provisioned test suite.
#[derive(Clone, Debug)]
pub struct MotoTests {
    /// The environment's python.
    pub python: PathBuf,
    /// The unpacked source: run pytest here, with the [`AWS_VERIFIED`] node ids.
    pub root: PathBuf,
}

/// File written into the unpacked source once it is complete.
const MARKER: &str = ".smconform-ok";

fn error(detail: impl Into<String>) -> TargetError {
    TargetError::Provision { what: SPEC.label(), detail: detail.into() }
}

/// Provisions the suite in `cache` (see the module docs) and returns where it is.
pub async fn provision(cache: &Path) -> Result<MotoTests, TargetError> {
    let venv = provision_venv(&SPEC, cache).await?;
    let python = venv.join("bin").join("python");
    let root = cache.join(format!("moto-tests-{VERSION}"));
    if !tokio::fs::try_exists(root.join(MARKER)).await.unwrap_or(false) {
        unpack_sdist(&python, cache, &root).await?;
    }
    Ok(MotoTests { python, root })
}

/// [`provision`] in the default cache folder.
pub async fn provision_default() -> Result<MotoTests, TargetError> {
    provision(&cache_dir()?).await
}

/// Downloads the source distribution (hash-checked) and unpacks its tests into `root`, through a
/// folder of this process renamed into place, so that a reader never sees half of it.
async fn unpack_sdist(python: &Path, cache: &Path, root: &Path) -> Result<(), TargetError> {
    let work = cache.join(format!("moto-tests-{VERSION}.tmp-{}", std::process::id()));
    let _ = tokio::fs::remove_dir_all(&work).await;
    tokio::fs::create_dir_all(&work).await.map_err(|e| error(format!("cannot create {}: {e}", work.display())))?;
    let requirement = work.join("sdist-requirement.txt");
    tokio::fs::write(&requirement, format!("moto=={VERSION} --hash=sha256:{SDIST_SHA256}\n"))
        .await
        .map_err(|e| error(format!("cannot write {}: {e}", requirement.display())))?;
    let result = async {
        run(
            Command::new(python)
                .args(["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-input"])
                .args(["--no-deps", "--no-binary", ":all:", "--require-hashes", "-d"])
                .arg(&work)
                .arg("-r")
                .arg(&requirement),
            "pip download moto sdist",
        )
        .await?;
        let unpacked = work.join("unpacked");
        let script = format!(
            "import sys, tarfile\n\
             with tarfile.open(sys.argv[1]) as t:\n\
             \x20   top = 'moto-{VERSION}/'\n\
             \x20   keep = [m for m in t.getmembers() if m.name.startswith(top + 'tests/') or m.name == top + 'pyproject.toml']\n\
             \x20   for m in keep: m.name = m.name[len(top):]\n\
             \x20   safe = {{'filter': 'data'}} if hasattr(tarfile, 'data_filter') else {{}}\n\
             \x20   t.extractall(sys.argv[2], members=keep, **safe)\n"
        );
        run(
            Command::new(python).arg("-c").arg(script).arg(work.join(format!("moto-{VERSION}.tar.gz"))).arg(&unpacked),
            "unpack moto sdist",
        )
        .await?;
        tokio::fs::write(unpacked.join(MARKER), format!("moto-{VERSION}.tar.gz sha256:{SDIST_SHA256}\n"))
            .await
            .map_err(|e| error(format!("cannot write the marker: {e}")))?;
        if !tokio::fs::try_exists(root.join(MARKER)).await.unwrap_or(false) {
            // Left over from an interrupted attempt.
            let _ = tokio::fs::remove_dir_all(root).await;
        }
        match tokio::fs::rename(&unpacked, root).await {
            Ok(()) => Ok(()),
            // Another process put it there first.
            Err(_) if tokio::fs::try_exists(root.join(MARKER)).await.unwrap_or(false) => Ok(()),
            Err(e) => Err(error(format!("cannot move the tests to {}: {e}", root.display()))),
        }
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    result
}

async fn run(command: &mut Command, what: &str) -> Result<(), TargetError> {
    let out = command.stdin(Stdio::null()).output().await.map_err(|e| error(format!("cannot run `{what}`: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Err(error(format!("`{what}` failed:\n{}", super::provision::tail(&text, 20))))
}
