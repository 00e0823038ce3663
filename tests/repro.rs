//! Reproduction scripts (`sm_harness::repro`): the rendering of a fixture in both formats is a
//! reviewed snapshot; every script is valid bash or Python; the AWS CLI script hands each request
//! to `aws` exactly as the trace has it (checked with a stand-in `aws` that records its
//! arguments); and against the embedded moto the boto3 script runs, gives the same verdict per
//! step as the harness's own replay, exits 1 on a known moto divergence, and leaves no secret
//! behind. Only loopback addresses are used.

use sm_harness::catalogue::load_trace;
use sm_harness::repro::{render, ReproFormat};
use sm_harness::runner::{replay, Session};
use sm_harness::target::emulator::managed::ManagedTarget;
use sm_harness::target::emulator::shared::shared;
use sm_harness::target::emulator::{cache_dir, venv_dir};
use sm_harness::target::moto;
use sm_harness::target::TargetError;
use sm_harness::trace::Trace;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Trace {
    let path = root().join("fixtures/traces").join(name);
    load_trace(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn all_fixtures() -> Vec<(String, Trace)> {
    let dir = root().join("fixtures/traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/traces exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (name, load_trace(&p).unwrap_or_else(|e| panic!("{e}")))
        })
        .collect()
}

/// A trace with every awkward character a value can carry: quotes of both kinds, `$`, backticks,
/// backslashes, a newline, non-ASCII text and a binary value with every byte.
fn awkward_trace() -> Trace {
    let binary: Vec<u8> = (0..=255u8).collect();
    let binary = base64_encode(&binary);
    let text = "it's \"quoted\" $HOME `date` \\n \\ back\nslash ünï €";
    let v = serde_json::json!({
        "format": "smconform-trace/1",
        "title": "Awkward values survive the trip: it's $HOME `date` \\ \"q\"",
        "source": "tests/repro.rs",
        "steps": [
            {"op": "CreateSecret", "input": {"Name": "s.1_a", "SecretString": text,
                "Description": "d'$x`", "ClientRequestToken": "a0000000-0000-4000-8000-000000000001"},
             "note": "a note with a newline\nand\u{7} a bell"},
            {"op": "GetSecretValue", "input": {"SecretId": "s.1_a"},
             "expect": {"ok": {"Name": "s.1_a", "SecretString": text, "SecretBinary": null,
                "ARN": "arn:aws:secretsmanager:<region>:<account>:secret:s.1_a",
                "VersionStages": ["AWSCURRENT"], "CreatedDate": "<any>"}}},
            {"op": "PutSecretValue", "input": {"SecretId": "s.1_a", "SecretBinary": binary,
                "ClientRequestToken": "a0000000-0000-4000-8000-000000000002"}},
            {"op": "GetSecretValue", "input": {"SecretId": "s.1_a"},
             "expect": {"ok": {"SecretBinary": binary, "SecretString": null,
                "VersionId": "a0000000-0000-4000-8000-000000000002"}}},
            {"op": "ListSecretVersionIds", "input": {"SecretId": "s.1_a"},
             "expect": {"ok": {"Versions": [
                {"VersionId": "a0000000-0000-4000-8000-000000000001", "VersionStages": ["AWSPREVIOUS"]},
                {"VersionId": "a0000000-0000-4000-8000-000000000002", "VersionStages": ["AWSCURRENT"],
                 "CreatedDate": "<any>"}]}}},
            {"op": "DescribeSecret", "input": {"SecretId": "s.1_a"},
             "expect": {"ok": {"Description": "d'$x`", "VersionIdsToStages": {
                "a0000000-0000-4000-8000-000000000001": ["AWSPREVIOUS"],
                "a0000000-0000-4000-8000-000000000002": ["AWSCURRENT"]}}}},
            {"op": "GetSecretValue", "input": {"SecretId": "no-such-secret"},
             "expect": {"error": {"code": "ResourceNotFoundException",
                "message": "Secrets Manager can't find the specified secret."}}}
        ]
    });
    Trace::from_json(&v).unwrap_or_else(|(step, what)| panic!("awkward trace, step {step:?}: {what}"))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("smconform-repro-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn has_program(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn token_idempotency_as_boto3() {
    insta::assert_snapshot!("token_idempotency_boto3", render(&fixture("token-idempotency.json"), ReproFormat::Boto3));
}

#[test]
fn token_idempotency_as_aws_cli() {
    insta::assert_snapshot!(
        "token_idempotency_aws_cli",
        render(&fixture("token-idempotency.json"), ReproFormat::AwsCli)
    );
}

#[test]
fn rendering_is_deterministic() {
    let trace = fixture("deprecated-versions.json");
    for format in ReproFormat::ALL {
        assert_eq!(render(&trace, format), render(&trace, format));
    }
}

#[test]
fn every_script_is_valid_bash_or_python() {
    let scratch = Scratch::new("syntax");
    let mut traces = all_fixtures();
    traces.push(("awkward.json".into(), awkward_trace()));
    let bash = has_program("bash", "--version");
    let python = has_program("python3", "--version");
    if !bash || !python {
        eprintln!("syntax checks skipped: bash found: {bash}, python3 found: {python}");
    }
    for (name, trace) in &traces {
        let stem = name.trim_end_matches(".json");
        if bash {
            let path = scratch.write(&format!("{stem}.sh"), &render(trace, ReproFormat::AwsCli));
            let out = Command::new("bash").arg("-n").arg(&path).output().expect("bash runs");
            assert_success(&format!("bash -n {stem}.sh"), &out);
        }
        if python {
            let path = scratch.write(&format!("{stem}.py"), &render(trace, ReproFormat::Boto3));
            let out = Command::new("python3").arg("-m").arg("py_compile").arg(&path).output().expect("python3 runs");
            assert_success(&format!("py_compile {stem}.py"), &out);
        }
    }
}

/// The AWS CLI script, run with a stand-in `aws` that records its arguments: every request
/// arrives as the trace wrote it (the secret name with the run's prefix), and the exit trap
/// force-deletes every secret created.
#[test]
fn aws_cli_script_passes_requests_verbatim() {
    if !has_program("bash", "--version") {
        eprintln!("skipped: no bash");
        return;
    }
    let scratch = Scratch::new("fake-aws");
    let bin = scratch.0.join("bin");
    std::fs::create_dir_all(&bin).expect("bin folder");
    let log = scratch.0.join("aws.log");
    let fake = bin.join("aws");
    std::fs::write(
        &fake,
        "#!/usr/bin/env bash\n\
         # Records each call as NUL-separated arguments, one call per record.\n\
         printf '%s\\0' \"$@\" >> \"$FAKE_AWS_LOG\"\n\
         printf '\\n\\0' >> \"$FAKE_AWS_LOG\"\n\
         echo '{}'\n",
    )
    .expect("fake aws");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let trace = awkward_trace();
    let script = scratch.write("repro.sh", &render(&trace, ReproFormat::AwsCli));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg(&script)
        .env("PATH", path)
        .env("FAKE_AWS_LOG", &log)
        .env("SMCONFORM_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("AWS_REGION")
        .output()
        .expect("bash runs");
    assert_success("repro.sh", &out);
    let stdout = text(&out.stdout);
    let prefix = stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret name prefix: "))
        .unwrap_or_else(|| panic!("no prefix line:\n{stdout}"))
        .to_string();
    assert!(prefix.starts_with("repro-") && prefix.ends_with('-'), "{prefix}");

    let raw = std::fs::read(&log).expect("aws was called");
    let raw = text(&raw);
    let calls: Vec<Vec<&str>> = raw
        .split("\n\0")
        .filter(|c| !c.is_empty())
        .map(|c| c.split('\0').filter(|a| !a.is_empty()).collect())
        .collect();
    assert_eq!(calls.len(), trace.steps.len() + 1, "one call per step and one cleanup call: {calls:?}");
    for (step, call) in trace.steps.iter().zip(&calls) {
        let op = sm_harness::repro::kebab_case(step.request.op());
        assert_eq!(&call[..2], &["secretsmanager", op.as_str()], "{call:?}");
        let at = |flag: &str| call.iter().position(|a| *a == flag).and_then(|i| call.get(i + 1)).copied();
        assert_eq!(at("--endpoint-url"), Some("http://127.0.0.1:9"));
        assert_eq!(at("--region"), Some("us-east-1"));
        let sent: serde_json::Value = serde_json::from_str(at("--cli-input-json").unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {call:?}"));
        let mut want = step.request.input_json();
        let key = if step.request.op() == "CreateSecret" { "Name" } else { "SecretId" };
        want[key] = serde_json::Value::String(format!("{prefix}{}", step.request.secret_id()));
        assert_eq!(sent, want);
    }
    let cleanup = calls.last().cloned().unwrap_or_default();
    assert_eq!(&cleanup[..2], &["secretsmanager", "delete-secret"]);
    assert!(cleanup.contains(&format!("{prefix}s.1_a").as_str()), "{cleanup:?}");
    assert!(cleanup.contains(&"--force-delete-without-recovery"), "{cleanup:?}");
}

/// A script's run: exit code, output, verdict lines.
struct ScriptRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// `(step, differs)` for every `step N: as AWS` / `step N: DIFFERS from AWS` line.
    verdicts: Vec<(usize, bool)>,
}

impl ScriptRun {
    fn describe(&self) -> String {
        format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr)
    }

    fn differs_line(&self, step: usize) -> Option<&str> {
        let head = format!("step {step}: DIFFERS from AWS");
        self.stdout.lines().find(|l| l.starts_with(&head))
    }
}

fn script_command(program: &Path, script: &Path, endpoint: &str, scratch: &Scratch) -> Command {
    let mut command = Command::new(program);
    command
        .arg(script)
        .env("SMCONFORM_ENDPOINT", endpoint)
        .env("AWS_REGION", "us-east-1")
        // Nothing from this machine's AWS configuration reaches the script.
        .env("AWS_CONFIG_FILE", scratch.0.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", scratch.0.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_REGION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn script_run(out: Output) -> ScriptRun {
    let stdout = text(&out.stdout);
    let verdicts = stdout
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("step ")?;
            let (n, verdict) = rest.split_once(": ")?;
            let n: usize = n.parse().ok()?;
            if verdict == "as AWS" {
                Some((n, false))
            } else if verdict.starts_with("DIFFERS from AWS: ") {
                Some((n, true))
            } else {
                None
            }
        })
        .collect();
    ScriptRun { code: out.status.code(), stdout, stderr: text(&out.stderr), verdicts }
}

fn run_script(program: &Path, script: &Path, endpoint: &str, scratch: &Scratch) -> ScriptRun {
    let out = script_command(program, script, endpoint, scratch)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    script_run(out)
}

/// Runs several scripts, a few at a time (each spends most of its time starting Python).
fn run_scripts(program: &Path, scripts: &[PathBuf], endpoint: &str, scratch: &Scratch) -> Vec<ScriptRun> {
    let mut runs = Vec::new();
    for chunk in scripts.chunks(4) {
        let children: Vec<_> = chunk
            .iter()
            .map(|script| {
                script_command(program, script, endpoint, scratch)
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
            })
            .collect();
        runs.extend(children.into_iter().map(|c| script_run(c.wait_with_output().expect("script finishes"))));
    }
    runs
}

fn expected_steps(trace: &Trace) -> Vec<usize> {
    trace.steps.iter().enumerate().filter(|(_, s)| s.expect.is_some()).map(|(i, _)| i + 1).collect()
}

/// Secrets on the target whose name starts with `repro-` (scripts' leftovers).
async fn leftovers(moto: &ManagedTarget) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = moto
            .endpoint()
            .client()
            .list_secrets()
            .include_planned_deletion(true)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListSecrets: {e}"));
        names.extend(
            page.secret_list().iter().filter_map(|s| s.name()).filter(|n| n.starts_with("repro-")).map(str::to_string),
        );
        token = page.next_token().map(str::to_string).filter(|t| !t.is_empty());
        if token.is_none() {
            return names;
        }
    }
}

#[test]
fn boto3_scripts_against_moto() {
    let instance = match shared(&moto::SPEC) {
        Ok(m) => m,
        Err(TargetError::NoPython(m)) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: {m}");
            return;
        }
        Err(e) => panic!("moto did not start: {e}"),
    };
    instance.block_on(boto3_scripts(instance.target()));
}

async fn boto3_scripts(moto: &ManagedTarget) {
    let python = venv_dir(&moto::SPEC, &cache_dir().unwrap_or_else(|e| panic!("{e}"))).join("bin").join("python");
    let endpoint = moto.server().endpoint_url().to_string();
    let scratch = Scratch::new("moto");
    let session = Session::new("smconform-repro-test-");

    // (a) Edge-case fixtures: the script runs, gives one verdict per checked step, and its
    // verdicts are the harness's own (replaying the same trace against the same moto).
    let mut traces: Vec<(String, Trace)> = [
        "deprecated-versions.json",
        "custom-labels-survive-current-moves.json",
        "token-idempotency.json",
        "secret-without-value.json",
        "delete-and-restore.json",
    ]
    .iter()
    .map(|n| (n.to_string(), fixture(n)))
    .collect();
    traces.push(("awkward.json".into(), awkward_trace()));
    let mut summary = BTreeMap::new();
    for (name, trace) in &traces {
        let script = scratch.write(&name.replace(".json", ".py"), &render(trace, ReproFormat::Boto3));
        let run = run_script(&python, &script, &endpoint, &scratch);
        assert!(!run.stderr.contains("Traceback"), "{name}: {}", run.describe());
        assert!(matches!(run.code, Some(0 | 1)), "{name}: {}", run.describe());
        let steps: Vec<usize> = run.verdicts.iter().map(|(n, _)| *n).collect();
        assert_eq!(steps, expected_steps(trace), "{name}: one verdict per checked step\n{}", run.describe());
        let any_differs = run.verdicts.iter().any(|(_, d)| *d);
        assert_eq!(run.code, Some(i32::from(any_differs)), "{name}: exit status\n{}", run.describe());

        let report = replay(moto, trace, &session).await;
        assert!(report.fault.is_none(), "{name}: replay fault {:?}", report.fault);
        let harness: Vec<(usize, bool)> = report
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.expect_check.as_ref().map(|c| (i + 1, c.is_err())))
            .collect();
        assert_eq!(run.verdicts, harness, "{name}: the script and the harness disagree\n{}", run.describe());
        summary.insert(name.clone(), run.verdicts.clone());
    }
    // Values with quotes, `$`, backslashes, non-ASCII text and every byte come back as sent.
    assert!(summary["awkward.json"].iter().all(|(_, d)| !d), "{summary:?}");

    // (b) A divergence moto is known for: ListSecretVersionIds of a secret without versions
    // answers the bare name as its ARN.
    let divergence = Trace::from_json(&serde_json::json!({
        "format": "smconform-trace/1",
        "title": "ListSecretVersionIds of a secret without versions: ARN",
        "source": "tests/repro.rs",
        "steps": [
            {"op": "CreateSecret", "input": {"Name": "s0"}},
            {"op": "ListSecretVersionIds", "input": {"SecretId": "s0"},
             "expect": {"ok": {"ARN": "arn:aws:secretsmanager:<region>:<account>:secret:s0"}},
             "note": "moto answers the name where the ARN belongs"}
        ]
    }))
    .unwrap_or_else(|(s, w)| panic!("step {s:?}: {w}"));
    let script = scratch.write("divergence.py", &render(&divergence, ReproFormat::Boto3));
    let run = run_script(&python, &script, &endpoint, &scratch);
    assert!(!run.stderr.contains("Traceback"), "{}", run.describe());
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let line = run.differs_line(2).unwrap_or_else(|| panic!("no DIFFERS line for step 2\n{}", run.describe()));
    assert!(line.contains("ARN"), "{line}");

    // (c) The moto catalogue, when there is one: every entry's reproduction diverges at its last step.
    let catalogue = root().join("fixtures/divergences/moto");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&catalogue)
        .map(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect()
        })
        .unwrap_or_default();
    entries.sort();
    if entries.is_empty() {
        eprintln!("no catalogue entries in {}: part (c) skipped", catalogue.display());
    }
    let mut wrong = Vec::new();
    let mut scripts = Vec::new();
    let mut lasts = Vec::new();
    for path in &entries {
        let trace = load_trace(path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        scripts.push(scratch.write(&name.replace(".json", ".py"), &render(&trace, ReproFormat::Boto3)));
        lasts.push((name, trace.steps.len()));
    }
    let runs = run_scripts(&python, &scripts, &endpoint, &scratch);
    for ((name, last), run) in lasts.iter().zip(&runs) {
        if run.stderr.contains("Traceback") || run.code != Some(1) || run.differs_line(*last).is_none() {
            wrong.push(format!("{name}: {}", run.describe()));
        }
    }
    assert!(wrong.is_empty(), "{} of {} catalogue entries:\n{}", wrong.len(), entries.len(), wrong.join("\n\n"));

    // The AWS CLI form of a fixture, when the CLI is installed: it runs to the end.
    if has_program("aws", "--version") {
        let script =
            scratch.write("token-idempotency.sh", &render(&fixture("token-idempotency.json"), ReproFormat::AwsCli));
        let run = run_script(Path::new("bash"), &script, &endpoint, &scratch);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        assert!(run.stdout.contains("--- step 6: list-secret-version-ids"), "{}", run.describe());
        assert!(run.stdout.contains("10000000-0000-4000-8000-000000000001"), "{}", run.describe());
        assert!(run.stderr.contains("ResourceExistsException"), "{}", run.describe());
    } else {
        eprintln!("no aws CLI: its script is only syntax-checked");
    }

    // Every script cleaned up after itself.
    assert_eq!(leftovers(moto).await, Vec::<String>::new());
}
