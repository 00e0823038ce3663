//! The harness against `serve`: `smconform run --target endpoint` must find no divergence and no
//! fault, and every trace in `fixtures/traces/` must replay green, since the server is the model.

mod common;

use common::runtime;
use sm_harness::generate::function_arn;
use sm_harness::runner::{replay, run, RunConfig, Session};
use sm_harness::target::endpoint::{EndpointConfig, EndpointTarget};
use sm_harness::trace::Trace;
use sm_model::{FunctionBehaviour, Step};
use sm_server::{FunctionSpec, Server, ServerConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

fn behaviours() -> BTreeMap<String, FunctionBehaviour> {
    let mut all = vec![FunctionBehaviour::Complete, FunctionBehaviour::NotInvocable];
    all.extend(Step::ALL.into_iter().map(FunctionBehaviour::FailAt));
    all.into_iter().map(|b| (function_arn(b), b)).collect()
}

fn server_config(functions: &BTreeMap<String, FunctionBehaviour>) -> ServerConfig {
    let mut config = ServerConfig::default();
    for (arn, b) in functions {
        config.functions.insert(arn.clone(), FunctionSpec::Model(*b));
    }
    config
}

#[test]
fn a_run_against_serve_finds_nothing_on_five_seeds() {
    let cases: usize = std::env::var("SMCONFORM_SERVE_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300);
    runtime().block_on(async {
        let functions = behaviours();
        let server = Server::start(server_config(&functions)).await.expect("server starts");
        let mut endpoint = EndpointConfig::new(Some(server.url()));
        endpoint.functions = functions.clone();
        let target = Arc::new(EndpointTarget::new(endpoint).await.expect("endpoint target"));
        for seed in 1..=5u64 {
            let out = std::env::temp_dir().join(format!("sm-server-conformance-{}-{seed}", std::process::id()));
            let config = RunConfig {
                cases,
                steps: 30,
                seed,
                jobs: 4,
                out_dir: out.clone(),
                max_shrink_iters: 200,
                already_reproduced: Default::default(),
            };
            let report = run(target.clone(), config, Session::new(format!("serve{seed}-"))).await;
            let found: Vec<String> = report.found.iter().map(|f| f.signature.to_string()).collect();
            let faults: Vec<String> =
                report.faults.iter().map(|f| format!("{} {:?}: {}", f.op, f.kind, f.detail)).collect();
            assert_eq!(report.cases_run, cases, "seed {seed}: aborted {:?}", report.aborted);
            let sent: u64 = report.coverage.requests.values().sum();
            assert!(sent > cases as u64, "seed {seed}: only {sent} requests sent");
            let rotated = report.coverage.outcomes.get(&("RotateSecret".to_string(), "ok".to_string())).copied();
            assert!(rotated.unwrap_or(0) > 0, "seed {seed}: no rotation accepted");
            assert!(found.is_empty(), "seed {seed}: divergences {found:#?} (reproductions in {})", out.display());
            assert!(faults.is_empty(), "seed {seed}: faults {faults:#?}");
            let _ = std::fs::remove_dir_all(&out);
        }
        server.shutdown().await;
    });
}

#[test]
fn every_fixture_trace_replays_green_against_serve() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces");
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("fixtures").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    assert!(!paths.is_empty());
    runtime().block_on(async {
        for path in paths {
            let trace = Trace::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let server = Server::start(server_config(&trace.rotation_functions)).await.expect("server starts");
            let mut endpoint = EndpointConfig::new(Some(server.url()));
            endpoint.functions = trace.rotation_functions.clone();
            let target = EndpointTarget::new(endpoint).await.expect("endpoint target");
            let report = replay(&target, &trace, &Session::new("fixture-")).await;
            assert!(report.passed(), "{}: {report:#?}", path.display());
            server.shutdown().await;
        }
    });
}
