//! moto's 13 AWS-verified Secrets Manager tests (moto 5.2.5's own test suite, written against
//! AWS) run with pytest against `smconform serve`: `MOTO_TEST_ALLOW_AWS_REQUEST=true` makes moto's
//! `aws_verified` decorators call the tests without `mock_aws`, and `AWS_ENDPOINT_URL` sends
//! boto3 to the server. Each test must pass, by name, as pytest's JUnit XML reports it.
//!
//! The suite (a pinned virtual environment and the unpacked source distribution) is provisioned
//! under the cache folder by `smconform setup --all`, or here on first use. Skipped, with a
//! message, when python3 is not there (never in CI).

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use sm_harness::target::emulator::moto_tests::{self, AWS_VERIFIED};
use sm_harness::target::TargetError;
use sm_server::{Server, ServerConfig};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

/// What pytest reported for one test.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

fn attribute(e: &BytesStart<'_>, name: &str) -> String {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

/// The outcome of every test case of a JUnit XML report, by `classname::name`.
fn outcomes(xml: &str) -> BTreeMap<String, Outcome> {
    let mut reader = Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().expect("pytest's JUnit XML parses") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let id = format!("{}::{}", attribute(&e, "classname"), attribute(&e, "name"));
                out.insert(id.clone(), Outcome::Passed);
                current = Some(id);
            }
            Event::Start(e) | Event::Empty(e) => {
                let verdict = match e.name().as_ref() {
                    b"failure" | b"error" => Some(Outcome::Failed(attribute(&e, "message"))),
                    b"skipped" => Some(Outcome::Skipped(attribute(&e, "message"))),
                    _ => None,
                };
                if let (Some(v), Some(id)) = (verdict, &current) {
                    out.insert(id.clone(), v);
                }
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// `tests/a/b.py::test_x` as JUnit names it: `tests.a.b::test_x`.
fn junit_id(node: &str) -> String {
    let (path, name) = node.split_once("::").expect("a node id");
    format!("{}::{name}", path.trim_end_matches(".py").replace('/', "."))
}

#[test]
fn junit_reports_are_read_by_test_name() {
    let xml = r#"<?xml version="1.0"?><testsuites><testsuite>
        <testcase classname="tests.t" name="test_a" time="0.1"/>
        <testcase classname="tests.t" name="test_b"><failure message="assert 1 == 2">tb</failure></testcase>
        <testcase classname="tests.t" name="test_c"><skipped message="no"/></testcase>
        </testsuite></testsuites>"#;
    let o = outcomes(xml);
    assert_eq!(o["tests.t::test_a"], Outcome::Passed);
    assert_eq!(o["tests.t::test_b"], Outcome::Failed("assert 1 == 2".into()));
    assert_eq!(o["tests.t::test_c"], Outcome::Skipped("no".into()));
    assert_eq!(junit_id("tests/t.py::test_a"), "tests.t::test_a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_aws_verified_tests_pass_against_serve() {
    let suite = match moto_tests::provision_default().await {
        Ok(s) => s,
        Err(TargetError::NoPython(m)) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: {m}");
            return;
        }
        Err(e) => panic!("moto's tests could not be provisioned: {e}"),
    };
    let server = Server::start(ServerConfig::default()).await.expect("serve starts");
    let report = std::env::temp_dir().join(format!("smconform-moto-aws-verified-{}.xml", std::process::id()));
    let out = tokio::process::Command::new(&suite.python)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no", "--tb=short", "-o", "addopts="])
        .arg(format!("--junitxml={}", report.display()))
        .args(AWS_VERIFIED)
        .current_dir(&suite.root)
        .env("MOTO_TEST_ALLOW_AWS_REQUEST", "true")
        .env("AWS_ENDPOINT_URL", server.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out).await.expect("pytest ends").expect("pytest runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(&report).unwrap_or_else(|e| panic!("no JUnit report ({e}); pytest said:\n{log}"));
    let _ = std::fs::remove_file(&report);
    let results = outcomes(&xml);
    let mut wrong = Vec::new();
    for node in AWS_VERIFIED {
        match results.get(&junit_id(node)) {
            Some(Outcome::Passed) => {}
            Some(other) => wrong.push(format!("{node}: {other:?}")),
            None => wrong.push(format!("{node}: not run")),
        }
    }
    assert!(
        wrong.is_empty(),
        "moto's AWS-verified tests that did not pass:\n{}\npytest said:\n{log}",
        wrong.join("\n")
    );
    assert_eq!(results.len(), AWS_VERIFIED.len(), "pytest ran other tests too: {results:?}");
    assert!(out.status.success(), "pytest failed:\n{log}");
    server.shutdown().await;
}
