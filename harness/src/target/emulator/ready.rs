//! Readiness: the probe of an [`EmulatorSpec`](super::EmulatorSpec) and whether an answer to it
//! means the emulator is ready.

use super::http::Answer;
use super::{Accept, ReadySpec};
use serde_json::Value;
use std::time::Duration;

/// Sends the probe once: `Ok(())` when ready, else what was seen instead.
pub async fn probe(spec: &ReadySpec, port: u16) -> Result<(), String> {
    let answer =
        super::http::request(port, spec.method, spec.path, spec.headers, spec.body, Duration::from_secs(2)).await?;
    judge(&spec.accept, &answer)
}

/// Whether an answer to the probe means ready.
pub fn judge(accept: &Accept, answer: &Answer) -> Result<(), String> {
    let success = (200..300).contains(&answer.status);
    match accept {
        Accept::AnyResponse => Ok(()),
        _ if !success => Err(format!("HTTP {}", answer.status)),
        Accept::Success => Ok(()),
        Accept::JsonMember { pointer, values } => {
            let v: Value = serde_json::from_str(&answer.body).map_err(|_| "the answer is not JSON".to_string())?;
            match v.pointer(pointer).and_then(Value::as_str) {
                Some(state) if values.contains(&state) => Ok(()),
                Some(state) => Err(format!("{pointer} is {state:?}")),
                None => Err(format!("no {pointer} in the answer")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: body.into() }
    }

    #[test]
    fn answers_are_judged() {
        assert!(judge(&Accept::AnyResponse, &answer(500, "")).is_ok());
        assert!(judge(&Accept::Success, &answer(200, "")).is_ok());
        assert_eq!(judge(&Accept::Success, &answer(404, "")), Err("HTTP 404".into()));
        let health = Accept::JsonMember { pointer: "/services/secretsmanager", values: &["available", "running"] };
        let body = r#"{"services": {"lambda": "available", "secretsmanager": "running"}}"#;
        assert!(judge(&health, &answer(200, body)).is_ok());
        let starting = r#"{"services": {"secretsmanager": "initializing"}}"#;
        assert_eq!(judge(&health, &answer(200, starting)), Err("/services/secretsmanager is \"initializing\"".into()));
        assert!(judge(&health, &answer(200, r#"{"services": {}}"#)).is_err());
        assert!(judge(&health, &answer(200, "not json")).is_err());
    }
}
