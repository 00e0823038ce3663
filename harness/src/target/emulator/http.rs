//! Plain HTTP to an emulator on loopback, for what is not a Secrets Manager call: readiness
//! probes and emulator-specific set-up (moto's configuration API, LocalStack's Lambda API).
//! A thin layer over `reqwest` that never uses a proxy.

use std::time::Duration;

/// An HTTP answer: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends one request to `http://127.0.0.1:{port}{path}` and reads the whole answer.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<Answer, String> {
    let client = reqwest::Client::builder().no_proxy().timeout(timeout).build().map_err(|e| e.to_string())?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client.request(method, format!("http://127.0.0.1:{port}{path}")).body(body.to_string());
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = builder.send().await.map_err(|e| error_chain(&e))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| error_chain(&e))?;
    Ok(Answer { status, body })
}

/// An error with its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
