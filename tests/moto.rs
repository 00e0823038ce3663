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
