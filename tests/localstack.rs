//! The harness against the embedded LocalStack (provisioned if needed and started on a loopback
//! port by the harness itself): its rotation does what the target declares, a run finds
//! divergences that each end at their divergence, and no LocalStack process outlives its server.
//! Skipped (with a message) on a machine without python3, except under CI (CI set), where it fails.

use serde_json::{json, Value};
use sm_harness::runner::{run, RunConfig, Session};
use sm_harness::target::emulator::managed::{ManagedOptions, ManagedTarget};
use sm_harness::target::localstack::{LOCALSTACK_VERSION, SPEC};
use sm_harness::target::{Observed, Target, TargetError};
use sm_model::request as input;
use sm_model::{FunctionBehaviour, Request, Step};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FAILING_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:smconform-fail-at-createSecret";
const MISSING_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:smconform-not-invocable";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Starts LocalStack, or explains why the test is skipped (no python3 on this machine).
async fn start_or_skip() -> Option<ManagedTarget> {
    let started = Instant::now();
    match ManagedTarget::start(&SPEC, &ManagedOptions::default()).await {
        Ok(t) => {
            eprintln!("LocalStack (provisioning if needed) started in {:?}", started.elapsed());
            Some(t)
        }
        Err(TargetError::NoPython(m)) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the LocalStack test: {m}");
            None
        }
        Err(e) => panic!("LocalStack did not start: {e}"),
    }
}

/// Whether any process is left in process group `pgid`.
fn group_alive(pgid: u32) -> bool {
    std::process::Command::new("sh")
        .args(["-c", "kill -s 0 -- \"-$0\" 2>/dev/null", &pgid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

fn ok(o: Observed) -> Value {
    match o {
        Observed::Ok(v) => v,
        other => panic!("expected success, got {other:?}"),
    }
}

#[test]
fn localstack_rotation_leaves_an_empty_pending_version() {
    runtime().block_on(async {
        let Some(target) = start_or_skip().await else {
            return;
        };
        assert_eq!(target.name(), format!("localstack {LOCALSTACK_VERSION}"));
        assert_eq!(
            target.capabilities().behaviours,
            vec![FunctionBehaviour::FailAt(Step::CreateSecret), FunctionBehaviour::NotInvocable]
        );
        assert_eq!(SPEC.behaviours, target.capabilities().behaviours.as_slice());
        let functions: BTreeMap<String, FunctionBehaviour> = [
            (FAILING_ARN.to_string(), FunctionBehaviour::FailAt(Step::CreateSecret)),
            (MISSING_ARN.to_string(), FunctionBehaviour::NotInvocable),
        ]
        .into();
        target.prepare(&functions).await.expect("prepare");
        target.prepare(&functions).await.expect("prepare is idempotent");
        let complete = [(FAILING_ARN.to_string(), FunctionBehaviour::Complete)].into();
        assert!(target.prepare(&complete).await.is_err(), "a behaviour LocalStack cannot express");

        let name = "smconform-lstest-rotation";
        let token = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
        ok(target
            .send(&Request::CreateSecret(input::CreateSecret {
                name: name.into(),
                client_request_token: Some(token(1)),
                secret_string: Some("v1".into()),
                ..Default::default()
            }))
            .await);
        let rotate = |arn: &str, n: u32| {
            Request::RotateSecret(input::RotateSecret {
                secret_id: name.into(),
                client_request_token: Some(token(n)),
                rotation_lambda_arn: Some(arn.into()),
                ..Default::default()
            })
        };

        // No function: refused (AWS says AccessDeniedException), nothing changes.
        match target.send(&rotate(MISSING_ARN, 9)).await {
            Observed::Error { code, .. } => assert_eq!(code, "ResourceNotFoundException"),
            other => panic!("rotation with a missing function: {other:?}"),
        }

        // A function that exists but cannot run: accepted, and the rotation stops after the
        // service's own first step, before the answer arrives (synchronously).
        let rotated = ok(target.send(&rotate(FAILING_ARN, 2)).await);
        assert_eq!(rotated["VersionId"], json!(token(2)));
        let describe = Request::DescribeSecret(input::SecretIdOnly { secret_id: name.into() });
        let expected_stages = json!({ token(1): ["AWSCURRENT"], token(2): ["AWSPENDING"] });
        assert_eq!(ok(target.send(&describe).await)["VersionIdsToStages"], expected_stages);
        let pending = Request::GetSecretValue(input::GetSecretValue {
            secret_id: name.into(),
            version_stage: Some("AWSPENDING".into()),
            ..Default::default()
        });
        match target.send(&pending).await {
            Observed::Error { code, .. } => assert_eq!(code, "ResourceNotFoundException"),
            other => panic!("the pending version should have no value: {other:?}"),
        }
        // Nothing happens in the background.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(ok(target.send(&describe).await)["VersionIdsToStages"], expected_stages);
        // The secret is now stalled.
        match target.send(&rotate(FAILING_ARN, 3)).await {
            Observed::Error { code, .. } => assert_eq!(code, "InvalidRequestException"),
            other => panic!("a stalled rotation should be refused: {other:?}"),
        }
        assert!(target.cleanup(&[name.to_string()]).await.is_empty());

        // Dropped without a shutdown: everything in LocalStack's process group is stopped, and
        // nothing answers on its port any more.
        let pgid = target.server().pid().expect("running");
        let port = target.server().port();
        assert!(group_alive(pgid));
        let stopped = Instant::now();
        drop(target);
        eprintln!("dropping LocalStack took {:?}", stopped.elapsed());
        assert!(!group_alive(pgid), "LocalStack's process group outlived its server");
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    });
}

#[test]
fn a_localstack_run_finds_divergences() {
    runtime().block_on(async {
        let started = Instant::now();
        let Some(target) = start_or_skip().await else {
            return;
        };
        let target = Arc::new(target);
        let pgid = target.server().pid().expect("running");
        let out = std::env::temp_dir().join(format!("smconform-localstack-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let config = RunConfig {
            cases: 40,
            steps: 15,
            seed: 3,
            jobs: 2,
            out_dir: out.clone(),
            max_shrink_iters: 200,
            already_reproduced: Default::default(),
        };
        let session = Session::new("smconform-lstest-");
        let ran = Instant::now();
        let report = run(target.clone(), config, session).await;
        eprintln!("run took {:?}", ran.elapsed());
        assert!(report.aborted.is_none(), "{:?}", report.aborted);
        assert!(report.leaked.is_empty(), "left behind: {:?}", report.leaked);
        assert!(!report.found.is_empty(), "expected LocalStack divergences, found none");
        for f in &report.found {
            eprintln!("found {} ({} steps): {}", f.signature, f.trace.steps.len(), f.path.display());
            assert_eq!(f.step, f.trace.steps.len(), "{}: a reproduction ends at its divergence", f.signature);
            assert!(f.path.exists(), "{} was not written", f.path.display());
        }

        let target = Arc::try_unwrap(target).expect("the run let go of the target");
        let stopped = Instant::now();
        target.shutdown().await;
        eprintln!("shutdown took {:?}; whole test {:?}", stopped.elapsed(), started.elapsed());
        assert!(!group_alive(pgid), "LocalStack's process group outlived its shutdown");
        // SMCONFORM_KEEP_OUT=1 keeps the traces for a look.
        if std::env::var_os("SMCONFORM_KEEP_OUT").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    });
}
