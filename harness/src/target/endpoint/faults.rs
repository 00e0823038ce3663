//! Fault classification: which SDK errors are a target failing (connection, time-out, 5xx,
//! throttling) rather than answering, and turning an SDK result into an observation.

use super::answer::Malformed;
use crate::target::{FaultKind, Observed};
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde_json::Value;
/// Turns an SDK result into an observation.
pub(super) fn finish<O, E>(result: Result<O, SdkError<E, HttpResponse>>, convert: fn(&O) -> Value) -> Observed
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(output) => Observed::Ok(convert(&output)),
        Err(e) => classify(&e),
    }
}

/// Error codes that mean "slow down" rather than "no". `LimitExceededException` is not one of
/// them: Secrets Manager uses it for real quota errors (for example too many versions).
pub const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "BandwidthLimitExceeded",
];

/// Error codes that mean the service failed internally.
pub const SERVER_CODES: &[&str] =
    &["InternalServiceError", "InternalFailure", "InternalServerError", "ServiceUnavailable"];

/// Decides whether an error response (code and HTTP status) is a target fault, and which kind.
/// `None`: an ordinary service error, to be compared with the model.
pub fn fault_kind_of(code: Option<&str>, status: Option<u16>) -> Option<FaultKind> {
    if code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429) {
        return Some(FaultKind::Throttled);
    }
    if code.is_some_and(|c| SERVER_CODES.contains(&c)) || status.is_some_and(|s| s >= 500) {
        return Some(FaultKind::Server);
    }
    if code.is_none_or(str::is_empty) {
        // An error response without a code cannot be compared with anything: the target
        // answered something that is not a Secrets Manager error.
        return Some(FaultKind::Malformed);
    }
    None
}

/// The [`Malformed`] verdict somewhere in an error's source chain.
fn malformed_in<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e Malformed> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(m) = e.downcast_ref::<Malformed>() {
            return Some(m);
        }
        source = e.source();
    }
    None
}

/// Classifies an SDK failure.
pub(super) fn classify<E>(err: &SdkError<E, HttpResponse>) -> Observed
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let context = || DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let code = err.code();
            let message = err.message().unwrap_or_default().to_string();
            match fault_kind_of(code, status) {
                Some(kind) => Observed::Fault {
                    kind,
                    detail: format!(
                        "HTTP {} {}: {}",
                        status.map_or_else(|| "?".to_string(), |s| s.to_string()),
                        code.unwrap_or("(no error code)"),
                        if message.is_empty() { context() } else { message }
                    ),
                },
                None => Observed::Error { code: code.unwrap_or_default().to_string(), message, status },
            }
        }
        SdkError::TimeoutError(_) => Observed::Fault { kind: FaultKind::Timeout, detail: context() },
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            Observed::Fault { kind: FaultKind::Timeout, detail: context() }
        }
        SdkError::DispatchFailure(_) => Observed::Fault { kind: FaultKind::Connection, detail: context() },
        // The response came but is not an answer (see `answer`), or could not be read to its end
        // (a cut body, a body over the size limit).
        SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let status = status.map_or_else(|| "?".to_string(), |s| s.to_string());
            let detail = match malformed_in(err) {
                Some(m) => format!("HTTP {status}: {}", m.0),
                None => format!("unreadable response (HTTP {status}): {}", context()),
            };
            Observed::Fault { kind: FaultKind::Malformed, detail }
        }
        // The request was never sent (it could not be built, signed or routed): reported as a
        // connection fault, the nearest kind.
        SdkError::ConstructionFailure(_) => {
            Observed::Fault { kind: FaultKind::Connection, detail: format!("request not sent: {}", context()) }
        }
        _ => Observed::Fault { kind: FaultKind::Connection, detail: context() },
    }
}
