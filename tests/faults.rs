//! Target faults never become divergences and leave nothing behind. For each kind of fault a
//! fault-injecting proxy ([`proxy`]) puts between the harness and moto (reset before or after
//! delivery, HTTP 500, throttling, a delay past the time-out, a truncated body, late delivery),
//! a short run through the proxy, classified against part of moto's catalogue:
//!
//! - reports every injected fault as a fault (of a case request, or of a catalogue replay, which
//!   is then "unknown this run"), and no fault that was not injected beyond what moto shows
//!   directly;
//! - finds no divergence that the same seed does not show directly and moto's catalogue does not
//!   hold, and reports no catalogue entry changed or fixed;
//! - leaves nothing under its prefix (checked by listing moto without the proxy).
//!
//! One moto (shared), one run per kind, few cases, one job (so that which request is faulted
//! is the same on every run).

#[path = "common/proxy.rs"]
mod proxy;

use proxy::{Fault, Proxy, MARKER};
use serde_json::Value;
use sm_harness::baseline::{classify, Replayed};
use sm_harness::catalogue::Catalogue;
use sm_harness::runner::{execute, run, sweep, RunConfig, RunReport, Session, Source};
use sm_harness::target::emulator::shared::shared;
use sm_harness::target::endpoint::{EndpointConfig, EndpointTarget};
use sm_harness::target::{moto, FaultKind, Target};
use sm_model::Model;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SEED: u64 = 23;
const CASES: usize = 10;
const STEPS: usize = 10;
/// Time-out of the harness's requests through the proxy.
const TIMEOUT: Duration = Duration::from_secs(1);

fn config(name: &str) -> RunConfig {
    RunConfig {
        cases: CASES,
        steps: STEPS,
        seed: SEED,
        jobs: 1,
        out_dir: std::env::temp_dir().join(format!("smconform-faults-{name}-{}", std::process::id())),
        max_shrink_iters: 0,
        already_reproduced: Default::default(),
    }
}

async fn endpoint(url: &str) -> Arc<dyn Target> {
    endpoint_with(url, TIMEOUT).await
}

async fn endpoint_with(url: &str, timeout: Duration) -> Arc<dyn Target> {
    let mut c = EndpointConfig::new(Some(url.to_string()));
    c.operation_timeout = timeout;
    Arc::new(EndpointTarget::new(c).await.expect("client"))
}

/// A clean-up delete (or one the cases send the same way): its faults are retried, not reported.
fn is_force_delete(op: &str, input: &Value) -> bool {
    op == "DeleteSecret" && input.get("ForceDeleteWithoutRecovery") == Some(&Value::Bool(true))
}

/// Whether a reported fault is moto's own (it answers some requests with HTTP 500 by itself).
fn is_motos_own(kind: FaultKind, detail: &str) -> bool {
    kind == FaultKind::Server && !detail.contains(MARKER)
}

/// The execution number of the physical name in a request body (`<prefix>c<n>-…`).
fn case_of(body: &Value, prefix: &str) -> Option<usize> {
    let text = body.to_string();
    let rest = &text[text.find(&format!("{prefix}c"))? + prefix.len() + 1..];
    rest.split('-').next()?.parse().ok()
}

fn secrets_under(names: Vec<String>, prefix: &str) -> Vec<String> {
    names.into_iter().filter(|n| n.starts_with(prefix)).collect()
}

#[test]
fn injected_faults_are_faults_never_divergences_and_nothing_is_left_behind() {
    let instance = shared(&moto::SPEC).expect("moto starts");
    let moto_url = instance.target().server().endpoint_url().to_string();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/divergences/moto");
    let full = Catalogue::load(&dir).expect("moto catalogue");
    // Replaying every entry through each proxy would be slow: a few are enough to see that a
    // replay meeting a fault is unknown, never changed or fixed.
    let part = Catalogue { entries: full.entries.iter().take(10).cloned().collect() };
    instance.block_on(async {
        let direct = endpoint(&moto_url).await;
        let session = Session::new("smft-direct-");
        let report = run(direct.clone(), config("direct"), session.clone()).await;
        let c = classify(&report, &part, &*direct, &session).await;
        assert!(c.changed().is_empty() && c.fixed().is_empty(), "direct: {:?}", c.replayed);
        assert!(sweep(&*direct, &session).await.left.is_empty());
        let direct_found: BTreeSet<String> = report.found.iter().map(|f| f.cause.to_string()).collect();
        assert!(report.faults.iter().all(|f| is_motos_own(f.kind, &f.detail)), "{:?}", report.faults);

        let mut problems = Vec::new();
        for (fault, every, delay) in [
            (Fault::ResetBeforeDelivery, 5, Duration::ZERO),
            (Fault::ResetAfterDelivery, 5, Duration::ZERO),
            (Fault::Http500, 5, Duration::ZERO),
            (Fault::Throttling, 5, Duration::ZERO),
            (Fault::Delay, 9, TIMEOUT + Duration::from_millis(500)),
            (Fault::TruncatedBody, 5, Duration::ZERO),
            (Fault::LateDelivery, 5, Duration::from_millis(400)),
        ] {
            let name = format!("{fault:?}");
            let proxy = Proxy::start(&moto_url, fault, every, u64::MAX, delay).await;
            let target = endpoint(&proxy.url).await;
            let prefix = format!("smft-{}-", name.to_lowercase());
            let session = Session::new(prefix.clone());
            let mut report: RunReport = run(target.clone(), config(&name), session.clone()).await;
            let c = classify(&report, &part, &*target, &session).await;
            report.cleanup.merge(sweep(&*target, &session).await);
            let injected = proxy.injected();
            let mut problem = |p: String| problems.push(format!("{name}: {p}"));
            if injected.is_empty() {
                problem("the proxy injected nothing".into());
            }

            // Every fault injected into a case's request is reported, and nothing else is. The
            // cases are the run's first executions, c0 to c{cases run - 1} (fewer than CASES when
            // the run ends because the target keeps failing); later names are the reproductions'
            // and the catalogue replays', whose faults make entries unknown (checked below).
            let in_cases: Vec<String> = injected
                .iter()
                .filter(|i| i.operation != "ListSecrets" && !is_force_delete(&i.operation, &i.body))
                .filter(|i| case_of(&i.body, &prefix).is_some_and(|c| c < report.cases_run))
                .map(|i| format!("{} {}", i.operation, i.body))
                .collect();
            let injected_in_cases = in_cases.len();
            let case_faults = report
                .faults
                .iter()
                .filter(|f| !is_force_delete(&f.op, &f.input) && !is_motos_own(f.kind, &f.detail))
                .count();
            if injected_in_cases == 0 {
                problem("no fault was injected into a case".into());
            }
            if injected_in_cases != case_faults {
                problem(format!(
                    "{injected_in_cases} faults injected into cases ({in_cases:?}), {case_faults} reported: {:?} ({} cases run, aborted: {:?})",
                    report.faults.iter().map(|f| (&f.op, f.kind.name(), &f.input)).collect::<Vec<_>>(),
                    report.cases_run,
                    report.aborted
                ));
            }
            // No divergence the same seed does not show directly and the catalogue does not hold.
            for f in &report.found {
                if !direct_found.contains(&f.cause.to_string()) && full.classify(f).is_none() {
                    problem(format!("divergence {} from faults: {}\n{:#?}", f.signature, f.mismatch, f.trace.steps));
                }
            }
            for (id, r) in &c.replayed {
                if matches!(r, Replayed::Changed(_) | Replayed::Fixed) {
                    problem(format!("entry {id} reported {r:?}"));
                }
            }
            // Nothing left behind: the run says so, and moto (listed without the proxy) agrees.
            if !report.cleanup.left.is_empty() || !report.cleanup.verified {
                problem(format!("clean-up: {:?}", report.cleanup));
            }
            let listed = match direct.list_prefixed(&prefix).await {
                Some(Ok(names)) => names,
                other => panic!("listing moto failed: {other:?}"),
            };
            let left = secrets_under(listed, &prefix);
            if !left.is_empty() {
                problem(format!("left behind on moto: {left:?}"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    });
}

#[test]
fn a_secret_created_after_its_case_was_cleaned_up_is_swept() {
    let instance = shared(&moto::SPEC).expect("moto starts");
    let moto_url = instance.target().server().endpoint_url().to_string();
    instance.block_on(async {
        // The first request (the CreateSecret) reaches moto 1.5 s after the harness saw its
        // connection reset, so after the case's own clean-up found nothing to delete, and within
        // the 3 s time-out the final sweep waits out.
        let proxy = Proxy::start(&moto_url, Fault::LateDelivery, 1, 1, Duration::from_millis(1500)).await;
        let target = endpoint_with(&proxy.url, Duration::from_secs(3)).await;
        let prefix = "smft-late-";
        let session = Session::new(prefix);
        let create = sm_model::Request::from_parts(
            "CreateSecret",
            serde_json::json!({"Name": "s0", "SecretString": "v0",
                               "ClientRequestToken": "a0000000-0000-4000-8000-000000000001"}),
        )
        .expect("request");
        let exec = execute(&*target, Source::Requests(std::slice::from_ref(&create)), Model::new(), &session).await;
        assert_eq!(exec.faults.len(), 1, "{:?}", exec.faults);
        assert!(exec.leaked.is_empty(), "the case's own clean-up found nothing yet: {:?}", exec.leaked);
        let cleanup = sweep(&*target, &session).await;
        assert_eq!(cleanup.late.len(), 1, "{cleanup:?}");
        assert!(cleanup.left.is_empty() && cleanup.verified, "{cleanup:?}");
        let direct = endpoint(&moto_url).await;
        let left = match direct.list_prefixed(prefix).await {
            Some(Ok(names)) => names,
            other => panic!("listing moto failed: {other:?}"),
        };
        assert!(left.is_empty(), "left behind on moto: {left:?}");
    });
}

#[test]
fn shrinking_against_a_faulty_target_leaves_nothing_behind() {
    let instance = shared(&moto::SPEC).expect("moto starts");
    let moto_url = instance.target().server().endpoint_url().to_string();
    instance.block_on(async {
        let proxy = Proxy::start(&moto_url, Fault::ResetAfterDelivery, 4, u64::MAX, Duration::ZERO).await;
        let target = endpoint(&proxy.url).await;
        let prefix = "smft-shrink-";
        let session = Session::new(prefix);
        let config = RunConfig { cases: 4, max_shrink_iters: 15, ..config("shrink") };
        let report = run(target.clone(), config, session.clone()).await;
        assert!(!report.faults.is_empty(), "the proxy faulted nothing");
        assert!(report.cleanup.left.is_empty() && report.cleanup.verified, "{:?}", report.cleanup);
        let direct = endpoint(&moto_url).await;
        let left = match direct.list_prefixed(prefix).await {
            Some(Ok(names)) => names,
            other => panic!("listing moto failed: {other:?}"),
        };
        assert!(left.is_empty(), "left behind on moto: {left:?}");
    });
}
