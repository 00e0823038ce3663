//! Reproduction scripts: a trace (a fixture, a shrunk reproduction or a catalogue entry) rendered
//! as a stand-alone script that a person attaches to an emulator bug report and runs against any
//! endpoint, without smconform.
//!
//! - [`ReproFormat::Boto3`]: a Python 3 script that needs only boto3. It sends every step, prints
//!   each answer with names and ARNs mapped back to the trace's logical ones (as
//!   [`crate::naming`] does), checks every step that has an `expect` with an embedded matcher
//!   that mirrors [`crate::matcher`], prints `step N: as AWS` or `step N: DIFFERS from AWS: …`,
//!   force-deletes what it created and exits 1 when a step differed (0 otherwise, 2 when the
//!   target failed instead of answering).
//! - [`ReproFormat::AwsCli`]: a bash script of `aws secretsmanager` calls that shows what the
//!   target answers, with AWS's expected outcome in a comment above each call. It checks nothing.
//!
//! Both read the endpoint from `SMCONFORM_ENDPOINT` (default `http://127.0.0.1:5000`), prefix
//! every logical secret name with a random per-run prefix, use test credentials for loopback
//! endpoints and disable retries. Apart from that prefix, drawn when the script runs, the
//! rendering is deterministic: the same trace always gives the same script.

use crate::trace::{Trace, TraceStep};
use base64::Engine as _;
use serde_json::Value;
use sm_model::{Expect, Request};
use std::fmt::Write as _;

/// The script formats [`render`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReproFormat {
    /// A bash script of AWS CLI calls (shows answers, checks nothing).
    AwsCli,
    /// A Python 3 script using boto3 (shows answers and checks them).
    Boto3,
}

impl ReproFormat {
    /// Every format, in the order of the enum.
    pub const ALL: [ReproFormat; 2] = [ReproFormat::AwsCli, ReproFormat::Boto3];

    /// Parses a format name: `aws-cli` or `boto3`.
    pub fn parse(name: &str) -> Option<ReproFormat> {
        match name {
            "aws-cli" => Some(ReproFormat::AwsCli),
            "boto3" => Some(ReproFormat::Boto3),
            _ => None,
        }
    }

    /// The name [`ReproFormat::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            ReproFormat::AwsCli => "aws-cli",
            ReproFormat::Boto3 => "boto3",
        }
    }

    /// The usual file extension of the script: `sh` or `py`.
    pub fn extension(self) -> &'static str {
        match self {
            ReproFormat::AwsCli => "sh",
            ReproFormat::Boto3 => "py",
        }
    }
}

/// Renders `trace` as a script in `format`.
pub fn render(trace: &Trace, format: ReproFormat) -> String {
    match format {
        ReproFormat::AwsCli => render_aws_cli(trace),
        ReproFormat::Boto3 => render_boto3(trace),
    }
}

/// The boto3 (botocore) method name of an operation: `ListSecretVersionIds` →
/// `list_secret_version_ids`. Acronyms stay together: `RotationLambdaARN` → `rotation_lambda_arn`.
pub fn snake_case(op: &str) -> String {
    split_words(op).join("_")
}

/// The AWS CLI command name of an operation: `ListSecretVersionIds` → `list-secret-version-ids`.
pub fn kebab_case(op: &str) -> String {
    split_words(op).join("-")
}

/// Lower-case words of a PascalCase name. A new word starts at an upper-case letter that follows
/// a lower-case letter or a digit, or that is followed by a lower-case letter after a run of
/// upper-case ones (`ARNs` is one word only when nothing follows).
fn split_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// Width prose comments are wrapped to (the `# ` included).
const COMMENT_WIDTH: usize = 96;

/// Width Python literals are laid out to.
const CODE_WIDTH: usize = 96;

/// Comment text made safe for a script: control characters shown as `\u{..}` escapes.
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

/// Appends `text` as `#` comment lines (wrapped at word boundaries; line breaks kept) at `indent`.
fn comment(out: &mut String, indent: &str, text: &str) {
    let width = COMMENT_WIDTH.saturating_sub(indent.len() + 2).max(40);
    for para in comment_safe(text).split('\n') {
        let para = para.trim_end();
        if para.is_empty() {
            let _ = writeln!(out, "{indent}#");
            continue;
        }
        let lead: String = para.chars().take_while(|c| *c == ' ').collect();
        let mut line = lead.clone();
        for word in para.split_whitespace() {
            if line.len() > lead.len() && line.len() + 1 + word.len() > width {
                let _ = writeln!(out, "{indent}# {line}");
                line = format!("{lead}  ");
            }
            if line.len() > lead.len() && !line.ends_with("  ") {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "{indent}# {line}");
    }
}

/// Appends verbatim (not wrapped) comment lines, e.g. pretty JSON.
fn comment_verbatim(out: &mut String, indent: &str, text: &str) {
    for line in comment_safe(text).split('\n') {
        let _ = writeln!(out, "{indent}# {}", line.trim_end());
    }
}

/// A section rule: `# --- Step 2: CreateSecret ------…`.
fn rule(out: &mut String, indent: &str, title: &str) {
    let head = format!("{indent}# --- {title} ");
    let fill = COMMENT_WIDTH.saturating_sub(head.chars().count()).max(3);
    let _ = writeln!(out, "{head}{}", "-".repeat(fill));
}

/// A JSON string literal (also a valid Python string literal).
fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// JSON on one line with a space after `:` and `,`, for comments.
fn compact(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(compact).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter().map(|(k, v)| format!("{}: {}", json_str(k), compact(v))).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// The expected outcome as comment text: a first line, and the expected answer laid out over
/// further lines when it does not fit on the first (`width`: room for comment text).
fn expectation_text(e: &Expect, width: usize) -> (String, Option<String>) {
    match e {
        Expect::Ok(v) => {
            let line = format!("AWS answers: success with {}", compact(v));
            if line.chars().count() <= width {
                return (line, None);
            }
            let mut laid = String::new();
            Layout::from_json(v, Style { python: false, width: width.saturating_sub(2) }).write(
                &mut laid,
                0,
                0,
                0,
                Style { python: false, width: width.saturating_sub(2) },
            );
            ("AWS answers: success with".to_string(), Some(laid))
        }
        Expect::Err(err) if err.message_known => {
            (format!("AWS answers: error {} with message {}", err.code, json_str(&err.message)), None)
        }
        Expect::Err(err) => (format!("AWS answers: error {} (message not compared)", err.code), None),
    }
}

/// Appends the comment block of one step: rule, expected outcome, note.
fn step_comments(out: &mut String, indent: &str, n: usize, step: &TraceStep) {
    rule(out, indent, &format!("Step {n}: {}", step.request.op()));
    match &step.expect {
        Some(e) => {
            let (line, pretty) = expectation_text(e, COMMENT_WIDTH.saturating_sub(indent.len() + 2));
            comment(out, indent, &line);
            if let Some(p) = pretty {
                comment_verbatim(out, indent, &indent_lines(&p, "  "));
            }
        }
        None => comment(out, indent, "(no expectation: a setup step, not checked)"),
    }
    if let Some(note) = &step.note {
        comment(out, indent, &format!("Found here: {note}"));
    }
}

fn indent_lines(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

/// The header lines both formats share: title, source, where divergences were found, the
/// rotation functions the trace assumes.
fn header_facts(trace: &Trace) -> String {
    let mut t = String::new();
    let title = if trace.title.trim().is_empty() { "(untitled trace)" } else { trace.title.trim() };
    let _ = writeln!(t, "smconform reproduction: {title}");
    if !trace.source.trim().is_empty() {
        let _ = writeln!(t, "Source: {}", trace.source.trim());
    }
    for (i, step) in trace.steps.iter().enumerate() {
        if let Some(note) = &step.note {
            let _ = writeln!(t, "Divergence found at step {} ({}): {note}", i + 1, step.request.op());
        }
    }
    if !trace.rotation_functions.is_empty() {
        t.push_str(
            "\nRotation functions the trace names, with the behaviour its RotateSecret steps assume: a \
             `complete` or `fail-at-<step>` function must exist at the endpoint and act so; a \
             `not-invocable` one must not be invocable there (for example, not exist).\n",
        );
        for (arn, behaviour) in &trace.rotation_functions {
            let _ = writeln!(t, "  {arn}: {}", behaviour.name());
        }
    }
    t
}

/// Expectation legend for headers.
const LEGEND: &str = "An expected answer names only the members that matter: null means the member \
must be absent, \"<any>\" that it must be present with any value; VersionStages and KmsKeyIds compare \
as sets, Versions by VersionId with exactly the listed versions, VersionIdsToStages as a map of sets. \
An expected error compares its code, and its message when one is given. Expected ARNs are in the \
trace's logical form arn:aws:secretsmanager:<region>:<account>:secret:<name>.";

/// Logical secret names the trace creates, in first-use order.
fn created_names(trace: &Trace) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for step in &trace.steps {
        if let Request::CreateSecret(c) = &step.request {
            if !names.contains(&c.name) {
                names.push(c.name.clone());
            }
        }
    }
    names
}

/// The member naming the secret: `Name` for CreateSecret, `SecretId` otherwise.
fn name_member(req: &Request) -> &'static str {
    match req {
        Request::CreateSecret(_) => "Name",
        _ => "SecretId",
    }
}

/// Input members in script order: the secret name first, then the others alphabetically.
fn ordered_input(req: &Request) -> Vec<(String, Value)> {
    let first = name_member(req);
    let Value::Object(input) = req.input_json() else {
        return Vec::new();
    };
    let mut members: Vec<(String, Value)> = Vec::new();
    if let Some(v) = input.get(first) {
        members.push((first.to_string(), v.clone()));
    }
    members.extend(input.into_iter().filter(|(k, _)| k != first));
    members
}

// ---------------------------------------------------------------------------------------------
// boto3
// ---------------------------------------------------------------------------------------------

/// How a [`Layout`] is written: Python (`None`, trailing commas, 4-space indent) or JSON for
/// comments (2-space indent), within `width` columns.
#[derive(Clone, Copy)]
struct Style {
    python: bool,
    width: usize,
}

impl Style {
    const PYTHON: Style = Style { python: true, width: CODE_WIDTH };

    fn step(self) -> usize {
        if self.python {
            4
        } else {
            2
        }
    }
}

/// A Python or JSON value, laid out on one line when it fits and broken over lines otherwise.
enum Layout {
    Atom(String),
    Dict(Vec<(String, Layout)>),
    List(Vec<Layout>),
}

impl Layout {
    fn from_json(v: &Value, style: Style) -> Layout {
        match v {
            Value::Null if style.python => Layout::Atom("None".into()),
            Value::Bool(true) if style.python => Layout::Atom("True".into()),
            Value::Bool(false) if style.python => Layout::Atom("False".into()),
            Value::String(s) => Layout::Atom(json_str(s)),
            Value::Array(a) => Layout::List(a.iter().map(|v| Layout::from_json(v, style)).collect()),
            Value::Object(o) => {
                Layout::Dict(o.iter().map(|(k, v)| (json_str(k), Layout::from_json(v, style))).collect())
            }
            other => Layout::Atom(other.to_string()),
        }
    }

    fn flat(&self) -> String {
        match self {
            Layout::Atom(a) => a.clone(),
            Layout::Dict(items) => format!(
                "{{{}}}",
                items.iter().map(|(k, v)| format!("{k}: {}", v.flat())).collect::<Vec<_>>().join(", ")
            ),
            Layout::List(items) => format!("[{}]", items.iter().map(Layout::flat).collect::<Vec<_>>().join(", ")),
        }
    }

    /// Writes the value starting at column `col`; continuation lines are indented from
    /// `indent`. `tail` is how many characters follow on the last line (closing brackets).
    fn write(&self, out: &mut String, indent: usize, col: usize, tail: usize, style: Style) {
        let flat = self.flat();
        let fits = col + flat.chars().count() + tail <= style.width;
        let inner = indent + style.step();
        let (open, close, count) = match self {
            Layout::Dict(items) => ('{', '}', items.len()),
            Layout::List(items) => ('[', ']', items.len()),
            Layout::Atom(_) => (' ', ' ', 0),
        };
        if fits || count == 0 {
            out.push_str(&flat);
            return;
        }
        out.push(open);
        out.push('\n');
        let comma = |i: usize| if style.python || i + 1 < count { "," } else { "" };
        match self {
            Layout::Dict(items) => {
                for (i, (k, v)) in items.iter().enumerate() {
                    let _ = write!(out, "{}{k}: ", " ".repeat(inner));
                    v.write(out, inner, inner + k.chars().count() + 2, 1, style);
                    let _ = writeln!(out, "{}", comma(i));
                }
            }
            Layout::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    out.push_str(&" ".repeat(inner));
                    v.write(out, inner, inner, 1, style);
                    let _ = writeln!(out, "{}", comma(i));
                }
            }
            Layout::Atom(_) => {}
        }
        out.push_str(&" ".repeat(indent));
        out.push(close);
    }
}

/// The column the next character of `out` goes to.
fn column(out: &str) -> usize {
    out.rsplit('\n').next().map_or(0, |l| l.chars().count())
}

/// A Python bytes literal.
fn py_bytes(bytes: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// The keyword arguments of one call: names prefixed at run time, SecretBinary as bytes.
fn py_kwargs(req: &Request) -> Layout {
    let name_key = name_member(req);
    let items = ordered_input(req)
        .into_iter()
        .map(|(k, v)| {
            let py = match (&v, k.as_str()) {
                (Value::String(s), key) if key == name_key => Layout::Atom(format!("PREFIX + {}", json_str(s))),
                (Value::String(s), "SecretBinary") => {
                    match base64::engine::general_purpose::STANDARD.decode(s.as_bytes()) {
                        Ok(bytes) => Layout::Atom(py_bytes(&bytes)),
                        Err(_) => Layout::from_json(&v, Style::PYTHON),
                    }
                }
                _ => Layout::from_json(&v, Style::PYTHON),
            };
            (json_str(&k), py)
        })
        .collect();
    Layout::Dict(items)
}

fn render_boto3(trace: &Trace) -> String {
    let mut out = String::new();
    out.push_str("#!/usr/bin/env python3\n");
    let mut head = header_facts(trace);
    head.push_str(
        "\nSends the trace's requests one by one to $SMCONFORM_ENDPOINT (default http://127.0.0.1:5000) in \
         region $AWS_REGION (default us-east-1), prints every answer and checks each step that has an \
         expected outcome against what AWS answers, printing \"step N: as AWS\" or \"step N: DIFFERS from \
         AWS: ...\". Exit status: 0 when every checked step answers as AWS, 1 when any differs, 2 when the \
         target failed instead of answering (connection, time-out, throttling, or a server error at a step \
         whose answer is not checked). A server error (HTTP 5xx) where AWS answers is a difference; the \
         script stops there.\n\
         \nSecret names get a random prefix per run (repro-<8 hex>-) and every secret the script created \
         is force-deleted at the end. A loopback endpoint gets test credentials (access key \"test\"); any \
         other endpoint uses boto3's default credential chain. Retries are off, so every request is sent \
         exactly once. Printed answers show names and ARNs in the trace's logical form, as the checks \
         compare them. Needs Python 3 and boto3 only.\n\n",
    );
    head.push_str(LEGEND);
    head.push_str("\n\nGenerated by smconform from an smconform-trace/1 trace.");
    comment(&mut out, "", &head);
    out.push('\n');
    out.push_str(BOTO3_PRELUDE);
    out.push_str("\n\n\ndef main():\n    \"\"\"Runs the steps; returns the exit status.\"\"\"\n    try:\n");
    let indent = "        ";
    if trace.steps.is_empty() {
        let _ = writeln!(out, "{indent}pass  # the trace has no steps");
    }
    for (i, step) in trace.steps.iter().enumerate() {
        let n = i + 1;
        if i > 0 {
            out.push('\n');
        }
        step_comments(&mut out, indent, n, step);
        let method = snake_case(step.request.op());
        let _ = write!(out, "{indent}step({n}, {}, ", json_str(&method));
        let expect = step.expect.as_ref().map(|e| Layout::from_json(&e.to_json(), Style::PYTHON));
        let kwargs = py_kwargs(&step.request);
        let col = column(&out);
        kwargs.write(&mut out, indent.len(), col, 1, Style::PYTHON);
        if let Some(e) = expect {
            out.push_str(", expect=");
            let col = column(&out);
            e.write(&mut out, indent.len(), col, 1, Style::PYTHON);
        }
        out.push_str(")\n");
    }
    out.push_str(BOTO3_EPILOGUE);
    out
}

/// The fixed part of the boto3 script before `main`: configuration, client, name mapping,
/// sending, the matcher (mirroring `matcher.rs`) and the step runner.
const BOTO3_PRELUDE: &str = r#"import base64
import datetime
import ipaddress
import json
import os
import re
import secrets
import sys
from urllib.parse import urlsplit

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

ENDPOINT = os.environ.get("SMCONFORM_ENDPOINT") or "http://127.0.0.1:5000"
REGION = os.environ.get("AWS_REGION") or "us-east-1"
# Every secret name of this run starts with PREFIX, so runs never collide.
PREFIX = "repro-%s-" % secrets.token_hex(4)
ANY = "<any>"

CREATED = []  # physical names of the secrets this run tried to create
DIFFERING = []  # steps whose answer differs from AWS's
CHECKED = []  # steps that have an expected outcome

# Answers may hold any text: printing them must not fail on a console that cannot show it.
if hasattr(sys.stdout, "reconfigure"):
    sys.stdout.reconfigure(errors="backslashreplace")


def is_loopback(url):
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def make_client():
    config = botocore.config.Config(
        # No retries: a retried write would hide what the target did with the first attempt.
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=3,
        read_timeout=30,
        # Send every request as written, even one the service is expected to refuse.
        parameter_validation=False,
    )
    credentials = {}
    if is_loopback(ENDPOINT):
        # An emulator on this machine: test credentials, never real ones.
        credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(
        "secretsmanager", endpoint_url=ENDPOINT, region_name=REGION, config=config, **credentials
    )


client = make_client()


# --- Names: physical (prefixed) on the target, logical in the trace -----------------------------

SECRET_ARN = re.compile(
    r"arn:[^:\s]*:secretsmanager:[^:\s]*:[^:\s]*:secret:" + re.escape(PREFIX) + r"([A-Za-z0-9/_+=.@-]*)"
)


def _logical_arn(match):
    name = match.group(1)
    dots = len(name) - len(name.rstrip("."))  # a trailing "." ends a sentence, not a name
    name = name[: len(name) - dots]
    if re.fullmatch(r".+-[A-Za-z0-9]{6}", name):
        name = name[:-7]  # AWS's random ARN suffix
    return "arn:aws:secretsmanager:<region>:<account>:secret:" + name + "." * dots


def logical(value):
    """Maps this run's names and ARNs back to the trace's logical names and ARNs."""
    if isinstance(value, str):
        return SECRET_ARN.sub(_logical_arn, value).replace(PREFIX, "")
    if isinstance(value, list):
        return [logical(v) for v in value]
    if isinstance(value, dict):
        return {k: logical(v) for k, v in value.items()}
    return value


def as_json(value, dates):
    """The answer as JSON: blobs as base64 (as on the wire), dates as epoch seconds ("epoch",
    as the harness compares them) or as ISO 8601 text ("iso", for reading)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp() if dates == "epoch" else value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list):
        return [as_json(v, dates) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v, dates) for k, v in value.items()}
    return value


# --- Sending ------------------------------------------------------------------------------------


class Fault(Exception):
    """The target failed rather than answered: "connection", "timeout", "throttled" or "server
    error" (HTTP 5xx, or an error without a code)."""

    def __init__(self, kind, detail):
        super().__init__("%s: %s" % (kind, detail))
        self.kind = kind
        self.detail = " ".join(str(detail).split())[:300]


class Stop(Exception):
    """A checked step failed with a server error: later steps would start from an unknown state."""


THROTTLING = {
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown",
    "BandwidthLimitExceeded",
}
SERVER_FAILURES = {"InternalServiceError", "InternalFailure", "InternalServerError", "ServiceUnavailable"}


def list_all_versions(kwargs):
    """ListSecretVersionIds following NextToken: one answer holding every version."""
    pages, token = [], None
    while True:
        page = client.list_secret_version_ids(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(page)
        following = page.get("NextToken") or None
        if following is None:
            break
        if following == token:
            raise Fault("server error", "ListSecretVersionIds returned the same NextToken twice")
        if len(pages) >= 1000:
            raise Fault("server error", "ListSecretVersionIds did not finish within 1000 pages")
        token = following
    answer = {}
    for key in ("ARN", "Name"):
        found = [p[key] for p in pages if p.get(key) is not None]
        if found:
            answer[key] = found[0]
    if any("Versions" in p for p in pages):
        answer["Versions"] = [v for p in pages for v in p.get("Versions") or []]
    return answer


def send(method, kwargs):
    """Sends one request: {"ok": response} or {"error": {"code": ..., "message": ...}}."""
    try:
        if method == "list_secret_version_ids":
            return {"ok": list_all_versions(kwargs)}
        response = getattr(client, method)(**kwargs)
    except ClientError as e:
        error = e.response.get("Error") or {}
        code = error.get("Code") or ""
        message = error.get("Message") or ""
        status = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        detail = "HTTP %s %s: %s" % (status, code or "(no error code)", message)
        if code in THROTTLING or status == 429:
            raise Fault("throttled", detail) from None
        if code in SERVER_FAILURES or (status or 0) >= 500 or not code:
            raise Fault("server error", detail) from None
        return {"error": {"code": code, "message": message}}
    except BotoCoreError as e:
        kind = "timeout" if "Timeout" in type(e).__name__ else "connection"
        raise Fault(kind, "%s: %s" % (type(e).__name__, e)) from None
    response.pop("ResponseMetadata", None)
    return {"ok": response}


# --- Checking (the rules of smconform's matcher) --------------------------------------------------


def show(value):
    if value is None:
        return "absent"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def mismatch(path, want, got):
    return "%s: expected %s, got %s" % (path, show(want), show(got))


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def same(a, b):
    """JSON equality (a boolean is not a number)."""
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def string_set(values):
    return {v if isinstance(v, str) else json.dumps(v) for v in values}


def fields(path, want, got):
    """Subset match: every member of `want` must match in `got`."""
    if not isinstance(want, dict):
        return value(path, want, got)
    if not isinstance(got, dict):
        return mismatch(path, want, got)
    for key, w in want.items():
        difference = value(key if not path else path + "." + key, w, got.get(key))
        if difference:
            return difference
    return None


def value(path, want, got):
    key = path.rsplit(".", 1)[-1]
    if want is None:  # null: must be absent
        return None if got is None else mismatch(path, want, got)
    if got is None:
        return mismatch(path, want, got)
    if want == ANY:  # "<any>": must be present
        return None
    if isinstance(want, list) and isinstance(got, list):
        if key in ("VersionStages", "KmsKeyIds"):
            return None if string_set(want) == string_set(got) else mismatch(path, want, got)
        if key == "Versions":
            return versions(path, want, got)
    if isinstance(want, dict):
        if key == "VersionIdsToStages" and isinstance(got, dict):
            return map_of_sets(path, want, got)
        return fields(path, want, got)
    return None if same(want, got) else mismatch(path, want, got)


def version_id(v):
    vid = v.get("VersionId") if isinstance(v, dict) else None
    return vid if isinstance(vid, str) else None


def versions(path, want, got):
    """Versions: exactly the listed VersionIds, each entry a subset match."""
    want_ids = {version_id(w) for w in want} - {None}
    got_ids = {version_id(g) for g in got} - {None}
    for extra in sorted(got_ids - want_ids):
        entry = next(g for g in got if version_id(g) == extra)
        return "%s[%s]: expected absent, got %s" % (path, extra, show(entry))
    for missing in sorted(want_ids - got_ids):
        entry = next(w for w in want if version_id(w) == missing)
        return "%s[%s]: expected %s, got absent" % (path, missing, show(entry))
    for w in want:
        vid = version_id(w) or ""
        entry = next((g for g in got if version_id(g) == vid), None)
        difference = fields("%s[%s]" % (path, vid), w, entry)
        if difference:
            return difference
    return None


def map_of_sets(path, want, got):
    """VersionIdsToStages: the same version ids, each with the same set of labels."""
    def as_sets(m):
        return {k: string_set(v) if isinstance(v, list) else set() for k, v in m.items()}

    def labels(s):
        return "absent" if s is None else show(sorted(s))

    want, got = as_sets(want), as_sets(got)
    for vid in sorted(set(want) | set(got)):
        if want.get(vid) != got.get(vid):
            return "%s[%s]: expected %s, got %s" % (path, vid, labels(want.get(vid)), labels(got.get(vid)))
    return None


def check(expect, answer):
    """None when `answer` is what AWS answers, else what differs."""
    if "ok" in expect:
        if "ok" not in answer:
            return "expected success, got error %s" % answer["error"]["code"]
        return fields("", expect["ok"], answer["ok"])
    want, got = expect["error"], answer.get("error")
    if got is None:
        return "expected error %s, got success" % want["code"]
    if got["code"] != want["code"]:
        return "error code: expected %s, got %s" % (want["code"], got["code"])
    if "message" in want and got["message"] != want["message"]:
        return "error message: expected %s, got %s" % (json.dumps(want["message"]), json.dumps(got["message"]))
    return None


# --- Steps ----------------------------------------------------------------------------------------


def step(n, method, kwargs, expect=None):
    """Sends step n, prints the answer and, when AWS's answer is known, the verdict."""
    print("--- step %d: %s" % (n, method))
    if method == "create_secret" and "Name" in kwargs:
        CREATED.append(kwargs["Name"])
    try:
        answer = send(method, kwargs)
    except Fault as fault:
        if expect is not None and fault.kind == "server error":
            # AWS answers; a server error in its place is a difference (and ends the run).
            CHECKED.append(n)
            DIFFERING.append(n)
            wanted = "success" if "ok" in expect else "error " + expect["error"]["code"]
            print("step %d: DIFFERS from AWS: expected %s, got server error fault (%s)" % (n, wanted, fault.detail))
            raise Stop() from None
        print("step %d: FAULT (the target failed instead of answering): %s" % (n, fault))
        raise
    print(json.dumps(logical(as_json(answer, "iso")), indent=2, ensure_ascii=False))
    if expect is None:
        return
    CHECKED.append(n)
    difference = check(expect, logical(as_json(answer, "epoch")))
    if difference is None:
        print("step %d: as AWS" % n)
    else:
        DIFFERING.append(n)
        print("step %d: DIFFERS from AWS: %s" % (n, difference))


def cleanup():
    """Force-deletes every secret this run created."""
    for name in dict.fromkeys(CREATED):
        try:
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") != "ResourceNotFoundException":
                print("cleanup: could not delete %s: %s" % (name, e), file=sys.stderr)
        except BotoCoreError as e:
            print("cleanup: could not delete %s: %s" % (name, e), file=sys.stderr)"#;

/// The fixed end of the boto3 script: fault handling, cleanup, summary, exit status.
const BOTO3_EPILOGUE: &str = r#"    except Stop:
        print("stopped: after a server error the target's state is unknown")
    except Fault:
        return 2
    finally:
        cleanup()
    if DIFFERING:
        print("summary: %d of %d checked steps differ from AWS (steps %s)"
              % (len(DIFFERING), len(CHECKED), ", ".join(map(str, DIFFERING))))
        return 1
    print("summary: all %d checked steps answer as AWS" % len(CHECKED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#;

// ---------------------------------------------------------------------------------------------
// AWS CLI
// ---------------------------------------------------------------------------------------------

/// A word for bash: left bare when it is plain, single-quoted otherwise.
fn sh_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-,:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Text for an unquoted here-document: `\`, `$` and `` ` `` escaped.
fn heredoc_escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The `--cli-input-json` document of a request, with `${P}` before the secret name.
fn cli_input(req: &Request) -> String {
    let name_key = name_member(req);
    let mut lines = vec!["{".to_string()];
    let members = ordered_input(req);
    let count = members.len();
    for (i, (k, v)) in members.into_iter().enumerate() {
        let value = match (&v, k.as_str()) {
            (Value::String(s), key) if key == name_key => {
                format!("\"${{P}}{}", heredoc_escape(json_str(s).strip_prefix('"').unwrap_or_default()))
            }
            _ => {
                let pretty = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
                heredoc_escape(&pretty).replace('\n', "\n  ")
            }
        };
        let comma = if i + 1 < count { "," } else { "" };
        lines.push(format!("  {}: {value}{comma}", heredoc_escape(&json_str(&k))));
    }
    lines.push("}".to_string());
    lines.join("\n")
}

fn render_aws_cli(trace: &Trace) -> String {
    let mut out = String::new();
    out.push_str("#!/usr/bin/env bash\n");
    let mut head = header_facts(trace);
    head.push_str(
        "\nSends the trace's requests one by one with the AWS CLI to $SMCONFORM_ENDPOINT (default \
         http://127.0.0.1:5000) in region $AWS_REGION (default us-east-1) and prints what the target \
         answers. It does NOT check the answers: the comment above each step says what AWS answers \
         (the boto3 form of this reproduction checks them and sets its exit status).\n\
         \nSecret names get a random prefix per run ($P) and every secret the script creates is \
         force-deleted when it exits. A loopback endpoint gets test credentials; any other endpoint \
         uses the CLI's own configuration. Retries are off (AWS_MAX_ATTEMPTS=1). The answers show the \
         target's real names and ARNs (with the $P prefix and, on AWS, the random ARN suffix).\n\n",
    );
    head.push_str(LEGEND);
    let has_binary = trace.steps.iter().any(|s| s.request.input_json().get("SecretBinary").is_some());
    if has_binary {
        head.push_str(
            "\n\nSecretBinary is written base64-encoded in --cli-input-json: AWS CLI v2 decodes blob \
             members there (its default cli_binary_format is base64). AWS CLI v1 would store the base64 \
             text itself as the secret's bytes.",
        );
    }
    if trace.steps.iter().any(|s| matches!(s.request, Request::ListSecretVersionIds(_))) {
        head.push_str(
            "\n\nThe CLI shows one page of ListSecretVersionIds; smconform compares all pages (it makes \
             no difference below the service's page size).",
        );
    }
    head.push_str("\n\nGenerated by smconform from an smconform-trace/1 trace.");
    comment(&mut out, "", &head);
    out.push_str(
        "\nset -u\n\
         ENDPOINT=${SMCONFORM_ENDPOINT:-http://127.0.0.1:5000}\n\
         REGION=${AWS_REGION:-us-east-1}\n\
         P=repro-$RANDOM$RANDOM-\n\
         export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=\"\"\n\
         case \"${ENDPOINT#*://}\" in\n\
         \x20 localhost | localhost[:/]* | 127.* | \\[::1\\]*)\n\
         \x20   # An emulator on this machine: test credentials, never real ones.\n\
         \x20   export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n\
         \x20   unset AWS_SESSION_TOKEN AWS_PROFILE ;;\n\
         esac\n",
    );
    let names = created_names(trace);
    if names.is_empty() {
        out.push_str("# The trace creates no secret, so there is nothing to clean up.\n");
    } else {
        let list: Vec<String> = names.iter().map(|n| sh_word(n)).collect();
        let _ = write!(
            out,
            "\n# Force-deletes every secret the script creates, however it ends.\n\
             cleanup() {{\n\
             \x20 for name in {}; do\n\
             \x20   aws secretsmanager delete-secret --endpoint-url \"$ENDPOINT\" --region \"$REGION\" \\\n\
             \x20     --secret-id \"$P$name\" --force-delete-without-recovery >/dev/null 2>&1 || true\n\
             \x20 done\n\
             }}\n\
             trap cleanup EXIT\n",
            list.join(" ")
        );
    }
    out.push_str("\necho \"secret name prefix: $P\"\n");
    for (i, step) in trace.steps.iter().enumerate() {
        let n = i + 1;
        out.push('\n');
        step_comments(&mut out, "", n, step);
        if step.request.input_json().get("SecretBinary").is_some() {
            comment(
                &mut out,
                "",
                "SecretBinary is base64 below: AWS CLI v2 decodes it (cli_binary_format base64, its \
                 default); AWS CLI v1 would store the base64 text itself.",
            );
        }
        let command = kebab_case(step.request.op());
        let _ = write!(
            out,
            "echo \"--- step {n}: {command}\"\n\
             aws secretsmanager {command} --endpoint-url \"$ENDPOINT\" --region \"$REGION\" --output json \\\n\
             \x20 --cli-input-json \"$(cat <<JSON\n{}\nJSON\n)\" || true\n",
            cli_input(&step.request)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_names() {
        assert_eq!(snake_case("ListSecretVersionIds"), "list_secret_version_ids");
        assert_eq!(kebab_case("UpdateSecretVersionStage"), "update-secret-version-stage");
        assert_eq!(snake_case("RotationLambdaARN"), "rotation_lambda_arn");
        assert_eq!(snake_case("ARNs"), "ar_ns");
        assert_eq!(snake_case("GetHTTPThing2Go"), "get_http_thing2_go");
        for op in Request::OPERATIONS {
            assert_eq!(kebab_case(op).replace('-', "_"), snake_case(op));
        }
        assert_eq!(ReproFormat::parse("boto3"), Some(ReproFormat::Boto3));
        assert_eq!(ReproFormat::parse("aws-cli"), Some(ReproFormat::AwsCli));
        assert_eq!(ReproFormat::parse("awscli"), None);
        for f in ReproFormat::ALL {
            assert_eq!(ReproFormat::parse(f.name()), Some(f));
        }
    }

    #[test]
    fn literals_and_quoting() {
        assert_eq!(py_bytes(&[0, b'a', b'"', b'\\', 0xff, b'\n']), r#"b"\x00a\"\\\xff\n""#);
        assert_eq!(sh_word("s1"), "s1");
        assert_eq!(sh_word("it's"), r"'it'\''s'");
        assert_eq!(heredoc_escape(r#"a$b`c\d"#), r"a\$b\`c\\d");
        let req = Request::from_parts(
            "PutSecretValue",
            json!({"SecretId": "s$1", "SecretString": "x\"y", "SecretBinary": "AAE=", "VersionStages": ["A"]}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cli_input(&req),
            "{\n  \"SecretId\": \"${P}s\\$1\",\n  \"SecretBinary\": \"AAE=\",\n  \"SecretString\": \"x\\\\\"y\",\n  \
             \"VersionStages\": [\n    \"A\"\n  ]\n}"
        );
        assert_eq!(
            py_kwargs(&req).flat(),
            r#"{"SecretId": PREFIX + "s$1", "SecretBinary": b"\x00\x01", "SecretString": "x\"y", "VersionStages": ["A"]}"#
        );
    }

    #[test]
    fn comments_wrap_and_stay_comments() {
        let mut out = String::new();
        comment(&mut out, "    ", &format!("line one\u{0}\n{}", "word ".repeat(40)));
        assert!(out.lines().all(|l| l.starts_with("    #") && l.len() <= COMMENT_WIDTH + 2), "{out}");
        assert!(out.contains("\\u{0}"), "{out}");
    }
}
