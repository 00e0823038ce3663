//! `smconform serve` as a user meets it: it prints its URL when ready, `smconform run --target
//! endpoint` against it finds nothing, `kill -9` loses no acknowledged write with `--state`, and
//! bad arguments or a busy port are clear errors. Loopback only.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A running `smconform serve`, killed when dropped.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a first line");
    let url = line
        .trim()
        .strip_prefix("smconform serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Serve { child, url }
}

fn smconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smconform")).args(args).output().expect("the binary runs")
}

/// A raw awsJson1.1 call: status and body.
fn call(url: &str, op: &str, body: &str) -> (u16, String) {
    common::raw_call(url, op, body, Duration::from_secs(10))
}

const BEHAVIOURS: [&str; 6] = [
    "complete",
    "fail-at-createSecret",
    "fail-at-setSecret",
    "fail-at-testSecret",
    "fail-at-finishSecret",
    "not-invocable",
];

fn function_args() -> Vec<String> {
    BEHAVIOURS
        .iter()
        .flat_map(|b| {
            ["--function".to_string(), format!("arn:aws:lambda:us-east-1:123456789012:function:smconform-{b}={b}")]
        })
        .collect()
}

#[test]
fn run_against_serve_finds_no_divergence() {
    let functions = function_args();
    let fargs: Vec<&str> = functions.iter().map(String::as_str).collect();
    let server = serve(&fargs);
    let out = std::env::temp_dir().join(format!("smconform-serve-run-{}", std::process::id()));
    for seed in ["1", "2", "3"] {
        let mut args = vec![
            "run",
            "--target",
            "endpoint",
            "--endpoint-url",
            &server.url,
            "--cases",
            "100",
            "--seed",
            seed,
            "--quiet",
        ];
        let out_s = out.to_string_lossy().to_string();
        args.extend(["--out", &out_s]);
        args.extend(fargs.iter().copied());
        let o = smconform(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "seed {seed}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("smconform-serve-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.to_string_lossy().to_string();
    let mut server = serve(&["--state", &state]);
    let create =
        r#"{"Name":"durable","ClientRequestToken":"00000000-0000-4000-8000-000000000001","SecretString":"v1"}"#;
    assert_eq!(call(&server.url, "CreateSecret", create).0, 200);
    let put =
        r#"{"SecretId":"durable","ClientRequestToken":"00000000-0000-4000-8000-000000000002","SecretString":"v2"}"#;
    assert_eq!(call(&server.url, "PutSecretValue", put).0, 200);
    let (_, before) = call(&server.url, "DescribeSecret", r#"{"SecretId":"durable"}"#);
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    let server = serve(&["--state", &state]);
    let (status, body) = call(&server.url, "GetSecretValue", r#"{"SecretId":"durable"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""SecretString":"v2""#), "{body}");
    let (_, after) = call(&server.url, "DescribeSecret", r#"{"SecretId":"durable"}"#);
    let arn =
        |t: &str| serde_json::from_str::<serde_json::Value>(t).ok().and_then(|v| v["ARN"].as_str().map(str::to_string));
    assert_eq!(arn(&before), arn(&after));
    drop(server);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

#[test]
fn bad_arguments_and_a_busy_port_are_clear_errors() {
    let o = smconform(&["serve", "--function", "arn:x=sometimes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--function"));
    let server = serve(&[]);
    let port = server.url.rsplit(':').next().expect("a port").to_string();
    let o = smconform(&["serve", "--port", &port]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot listen"));
    let help = smconform(&["serve", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Any credentials are accepted"));
}
