//! The `smconform-trace/1` format: a titled sequence of requests in AWS's JSON input shape, the
//! rotation functions the sequence assumes, and optionally per step the outcome AWS must show
//! (`expect`) and what a target showed (`observed`). Used for fixtures, minimal reproductions and
//! user-written scenarios. See README.md for the format description.

use crate::target::Observed;
use serde_json::{json, Map, Value};
use sm_model::{ApiError, Expect, FunctionBehaviour, Request};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "smconform-trace/1";

/// One step of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    pub request: Request,
    /// What AWS must answer (subset match; see [`crate::matcher`]).
    pub expect: Option<Expect>,
    /// What a target answered when the trace was recorded (informational).
    pub observed: Option<Value>,
    /// A remark, e.g. where a divergence was found.
    pub note: Option<String>,
}

/// What kind of public record an evidence trace was taken from (`fixtures/evidence/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceKind {
    /// A LocalStack snapshot recorded against real AWS (`@markers.aws.validated`).
    LocalstackSnapshot,
    /// A moto test decorated `@aws_verified` (its assertions held against real AWS).
    MotoAwsVerified,
    /// botocore's `examples-1.json` (AWS's own examples).
    BotocoreExample,
    /// The AWS CLI's `examples/secretsmanager/*.rst` (AWS's own examples).
    AwscliExample,
    /// AWS's API Reference or User Guide text.
    AwsDocumentation,
    /// A public issue or pull request quoting what real AWS answered.
    PublicIssue,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 6] = [
        EvidenceKind::LocalstackSnapshot,
        EvidenceKind::MotoAwsVerified,
        EvidenceKind::BotocoreExample,
        EvidenceKind::AwscliExample,
        EvidenceKind::AwsDocumentation,
        EvidenceKind::PublicIssue,
    ];
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::LocalstackSnapshot => "localstack-snapshot",
            EvidenceKind::MotoAwsVerified => "moto-aws-verified",
            EvidenceKind::BotocoreExample => "botocore-example",
            EvidenceKind::AwscliExample => "awscli-example",
            EvidenceKind::AwsDocumentation => "aws-documentation",
            EvidenceKind::PublicIssue => "public-issue",
        }
    }
    pub fn parse(s: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Where an evidence trace comes from: a stable id (`LS:test_invalid_secret_name`,
/// `CLI:update-secret-version-stage`) that rules cite, and the kind of record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub id: String,
    pub kind: EvidenceKind,
    /// Set when stronger evidence (named here) contradicts this record, e.g. a documentation
    /// example that a recording of AWS shows to be wrong. Such a trace must disagree with the model.
    pub contradicted_by: Option<String>,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub title: String,
    pub source: String,
    /// Present on traces of recorded real-AWS interactions (`fixtures/evidence/`).
    pub evidence: Option<Evidence>,
    pub rotation_functions: BTreeMap<String, FunctionBehaviour>,
    pub steps: Vec<TraceStep>,
}

/// A trace file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {what}", step.map(|s| format!(", step {s}")).unwrap_or_default())]
pub struct TraceError {
    pub file: PathBuf,
    /// 1-based step number, when the problem is in a step.
    pub step: Option<usize>,
    pub what: String,
}

fn expect_from_json(v: &Value) -> Result<Expect, String> {
    let Value::Object(o) = v else {
        return Err("`expect` must be an object".into());
    };
    match (o.get("ok"), o.get("error"), o.len()) {
        (Some(Value::Object(ok)), None, 1) => Ok(Expect::Ok(Value::Object(ok.clone()).into())),
        (None, Some(Value::Object(e)), 1) => {
            let code = e.get("code").and_then(Value::as_str).ok_or("`expect.error.code` must be a string")?;
            if let Some(k) = e.keys().find(|k| *k != "code" && *k != "message") {
                return Err(format!("unknown member `expect.error.{k}`"));
            }
            Ok(match e.get("message") {
                None => Expect::Err(ApiError::code_only(code, "")),
                Some(Value::String(m)) => Expect::Err(ApiError::exact(code, m.clone())),
                Some(_) => return Err("`expect.error.message` must be a string".into()),
            })
        }
        _ => Err("`expect` must be exactly one of {\"ok\": {...}} or {\"error\": {\"code\": ...}}".into()),
    }
}

/// The trace-format rendering of an observation.
pub fn observed_json(o: &Observed) -> Value {
    match o {
        Observed::Ok(v) => json!({ "ok": v }),
        Observed::Error { code, message, status } => {
            json!({ "error": { "code": code, "message": message, "status": status } })
        }
        Observed::Fault { kind, detail } => {
            json!({ "fault": { "kind": kind.name(), "detail": detail } })
        }
    }
}

/// The observation a trace-format rendering stands for ([`observed_json`] read back), if it is one.
pub fn observed_from_json(v: &Value) -> Option<Observed> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    if let Some(ok) = o.get("ok") {
        return Some(Observed::Ok(ok.clone()));
    }
    if let Some(e) = o.get("error") {
        return Some(Observed::Error {
            code: e.get("code")?.as_str()?.to_string(),
            message: e.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
            status: e.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()),
        });
    }
    let f = o.get("fault")?;
    Some(Observed::Fault {
        kind: crate::target::FaultKind::parse(f.get("kind")?.as_str()?)?,
        detail: f.get("detail").and_then(Value::as_str).unwrap_or_default().to_string(),
    })
}

impl Trace {
    /// Reads and checks a trace file.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let err = |step: Option<usize>, what: String| TraceError { file: path.to_path_buf(), step, what };
        let text = std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| err(None, format!("not valid JSON: {e}")))?;
        Trace::from_json(&v).map_err(|(step, what)| err(step, what))
    }

    /// Parses a trace from JSON; errors carry the 1-based step number where relevant.
    pub fn from_json(v: &Value) -> Result<Trace, (Option<usize>, String)> {
        let top = |w: &str| (None, w.to_string());
        let Value::Object(o) = v else {
            return Err(top("a trace must be a JSON object"));
        };
        match o.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err((None, format!("unsupported format {other:?} (expected {FORMAT:?})"))),
            None => return Err(top("missing `format` (expected \"smconform-trace/1\")")),
        }
        for k in o.keys() {
            if !["format", "title", "source", "evidence", "rotation_functions", "steps"].contains(&k.as_str()) {
                return Err((None, format!("unknown member `{k}`")));
            }
        }
        let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let evidence = match o.get("evidence") {
            None => None,
            Some(Value::Object(e)) => {
                if let Some(k) = e.keys().find(|k| !["id", "kind", "contradicted_by"].contains(&k.as_str())) {
                    return Err((None, format!("unknown member `evidence.{k}`")));
                }
                let id = e.get("id").and_then(Value::as_str).filter(|s| !s.is_empty());
                let id = id.ok_or_else(|| top("`evidence.id` must be a non-empty string"))?.to_string();
                let kind = e.get("kind").and_then(Value::as_str).unwrap_or_default();
                let kind = EvidenceKind::parse(kind).ok_or_else(|| {
                    let known: Vec<&str> = EvidenceKind::ALL.iter().map(|k| k.name()).collect();
                    (None, format!("unknown `evidence.kind` {kind:?} (known: {})", known.join(", ")))
                })?;
                let contradicted_by = e.get("contradicted_by").and_then(Value::as_str).map(str::to_string);
                Some(Evidence { id, kind, contradicted_by })
            }
            Some(_) => return Err(top("`evidence` must be an object {\"id\": ..., \"kind\": ...}")),
        };
        let mut rotation_functions = BTreeMap::new();
        if let Some(f) = o.get("rotation_functions") {
            let Value::Object(f) = f else {
                return Err(top("`rotation_functions` must be an object"));
            };
            for (arn, b) in f {
                let name = b.as_str().unwrap_or_default();
                let behaviour = FunctionBehaviour::parse(name).ok_or_else(|| {
                    (None, format!("rotation function {arn}: unknown behaviour {b} (complete, fail-at-createSecret|setSecret|testSecret|finishSecret, not-invocable)"))
                })?;
                rotation_functions.insert(arn.clone(), behaviour);
            }
        }
        let Some(Value::Array(raw_steps)) = o.get("steps") else {
            return Err(top("missing `steps` array"));
        };
        let mut steps = Vec::new();
        for (i, s) in raw_steps.iter().enumerate() {
            let n = Some(i + 1);
            let Value::Object(s) = s else {
                return Err((n, "a step must be an object".into()));
            };
            for k in s.keys() {
                if !["op", "input", "expect", "observed", "note"].contains(&k.as_str()) {
                    return Err((n, format!("unknown member `{k}`")));
                }
            }
            let op = s.get("op").and_then(Value::as_str).ok_or((n, "missing `op`".to_string()))?;
            let input = s.get("input").cloned().unwrap_or(Value::Object(Map::new()));
            let request = Request::from_parts(op, input).map_err(|e| (n, e.to_string()))?;
            let expect = match s.get("expect") {
                None | Some(Value::Null) => None,
                Some(e) => Some(expect_from_json(e).map_err(|w| (n, w))?),
            };
            let note = s.get("note").and_then(Value::as_str).map(str::to_string);
            steps.push(TraceStep { request, expect, observed: s.get("observed").cloned(), note });
        }
        Ok(Trace { title: text("title"), source: text("source"), evidence, rotation_functions, steps })
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut o = Map::new();
                o.insert("op".into(), Value::String(s.request.op().into()));
                o.insert("input".into(), s.request.input_json());
                if let Some(e) = &s.expect {
                    o.insert("expect".into(), e.to_json());
                }
                if let Some(obs) = &s.observed {
                    o.insert("observed".into(), obs.clone());
                }
                if let Some(n) = &s.note {
                    o.insert("note".into(), Value::String(n.clone()));
                }
                Value::Object(o)
            })
            .collect();
        let functions: Map<String, Value> =
            self.rotation_functions.iter().map(|(k, b)| (k.clone(), Value::String(b.name()))).collect();
        let mut top = json!({
            "format": FORMAT,
            "title": self.title,
            "source": self.source,
            "rotation_functions": functions,
            "steps": steps,
        });
        if let Some(e) = &self.evidence {
            top["evidence"] = json!({ "id": e.id, "kind": e.kind.name() });
            if let Some(c) = &e.contradicted_by {
                top["evidence"]["contradicted_by"] = json!(c);
            }
        }
        top
    }

    /// Writes the trace as pretty JSON.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = serde_json::to_string_pretty(&self.to_json()).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_bad_steps() {
        let v = json!({"format": FORMAT, "title": "t", "source": "s",
            "rotation_functions": {"arn:aws:lambda:us-east-1:123456789012:function:ok": "complete"},
            "steps": [
              {"op": "CreateSecret", "input": {"Name": "s1", "SecretString": "v0", "ClientRequestToken": "a0000000-0000-4000-8000-000000000001"},
               "expect": {"ok": {"VersionId": "a0000000-0000-4000-8000-000000000001"}}},
              {"op": "GetSecretValue", "input": {"SecretId": "s1", "VersionStage": "AWSPREVIOUS"},
               "expect": {"error": {"code": "ResourceNotFoundException"}}}]});
        let t = Trace::from_json(&v).unwrap();
        assert_eq!(t.steps.len(), 2);
        assert_eq!(Trace::from_json(&t.to_json()).unwrap(), t);

        let bad_op =
            json!({"format": FORMAT, "steps": [{"op": "DescribeSecret", "input": {"SecretId": "a"}}, {"op": "Nope"}]});
        let (step, what) = Trace::from_json(&bad_op).unwrap_err();
        assert_eq!(step, Some(2));
        assert!(what.contains("unknown operation \"Nope\""), "{what}");

        let bad_input =
            json!({"format": FORMAT, "steps": [{"op": "DescribeSecret", "input": {"SecretId": "a", "Bogus": 1}}]});
        assert!(Trace::from_json(&bad_input).unwrap_err().1.contains("Bogus"));

        let bad_expect = json!({"format": FORMAT, "steps": [{"op": "DescribeSecret", "input": {"SecretId": "a"}, "expect": {"okay": {}}}]});
        assert_eq!(Trace::from_json(&bad_expect).unwrap_err().0, Some(1));

        let with_evidence = json!({"format": FORMAT, "title": "t", "source": "s",
            "evidence": {"id": "LS:test_secret_not_found", "kind": "localstack-snapshot"}, "steps": []});
        let t = Trace::from_json(&with_evidence).unwrap();
        assert_eq!(
            t.evidence,
            Some(Evidence {
                id: "LS:test_secret_not_found".into(),
                kind: EvidenceKind::LocalstackSnapshot,
                contradicted_by: None
            })
        );
        assert_eq!(Trace::from_json(&t.to_json()).unwrap(), t);
        let bad_kind = json!({"format": FORMAT, "evidence": {"id": "x", "kind": "hearsay"}, "steps": []});
        assert!(Trace::from_json(&bad_kind).unwrap_err().1.contains("unknown `evidence.kind`"));

        let bad_format = json!({"format": "other/2", "steps": []});
        assert!(Trace::from_json(&bad_format).unwrap_err().1.contains("unsupported format"));
    }
}
