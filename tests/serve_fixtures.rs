//! Every trace in `fixtures/` replays green against `smconform serve` through `smconform replay
//! --target endpoint`: the evidence traces (real AWS answers; those marked `contradicted_by`
//! stronger evidence are left out, since the model, and so serve, rightly disagrees with them),
//! the catalogue entries' reproductions (whose expectations are the model's outcome, which serve
//! must give where the emulator did not) and the example traces.
//!
//! Traces declare rotation functions by ARN; one ARN has different behaviours in different
//! traces, so the traces are grouped into batches whose declarations agree, one server each.
//!
//! [`CANNOT_REPLAY`] lists the evidence traces that cannot replay green through the SDK against
//! any faithful endpoint, each with its reason; they must fail (so that an entry is removed when
//! it starts passing), and every other trace must pass.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(functions: &BTreeMap<String, String>) -> (Serve, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smconform"));
    command.args(["serve", "--port", "0"]);
    for (arn, behaviour) in functions {
        command.arg("--function").arg(format!("{arn}={behaviour}"));
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("a first line");
    let url = line.trim().strip_prefix("smconform serve: listening on ").expect("serve's URL").to_string();
    (Serve(child), url)
}

/// Evidence traces that fail against serve for a reason other than serve, by file.
const CANNOT_REPLAY: &[(&str, &str)] = &[
    // AWS may accept or refuse a new rotation over a leftover AWSPENDING when the secret has no
    // AWSCURRENT (§13.27); serve answers the canonical branch (accepted), the reproduction expects
    // the refusal LocalStack words differently.
    (
        "divergences/localstack/localstack-words-the-message-of-rotate-stalled-pending-differently.json",
        "expects the other of two outcomes AWS allows",
    ),
    // The Rust SDK fills a missing ClientRequestToken (an idempotency token), so the request AWS
    // refused (it came from a client that does not) cannot be sent through it.
    ("evidence/issues/async-aws-1069-create-without-token.json", "the SDK adds the missing token"),
    ("evidence/issues/aws-sdk-js-v3-4640-put-without-token.json", "the SDK adds the missing token"),
    ("evidence/localstack/test-no-client-request-token-createsecret.json", "the SDK adds the missing token"),
    ("evidence/localstack/test-no-client-request-token-putsecretvalue.json", "the SDK adds the missing token"),
    ("evidence/localstack/test-no-client-request-token-rotatesecret.json", "the SDK adds the missing token"),
    ("evidence/localstack/test-no-client-request-token-updatesecret.json", "the SDK adds the missing token"),
    // AWS answered while its (real, asynchronous) rotation function was still running; serve's
    // declared behaviour has finished by the time RotateSecret answers. Both are outcomes the
    // model allows (the replay's model check passes); the recording shows the other one.
    ("evidence/issues/aws-samples-rotation-145-pending-kept.json", "AWS's function was still running"),
    ("evidence/issues/aws-samples-rotation-168-pending-kept.json", "AWS's function was still running"),
    ("evidence/issues/terraform-aws-35023-rotate-while-incomplete.json", "AWS's function was still running"),
    // AWS still treated a name force-deleted a moment before as scheduled for deletion; the model
    // allows that and the immediate re-creation serve (canonically) gives.
    ("evidence/issues/terraform-aws-10259-force-delete-recreate.json", "eventual consistency on AWS's side"),
    // AWS worded this constraint "Member must have length" in 2020 and "Member must have a
    // length" in 2024 (model/src/validate.rs); serve gives the model's text, which matches the
    // 2020 recording, and only one of the two can match.
    ("evidence/issues/terraform-aws-35827-versionid-validation.json", "AWS's wording changed between recordings"),
    // AWS's own examples of DescribeSecret after RotateSecret with `cron(0 16 1,15 * ? *)` give
    // AutomaticallyAfterDays 2 (AWS CLI) and 14 (botocore); the model leaves the value open and
    // serve answers 1, so neither example can match.
    ("evidence/awscli/describe-secret.json", "AWS's examples disagree on AutomaticallyAfterDays"),
    ("evidence/botocore/to-retrieve-the-details-of-a-secret.json", "AWS's examples disagree on AutomaticallyAfterDays"),
    // An empty SecretId: replays put the run's prefix before every name, so "" is never sent.
    ("evidence/issues/terraform-aws-39406-rotate-empty-secretid.json", "names are prefixed on replay"),
];

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("a fixtures folder").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// The traces of a fixture file (an entry's reproductions, or the file itself).
fn traces_of(v: &Value) -> Vec<&Value> {
    match v.get("reproductions").and_then(Value::as_array) {
        Some(reproductions) => reproductions.iter().map(|r| &r["trace"]).collect(),
        None => vec![v],
    }
}

#[test]
fn every_fixture_trace_replays_green_against_serve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    json_files(&root, &mut files);
    // Batches of (functions, files) whose declarations agree.
    let mut batches: Vec<(BTreeMap<String, String>, Vec<PathBuf>)> = Vec::new();
    let mut skipped = 0;
    for path in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        let traces = traces_of(&v);
        // A reproduction found after the run followed a target past an earlier divergence holds,
        // after that step, the model's expectations given what the target did: not AWS's answers
        // to the sequence from the start, so AWS (and serve) need not replay it green.
        let after_a_divergence = |t: &&Value| {
            let steps = t.get("steps").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let earlier = &steps[..steps.len().saturating_sub(1)];
            earlier.iter().any(|s| s.get("note").and_then(Value::as_str).is_some_and(|n| n.starts_with("diverges:")))
        };
        if traces.iter().any(after_a_divergence)
            || traces
                .iter()
                .any(|t| t.get("evidence").and_then(|e| e.get("contradicted_by")).is_some_and(|c| !c.is_null()))
        {
            skipped += 1;
            continue;
        }
        let functions: BTreeMap<String, String> = traces
            .iter()
            .filter_map(|t| t.get("rotation_functions").and_then(Value::as_object))
            .flat_map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())))
            .collect();
        let fits = |declared: &BTreeMap<String, String>| {
            functions.iter().all(|(arn, b)| declared.get(arn).is_none_or(|d| d == b))
        };
        match batches.iter_mut().find(|(declared, _)| fits(declared)) {
            Some((declared, paths)) => {
                declared.extend(functions);
                paths.push(path);
            }
            None => batches.push((functions, vec![path])),
        }
    }
    let replayed: usize = batches.iter().map(|(_, p)| p.len()).sum();
    assert!(replayed >= 240, "only {replayed} fixture files found ({skipped} contradicted ones left out)");
    let mut failed = std::collections::BTreeSet::new();
    let mut logs = String::new();
    for (functions, paths) in &batches {
        let (_server, url) = serve(functions);
        let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
            .args(["replay", "--target", "endpoint", "--endpoint-url", &url])
            .args(paths)
            .output()
            .expect("replay runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        for line in stdout.lines() {
            if let Some(path) = line.strip_prefix("FAIL ").or_else(|| line.strip_prefix("FAULT ")) {
                let path = path.split(" (").next().unwrap_or(path);
                let relative = Path::new(path).strip_prefix(&root).map(|p| p.display().to_string());
                failed.insert(relative.unwrap_or_else(|_| path.to_string()));
            }
        }
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)),
            "replay did not finish ({code:?}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        logs.push_str(&stdout);
    }
    let expected: std::collections::BTreeSet<String> = CANNOT_REPLAY.iter().map(|(f, _)| f.to_string()).collect();
    let unexpected: Vec<&String> = failed.difference(&expected).collect();
    let now_passing: Vec<&String> = expected.difference(&failed).collect();
    assert!(unexpected.is_empty(), "fixture traces that do not replay green against serve: {unexpected:?}\n{logs}");
    assert!(now_passing.is_empty(), "listed in CANNOT_REPLAY but passing now (remove them): {now_passing:?}");
}
