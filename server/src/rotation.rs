//! Running a rotation function reached by URL, as Secrets Manager runs a Lambda function: after
//! RotateSecret answered, a background task posts AWS's rotation event (`Step`, `SecretId` = the
//! secret's ARN, `ClientRequestToken`, `RotationToken`) for createSecret, setSecret, testSecret
//! and finishSecret in turn to `POST {url}/2015-03-31/functions/function/invocations` (the Lambda
//! invoke API as the Runtime Interface Emulator serves it). The function calls back into the
//! server through the ordinary API.
//!
//! A function error (a non-2xx status, an `X-Amz-Function-Error` header, or an `errorMessage` /
//! `errorType` body) or a time-out stops the rotation where it is: AWSPENDING stays on the new
//! version, a stalled rotation, as AWS leaves it after its retries fail. After a successful
//! finishSecret the service removes AWSPENDING and records the rotation (R6).

use crate::core::RotationJob;
use crate::random;
use crate::service::Service;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use sm_model::Step;
use std::time::Duration;

/// Largest function response read.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// Posts invocation events to functions.
pub struct Invoker {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Invoker {
    /// An invoker whose every invocation is limited to `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Invoker { client: Client::builder(TokioExecutor::new()).build_http(), timeout }
    }

    /// Invokes the function at base URL `url` with `event`; `Err` says why it failed.
    pub async fn invoke(&self, url: &str, event: &Value) -> Result<(), String> {
        let uri = format!("{url}/2015-03-31/functions/function/invocations");
        let request = hyper::Request::post(&uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| format!("bad function URL {uri}: {e}"))?;
        let call = async {
            let response = self.client.request(request).await.map_err(|e| format!("cannot reach {uri}: {e}"))?;
            let status = response.status();
            let function_error =
                response.headers().get("x-amz-function-error").map(|v| v.to_str().unwrap_or("error").to_string());
            let body = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| format!("reading the response of {uri}: {e}"))?
                .to_bytes();
            let text = String::from_utf8_lossy(&body).to_string();
            if !status.is_success() {
                return Err(format!("HTTP {status}: {text}"));
            }
            if let Some(kind) = function_error {
                return Err(format!("function error ({kind}): {text}"));
            }
            if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&body) {
                if o.contains_key("errorMessage") || o.contains_key("errorType") {
                    return Err(format!("function error: {text}"));
                }
            }
            Ok(())
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {:?}", self.timeout)),
        }
    }
}

/// The event Secrets Manager sends for `step`.
pub fn event(step: Step, job: &RotationJob, rotation_token: &str) -> Value {
    json!({
        "Step": step.name(),
        "SecretId": job.arn,
        "ClientRequestToken": job.token,
        "RotationToken": rotation_token,
    })
}

/// Runs the four steps of `job`, then the service's clean-up; stops at the first failure.
pub async fn run(service: Service, job: RotationJob) {
    let rotation_token = random::uuid();
    for step in Step::ALL {
        let ev = event(step, &job, &rotation_token);
        if let Err(reason) = service.invoker().invoke(&job.url, &ev).await {
            eprintln!(
                "smconform serve: rotation of {} (token {}) stopped at {}: {reason}; AWSPENDING stays on the new version",
                job.arn,
                job.token,
                step.name()
            );
            return;
        }
    }
    match service.rotation_finished(job.clone()).await {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "smconform serve: rotation of {} (token {}): finishSecret succeeded but the version does not hold AWSCURRENT; AWSPENDING stays",
            job.arn, job.token
        ),
        Err(e) => eprintln!("smconform serve: rotation of {}: {e}", job.arn),
    }
}
