//! Helpers shared by the test binaries that talk to a running `smconform serve`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One raw awsJson1.1 call over a fresh connection: the HTTP status and the body.
pub fn raw_call(url: &str, op: &str, body: &str, timeout: Duration) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).expect("timeout");
    let req = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nx-amz-target: secretsmanager.{op}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}
