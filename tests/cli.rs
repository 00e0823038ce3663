//! The `smconform` binary as a user meets it: replaying the edge-case traces against the model,
//! a wrong expectation failing with exit 1 and naming its step, and bad input (malformed JSON,
//! unknown operation, unknown target, missing flags, an unreachable endpoint) each getting its
//! exit code and a one-line message without a panic. Only loopback addresses are used.

use rstest::rstest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn smconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smconform")).args(args).output().expect("the binary runs")
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures/traces exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smconform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

/// A fresh folder for a run's --out.
fn out_dir(name: &str) -> String {
    std::env::temp_dir().join(format!("smconform-cli-{name}-{}", std::process::id())).display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn edge_case_traces_replay_cleanly_against_the_model() {
    let files = fixtures();
    assert!(files.len() >= 8, "expected the edge-case traces, found {files:?}");
    let mut args = vec!["replay", "--target", "model"];
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = smconform(&args);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{} trace(s): {} passed, 0 failed", files.len(), files.len())),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_wrong_expectation_fails_and_names_the_step() {
    let trace = r#"{"format": "smconform-trace/1", "title": "wrong on purpose", "source": "test",
      "steps": [
        {"op": "CreateSecret", "input": {"Name": "s1", "SecretString": "v0", "ClientRequestToken": "a0000000-0000-4000-8000-000000000001"}},
        {"op": "GetSecretValue", "input": {"SecretId": "s1"}, "expect": {"ok": {"SecretString": "not-v0"}}}]}"#;
    let path = temp_file("wrong-expect.json", trace);
    let out = smconform(&["replay", "--target", "model", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL"), "{text}");
    assert!(text.contains("2. GetSecretValue"), "{text}");
    assert!(
        text.contains("vs expect: DIFFERS (SecretString: expected \"not-v0\", got \"v0\"); vs model: ok"),
        "{text}"
    );
}

#[rstest]
#[case::malformed_json("{ not json", "not valid JSON")]
#[case::unknown_op(
    r#"{"format": "smconform-trace/1", "steps": [{"op": "DescribeSecret", "input": {"SecretId": "a"}}, {"op": "FrobnicateSecret", "input": {}}]}"#,
    "step 2: unknown operation \"FrobnicateSecret\""
)]
#[case::unknown_member(
    r#"{"format": "smconform-trace/1", "steps": [{"op": "GetSecretValue", "input": {"SecretId": "a", "Stage": "x"}}]}"#,
    "step 1: bad input for GetSecretValue: unknown field `Stage`"
)]
#[case::wrong_format(r#"{"format": "other/9", "steps": []}"#, "unsupported format")]
#[case::bad_behaviour(
    r#"{"format": "smconform-trace/1", "rotation_functions": {"arn:x": "explode"}, "steps": []}"#,
    "unknown behaviour"
)]
fn bad_trace_files_exit_2_with_one_line(#[case] text: &str, #[case] message: &str) {
    let path = temp_file(&format!("bad-{}.json", message.len()), text);
    let out = smconform(&["replay", "--target", "model", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(message) && err.contains(path.to_str().unwrap()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[rstest]
#[case::unknown_target(&["run", "--target", "dynamo"], "invalid value 'dynamo'")]
#[case::aws_without_opt_in(&["run", "--target", "aws", "--name-prefix", "p-"], "--allow-real-aws")]
#[case::aws_without_prefix(&["run", "--target", "aws", "--allow-real-aws"], "--name-prefix")]
#[case::endpoint_without_url(&["run", "--target", "endpoint"], "--endpoint-url")]
#[case::bad_prefix(&["run", "--target", "model", "--name-prefix", "bad prefix!"], "--name-prefix")]
#[case::zero_cases(&["run", "--target", "model", "--cases", "0"], "at least 1")]
#[case::bad_function(&["run", "--target", "endpoint", "--endpoint-url", "http://127.0.0.1:9", "--function", "arn:x"], "ARN=BEHAVIOUR")]
#[case::missing_file(&["replay", "--target", "model", "no/such/trace.json"], "cannot read")]
#[case::bad_endpoint_url(&["run", "--target", "endpoint", "--endpoint-url", "notaurl"], "--endpoint-url")]
#[case::unusable_out(&["run", "--target", "model", "--out", "/proc/smconform-cannot-create"], "--out")]
#[case::bad_baseline(&["run", "--target", "model", "--baseline", "no/such/catalogue"], "cannot read the catalogue folder")]
#[case::unknown_matrix_target(&["matrix", "--targets", "dynamo"], "unknown target")]
#[case::trace_is_a_folder(&["replay", "--target", "model", "fixtures"], "cannot read")]
#[case::grow_unknown_target(&["catalogue", "grow", "--target", "dynamo", "--seeds", "1..2"], "not a managed emulator")]
#[case::grow_reversed_seeds(&["catalogue", "grow", "--target", "moto", "--seeds", "5..2"], "expected A..B")]
#[case::grow_bad_seeds(&["catalogue", "grow", "--target", "moto", "--seeds", "x"], "expected A..B")]
#[case::grow_zero_quiet(&["catalogue", "grow", "--target", "moto", "--seeds", "1..2", "--until-quiet", "0"], "at least 1")]
#[case::huge_steps(&["run", "--target", "model", "--steps", "18446744073709551615", "--cases", "1"], "--steps")]
#[case::steps_over_bound(&["run", "--target", "model", "--steps", "1001"], "at most 1000")]
#[case::cases_over_bound(&["run", "--target", "model", "--cases", "1000001"], "at most 1000000")]
#[case::jobs_over_bound(&["run", "--target", "model", "--jobs", "65"], "at most 64")]
#[case::zero_timeout(&["run", "--target", "model", "--timeout", "0"], "--timeout")]
#[case::timeout_over_bound(&["run", "--target", "model", "--timeout", "601"], "at most 600")]
#[case::port_out_of_range(&["run", "--target", "endpoint", "--endpoint-url", "http://127.0.0.1:99999"], "invalid port")]
#[case::unclosed_ipv6(&["run", "--target", "endpoint", "--endpoint-url", "http://[::1"], "--endpoint-url")]
#[case::bad_region(&["run", "--target", "endpoint", "--endpoint-url", "http://127.0.0.1:9", "--region", "nowhere"], "--region")]
#[case::bad_region_replay(&["replay", "--target", "model", "--region", "US EAST", "fixtures/traces/x.json"], "--region")]
fn bad_usage_exits_2(#[case] args: &[&str], #[case] message: &str) {
    let out = smconform(args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    assert_eq!(stderr(&out).trim_end().lines().count(), 1, "one line expected: {}", stderr(&out));
}

#[test]
fn the_bounds_are_in_the_help() {
    let out = smconform(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for bound in ["1 to 1000000", "1 to 1000)", "1 to 64", "1 to 600", "4 MiB"] {
        assert!(help.contains(bound), "{bound} missing from: {help}");
    }
}

/// A loopback HTTP server that answers `200 {}` to every request, as an endpoint that is not
/// Secrets Manager might. Returns its URL.
fn answers_empty_object() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 65536];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    url
}

/// A loopback HTTP server that answers the preflight like Secrets Manager and then never answers
/// again (it holds every later connection open). Returns its URL.
fn stops_answering() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let n = stream.read(&mut buf).unwrap_or(0);
                if String::from_utf8_lossy(&buf[..n]).contains("preflight") {
                    let body = r#"{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}"#;
                    let head = format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body.as_bytes());
                } else {
                    std::thread::sleep(std::time::Duration::from_secs(120));
                }
            });
        }
    });
    url
}

#[test]
fn a_target_that_stops_answering_ends_the_run_with_exit_3() {
    let url = stops_answering();
    let out = smconform(&[
        "run",
        "--target",
        "endpoint",
        "--endpoint-url",
        &url,
        "--cases",
        "50",
        "--steps",
        "10",
        "--timeout",
        "1",
        "--jobs",
        "1",
        "--max-shrink",
        "0",
        "--quiet",
        "--seed",
        "3",
        "--out",
        &out_dir("stops-answering"),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}{}", stderr(&out));
    assert!(text.contains("run aborted: the target"), "{text}");
    // What the run could not delete is named, and said to be unchecked.
    assert!(text.contains("not checked by a listing"), "{text}");
    assert!(!text.contains("divergence 1"), "{text}");
    // Not all 50 cases: the run stopped.
    let cases: usize = text
        .split(" cases run")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("cases run");
    assert!(cases < 10, "{text}");
}

#[test]
fn an_endpoint_that_is_not_secrets_manager_exits_3_without_divergences() {
    let url = answers_empty_object();
    let dir = out_dir("not-sm");
    let out =
        smconform(&["run", "--target", "endpoint", "--endpoint-url", &url, "--cases", "2", "--quiet", "--out", &dir]);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not answer like Secrets Manager"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(!stdout(&out).contains("divergence"), "{}", stdout(&out));
}

#[test]
fn an_unreachable_endpoint_exits_3_with_one_line() {
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let out = smconform(&["run", "--target", "endpoint", "--endpoint-url", "http://127.0.0.1:9", "--cases", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unreachable"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
}

#[test]
fn a_model_run_reports_zero_divergences_and_its_coverage() {
    let out = smconform(&["run", "--target", "model", "--cases", "50", "--steps", "20", "--seed", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("target model: 50 cases run"), "{text}");
    assert!(text.contains("0 divergence(s), 0 fault(s)"), "{text}");
    assert!(text.contains("states reached"), "{text}");
    assert!(text.contains("rerun with: --seed 5"), "{text}");
}

#[test]
fn shards_of_a_model_run_merge_into_the_whole_run() {
    let base = std::env::temp_dir().join(format!("smconform-cli-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = |name: &str| base.join(name).to_string_lossy().to_string();
    let common = ["run", "--target", "model", "--seed", "3", "--cases", "30", "--steps", "15", "--quiet"];
    let whole = smconform(&[&common[..], &["--report", "json", "--out", &dir("whole")]].concat());
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let o = smconform(&[&common[..], &["--shard", &shard, "--out", &dir(&format!("s{i}"))]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("(shard {i}/3)")), "{}", stderr(&o));
    }
    let merged = smconform(&["merge", &dir("s1"), &dir("s2"), &dir("s3"), "--out", &dir("merged")]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert!(stdout(&merged).contains("merged 3 shard(s): 30 cases"), "{}", stdout(&merged));
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(base.join(d).join("report.json")).expect("report")).expect("json")
    };
    let (whole, merged) = (read("whole"), read("merged"));
    assert!(whole["requests"].as_u64().unwrap_or(0) > 30, "{whole}");
    assert_eq!(whole, merged, "the merged shards report what the whole run reports");
    // A shard outside 1..=N and a merge of nothing are usage errors.
    let bad = smconform(&[&common[..], &["--shard", "4/3"]].concat());
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--shard \"4/3\""), "{}", stderr(&bad));
    let missing = smconform(&["merge", &dir("nowhere"), "--out", &dir("m2")]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    let _ = std::fs::remove_dir_all(&base);
}
