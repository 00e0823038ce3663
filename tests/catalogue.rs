//! The divergence catalogues (one per managed emulator of the registry) as a regression suite.
//! Every entry is replayed against the model (it must conform: the entry's expectations are AWS's)
//! and against its pinned emulator (it must still show its cause; when it stops, the test says
//! the entry was fixed upstream). Each reproduction's recording must show its entry's cause. A full run against each emulator with its catalogue as
//! baseline finds nothing new, so removing an entry the run meets makes that run fail (one removal
//! is checked through the CLI); an entry the run no longer meets (the model's corrections changed
//! where cases diverge first) must still reproduce when replayed. The parity matrix generated from the catalogues must be up
//! to date.
//!
//! Each emulator is started once for this whole binary (a shared instance) and every entry and
//! run uses a name prefix of its own, so the tests share it safely and in parallel.

use rstest::rstest;
use sm_harness::baseline::{classify, replay_entry, Replayed};
use sm_harness::catalogue::{load_entry, recorded_cause, Catalogue};
use sm_harness::runner::{replay, run, RunConfig, Session};
use sm_harness::target::emulator::shared::{shared, Shared};
use sm_harness::target::emulator::EmulatorSpec;
use sm_harness::target::model::ModelTarget;
use sm_harness::target::registry;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared instance of an emulator (started once for this whole test binary).
fn instance(spec: &'static EmulatorSpec) -> &'static Shared {
    shared(spec).unwrap_or_else(|e| panic!("{} does not start: {e}", spec.label()))
}

/// Every entry of every catalogue (`fixtures/divergences/<emulator>/`), against the emulator its
/// `target` names.
#[rstest]
fn entry_conforms_on_the_model_and_still_diverges_on_its_emulator(
    #[files("fixtures/divergences/*/*.json")] path: PathBuf,
) {
    let entry = load_entry(&path).expect("a valid catalogue entry");
    let folder = path.parent().and_then(Path::file_name).and_then(|s| s.to_str());
    assert_eq!(folder, Some(entry.target.as_str()), "an entry lies in its target's folder");
    assert_eq!(path.file_stem().and_then(|s| s.to_str()), Some(entry.id.as_str()), "file name = id");
    // Each reproduction, followed on the model with what the target answered when it was
    // recorded, shows the entry's cause at its last step (no target needed for this).
    for r in &entry.reproductions {
        let shown = recorded_cause(&r.trace).unwrap_or_else(|e| panic!("{}#{}: {e}", entry.id, r.id));
        assert_eq!(
            shown,
            Some((r.divergence.clone(), entry.cause.clone())),
            "{}#{}: the recording shows another divergence or cause",
            entry.id,
            r.id
        );
    }
    let spec =
        registry::managed(&entry.target).unwrap_or_else(|| panic!("{}: no managed target {}", entry.id, entry.target));
    let emulator = instance(spec);
    // Entries share the emulator: each replays under a name prefix of its own.
    let session = Session::new(format!("smct-{}-", entry.id));
    emulator.block_on(async {
        for r in &entry.reproductions {
            let model = replay(&ModelTarget::new(), &r.trace, &session).await;
            for (i, s) in model.steps.iter().enumerate() {
                assert!(
                    matches!(s.model_check, Some(Ok(()))),
                    "{}#{}: step {} does not conform on the model",
                    entry.id,
                    r.id,
                    i + 1
                );
            }
        }
        let target = &entry.target;
        match replay_entry(&**emulator.target(), &entry, &session).await {
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
            Replayed::Unknown(fault) => panic!("{}: the replay against {target} met a fault: {fault}", entry.id),
        }
    });
}

/// Runs the emulator's catalogue run against it with its catalogue as baseline; returns what is
/// wrong: anything new, or an entry the run did not meet itself (so removing any entry makes the
/// run find it new).
fn full_run_problems(spec: &'static EmulatorSpec) -> Vec<String> {
    let dir = root().join("fixtures/divergences").join(spec.name);
    let catalogue = Catalogue::load(&dir).expect("catalogue");
    let emulator = instance(spec);
    let target = emulator.dyn_target();
    let shape = spec.catalogue_run;
    let out = std::env::temp_dir().join(format!("smconform-catalogue-{}-{}", spec.name, std::process::id()));
    let config = RunConfig {
        cases: shape.cases,
        steps: shape.steps,
        seed: shape.seed,
        jobs: 4,
        out_dir: out,
        max_shrink_iters: 500,
        already_reproduced: catalogue.reproduced(),
    };
    let session = Session::new(format!("smct-full-{}-", spec.name));
    emulator.block_on(async {
        let report = run(target.clone(), config, session.clone()).await;
        let c = classify(&report, &catalogue, &*target, &session).await;
        let mut problems = Vec::new();
        for i in &c.new {
            let f = &report.found[*i];
            problems.push(format!("{}: new cause {} ({})", spec.name, f.cause, f.signature));
        }
        // Faults are not divergences: moto's server answers HTML 500s at random places when it is
        // loaded, so a kind of fault the catalogue does not hold is reported here, not failed on
        // (tests/faults.rs checks how faults are handled; a run with --baseline exits 3 for one).
        for i in &c.new_faults {
            let f = &report.faults[*i];
            eprintln!("{}: fault not in the catalogue: {} {}: {}", spec.name, f.op, f.kind.name(), f.detail);
        }
        // An entry the run did not meet must still reproduce when replayed (the per-entry tests
        // check that too); one that no longer does is fixed or changed, and that is a problem.
        for (id, r) in &c.replayed {
            if !matches!(r, Replayed::StillPresent) {
                problems.push(format!("{}: entry {id} was not met and no longer reproduces", spec.name));
            }
        }
        if c.failing(false) && problems.is_empty() {
            problems.push(format!("{}: the run fails against its baseline", spec.name));
        }
        if !report.leaked.is_empty() {
            problems.push(format!("{}: left behind {:?}", spec.name, report.leaked));
        }
        problems
    })
}

/// Every registered emulator at once (each on its own instance).
#[test]
fn a_full_run_of_each_emulator_with_its_baseline_finds_nothing_new_and_meets_every_entry() {
    let problems: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = registry::MANAGED.iter().map(|spec| scope.spawn(move || full_run_problems(spec))).collect();
        runs.into_iter().flat_map(|r| r.join().expect("a full run panicked")).collect()
    });
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn removing_an_entry_makes_the_cli_run_fail() {
    let dir = std::env::temp_dir().join(format!("smconform-baseline-minus-one-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let removed = "moto-differs-in-effect-under-list-versions";
    for e in std::fs::read_dir(root().join("fixtures/divergences/moto")).expect("catalogue") {
        let p = e.expect("entry").path();
        if p.file_stem().and_then(|s| s.to_str()) != Some(removed) {
            std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    // The first 40 cases of the catalogue run meet the removed entry; the shared moto serves.
    let moto = instance(&sm_harness::target::moto::SPEC);
    let url = moto.target().server().endpoint_url().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .args(["run", "--quiet", "--target", "endpoint", "--endpoint-url", &url])
        .args(["--cases", "40", "--steps", "30", "--seed", "1"])
        .arg("--baseline")
        .arg(&dir)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("smconform runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let new_causes: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  NEW ")).collect();
    assert_eq!(new_causes.len(), 1, "{stdout}");
    assert!(new_causes[0].ends_with(" differs in effect under list.versions"), "{stdout}");
    assert!(stdout.contains("ListSecretVersionIds field ARN differs [list.versions]"), "{stdout}");
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
    assert!(
        junit.contains("<testsuite name=\"smconform model\" tests=\"1\" skipped=\"0\" errors=\"0\" failures=\"0\">"),
        "{junit}"
    );
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
    assert!(md.contains("diverges: `moto-differs-in-effect-under-list-versions`"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).expect("matrix.json")).expect("JSON");
    assert_eq!(json["format"], "smconform-parity/1");
}
