//! Helpers shared by the server's tests: a server on a loopback port, SDK clients for it (any
//! region), and raw HTTP for requests an SDK would never send.

#![allow(dead_code)]

use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::Client;
use sm_server::{Server, ServerConfig, ServerHandle};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The account of every test server.
pub const ACCOUNT: &str = "123456789012";

/// A multi-thread runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Starts a server with `config` (loopback, free port).
pub async fn start(config: ServerConfig) -> ServerHandle {
    Server::start(config).await.expect("server starts")
}

/// An SDK client for `url` signing for `region`.
pub fn client(url: &str, region: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .http_client(http)
        .build();
    Client::from_conf(config)
}

/// A token of 36 characters made from `n`.
pub fn token(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// (code, message) of an SDK error.
pub fn code_of<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (e.code().unwrap_or_default().to_string(), e.message().unwrap_or_default().to_string())
}

/// A raw HTTP/1.1 exchange: returns the status and the body.
pub async fn raw(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    let _ = stream.write_all(body).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A raw API call with `X-Amz-Target: secretsmanager.<op>`: status and parsed JSON body.
pub async fn raw_call(url: &str, op: &str, body: &str) -> (u16, serde_json::Value) {
    let target = format!("secretsmanager.{op}");
    let (status, text) = raw(
        url,
        "POST",
        "/",
        &[("x-amz-target", &target), ("content-type", "application/x-amz-json-1.1")],
        body.as_bytes(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Polls `f` every 50 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
