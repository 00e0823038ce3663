//! Rotation by a function reached by URL: a tiny in-test HTTP server speaking the Lambda invoke
//! API runs the four-step protocol of AWS's rotation template, calling back into the server with
//! the SDK. Success; a function failing at setSecret leaves a stalled AWSPENDING; the next
//! RotateSecret is refused with AWS's message; UpdateSecretVersionStage removing AWSPENDING
//! recovers; the rotation then succeeds.

mod common;

use aws_sdk_secretsmanager::Client;
use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sm_server::{FunctionSpec, ServerConfig};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:url-rotator";

/// The test function's switches and what it saw.
#[derive(Default)]
struct Function {
    client: OnceLock<Client>,
    fail_set_secret: AtomicBool,
    steps_seen: std::sync::Mutex<Vec<String>>,
    invocations: AtomicUsize,
}

async fn step(f: &Function, event: &Value) -> Result<(), String> {
    let c = f.client.get().ok_or("no client")?;
    let arn = event["SecretId"].as_str().ok_or("no SecretId")?;
    let token = event["ClientRequestToken"].as_str().ok_or("no token")?;
    let step = event["Step"].as_str().ok_or("no Step")?;
    if event["RotationToken"].as_str().is_none() {
        return Err("no RotationToken".into());
    }
    let d = c.describe_secret().secret_id(arn).send().await.map_err(|e| format!("{e:?}"))?;
    if d.rotation_enabled() != Some(true) {
        return Err(format!("Secret {arn} is not enabled for rotation"));
    }
    let stages = d.version_ids_to_stages().and_then(|m| m.get(token)).cloned().unwrap_or_default();
    if stages.is_empty() {
        return Err(format!("Secret version {token} has no stage for rotation of secret {arn}."));
    }
    if stages.iter().any(|s| s == "AWSCURRENT") {
        return Ok(());
    }
    if !stages.iter().any(|s| s == "AWSPENDING") {
        return Err(format!("Secret version {token} not set as AWSPENDING for rotation of secret {arn}."));
    }
    match step {
        "createSecret" => {
            c.get_secret_value()
                .secret_id(arn)
                .version_stage("AWSCURRENT")
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            let pending =
                c.get_secret_value().secret_id(arn).version_id(token).version_stage("AWSPENDING").send().await;
            if pending.is_err() {
                let pw =
                    c.get_random_password().exclude_characters("/@\"'\\").send().await.map_err(|e| format!("{e:?}"))?;
                c.put_secret_value()
                    .secret_id(arn)
                    .client_request_token(token)
                    .secret_string(format!("pw-{}", pw.random_password().unwrap_or_default()))
                    .version_stages("AWSPENDING")
                    .send()
                    .await
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
        "setSecret" => {
            if f.fail_set_secret.load(Ordering::SeqCst) {
                return Err("the database refused the new password".into());
            }
        }
        "testSecret" => {
            c.get_secret_value()
                .secret_id(arn)
                .version_stage("AWSPENDING")
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
        }
        "finishSecret" => {
            let current = d
                .version_ids_to_stages()
                .and_then(|m| m.iter().find(|(_, s)| s.iter().any(|l| l == "AWSCURRENT")).map(|(v, _)| v.clone()));
            c.update_secret_version_stage()
                .secret_id(arn)
                .version_stage("AWSCURRENT")
                .move_to_version_id(token)
                .set_remove_from_version_id(current)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
        }
        other => return Err(format!("unknown step {other}")),
    }
    Ok(())
}

/// Serves the function on a loopback port; returns its base URL.
async fn serve_function(f: Arc<Function>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let f = f.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let f = f.clone();
                    async move {
                        let path_ok = req.uri().path() == "/2015-03-31/functions/function/invocations";
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        f.invocations.fetch_add(1, Ordering::SeqCst);
                        if let Some(s) = event["Step"].as_str() {
                            f.steps_seen.lock().unwrap().push(s.to_string());
                        }
                        let result = if path_ok { step(&f, &event).await } else { Err("wrong path".into()) };
                        let response = match result {
                            Ok(()) => hyper::Response::new(Full::new(Bytes::from_static(b"null"))),
                            Err(message) => {
                                let body = serde_json::json!({"errorMessage": message, "errorType": "ValueError"});
                                hyper::Response::builder()
                                    .header("x-amz-function-error", "Unhandled")
                                    .body(Full::new(Bytes::from(body.to_string())))
                                    .unwrap()
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    url
}

async fn stages_of(c: &Client, name: &str, version: &str) -> Vec<String> {
    let d = c.describe_secret().secret_id(name).send().await.unwrap();
    let mut s = d.version_ids_to_stages().and_then(|m| m.get(version)).cloned().unwrap_or_default();
    s.sort();
    s
}

#[test]
fn a_url_function_rotates_stalls_and_recovers() {
    runtime().block_on(async {
        let f = Arc::new(Function::default());
        let function_url = serve_function(f.clone()).await;
        let config = ServerConfig { function_timeout: Duration::from_secs(10), ..ServerConfig::default() }
            .with_function(FUNCTION, FunctionSpec::Url(function_url));
        let server = start(config).await;
        let c = client(&server.url(), "us-east-1");
        let _ = f.client.set(client(&server.url(), "us-east-1"));
        c.create_secret().name("db").client_request_token(token(1)).secret_string("initial").send().await.unwrap();

        // 1. Success: RotateSecret answers at once, the steps run afterwards.
        let r = c
            .rotate_secret()
            .secret_id("db")
            .client_request_token(token(2))
            .rotation_lambda_arn(FUNCTION)
            .send()
            .await
            .unwrap();
        assert_eq!(r.version_id(), Some(token(2).as_str()));
        let done =
            eventually(Duration::from_secs(10), || async { stages_of(&c, "db", &token(2)).await == ["AWSCURRENT"] })
                .await;
        assert!(done, "rotation did not complete: {:?}", stages_of(&c, "db", &token(2)).await);
        assert_eq!(*f.steps_seen.lock().unwrap(), ["createSecret", "setSecret", "testSecret", "finishSecret"]);
        let v = c.get_secret_value().secret_id("db").send().await.unwrap();
        assert!(v.secret_string().unwrap().starts_with("pw-"));
        assert_eq!(stages_of(&c, "db", &token(1)).await, ["AWSPREVIOUS"]);
        assert!(c.describe_secret().secret_id("db").send().await.unwrap().last_rotated_date().is_some());

        // 2. A function failing at setSecret leaves AWSPENDING stalled on the new version.
        f.fail_set_secret.store(true, Ordering::SeqCst);
        f.steps_seen.lock().unwrap().clear();
        c.rotate_secret().secret_id("db").client_request_token(token(3)).send().await.unwrap();
        let stopped = eventually(Duration::from_secs(10), || async { f.steps_seen.lock().unwrap().len() >= 2 }).await;
        assert!(stopped);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(*f.steps_seen.lock().unwrap(), ["createSecret", "setSecret"]);
        assert_eq!(stages_of(&c, "db", &token(3)).await, ["AWSPENDING"]);
        assert_eq!(stages_of(&c, "db", &token(2)).await, ["AWSCURRENT"]);

        // 3. The next RotateSecret is refused with AWS's message.
        let e = c.rotate_secret().secret_id("db").client_request_token(token(4)).send().await.unwrap_err();
        assert_eq!(
            code_of(&e),
            (
                "InvalidRequestException".into(),
                "A previous rotation isn't complete. That rotation will be reattempted.".into()
            )
        );

        // 4. Recovery: remove AWSPENDING from the stalled version.
        c.update_secret_version_stage()
            .secret_id("db")
            .version_stage("AWSPENDING")
            .remove_from_version_id(token(3))
            .send()
            .await
            .unwrap();
        assert!(stages_of(&c, "db", &token(3)).await.is_empty());

        // 5. The rotation then succeeds.
        f.fail_set_secret.store(false, Ordering::SeqCst);
        c.rotate_secret().secret_id("db").client_request_token(token(5)).send().await.unwrap();
        let done =
            eventually(Duration::from_secs(10), || async { stages_of(&c, "db", &token(5)).await == ["AWSCURRENT"] })
                .await;
        assert!(done, "{:?}", stages_of(&c, "db", &token(5)).await);
        assert_eq!(stages_of(&c, "db", &token(2)).await, ["AWSPREVIOUS"]);
        server.shutdown().await;
    });
}

#[test]
fn an_unreachable_or_slow_function_leaves_the_rotation_stalled() {
    runtime().block_on(async {
        // A port nobody listens on.
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead_url = format!("http://{}", dead.local_addr().unwrap());
        drop(dead);
        // A function that never answers.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_url = format!("http://{}", silent.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let config = ServerConfig { function_timeout: Duration::from_millis(300), ..ServerConfig::default() }
            .with_function("arn:aws:lambda:us-east-1:1:function:dead", FunctionSpec::Url(dead_url))
            .with_function("arn:aws:lambda:us-east-1:1:function:silent", FunctionSpec::Url(silent_url));
        let server = start(config).await;
        let c = client(&server.url(), "us-east-1");
        for (i, f) in ["dead", "silent"].iter().enumerate() {
            let name = format!("s-{f}");
            c.create_secret()
                .name(&name)
                .client_request_token(token(10 + i as u32))
                .secret_string("v")
                .send()
                .await
                .unwrap();
            let arn = format!("arn:aws:lambda:us-east-1:1:function:{f}");
            c.rotate_secret()
                .secret_id(&name)
                .client_request_token(token(20 + i as u32))
                .rotation_lambda_arn(arn)
                .send()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert_eq!(stages_of(&c, &name, &token(20 + i as u32)).await, ["AWSPENDING"]);
            let e = c.get_secret_value().secret_id(&name).version_stage("AWSPENDING").send().await.unwrap_err();
            assert_eq!(code_of(&e).0, "ResourceNotFoundException");
        }
        server.shutdown().await;
    });
}
