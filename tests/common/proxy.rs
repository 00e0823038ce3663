//! A fault-injecting HTTP proxy for tests (loopback only): it forwards awsJson1.1 requests to an
//! upstream endpoint, one request per connection, and every `every`-th request gets the fault
//! of its kind instead of a clean exchange. Each injected fault is recorded (operation and request
//! body), so a test can check that the run reported every one of them.

use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to a request it faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Resets the client's connection without delivering the request.
    ResetBeforeDelivery,
    /// Delivers the request, then resets the client's connection instead of answering.
    ResetAfterDelivery,
    /// Delivers the request, then answers HTTP 500 instead of the real answer.
    Http500,
    /// Answers a throttling error without delivering the request.
    Throttling,
    /// Delivers the request and holds the answer back for `delay`.
    Delay,
    /// Delivers the request and answers its real status with the body cut (empty, or half).
    TruncatedBody,
    /// Resets the client's connection at once and delivers the request upstream `delay` later.
    LateDelivery,
}

/// A fault the proxy injected.
#[derive(Clone, Debug)]
pub struct Injected {
    pub operation: String,
    pub body: Value,
}

/// Marks the bodies the proxy makes up, so that a test tells them from the upstream's own.
pub const MARKER: &str = "injected by the fault proxy";

pub struct Proxy {
    pub url: String,
    pub injected: Arc<Mutex<Vec<Injected>>>,
}

struct Config {
    upstream: String,
    fault: Fault,
    every: u64,
    max_faults: u64,
    delay: Duration,
    count: AtomicU64,
    injected: Arc<Mutex<Vec<Injected>>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`127.0.0.1:PORT`) on the current runtime that faults every
    /// `every`-th request, at most `max_faults` times.
    pub async fn start(upstream: &str, fault: Fault, every: u64, max_faults: u64, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let injected: Arc<Mutex<Vec<Injected>>> = Arc::default();
        let config = Arc::new(Config {
            upstream: upstream.trim_start_matches("http://").trim_end_matches('/').to_string(),
            fault,
            every,
            max_faults,
            delay,
            count: AtomicU64::new(0),
            injected: injected.clone(),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, config.clone()));
            }
        });
        Proxy { url, injected }
    }

    pub fn injected(&self) -> Vec<Injected> {
        self.injected.lock().unwrap().clone()
    }
}

/// Reads one HTTP message (head and Content-Length body) from `stream`.
async fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = header(&head, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf[head_end..buf.len().min(head_end + length)].to_vec();
    Some((head, body))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The request as it goes upstream: the same head with `connection: close`.
fn upstream_request(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in head.trim_end().lines() {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends a request upstream and reads the whole answer (status, head, body).
async fn deliver(upstream: &str, request: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(upstream).await.ok()?;
    s.write_all(request).await.ok()?;
    let (head, body) = read_message(&mut s).await?;
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Some((status, head, body))
}

fn response(status: u16, head: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\n");
    if let Some(head) = head {
        for line in head.trim_end().lines().skip(1) {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-length:")
                || lower.starts_with("connection:")
                || lower.starts_with("transfer-encoding:")
            {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
    } else {
        out.push_str("content-type: application/x-amz-json-1.1\r\n");
    }
    out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Resets the connection (RST, not an orderly close). A zero linger time never blocks: the
/// close resets at once (the deprecation is about non-zero times).
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn handle(mut client: TcpStream, config: Arc<Config>) {
    let Some((head, body)) = read_message(&mut client).await else { return };
    let request = upstream_request(&head, &body);
    let n = config.count.fetch_add(1, Ordering::SeqCst) + 1;
    if !n.is_multiple_of(config.every) || n / config.every > config.max_faults {
        if let Some((status, head, body)) = deliver(&config.upstream, &request).await {
            let _ = client.write_all(&response(status, Some(&head), &body)).await;
        }
        return;
    }
    let operation = header(&head, "x-amz-target")
        .and_then(|t| t.rsplit_once('.').map(|(_, op)| op.to_string()))
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let record =
        || config.injected.lock().unwrap().push(Injected { operation: operation.clone(), body: parsed.clone() });
    if config.fault != Fault::TruncatedBody {
        record();
    }
    let marked = |code: &str| serde_json::json!({"__type": code, "message": MARKER}).to_string().into_bytes();
    match config.fault {
        Fault::ResetBeforeDelivery => reset(client),
        Fault::ResetAfterDelivery => {
            let _ = deliver(&config.upstream, &request).await;
            reset(client);
        }
        Fault::Http500 => {
            let _ = deliver(&config.upstream, &request).await;
            let _ = client.write_all(&response(500, None, &marked("InternalServiceError"))).await;
        }
        Fault::Throttling => {
            let _ = client.write_all(&response(400, None, &marked("ThrottlingException"))).await;
        }
        Fault::Delay => {
            let answer = deliver(&config.upstream, &request).await;
            tokio::time::sleep(config.delay).await;
            if let Some((status, head, body)) = answer {
                let _ = client.write_all(&response(status, Some(&head), &body)).await;
            }
        }
        Fault::TruncatedBody => {
            // An upstream 5xx is a fault already: passed on as it is, and not counted.
            if let Some((status, head, body)) = deliver(&config.upstream, &request).await {
                let cut = if status >= 500 {
                    body.len()
                } else {
                    record();
                    if n.is_multiple_of(2 * config.every) {
                        0
                    } else {
                        body.len() / 2
                    }
                };
                let _ = client.write_all(&response(status, Some(&head), &body[..cut])).await;
            }
        }
        Fault::LateDelivery => {
            reset(client);
            let (upstream, delay) = (config.upstream.clone(), config.delay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = deliver(&upstream, &request).await;
            });
        }
    }
}
