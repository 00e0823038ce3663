//! The harness against the embedded moto (provisioned and started on a loopback port by the
//! harness itself): a run finds divergences, each shrunk and written as a trace, and each trace
//! replays to the same divergence (and cause) against moto while the model accepts its own
//! expectations. Cases go on past moto's divergences, so they are as long as against the model.

use sm_harness::runner::{replay, run, signature, RunConfig, Session};
use sm_harness::target::emulator::shared::shared;
use sm_harness::target::model::ModelTarget;
use sm_harness::target::moto;

fn config_for(out: &std::path::Path) -> RunConfig {
    RunConfig {
        cases: 80,
        steps: 20,
        seed: 11,
        jobs: 4,
        out_dir: out.to_path_buf(),
        max_shrink_iters: 300,
        already_reproduced: Default::default(),
    }
}

#[test]
fn a_moto_run_finds_shrunk_replayable_divergences() {
    let instance = shared(&moto::SPEC).expect("moto starts");
    let moto = instance.dyn_target();
    instance.block_on(async {
        let out = std::env::temp_dir().join(format!("smconform-moto-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let config = config_for(&out);
        let session = Session::new("smconform-test-");
        let report = run(moto.clone(), config, session.clone()).await;
        assert!(report.aborted.is_none(), "{:?}", report.aborted);
        assert!(report.leaked.is_empty(), "left behind: {:?}", report.leaked);
        // A case goes on past moto's divergences: it sends about as many requests as the same
        // seed's cases against the model, and reaches the states rotation rules need.
        let on_model = run(
            std::sync::Arc::new(ModelTarget::new()),
            RunConfig { out_dir: out.join("model"), ..config_for(&out) },
            Session::new("smconform-test-model-"),
        )
        .await;
        let per_case = |r: &sm_harness::runner::RunReport| r.coverage.total_requests() as f64 / r.cases_run as f64;
        assert!(
            per_case(&report) >= 0.8 * per_case(&on_model),
            "requests per case: moto {:.1}, model {:.1}",
            per_case(&report),
            per_case(&on_model)
        );
        assert!(report.coverage.states.contains_key("stalled AWSPENDING"), "{}", report.coverage.render());
        assert!(report.coverage.exercised("rotate.stalled-pending"), "{}", report.coverage.render());
        assert!(
            report.found.len() >= 3,
            "expected several moto divergences, found {:?}",
            report.found.iter().map(|f| &f.signature).collect::<Vec<_>>()
        );
        // moto answers ListSecretVersionIds on a missing secret with HTTP 500: a fault, shrunk to
        // the one call that shows it, whose expectation is AWS's answer.
        let fault = report
            .fault_reproductions
            .iter()
            .find(|f| f.signature == "fault ListSecretVersionIds server error")
            .expect("the ListSecretVersionIds fault, shrunk");
        assert_eq!(fault.trace.steps.len(), 1, "{:?}", fault.trace);
        assert!(fault.trace.steps[0].observed.as_ref().is_some_and(|o| o.get("fault").is_some()));
        assert_eq!(
            fault.trace.steps[0].expect.as_ref().map(|e| e.to_json()),
            Some(serde_json::json!({"error": {"code": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}}))
        );
        for f in &report.found {
            assert!(f.trace.steps.len() <= f.original_steps, "{}: not shrunk", f.signature);
            assert_eq!(f.step, f.trace.steps.len(), "{}: a reproduction ends at its divergence", f.signature);
            assert!(f.path.exists(), "{} was not written", f.path.display());

            // Against moto the trace diverges again at its last step, in the same way and for
            // the same cause (it may diverge earlier too: the run follows moto past a divergence).
            let again = replay(&*moto, &f.trace, &session).await;
            assert!(again.fault.is_none(), "{}: {:?}", f.signature, again.fault);
            let last = again.steps.last().expect("steps");
            let Some(Err(last_mismatch)) = &last.model_check else {
                panic!("{}: did not diverge again at its last step", f.signature)
            };
            assert_eq!(signature(&last.request, last_mismatch, last.model_outcome.as_ref()), f.signature);
            assert_eq!(last.cause.as_ref(), Some(&f.cause), "{}: another cause", f.signature);
            assert!(matches!(last.expect_check, Some(Err(_))), "{}: the expect should fail too", f.signature);

            // Against the model, every step is what the model allows.
            let model = ModelTarget::new();
            let clean = replay(&model, &f.trace, &session).await;
            assert!(clean.steps.iter().all(|s| matches!(s.model_check, Some(Ok(())))), "{}", f.signature);
        }
    });
}

/// The files of an output folder, by name. A fault's reproduction quotes the target's answer,
/// whose HTTP Date header changes from run to run: its `detail` is left out of the comparison.
/// The divergence reproductions a run wrote, byte for byte. Fault reproductions are left out:
/// which requests fault depends on the target (moto answers HTML 500s at random places when it
/// is loaded), not on the harness, so they cannot be the same from run to run.
fn outputs(dir: &std::path::Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut files = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("output folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("fault-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a reproduction");
        // Byte for byte: the JSON value is only for a readable failure.
        files.insert(name, serde_json::json!({ "text": text }));
    }
    files
}

#[test]
fn the_same_seed_gives_the_same_reproductions_at_1_and_4_jobs() {
    use sm_harness::target::emulator::managed::ManagedOptions;
    use sm_harness::target::emulator::PoolTarget;
    use sm_harness::target::Target;
    use std::sync::Arc;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        // One pool of four motos, one per job; the run at one job uses the first only.
        let pool = PoolTarget::start(&moto::SPEC, &ManagedOptions::default(), 4).await.expect("moto starts");
        let ports: std::collections::BTreeSet<u16> = pool.instances().iter().map(|t| t.server().port()).collect();
        assert_eq!(ports.len(), 4, "each instance on its own port");
        let pids: Vec<u32> = pool.instances().iter().filter_map(|t| t.server().pid()).collect();
        let pool = Arc::new(pool);
        let target: Arc<dyn Target> = pool.clone();
        assert_eq!(target.capabilities().max_jobs, 4);
        let base = std::env::temp_dir().join(format!("smconform-moto-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mut found = Vec::new();
        for jobs in [1, 4] {
            let out = base.join(format!("jobs-{jobs}"));
            let config = RunConfig {
                cases: 12,
                steps: 12,
                seed: 7,
                jobs,
                out_dir: out.clone(),
                max_shrink_iters: 40,
                already_reproduced: Default::default(),
            };
            let report = run(target.clone(), config, Session::new(format!("smconform-test-j{jobs}-"))).await;
            assert!(report.aborted.is_none(), "{:?}", report.aborted);
            assert!(report.leaked.is_empty(), "left behind: {:?}", report.leaked);
            assert_eq!(report.cases_run, 12);
            let summary: Vec<(String, String, usize, usize)> =
                report.found.iter().map(|f| (f.signature.to_string(), f.cause.to_string(), f.case, f.hits)).collect();
            found.push((summary, outputs(&out)));
        }
        let (one, four) = (&found[0], &found[1]);
        assert!(one.0.len() >= 2, "expected moto divergences at this seed, found {:?}", one.0);
        assert_eq!(one.0, four.0, "the same divergences, from the same cases, as often");
        assert_eq!(one.1, four.1, "the same reproduction files");
        drop(target);
        let pool = Arc::try_unwrap(pool).expect("the runs are over");
        pool.shutdown().await;
        for pid in pids {
            assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "moto {pid} still running");
        }
        let _ = std::fs::remove_dir_all(&base);
    });
}
