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

mod aws_cli;
mod boto3;
mod layout;

use crate::trace::{Trace, TraceStep};
use aws_cli::render_aws_cli;
use base64::Engine as _;
use boto3::render_boto3;
use layout::{column, Layout, Style};
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

#[cfg(test)]
mod tests {
    use super::aws_cli::{cli_input, heredoc_escape, sh_word};
    use super::boto3::{py_bytes, py_kwargs};
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
