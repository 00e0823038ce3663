//! LocalStack community (`localstack-core[runtime]==4.13.1`, installed against that release's own
//! pinned runtime requirements) as a managed emulator, in host mode (no Docker).
//!
//! Its environment keeps it on loopback (`GATEWAY_SERVER=hypercorn` binds exactly the address of
//! `GATEWAY_LISTEN`; the default gateway would listen on every interface) and inside its instance
//! folder (`FILESYSTEM_ROOT`, `TMPDIR`; without them it writes to /var/lib/localstack). Ready when
//! `GET /_localstack/health` reports secretsmanager available.
//!
//! Rotation: LocalStack's RotateSecret asks its Lambda service for the function (`GetFunction`,
//! by the full ARN, so in the ARN's account) and refuses with ResourceNotFoundException when there
//! is none. With a function, it creates the AWSPENDING version without a value, then invokes the
//! function synchronously, before answering; without Docker the invocation always fails,
//! LocalStack swallows the failure, and the rotation ends with the empty AWSPENDING version still
//! in place. That is what AWS does with a function that fails at `createSecret`, so for every ARN
//! with that behaviour a function is created (in the ARN's account and region), and ARNs that
//! must not be invocable get none.

use super::emulator::{http, Accept, EmulatorSpec, Function, Hooks, PipInstall, ReadySpec, StartSpec, VersionCheck};
use super::{BoxFuture, TargetError};
use base64::Engine as _;
use serde_json::json;
use sm_model::{FunctionBehaviour, Step};
use std::io::Write as _;
use std::time::Duration;

/// The LocalStack release this suite is tested against (the newest that runs on Python 3.11).
pub const LOCALSTACK_VERSION: &str = "4.13.1";

/// LocalStack 4.13.1's own pinned runtime requirements (a copy of the file beside
/// `emulators.md`).
const CONSTRAINTS: &str = include_str!("../../data/localstack-4.13.1-constraints.txt");

/// The version check: LocalStack's version, provided its python-dotenv is recent enough (the
/// constraints pin 1.2.1, which does not work).
const VERSION_CHECK: &str = "import sys, importlib.metadata as m\n\
    import localstack.runtime.main, dotenv\n\
    d = tuple(int(x) for x in m.version('python-dotenv').split('.')[:3] if x.isdigit())\n\
    sys.stdout.write(m.version('localstack-core') if d >= (1, 2, 2) else 'python-dotenv too old')\n";

/// LocalStack, for the registry.
pub static SPEC: EmulatorSpec = EmulatorSpec {
    about: "LocalStack community in host mode, provisioned and started by smconform on loopback (about 500 MB)",
    setup_by_default: false,
    install: &[
        PipInstall {
            requirements: &["localstack-core[runtime]==4.13.1"],
            constraints: Some(("localstack-4.13.1-constraints.txt", CONSTRAINTS)),
        },
        PipInstall { requirements: &["python-dotenv>=1.2.2"], constraints: None },
    ],
    version_check: VersionCheck::Script(VERSION_CHECK),
    start: StartSpec {
        program: "python",
        args: &["-m", "localstack.runtime.main"],
        env: &[
            ("OVERRIDE_IN_DOCKER", "0"),
            ("FILESYSTEM_ROOT", "{dir}/fs"),
            ("TMPDIR", "{dir}/tmp"),
            ("GATEWAY_LISTEN", "127.0.0.1:{port}"),
            ("GATEWAY_SERVER", "hypercorn"),
            // Lambda for rotation functions; IAM and STS because Lambda uses them.
            ("SERVICES", "secretsmanager,lambda,iam,sts"),
            ("DISABLE_EVENTS", "1"),
            ("SKIP_SSL_CERT_DOWNLOAD", "1"),
            ("DNS_ADDRESS", "0"),
        ],
    },
    ready: ReadySpec {
        method: "GET",
        path: "/_localstack/health",
        headers: &[],
        body: "",
        accept: Accept::JsonMember { pointer: "/services/secretsmanager", values: &["available", "running"] },
        timeout: Duration::from_secs(90),
    },
    behaviours: &[FunctionBehaviour::FailAt(Step::CreateSecret), FunctionBehaviour::NotInvocable],
    hooks: &LocalStackHooks,
    // LocalStack with Lambda, IAM and STS loaded: several hundred MiB.
    instance_memory_mb: 700,
    ..EmulatorSpec::defaults("localstack", LOCALSTACK_VERSION)
};

/// The execution role given to rotation functions (LocalStack only checks its shape).
const FUNCTION_ROLE: &str = "arn:aws:iam::000000000000:role/smconform";

/// The code of every rotation function this target creates. It never runs here (no Docker);
/// should it ever run, it fails at the first step, as the declared behaviour says.
const FUNCTION_CODE: &str = "def handler(event, context):\n    raise RuntimeError(\"smconform: this rotation function fails at \" + str(event.get(\"Step\")))\n";

struct LocalStackHooks;

impl Hooks for LocalStackHooks {
    /// Creates the Lambda function the ARN names (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`),
    /// in that account and region, unless it exists. LocalStack takes the account from the access
    /// key id when it is 12 digits, and does not check signatures.
    fn provide_function<'a>(&'a self, function: Function<'a>) -> BoxFuture<'a, Result<(), TargetError>> {
        let Function { server, arn, .. } = function;
        Box::pin(async move {
            let f = FunctionArn::parse(arn).ok_or_else(|| {
                TargetError::Other(format!(
                    "cannot create a LocalStack function for {arn:?}: not a Lambda function ARN"
                ))
            })?;
            let zip =
                function_zip().map_err(|e| TargetError::Other(format!("cannot build the function's zip: {e}")))?;
            let body = json!({
                "FunctionName": f.name,
                "Runtime": "python3.12",
                "Role": FUNCTION_ROLE,
                "Handler": "index.handler",
                "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
            })
            .to_string();
            let authorization = format!(
                "AWS4-HMAC-SHA256 Credential={}/20260101/{}/lambda/aws4_request, SignedHeaders=host, Signature=0",
                f.account, f.region
            );
            let headers = [
                ("Content-Type", "application/json"),
                ("X-Amz-Date", "20260101T000000Z"),
                ("Authorization", authorization.as_str()),
            ];
            let path = "/2015-03-31/functions";
            let answer = http::request(server.port(), "POST", path, &headers, &body, Duration::from_secs(30))
                .await
                .map_err(|detail| TargetError::Unreachable { endpoint: server.endpoint_url().to_string(), detail })?;
            match answer.status {
                200..=299 => Ok(()),
                409 if answer.body.contains("ResourceConflictException") => Ok(()),
                status => Err(TargetError::Other(format!(
                    "LocalStack refused to create the rotation function {arn}: HTTP {status}: {}",
                    answer.body.chars().take(500).collect::<String>()
                ))),
            }
        })
    }
}

/// The deployment package: a ZIP archive holding `index.py`.
fn function_zip() -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    writer.start_file("index.py", options)?;
    writer.write_all(FUNCTION_CODE.as_bytes())?;
    Ok(writer.finish()?.into_inner())
}

/// The parts of a Lambda function ARN.
#[derive(Debug, PartialEq, Eq)]
struct FunctionArn<'a> {
    region: &'a str,
    account: &'a str,
    name: &'a str,
}

impl<'a> FunctionArn<'a> {
    /// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME` (no qualifier).
    fn parse(arn: &'a str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", region, account, "function", name]
                if !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !name.is_empty() =>
            {
                Some(FunctionArn { region, account, name })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_holds_the_function() {
        let bytes = function_zip().unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut file = archive.by_name("index.py").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert_eq!(text, FUNCTION_CODE);
    }

    #[test]
    fn function_arns() {
        assert_eq!(
            FunctionArn::parse("arn:aws:lambda:us-east-1:123456789012:function:smconform-fail-at-createSecret"),
            Some(FunctionArn { region: "us-east-1", account: "123456789012", name: "smconform-fail-at-createSecret" })
        );
        assert_eq!(FunctionArn::parse("arn:aws:lambda:us-east-1:123456789012:function:f:1"), None);
        assert_eq!(FunctionArn::parse("arn:aws:lambda:us-east-1:test:function:f"), None);
        assert_eq!(FunctionArn::parse("arn:aws:s3:::bucket"), None);
        assert_eq!(FunctionArn::parse(""), None);
    }

    #[test]
    fn environment_is_loopback_and_contained() {
        let env: std::collections::BTreeMap<_, _> = SPEC.start.env.iter().copied().collect();
        assert_eq!(env["GATEWAY_LISTEN"], "127.0.0.1:{port}");
        assert_eq!(env["GATEWAY_SERVER"], "hypercorn");
        assert_eq!(env["FILESYSTEM_ROOT"], "{dir}/fs");
        assert_eq!(env["TMPDIR"], "{dir}/tmp");
        assert_eq!(env["OVERRIDE_IN_DOCKER"], "0");
    }
}
