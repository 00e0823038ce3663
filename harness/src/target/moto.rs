//! moto (`moto[server]==5.2.5`) as a managed emulator on a loopback port: the application
//! `moto_server` serves, behind smconform's HTTP/1.1 keep-alive server (`moto_server.py`).
//! `moto_server`'s werkzeug server closes the connection after every answer, which makes each
//! request a new TCP connection and a new thread: about a third of what a request costs moto
//! and half of what it costs smconform. What moto answers does not depend on the server.
//!
//! Ready when `POST /` answers at all. Once ready, Lambda invocation is made a no-op
//! (`POST /moto-api/config`) instead of an attempt to reach Docker; rotation functions are never
//! created on this target, so the only rotation-function behaviour it expresses is an ARN its
//! Lambda backend does not know: not-invocable.

use super::emulator::{http, CatalogueRun, EmulatorServer, EmulatorSpec, Hooks, PipInstall, StartSpec, VersionCheck};
use super::{BoxFuture, TargetError};
use std::time::Duration;

/// The moto release this suite is tested against.
pub const MOTO_VERSION: &str = "5.2.5";

/// moto, for the registry.
pub static SPEC: EmulatorSpec = EmulatorSpec {
    about: "moto, provisioned and started by smconform on a loopback port",
    install: &[PipInstall { requirements: &["moto[server]==5.2.5"], constraints: None }],
    // Imports the server too: an environment without its dependencies is not usable.
    version_check: VersionCheck::Script(
        "import sys, moto, moto.server, moto.secretsmanager; sys.stdout.write(moto.__version__)",
    ),
    start: StartSpec { program: "python", args: &["-c", SERVER_PY, "127.0.0.1", "{port}"], env: &[] },
    catalogue_run: CatalogueRun { cases: 400, steps: 30, seed: 1 },
    hooks: &MotoHooks,
    // moto holds about 100 MiB once it has served a run.
    instance_memory_mb: 150,
    ..EmulatorSpec::defaults("moto", MOTO_VERSION)
};

/// The server moto runs behind (see the module docs).
const SERVER_PY: &str = include_str!("moto_server.py");

struct MotoHooks;

impl Hooks for MotoHooks {
    /// Harmless if it fails: rotation functions are never created on this target.
    fn after_ready<'a>(&'a self, server: &'a EmulatorServer) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let body = r#"{"lambda": {"use_docker": false}}"#;
            let json = [("Content-Type", "application/json")];
            let _ = http::request(server.port(), "POST", "/moto-api/config", &json, body, Duration::from_secs(5)).await;
            Ok(())
        })
    }
}

/// Forgets every resource in a moto (`POST /moto-api/reset`).
pub async fn reset(server: &EmulatorServer) -> Result<(), TargetError> {
    match http::request(server.port(), "POST", "/moto-api/reset", &[], "", Duration::from_secs(10)).await {
        Ok(answer) if (200..300).contains(&answer.status) => Ok(()),
        Ok(answer) => Err(TargetError::Other(format!("moto reset answered HTTP {}", answer.status))),
        Err(detail) => Err(TargetError::Unreachable { endpoint: server.endpoint_url().to_string(), detail }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::emulator::managed::{ManagedOptions, ManagedTarget};
    use crate::target::{Observed, Target};
    use serde_json::json;
    use sm_model::request as input;
    use sm_model::{FunctionBehaviour, Request};
    use std::collections::BTreeMap;

    /// Starts moto or explains why the test is skipped (no python3 on this machine).
    async fn start_or_skip() -> Option<ManagedTarget> {
        match ManagedTarget::start(&SPEC, &ManagedOptions::default()).await {
            Ok(t) => Some(t),
            Err(TargetError::NoPython(m)) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping the moto test: {m}");
                None
            }
            Err(e) => panic!("moto did not start: {e}"),
        }
    }

    /// One HTTP/1.1 exchange on an open connection: the status line, the header block and the
    /// body (framed by Content-Length, which every answer of this server carries).
    async fn exchange(conn: &mut tokio::net::TcpStream, target: &str, body: &str) -> (String, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: secretsmanager.{target}\r\nAuthorization: AWS4-HMAC-SHA256 \
             Credential=AKID/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, \
             Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let head = text[..end].to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .expect("a Content-Length")
                    .parse()
                    .unwrap();
                if got.len() >= end + 4 + length {
                    let (status, headers) = head.split_once("\r\n").unwrap();
                    let body = String::from_utf8_lossy(&got[end + 4..end + 4 + length]).to_string();
                    return (status.to_string(), headers.to_ascii_lowercase(), body);
                }
            }
            let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut chunk)).await.unwrap().unwrap();
            assert!(n > 0, "the connection closed after {} bytes: {text}", got.len());
            got.extend_from_slice(&chunk[..n]);
        }
    }

    #[tokio::test]
    async fn one_connection_carries_every_request() {
        let Some(target) = start_or_skip().await else { return };
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", target.server().port())).await.unwrap();
        let create = r#"{"Name": "ka-1", "SecretString": "v"}"#;
        let (status, headers, body) = exchange(&mut conn, "CreateSecret", create).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        assert!(!headers.contains("connection: close"), "{headers}");
        // A refusal, then moto raising (ListSecretVersionIds on a missing secret is a KeyError in
        // moto 5.2.5): the answer moto_server gives, and the connection stays open for the next.
        let (status, _, body) = exchange(&mut conn, "CreateSecret", create).await;
        assert!(status.starts_with("HTTP/1.1 400"), "{status} {body}");
        assert!(body.contains("ResourceExistsException"), "{body}");
        let (status, headers, body) = exchange(&mut conn, "ListSecretVersionIds", r#"{"SecretId": "ka-none"}"#).await;
        assert!(status.starts_with("HTTP/1.1 500"), "{status} {body}");
        assert!(headers.contains("content-type: text/html"), "{headers}");
        assert!(body.contains("<title>500 Internal Server Error</title>"), "{body}");
        let (status, _, body) = exchange(&mut conn, "GetSecretValue", r#"{"SecretId": "ka-1"}"#).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["SecretString"], json!("v"));
        target.shutdown().await;
    }

    #[test]
    fn the_server_script_has_no_placeholder() {
        // `{port}` and `{dir}` in a start argument are filled in: the script must hold neither.
        assert!(!SERVER_PY.contains("{port}") && !SERVER_PY.contains("{dir}"));
    }

    #[tokio::test]
    async fn moto_round_trip() {
        // Two at once: provisioning and ports must not collide.
        let (a, b) = tokio::join!(start_or_skip(), start_or_skip());
        let (Some(target), Some(other)) = (a, b) else {
            return;
        };
        assert_ne!(target.server().port(), other.server().port());
        assert_eq!(target.name(), "moto 5.2.5");
        assert_eq!(target.capabilities().behaviours, vec![FunctionBehaviour::NotInvocable]);
        target.prepare(&BTreeMap::new()).await.unwrap();

        let token = "00000000-0000-4000-8000-000000000001";
        let create = Request::CreateSecret(input::CreateSecret {
            name: "smconform-test-a".into(),
            client_request_token: Some(token.into()),
            secret_string: Some("hello".into()),
            ..Default::default()
        });
        let created = match target.send(&create).await {
            Observed::Ok(v) => v,
            other => panic!("CreateSecret: {other:?}"),
        };
        let arn = created["ARN"].as_str().unwrap_or_default().to_string();
        assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:") && arn.contains(":secret:smconform-test-a-"));
        assert_eq!(created["VersionId"], json!(token));
        let get = Request::GetSecretValue(input::GetSecretValue {
            secret_id: "smconform-test-a".into(),
            ..Default::default()
        });
        match target.send(&get).await {
            Observed::Ok(got) => {
                assert_eq!(got["SecretString"], json!("hello"));
                assert_eq!(got["VersionStages"], json!(["AWSCURRENT"]));
                assert!(got["CreatedDate"].is_number());
            }
            other => panic!("GetSecretValue: {other:?}"),
        }
        // The other instance is a separate moto: it has no such secret.
        assert!(matches!(other.send(&get).await, Observed::Error { .. }));
        assert!(target.cleanup(&["smconform-test-a".into(), "smconform-test-missing".into()]).await.is_empty());
        assert!(matches!(target.send(&get).await, Observed::Error { .. }));

        // moto's request log is captured (the readiness probe at least).
        assert!(target.server().log_tail(200).await.contains("POST /"));
        reset(target.server()).await.unwrap();

        let port = target.server().port();
        let pid = target.server().pid().expect("running");
        target.shutdown().await;
        drop(other);
        // Stopped means stopped: nothing answers on that port any more, the process is gone.
        assert!(http::request(port, "POST", "/", &[], "{}", Duration::from_secs(2)).await.is_err());
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
}
