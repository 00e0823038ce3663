//! Every trace in `fixtures/` replays green against `smconform serve` through `smconform replay
//! --target endpoint`: the evidence traces (real AWS answers; those marked `contradicted_by`
//! stronger evidence are left out, since the model, and so serve, rightly disagrees with them),
//! the catalogue entries' reproductions (whose expectations are the model's outcome, which serve
//! must give where the emulator did not) and the example traces.
//!
//! Traces declare rotation functions by ARN; one ARN has different behaviours in different
//! traces, so the traces are grouped into batches whose declarations agree, one server each.

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

/// The trace of a fixture file (an entry's reproduction, or the file itself).
fn trace_of(v: &Value) -> &Value {
    if v.get("format").and_then(Value::as_str) == Some("smconform-divergence/1") {
        &v["trace"]
    } else {
        v
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
        let trace = trace_of(&v);
        if trace.get("evidence").and_then(|e| e.get("contradicted_by")).is_some_and(|c| !c.is_null()) {
            skipped += 1;
            continue;
        }
        let functions: BTreeMap<String, String> = trace
            .get("rotation_functions")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
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
    assert!(replayed >= 250, "only {replayed} fixture traces found ({skipped} contradicted ones left out)");
    for (functions, paths) in &batches {
        let (_server, url) = serve(functions);
        let out = Command::new(env!("CARGO_BIN_EXE_smconform"))
            .args(["replay", "--target", "endpoint", "--endpoint-url", &url])
            .args(paths)
            .output()
            .expect("replay runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let failing: Vec<&str> = stdout.lines().filter(|l| !l.contains("PASS") && l.contains(".json")).collect();
        assert_eq!(
            out.status.code(),
            Some(0),
            "replay against serve failed:\n{}\n---\n{stdout}\n{}",
            failing.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
