//! End to end: the Python boto3 rotation function of `examples/rotation/`, served by its stdlib
//! invoke shim, rotating a secret held by `smconform serve`: a successful rotation; the function
//! failing at setSecret leaves a stalled AWSPENDING; the next RotateSecret is refused with AWS's
//! message; UpdateSecretVersionStage removing AWSPENDING recovers; the rotation then succeeds.
//!
//! Needs `python3` with `venv`; boto3 is installed (pinned) into a virtual environment under the
//! cache folder (`$SMCONFORM_CACHE`, default `~/.cache/smconform`) on first use. Skipped, with a
//! message, when python3 is not there.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BOTO3: &str = "boto3==1.44.8";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:example-rotator";

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("SMCONFORM_CACHE") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/smconform"),
    }
}

/// The venv's python with boto3, or None when python3 is missing.
fn python_with_boto3() -> Option<PathBuf> {
    if Command::new("python3").arg("--version").output().is_err() {
        return None;
    }
    let venv = cache_dir().join("rotation-example-venv");
    let python = venv.join("bin/python");
    let has = |p: &Path| Command::new(p).args(["-c", "import boto3"]).output().is_ok_and(|o| o.status.success());
    if has(&python) {
        return Some(python);
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv");
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let pip = Command::new(&python).args(["-m", "pip", "install", "--quiet", BOTO3]).status().expect("pip runs");
    assert!(pip.success(), "pip install {BOTO3} failed");
    Some(python)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn first_line(child: &mut Child) -> String {
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("a line");
    line.trim().to_string()
}

fn call(url: &str, op: &str, body: &Value) -> (u16, Value) {
    let (status, body) = common::raw_call(url, op, &body.to_string(), Duration::from_secs(30));
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn token(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn stages(url: &str, version: &str) -> Vec<String> {
    let (_, d) = call(url, "DescribeSecret", &json!({"SecretId": "app/db"}));
    let mut s: Vec<String> = d["VersionIdsToStages"][version]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    s.sort();
    s
}

fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn current_password(url: &str) -> String {
    let (_, v) = call(url, "GetSecretValue", &json!({"SecretId": "app/db"}));
    let secret: Value = serde_json::from_str(v["SecretString"].as_str().unwrap_or("{}")).unwrap_or(Value::Null);
    secret["password"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_python_rotation_function_rotates_stalls_and_recovers() {
    let Some(python) = python_with_boto3() else {
        eprintln!("skipped: python3 is not available");
        return;
    };
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rotation");
    let work = std::env::temp_dir().join(format!("smconform-rotation-example-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let db = work.join("database.json");
    let set_db = |password: &str, locked: bool| {
        std::fs::write(&db, json!({"password": password, "locked": locked}).to_string()).expect("write db")
    };
    let db_password = || -> String {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&db).unwrap_or_default()).unwrap_or(Value::Null);
        v["password"].as_str().unwrap_or_default().to_string()
    };
    set_db("initial", false);

    let serve_port = free_port();
    let serve_url = format!("http://127.0.0.1:{serve_port}");
    let mut shim = Command::new(&python)
        .arg(example.join("invoke_shim.py"))
        .args(["rotation_function.lambda_handler", "--port", "0"])
        .current_dir(&example)
        .env("AWS_ENDPOINT_URL", &serve_url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("ROTATION_DATABASE", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the shim starts");
    let line = first_line(&mut shim);
    let _shim = Killed(shim);
    let shim_url =
        line.strip_prefix("invoke shim: listening on ").unwrap_or_else(|| panic!("shim said {line:?}")).to_string();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .args(["serve", "--port", &serve_port.to_string(), "--function", &format!("{FUNCTION}={shim_url}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let line = first_line(&mut serve);
    let _serve = Killed(serve);
    assert_eq!(line, format!("smconform serve: listening on {serve_url}"));

    let (s, _) = call(
        &serve_url,
        "CreateSecret",
        &json!({"Name": "app/db", "ClientRequestToken": token(1), "SecretString": json!({"username": "app", "password": "initial"}).to_string()}),
    );
    assert_eq!(s, 200);

    // 1. A successful rotation.
    let (s, r) = call(
        &serve_url,
        "RotateSecret",
        &json!({"SecretId": "app/db", "ClientRequestToken": token(2), "RotationLambdaARN": FUNCTION}),
    );
    assert_eq!(s, 200, "{r}");
    assert!(
        wait_for(Duration::from_secs(60), || stages(&serve_url, &token(2)) == ["AWSCURRENT"]),
        "{:?}",
        stages(&serve_url, &token(2))
    );
    let rotated = current_password(&serve_url);
    assert_ne!(rotated, "initial");
    assert_eq!(db_password(), rotated);
    assert_eq!(stages(&serve_url, &token(1)), ["AWSPREVIOUS"]);

    // 2. The database refuses the change: the function fails at setSecret, AWSPENDING stalls.
    set_db(&rotated, true);
    let (s, _) = call(&serve_url, "RotateSecret", &json!({"SecretId": "app/db", "ClientRequestToken": token(3)}));
    assert_eq!(s, 200);
    let pending_value =
        || call(&serve_url, "GetSecretValue", &json!({"SecretId": "app/db", "VersionId": token(3)})).0 == 200;
    assert!(wait_for(Duration::from_secs(60), pending_value), "createSecret did not store the pending value");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(stages(&serve_url, &token(3)), ["AWSPENDING"]);
    assert_eq!(stages(&serve_url, &token(2)), ["AWSCURRENT"]);
    assert_eq!(db_password(), rotated);

    // 3. The next RotateSecret is refused with AWS's message.
    let (s, e) = call(&serve_url, "RotateSecret", &json!({"SecretId": "app/db", "ClientRequestToken": token(4)}));
    assert_eq!(s, 400);
    assert_eq!(e["__type"], "InvalidRequestException");
    assert_eq!(e["Message"], "A previous rotation isn't complete. That rotation will be reattempted.");

    // 4. Recovery: remove AWSPENDING from the stalled version.
    let (s, _) = call(
        &serve_url,
        "UpdateSecretVersionStage",
        &json!({"SecretId": "app/db", "VersionStage": "AWSPENDING", "RemoveFromVersionId": token(3)}),
    );
    assert_eq!(s, 200);

    // 5. The database accepts changes again; the rotation succeeds.
    set_db(&rotated, false);
    let (s, _) = call(&serve_url, "RotateSecret", &json!({"SecretId": "app/db", "ClientRequestToken": token(5)}));
    assert_eq!(s, 200);
    assert!(
        wait_for(Duration::from_secs(60), || stages(&serve_url, &token(5)) == ["AWSCURRENT"]),
        "{:?}",
        stages(&serve_url, &token(5))
    );
    let again = current_password(&serve_url);
    assert_ne!(again, rotated);
    assert_eq!(db_password(), again);
    let _ = std::fs::remove_dir_all(&work);
}
