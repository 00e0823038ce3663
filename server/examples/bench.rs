//! Throughput and latency of `serve` (or any Secrets Manager endpoint) under concurrent raw
//! HTTP/1.1 clients: a fixed request mix (60% GetSecretValue, 20% DescribeSecret, 10%
//! PutSecretValue, 10% ListSecretVersionIds over 10 secrets), requests/s and p50/p99 latency.
//! A benchmark command, not a timed test.
//!
//! ```sh
//! cargo run --release -p sm-server --example bench                      # an in-process server
//! cargo run --release -p sm-server --example bench -- --url http://127.0.0.1:5000 --clients 8 --seconds 10
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use sm_server::{Server, ServerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000";
const SECRETS: usize = 10;

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(client: &Http, url: &str, op: &str, body: &serde_json::Value) -> Result<u16, String> {
    let req = hyper::Request::post(url)
        .header("x-amz-target", format!("secretsmanager.{op}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", AUTH)
        .header("x-amz-date", "20260101T000000Z")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    resp.into_body().collect().await.map_err(|e| e.to_string())?;
    Ok(status)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = arg(&args, "--clients").and_then(|v| v.parse().ok()).unwrap_or(8);
    let seconds: u64 = arg(&args, "--seconds").and_then(|v| v.parse().ok()).unwrap_or(10);
    let (url, _server) = match arg(&args, "--url") {
        Some(u) => (u, None),
        None => {
            let s = Server::start(ServerConfig::default()).await?;
            (s.url(), Some(s))
        }
    };
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let run = format!("bench{}", std::process::id());
    for i in 0..SECRETS {
        let body = json!({"Name": format!("{run}-{i}"), "ClientRequestToken": format!("{run}-create-{i:04}-0000-0000-000000000000"), "SecretString": "v"});
        let status = call(&client, &url, "CreateSecret", &body).await?;
        if status != 200 {
            return Err(format!("CreateSecret answered HTTP {status}").into());
        }
    }
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, run, errors) = (client.clone(), url.clone(), run.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                let id = format!("{run}-{}", (n as usize + c) % SECRETS);
                let (op, body) = match n % 10 {
                    0..=5 => ("GetSecretValue", json!({"SecretId": id})),
                    6 | 7 => ("DescribeSecret", json!({"SecretId": id})),
                    8 => (
                        "PutSecretValue",
                        json!({"SecretId": id, "ClientRequestToken": format!("{run}-{c:04}-{n:020}"), "SecretString": format!("v{n}")}),
                    ),
                    _ => ("ListSecretVersionIds", json!({"SecretId": id})),
                };
                let start = Instant::now();
                match call(&client, &url, op, &body).await {
                    Ok(200) => {}
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.push(start.elapsed());
                n += 1;
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    all.sort();
    println!(
        "{url}: {clients} clients, {seconds} s: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        errors.load(Ordering::Relaxed)
    );
    Ok(())
}
