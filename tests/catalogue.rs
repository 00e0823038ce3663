//! The divergence catalogues (moto, LocalStack) as a regression suite. Every entry is replayed
//! against the model (it must conform: the entry's expectations are AWS's) and against its pinned
//! emulator (it must still diverge exactly as recorded; when it stops, the test says the entry was
//! fixed upstream). A full run against each emulator with its catalogue as baseline finds nothing
//! new and meets every entry, so removing any entry makes that run fail; one removal is checked
//! through the CLI. The parity matrix generated from the catalogues must be up to date.

use rstest::rstest;
use sm_harness::baseline::{classify, replay_entry, Replayed};
use sm_harness::catalogue::{load_entry, Catalogue};
use sm_harness::runner::{replay, run, RunConfig, Session};
use sm_harness::target::localstack::{LocalStackOptions, LocalStackTarget};
use sm_harness::target::model::ModelTarget;
use sm_harness::target::moto::{MotoOptions, MotoTarget};
use sm_harness::target::Target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[rstest]
fn entry_conforms_on_the_model_and_still_diverges_on_moto(#[files("fixtures/divergences/moto/*.json")] path: PathBuf) {
    check_entry(&path, "moto");
}

#[rstest]
fn entry_conforms_on_the_model_and_still_diverges_on_localstack(
    #[files("fixtures/divergences/localstack/*.json")] path: PathBuf,
) {
    check_entry(&path, "localstack");
}

/// Starts the catalogued target by name.
async fn start(target: &str) -> Box<dyn Target> {
    match target {
        "moto" => Box::new(MotoTarget::start(MotoOptions::default()).await.expect("moto starts")),
        "localstack" => {
            Box::new(LocalStackTarget::start(LocalStackOptions::default()).await.expect("LocalStack starts"))
        }
        other => panic!("no catalogued target {other}"),
    }
}

fn check_entry(path: &Path, target: &str) {
    let entry = load_entry(path).expect("a valid catalogue entry");
    assert_eq!(entry.target, target);
    assert_eq!(path.file_stem().and_then(|s| s.to_str()), Some(entry.id.as_str()), "file name = id");
    runtime().block_on(async {
        let session = Session::new("smconform-test-");
        let model = replay(&ModelTarget::new(), &entry.trace, &session).await;
        for (i, s) in model.steps.iter().enumerate() {
            assert!(
                matches!(s.model_check, Some(Ok(()))),
                "{}: step {} does not conform on the model",
                entry.id,
                i + 1
            );
        }
        let emulator = start(target).await;
        match replay_entry(&*emulator, &entry, &session).await {
            Replayed::StillPresent => {}
            Replayed::Fixed => {
                panic!(
                    "{}: fixed upstream: remove the entry {} ({target} no longer diverges)",
                    entry.id,
                    path.display()
                )
            }
            Replayed::Changed(now) => {
                panic!("{}: {target} now diverges differently ({now}): update the entry", entry.id)
            }
        }
    });
}

const FULL_RUN: (usize, usize, u64) = (1000, 30, 1);

/// Runs `cases` x `steps` cases of `seed` against `target` with `catalogue` as baseline and checks
/// that nothing is new and that the run met every entry itself, so removing any one makes it new.
async fn assert_full_run_meets_catalogue(
    target: Arc<dyn Target>,
    catalogue: &Catalogue,
    (cases, steps, seed): (usize, usize, u64),
) {
    let out = std::env::temp_dir().join(format!(
        "smconform-catalogue-{}-{}",
        target.name().replace(' ', "-"),
        std::process::id()
    ));
    let config = RunConfig { cases, steps, seed, jobs: 4, out_dir: out, max_shrink_iters: 500 };
    let session = Session::new("smconform-test-");
    let report = run(target.clone(), config, session.clone()).await;
    let c = classify(&report, catalogue, &*target, &session).await;
    let new: Vec<&str> = c.new.iter().map(|i| report.found[*i].signature.as_str()).collect();
    assert!(new.is_empty(), "new divergences: {new:?}");
    assert!(
        c.new_faults.is_empty(),
        "new faults: {:?}",
        c.new_faults.iter().map(|i| &report.faults[*i]).collect::<Vec<_>>()
    );
    assert!(!c.failing(false));
    let unmet: Vec<&String> = c.replayed.iter().map(|(id, _)| id).collect();
    assert!(unmet.is_empty(), "entries the run did not meet: {unmet:?}");
    assert!(report.leaked.is_empty());
}

#[test]
fn a_full_moto_run_with_the_baseline_finds_nothing_new_and_meets_every_entry() {
    let catalogue = Catalogue::load(&root().join("fixtures/divergences/moto")).expect("catalogue");
    runtime().block_on(async {
        let moto: Arc<dyn Target> = Arc::new(MotoTarget::start(MotoOptions::default()).await.expect("moto starts"));
        assert_full_run_meets_catalogue(moto, &catalogue, FULL_RUN).await;
    });
}

#[test]
fn a_full_localstack_run_with_the_baseline_finds_nothing_new_and_meets_every_entry() {
    let catalogue = Catalogue::load(&root().join("fixtures/divergences/localstack")).expect("catalogue");
    runtime().block_on(async {
        let target: Arc<dyn Target> =
            Arc::new(LocalStackTarget::start(LocalStackOptions::default()).await.expect("LocalStack starts"));
        assert_full_run_meets_catalogue(target, &catalogue, (300, 30, 1)).await;
    });
}

#[test]
fn removing_an_entry_makes_the_cli_run_fail() {
    let dir = std::env::temp_dir().join(format!("smconform-baseline-minus-one-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let removed = "moto-list-versions-arn-is-name";
    for e in std::fs::read_dir(root().join("fixtures/divergences/moto")).expect("catalogue") {
        let p = e.expect("entry").path();
        if p.file_stem().and_then(|s| s.to_str()) != Some(removed) {
            std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    let (cases, steps, seed) = FULL_RUN;
    let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .args([
            "run",
            "--quiet",
            "--cases",
            &cases.to_string(),
            "--steps",
            &steps.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--baseline")
        .arg(&dir)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("smconform runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("NEW     ListSecretVersionIds field ARN differs [list.versions]"), "{stdout}");
}

#[test]
fn the_parity_matrix_is_up_to_date() {
    let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .current_dir(root())
        .args(["matrix", "--check"])
        .output()
        .expect("smconform runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn reports_are_written_in_every_format() {
    let dir = std::env::temp_dir().join(format!("smconform-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .args(["run", "--target", "model", "--cases", "20", "--seed", "3", "--report", "json", "--report", "junit"])
        .args(["--report", "markdown", "--out"])
        .arg(&dir)
        .output()
        .expect("smconform runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("json report"))
            .expect("valid JSON");
    assert_eq!(json["format"], "smconform-report/1");
    assert_eq!(json["cases_run"], 20);
    assert_eq!(json["divergences"].as_array().map(Vec::len), Some(0));
    let junit = std::fs::read_to_string(dir.join("report.junit.xml")).expect("junit report");
    assert!(junit.contains("<testsuite name=\"smconform model\" tests=\"1\" failures=\"0\" errors=\"0\">"), "{junit}");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("markdown report");
    assert!(md.contains("| `label.previous-follows-current` |"), "{md}");
}

#[test]
fn matrix_run_marks_what_a_run_exercised() {
    // The first 40 cases of the seed-1 run that built the moto catalogue: nothing new.
    let dir = std::env::temp_dir().join(format!("smconform-matrix-run-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .current_dir(root())
        .args(["matrix", "--run", "--targets", "model,moto", "--cases", "40", "--steps", "30", "--seed", "1", "--out"])
        .arg(&dir)
        .output()
        .expect("smconform runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(dir.join("matrix.md")).expect("matrix.md");
    assert!(md.contains("| model | moto |"), "{md}");
    assert!(md.contains("conforms where exercised"), "{md}");
    assert!(md.contains("diverges: `moto-list-versions-arn-is-name`"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).expect("matrix.json")).expect("JSON");
    assert_eq!(json["format"], "smconform-parity/1");
}
