//! A target reached over HTTP through the official AWS SDK for Rust: real AWS (standard
//! credential and region chain) or any emulator listening at an endpoint URL.
//!
//! [`EndpointTarget`] turns each [`Request`] into the matching `aws-sdk-secretsmanager` call,
//! setting exactly the members the request sets, and turns the SDK's answer back into an
//! [`Observed`]: a JSON object with AWS's wire member names (absent members left out, dates as
//! epoch seconds), a service error, or a fault (connection, time-out, 5xx, throttling).
//!
//! The SDK calls are here; [`convert`] turns SDK outputs into wire-shaped JSON and [`faults`]
//! tells a target failing (connection, time-out, 5xx, throttling) from an answer.
//!
//! Retries are disabled: a retried mutating call would hide what the target did with the first
//! attempt. Loopback endpoints get static test credentials and `us-east-1` automatically, so no
//! local run ever reads (or needs) real credentials.

mod answer;
mod convert;
mod faults;

pub use answer::{Malformed, DEFAULT_MAX_RESPONSE_BYTES};
pub use faults::{fault_kind_of, SERVER_CODES, THROTTLING_CODES};

use super::{BoxFuture, Capabilities, FaultKind, Observed, Target, TargetError};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::operation;
use aws_sdk_secretsmanager::types::{self as sdk, RotationRulesType};
use aws_sdk_secretsmanager::Client;
use aws_smithy_http_client::tls;
use aws_smithy_types::DateTime;
use base64::Engine as _;
use faults::{classify, finish};
use serde_json::{Map, Value};
use sm_model::{FunctionBehaviour, Request};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// How long the SDK may take to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Region used for loopback endpoints when none is given.
pub const LOOPBACK_REGION: &str = "us-east-1";

/// Most pages [`EndpointTarget`] follows for one ListSecretVersionIds before calling it a fault.
const MAX_PAGES: usize = 1000;

/// How to reach an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointConfig {
    /// `http://host:port` of an emulator, or `None` for real AWS (the SDK's own endpoint
    /// resolution for the region).
    pub endpoint_url: Option<String>,
    /// Region; `None` takes it from the standard chain (`us-east-1` for loopback endpoints).
    pub region: Option<String>,
    /// Limit on one SDK call, connection included.
    pub operation_timeout: Duration,
    /// Name in reports; empty means `endpoint <url>` (or `aws`).
    pub label: String,
    /// Rotation functions the user says exist at this endpoint, by ARN, with their behaviours.
    /// The target reports these behaviours (plus `NotInvocable`) as capabilities.
    pub functions: BTreeMap<String, FunctionBehaviour>,
    /// For targets that rotate asynchronously (real AWS): after an accepted RotateSecret that
    /// rotates immediately, poll DescribeSecret until the token's version holds AWSCURRENT
    /// without AWSPENDING, for at most this long, so that the next request sees a settled
    /// rotation (the model's `rotate.settled-before-next-call`). `None`: no polling.
    pub rotation_settle: Option<Duration>,
    /// Largest response body accepted; a larger one is a malformed-response fault.
    pub max_response_bytes: usize,
}

impl EndpointConfig {
    /// A configuration with defaults: no region override, 30 s per operation, an automatic label
    /// and no declared rotation functions.
    pub fn new(endpoint_url: Option<String>) -> Self {
        EndpointConfig {
            endpoint_url,
            region: None,
            operation_timeout: Duration::from_secs(30),
            label: String::new(),
            functions: BTreeMap::new(),
            rotation_settle: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// A Secrets Manager endpoint driven through `aws-sdk-secretsmanager`.
#[derive(Clone, Debug)]
pub struct EndpointTarget {
    client: Client,
    label: String,
    endpoint_url: Option<String>,
    functions: BTreeMap<String, FunctionBehaviour>,
    rotation_settle: Option<Duration>,
    operation_timeout: Duration,
    /// The last NextToken the target gave per SecretId (ListSecretVersionIds pages).
    page_tokens: std::sync::Arc<std::sync::Mutex<BTreeMap<String, String>>>,
}

/// How often DescribeSecret is polled while a rotation settles.
const SETTLE_POLL: Duration = Duration::from_millis(500);

impl EndpointTarget {
    /// Builds the SDK client. Fails when the endpoint URL is not an `http(s)://` URL or when no
    /// region can be found for a non-loopback endpoint. Makes no network call for a loopback
    /// endpoint; otherwise the standard region and credential chain may consult the instance
    /// metadata service.
    pub async fn new(config: EndpointConfig) -> Result<Self, TargetError> {
        let loopback = match &config.endpoint_url {
            Some(url) => {
                let host = url_host(url).ok_or_else(|| {
                    TargetError::Other(format!("endpoint URL {url:?} is not an http:// or https:// URL with a host"))
                })?;
                is_loopback_host(host)
            }
            None => false,
        };

        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(config.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts);
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        match (&config.region, loopback) {
            (Some(region), _) => loader = loader.region(Region::new(region.clone())),
            (None, true) => loader = loader.region(Region::from_static(LOOPBACK_REGION)),
            (None, false) => {}
        }
        if loopback {
            loader = loader.test_credentials();
        }
        let sdk_config = loader.load().await;
        if sdk_config.region().is_none() {
            return Err(TargetError::Other(
                "no AWS region configured: set AWS_REGION (or a profile region) or pass a region explicitly".into(),
            ));
        }

        let label = if !config.label.is_empty() {
            config.label
        } else {
            match &config.endpoint_url {
                Some(url) => format!("endpoint {url}"),
                None => "aws".to_string(),
            }
        };
        Ok(EndpointTarget {
            client: Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(&sdk_config)
                    .interceptor(answer::ResponseCheck { max_bytes: config.max_response_bytes })
                    .build(),
            ),
            label,
            endpoint_url: config.endpoint_url,
            functions: config.functions,
            rotation_settle: config.rotation_settle,
            operation_timeout: config.operation_timeout,
            page_tokens: Default::default(),
        })
    }

    /// The SDK client (for callers that need an operation the suite does not model).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The endpoint URL, `None` for real AWS.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// The rotation functions declared in the configuration.
    pub fn functions(&self) -> &BTreeMap<String, FunctionBehaviour> {
        &self.functions
    }

    /// Polls DescribeSecret until version `token` holds AWSCURRENT and not AWSPENDING, or until
    /// `limit` has passed (a rotation that failed stays as it is: AWSPENDING stalled on `token`).
    async fn wait_for_rotation(&self, secret_id: &str, token: &str, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(d) = self.client.describe_secret().secret_id(secret_id).send().await {
                let stages = d.version_ids_to_stages.as_ref().and_then(|m| m.get(token));
                let settled =
                    stages.is_some_and(|s| s.iter().any(|l| l == "AWSCURRENT") && !s.iter().any(|l| l == "AWSPENDING"));
                if settled {
                    return;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
    }

    async fn call(&self, request: &Request) -> Observed {
        let c = &self.client;
        match request {
            Request::CreateSecret(i) => finish(
                c.create_secret()
                    .name(&i.name)
                    .set_client_request_token(i.client_request_token.clone())
                    .set_description(i.description.clone())
                    .set_secret_string(i.secret_string.clone())
                    .set_secret_binary(i.secret_binary.as_ref().map(blob))
                    .send()
                    .await,
                convert::create_secret,
            ),
            Request::PutSecretValue(i) => finish(
                c.put_secret_value()
                    .secret_id(&i.secret_id)
                    .set_client_request_token(i.client_request_token.clone())
                    .set_secret_string(i.secret_string.clone())
                    .set_secret_binary(i.secret_binary.as_ref().map(blob))
                    .set_version_stages(i.version_stages.clone())
                    .set_rotation_token(i.rotation_token.clone())
                    .send()
                    .await,
                convert::put_secret_value,
            ),
            Request::UpdateSecret(i) => finish(
                c.update_secret()
                    .secret_id(&i.secret_id)
                    .set_client_request_token(i.client_request_token.clone())
                    .set_description(i.description.clone())
                    .set_secret_string(i.secret_string.clone())
                    .set_secret_binary(i.secret_binary.as_ref().map(blob))
                    .send()
                    .await,
                convert::update_secret,
            ),
            Request::UpdateSecretVersionStage(i) => finish(
                c.update_secret_version_stage()
                    .secret_id(&i.secret_id)
                    .version_stage(&i.version_stage)
                    .set_remove_from_version_id(i.remove_from_version_id.clone())
                    .set_move_to_version_id(i.move_to_version_id.clone())
                    .send()
                    .await,
                convert::update_secret_version_stage,
            ),
            Request::GetSecretValue(i) => finish(
                c.get_secret_value()
                    .secret_id(&i.secret_id)
                    .set_version_id(i.version_id.clone())
                    .set_version_stage(i.version_stage.clone())
                    .send()
                    .await,
                convert::get_secret_value,
            ),
            Request::DescribeSecret(i) => {
                finish(c.describe_secret().secret_id(&i.secret_id).send().await, convert::describe_secret)
            }
            Request::ListSecretVersionIds(i) => self.list_versions(i).await,
            Request::RotateSecret(i) => {
                let rules = i.rotation_rules.as_ref().map(|r| {
                    RotationRulesType::builder()
                        .set_automatically_after_days(r.automatically_after_days)
                        .set_duration(r.duration.clone())
                        .set_schedule_expression(r.schedule_expression.clone())
                        .build()
                });
                finish(
                    c.rotate_secret()
                        .secret_id(&i.secret_id)
                        .set_client_request_token(i.client_request_token.clone())
                        .set_rotation_lambda_arn(i.rotation_lambda_arn.clone())
                        .set_rotation_rules(rules)
                        .set_rotate_immediately(i.rotate_immediately)
                        .send()
                        .await,
                    convert::rotate_secret,
                )
            }
            Request::CancelRotateSecret(i) => {
                finish(c.cancel_rotate_secret().secret_id(&i.secret_id).send().await, convert::cancel_rotate_secret)
            }
            Request::DeleteSecret(i) => finish(
                c.delete_secret()
                    .secret_id(&i.secret_id)
                    .set_recovery_window_in_days(i.recovery_window_in_days)
                    .set_force_delete_without_recovery(i.force_delete_without_recovery)
                    .send()
                    .await,
                convert::delete_secret,
            ),
            Request::RestoreSecret(i) => {
                finish(c.restore_secret().secret_id(&i.secret_id).send().await, convert::restore_secret)
            }
        }
    }

    /// ListSecretVersionIds. With MaxResults or NextToken the request goes out as it is, one page,
    /// and the answer shows the target's NextToken; a NextToken in the model's form (`page-N`)
    /// is replaced by the last token this target gave for the secret. Without either, every page
    /// is followed so that the answer holds every version (the model then answers all of them).
    async fn list_versions(&self, input: &sm_model::request::ListSecretVersionIds) -> Observed {
        if input.max_results.is_some() || input.next_token.is_some() {
            let token = match input.next_token.as_deref() {
                Some(t) if t.starts_with("page-") => {
                    self.page_tokens.lock().ok().and_then(|m| m.get(&input.secret_id).cloned()).or(Some(t.to_string()))
                }
                other => other.map(str::to_string),
            };
            let max_results = input.max_results.map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
            let page = match self.list_page(input, max_results, token).await {
                Ok(page) => page,
                Err(fault) => return fault,
            };
            if let (Some(t), Ok(mut m)) = (page.next_token.clone(), self.page_tokens.lock()) {
                m.insert(input.secret_id.clone(), t);
            }
            let mut v = convert::list_secret_version_ids(std::slice::from_ref(&page));
            if let (Some(t), Value::Object(o)) = (page.next_token.clone(), &mut v) {
                o.insert("NextToken".into(), Value::String(t));
            }
            return Observed::Ok(v);
        }
        let mut pages = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = match self.list_page(input, None, next_token.clone()).await {
                Ok(page) => page,
                Err(fault) => return fault,
            };
            let token = page.next_token.clone().filter(|t| !t.is_empty());
            pages.push(page);
            match token {
                None => break,
                Some(t) if next_token.as_deref() == Some(t.as_str()) => {
                    return Observed::Fault {
                        kind: FaultKind::Server,
                        detail: format!("ListSecretVersionIds returned the same NextToken twice ({t:?})"),
                    }
                }
                Some(_) if pages.len() >= MAX_PAGES => {
                    return Observed::Fault {
                        kind: FaultKind::Server,
                        detail: format!("ListSecretVersionIds did not finish within {MAX_PAGES} pages"),
                    }
                }
                Some(t) => next_token = Some(t),
            }
        }
        Observed::Ok(convert::list_secret_version_ids(&pages))
    }

    /// One ListSecretVersionIds call; an error comes back as the observation it is.
    async fn list_page(
        &self,
        input: &sm_model::request::ListSecretVersionIds,
        max_results: Option<i32>,
        next_token: Option<String>,
    ) -> Result<aws_sdk_secretsmanager::operation::list_secret_version_ids::ListSecretVersionIdsOutput, Observed> {
        self.client
            .list_secret_version_ids()
            .secret_id(&input.secret_id)
            .set_include_deprecated(input.include_deprecated)
            .set_max_results(max_results)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| classify(&e))
    }
}

impl Target for EndpointTarget {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn capabilities(&self) -> Capabilities {
        let mut behaviours: Vec<FunctionBehaviour> = self.functions.values().copied().collect();
        behaviours.push(FunctionBehaviour::NotInvocable);
        behaviours.sort();
        behaviours.dedup();
        Capabilities { behaviours, omit_token: false, max_jobs: 8 }
    }

    fn prepare<'a>(
        &'a self,
        _functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async { Ok(()) })
    }

    /// ListSecrets with a Name filter (a case-insensitive prefix match on AWS) and
    /// IncludePlannedDeletion, every page, then an exact prefix check on each name.
    fn list_prefixed<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Option<Result<Vec<String>, String>>> {
        Box::pin(async move {
            let filter = sdk::Filter::builder().key(sdk::FilterNameStringType::Name).values(prefix).build();
            let mut names = Vec::new();
            let mut next: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let page = self
                    .client
                    .list_secrets()
                    .filters(filter.clone())
                    .include_planned_deletion(true)
                    .set_next_token(next.clone())
                    .send()
                    .await;
                let page = match page {
                    Ok(p) => p,
                    Err(e) => {
                        return Some(Err(match classify(&e) {
                            Observed::Fault { kind, detail } => format!("ListSecrets: {} fault: {detail}", kind.name()),
                            Observed::Error { code, message, .. } => format!("ListSecrets: {code}: {message}"),
                            Observed::Ok(_) => "ListSecrets failed".to_string(),
                        }))
                    }
                };
                names.extend(
                    page.secret_list()
                        .iter()
                        .filter_map(|s| s.name())
                        .filter(|n| n.starts_with(prefix))
                        .map(str::to_string),
                );
                match page.next_token().filter(|t| !t.is_empty()) {
                    Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
                    _ => {
                        names.sort();
                        names.dedup();
                        return Some(Ok(names));
                    }
                }
            }
            Some(Err(format!("ListSecrets did not finish within {MAX_PAGES} pages")))
        })
    }

    fn late_arrival_window(&self) -> Duration {
        self.operation_timeout
    }

    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed> {
        Box::pin(async move {
            let observed = self.call(request).await;
            if let (Some(limit), Request::RotateSecret(r), Observed::Ok(_)) = (self.rotation_settle, request, &observed)
            {
                if r.rotate_immediately != Some(false) {
                    if let Some(token) = &r.client_request_token {
                        self.wait_for_rotation(&r.secret_id, token, limit).await;
                    }
                }
            }
            observed
        })
    }
}

fn blob(b: &sm_model::Blob) -> aws_smithy_types::Blob {
    aws_smithy_types::Blob::new(b.0.clone())
}

/// Parses the host of an `http://` or `https://` URL (brackets kept off IPv6 literals).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a host names this machine's loopback interface (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}

/// Whether an endpoint URL points at this machine's loopback interface.
pub fn is_loopback_url(url: &str) -> bool {
    url_host(url).is_some_and(is_loopback_host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sm_model::request as input;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://127.0.0.1:5000",
            "http://127.1.2.3",
            "http://localhost:4566/",
            "https://LOCALHOST",
            "http://foo.localhost:1",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:80",
            "http://user@127.0.0.1:9/path",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "http://10.0.0.1:5000",
            "https://secretsmanager.us-east-1.amazonaws.com",
            "http://[::2]:1",
            "http://localhost.example.com",
            "ftp://127.0.0.1",
            "127.0.0.1:5000",
            "http://",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn fault_kinds() {
        assert_eq!(fault_kind_of(Some("ResourceNotFoundException"), Some(400)), None);
        assert_eq!(fault_kind_of(Some("ResourceNotFoundException"), Some(404)), None);
        assert_eq!(fault_kind_of(Some("LimitExceededException"), Some(400)), None);
        assert_eq!(fault_kind_of(Some("ThrottlingException"), Some(400)), Some(FaultKind::Throttled));
        assert_eq!(fault_kind_of(Some("TooManyRequestsException"), Some(400)), Some(FaultKind::Throttled));
        assert_eq!(fault_kind_of(Some("RequestLimitExceeded"), Some(503)), Some(FaultKind::Throttled));
        assert_eq!(fault_kind_of(None, Some(429)), Some(FaultKind::Throttled));
        assert_eq!(fault_kind_of(Some("InternalServiceError"), Some(400)), Some(FaultKind::Server));
        assert_eq!(fault_kind_of(Some("InternalFailure"), Some(500)), Some(FaultKind::Server));
        assert_eq!(fault_kind_of(Some("InvalidRequestException"), Some(500)), Some(FaultKind::Server));
        assert_eq!(fault_kind_of(None, Some(404)), Some(FaultKind::Malformed));
        assert_eq!(fault_kind_of(Some(""), Some(400)), Some(FaultKind::Malformed));
    }

    #[tokio::test]
    async fn bad_urls_and_labels() {
        assert!(EndpointTarget::new(EndpointConfig::new(Some("localhost:5000".into()))).await.is_err());
        let t = EndpointTarget::new(EndpointConfig::new(Some("http://127.0.0.1:9".into()))).await.unwrap();
        assert_eq!(t.name(), "endpoint http://127.0.0.1:9");
        let caps = t.capabilities();
        assert_eq!(caps.behaviours, vec![FunctionBehaviour::NotInvocable]);
        assert!(!caps.omit_token);

        let mut config = EndpointConfig::new(Some("http://127.0.0.1:9".into()));
        config.label = "mine".into();
        config.functions.insert("arn:aws:lambda:us-east-1:1:function:f".into(), FunctionBehaviour::Complete);
        config.functions.insert("arn:aws:lambda:us-east-1:1:function:g".into(), FunctionBehaviour::NotInvocable);
        let t = EndpointTarget::new(config).await.unwrap();
        assert_eq!(t.name(), "mine");
        assert_eq!(t.capabilities().behaviours, vec![FunctionBehaviour::Complete, FunctionBehaviour::NotInvocable]);
    }

    /// What the fake server answers to one request.
    struct Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
        delay: Duration,
    }

    fn reply(status: u16, body: Value) -> Reply {
        Reply { status, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
    }

    type Handler = Arc<dyn Fn(&str, &Value) -> Reply + Send + Sync>;
    type Seen = Arc<Mutex<Vec<(String, Value)>>>;

    /// A loopback HTTP server speaking just enough awsJson1.1 for the SDK: one request per
    /// connection, answered by `handler(operation, body)`. Returns the URL and the requests seen.
    async fn fake_server(handler: Handler) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Seen = Arc::default();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_one(stream, handler.clone(), seen2.clone()));
            }
        });
        (url, seen)
    }

    async fn serve_one(mut stream: TcpStream, handler: Handler, seen: Seen) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let op = header("x-amz-target")
            .and_then(|t| t.strip_prefix("secretsmanager.").map(str::to_string))
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
        seen.lock().unwrap().push((op.clone(), body.clone()));
        let r = handler(&op, &body);
        tokio::time::sleep(r.delay).await;
        let mut out = format!(
            "HTTP/1.1 {} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n",
            r.status,
            r.body.len()
        );
        for (k, v) in &r.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&r.body);
        let _ = stream.write_all(out.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    #[tokio::test]
    async fn an_asynchronous_rotation_is_awaited_until_it_settles() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let token = "t0000000-0000-4000-8000-000000000002";
        let describes = Arc::new(AtomicUsize::new(0));
        let d2 = describes.clone();
        let handler: Handler = Arc::new(move |op, _| match op {
            "RotateSecret" => reply(200, json!({"ARN": "arn:x", "Name": "s", "VersionId": token})),
            "DescribeSecret" => {
                // Pending for two polls, then current.
                let n = d2.fetch_add(1, Ordering::SeqCst);
                let stages = if n < 2 { json!(["AWSPENDING"]) } else { json!(["AWSCURRENT"]) };
                reply(200, json!({"Name": "s", "VersionIdsToStages": {token: stages}}))
            }
            _ => reply(400, json!({"__type": "Unexpected"})),
        });
        let (url, _) = fake_server(handler).await;
        let mut config = EndpointConfig::new(Some(url));
        config.rotation_settle = Some(Duration::from_secs(10));
        let target = EndpointTarget::new(config).await.unwrap();
        let rotate = |immediately: Option<bool>| {
            Request::RotateSecret(input::RotateSecret {
                secret_id: "s".into(),
                client_request_token: Some(token.into()),
                rotation_lambda_arn: Some("arn:aws:lambda:us-east-1:1:function:f".into()),
                rotation_rules: None,
                rotate_immediately: immediately,
            })
        };
        assert!(matches!(target.send(&rotate(None)).await, Observed::Ok(_)));
        assert_eq!(describes.load(Ordering::SeqCst), 3, "polled until the token held AWSCURRENT");
        // A test-only rotation (RotateImmediately=false) is not awaited.
        assert!(matches!(target.send(&rotate(Some(false))).await, Observed::Ok(_)));
        assert_eq!(describes.load(Ordering::SeqCst), 3);
    }

    async fn target_for(url: &str, timeout: Duration) -> EndpointTarget {
        let mut config = EndpointConfig::new(Some(url.to_string()));
        config.operation_timeout = timeout;
        EndpointTarget::new(config).await.unwrap()
    }

    fn get(id: &str) -> Request {
        Request::GetSecretValue(input::GetSecretValue { secret_id: id.into(), ..Default::default() })
    }

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf";

    #[tokio::test]
    async fn outputs_keep_absent_and_empty_apart() {
        let handler: Handler = Arc::new(|op, body| match (op, body["SecretId"].as_str()) {
            ("GetSecretValue", Some("absent")) => reply(
                200,
                json!({"ARN": ARN, "Name": "s", "VersionId": "v1", "SecretString": "x", "CreatedDate": 1.5e9}),
            ),
            ("GetSecretValue", Some("empty")) => reply(
                200,
                json!({"ARN": ARN, "Name": "s", "VersionId": "v1", "SecretBinary": "AAEC/w==", "VersionStages": []}),
            ),
            ("DescribeSecret", Some("absent")) => reply(200, json!({"ARN": ARN, "Name": "s", "Unknown": 1})),
            ("DescribeSecret", _) => reply(
                200,
                json!({"ARN": ARN, "Name": "s", "RotationEnabled": false, "VersionIdsToStages": {},
                       "RotationRules": {"AutomaticallyAfterDays": 3}, "DeletedDate": 1700000000.25,
                       "Tags": []}),
            ),
            ("ListSecretVersionIds", _) => match body["NextToken"].as_str() {
                None => reply(
                    200,
                    json!({"ARN": ARN, "Name": "s", "NextToken": "p2",
                           "Versions": [{"VersionId": "v1", "VersionStages": ["AWSCURRENT"], "CreatedDate": 1}]}),
                ),
                Some(_) => reply(200, json!({"ARN": ARN, "Name": "s", "Versions": [{"VersionId": "v0"}]})),
            },
            ("PutSecretValue", _) => reply(200, json!({"ARN": ARN, "Name": "s", "VersionId": "v2"})),
            _ => reply(400, json!({"__type": "InvalidRequestException", "message": "unexpected"})),
        });
        let (url, seen) = fake_server(handler).await;
        let t = target_for(&url, Duration::from_secs(5)).await;

        assert_eq!(
            t.send(&get("absent")).await,
            Observed::Ok(
                json!({"ARN": ARN, "Name": "s", "VersionId": "v1", "SecretString": "x", "CreatedDate": 1.5e9})
            )
        );
        assert_eq!(
            t.send(&get("empty")).await,
            Observed::Ok(
                json!({"ARN": ARN, "Name": "s", "VersionId": "v1", "SecretBinary": "AAEC/w==", "VersionStages": []})
            )
        );
        let describe = |id: &str| Request::DescribeSecret(input::SecretIdOnly { secret_id: id.into() });
        assert_eq!(t.send(&describe("absent")).await, Observed::Ok(json!({"ARN": ARN, "Name": "s"})));
        assert_eq!(
            t.send(&describe("present")).await,
            Observed::Ok(json!({"ARN": ARN, "Name": "s", "RotationEnabled": false, "VersionIdsToStages": {},
                                "RotationRules": {"AutomaticallyAfterDays": 3}, "DeletedDate": 1700000000.25,
                                "Tags": []}))
        );
        let list = Request::ListSecretVersionIds(input::ListSecretVersionIds {
            secret_id: "s".into(),
            include_deprecated: Some(true),
            ..Default::default()
        });
        assert_eq!(
            t.send(&list).await,
            Observed::Ok(json!({"ARN": ARN, "Name": "s", "Versions": [
                {"VersionId": "v1", "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.0},
                {"VersionId": "v0"},
            ]}))
        );

        // Inputs: exactly the members that are set, an empty list included, binary as base64.
        let put = Request::PutSecretValue(input::PutSecretValue {
            secret_id: "s".into(),
            client_request_token: Some("tok-0000000000000000000000000000001".into()),
            secret_binary: Some(sm_model::Blob(vec![0, 1, 2, 255])),
            version_stages: Some(vec![]),
            ..Default::default()
        });
        assert_eq!(t.send(&put).await, Observed::Ok(json!({"ARN": ARN, "Name": "s", "VersionId": "v2"})));
        let seen = seen.lock().unwrap().clone();
        let (op, body) = seen.last().unwrap();
        assert_eq!(op, "PutSecretValue");
        assert_eq!(
            body,
            &json!({"SecretId": "s", "ClientRequestToken": "tok-0000000000000000000000000000001",
                    "SecretBinary": "AAEC/w==", "VersionStages": []})
        );
        let lists: Vec<&Value> = seen.iter().filter(|(op, _)| op == "ListSecretVersionIds").map(|(_, b)| b).collect();
        assert_eq!(
            lists,
            [
                &json!({"SecretId": "s", "IncludeDeprecated": true}),
                &json!({"SecretId": "s", "IncludeDeprecated": true, "NextToken": "p2"})
            ]
        );
    }

    #[tokio::test]
    async fn rotate_and_delete_inputs() {
        let handler: Handler = Arc::new(|op, _| match op {
            "RotateSecret" => reply(200, json!({"ARN": ARN, "Name": "s", "VersionId": "t"})),
            "DeleteSecret" => reply(200, json!({"ARN": ARN, "Name": "s", "DeletionDate": 1700000000})),
            _ => reply(400, json!({"__type": "InvalidRequestException", "message": "unexpected"})),
        });
        let (url, seen) = fake_server(handler).await;
        let t = target_for(&url, Duration::from_secs(5)).await;
        let rotate = Request::RotateSecret(input::RotateSecret {
            secret_id: "s".into(),
            client_request_token: Some("t".repeat(32)),
            rotation_lambda_arn: Some("arn:aws:lambda:us-east-1:1:function:f".into()),
            rotation_rules: Some(input::RotationRules { automatically_after_days: Some(7), ..Default::default() }),
            rotate_immediately: Some(false),
        });
        assert_eq!(t.send(&rotate).await, Observed::Ok(json!({"ARN": ARN, "Name": "s", "VersionId": "t"})));
        let delete = Request::DeleteSecret(input::DeleteSecret {
            secret_id: "s".into(),
            recovery_window_in_days: Some(7),
            force_delete_without_recovery: None,
        });
        assert_eq!(t.send(&delete).await, Observed::Ok(json!({"ARN": ARN, "Name": "s", "DeletionDate": 1700000000.0})));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen[0].1,
            json!({"SecretId": "s", "ClientRequestToken": "t".repeat(32),
                   "RotationLambdaARN": "arn:aws:lambda:us-east-1:1:function:f",
                   "RotationRules": {"AutomaticallyAfterDays": 7}, "RotateImmediately": false})
        );
        assert_eq!(seen[1].1, json!({"SecretId": "s", "RecoveryWindowInDays": 7}));
    }

    #[tokio::test]
    async fn errors_and_faults() {
        let handler: Handler = Arc::new(|_, body| match body["SecretId"].as_str().unwrap_or_default() {
            "missing" => reply(
                400,
                json!({"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException",
                       "message": "Secrets Manager can't find the specified secret."}),
            ),
            "moto404" => reply(404, json!({"__type": "ResourceNotFoundException", "message": "nope"})),
            "limit" => reply(400, json!({"__type": "LimitExceededException", "Message": "too many"})),
            "throttled" => reply(400, json!({"__type": "ThrottlingException", "message": "Rate exceeded"})),
            "header" => Reply {
                headers: vec![("x-amzn-errortype", "InvalidParameterException:http://x/".into())],
                ..reply(400, json!({"message": "from header"}))
            },
            "internal" => reply(500, json!({"__type": "InternalServiceError", "message": "boom"})),
            "html500" => Reply { body: "<html>Internal Server Error</html>".into(), ..reply(500, Value::Null) },
            "garbage" => Reply { body: "{not json".into(), ..reply(200, Value::Null) },
            "nocode" => reply(400, json!({})),
            "slow" => Reply { delay: Duration::from_secs(3), ..reply(200, json!({})) },
            "empty200" => Reply { body: String::new(), ..reply(200, Value::Null) },
            "empty400" => Reply { body: String::new(), ..reply(400, Value::Null) },
            "shapeless" => reply(200, json!({})),
            "cut" => Reply { body: r#"{"ARN": "arn:x", "Na"#.into(), ..reply(200, Value::Null) },
            "huge" => reply(200, json!({"Name": "s", "SecretString": "x".repeat(70_000)})),
            _ => reply(200, json!({"Name": "s"})),
        });
        let (url, _) = fake_server(handler).await;
        let t = target_for(&url, Duration::from_millis(500)).await;

        let error = |code: &str, message: &str, status: u16| Observed::Error {
            code: code.into(),
            message: message.into(),
            status: Some(status),
        };
        assert_eq!(
            t.send(&get("missing")).await,
            error("ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400)
        );
        assert_eq!(t.send(&get("moto404")).await, error("ResourceNotFoundException", "nope", 404));
        assert_eq!(t.send(&get("limit")).await, error("LimitExceededException", "too many", 400));
        assert_eq!(t.send(&get("header")).await, error("InvalidParameterException", "from header", 400));
        let fault = |o: Observed| match o {
            Observed::Fault { kind, detail } => (kind, detail),
            other => panic!("expected a fault, got {other:?}"),
        };
        assert_eq!(fault(t.send(&get("throttled")).await).0, FaultKind::Throttled);
        let (kind, detail) = fault(t.send(&get("internal")).await);
        assert_eq!(kind, FaultKind::Server);
        assert!(detail.contains("500") && detail.contains("InternalServiceError"), "{detail}");
        assert_eq!(fault(t.send(&get("html500")).await).0, FaultKind::Server);
        assert_eq!(fault(t.send(&get("slow")).await).0, FaultKind::Timeout);
        // Not an answer to the operation: a fault, never compared.
        for id in ["garbage", "nocode", "empty200", "empty400", "shapeless", "cut"] {
            let (kind, detail) = fault(t.send(&get(id)).await);
            assert_eq!(kind, FaultKind::Malformed, "{id}: {detail}");
        }
        assert_eq!(t.send(&get("fine")).await, Observed::Ok(json!({"Name": "s"})));
        let mut small = EndpointConfig::new(Some(url.clone()));
        small.max_response_bytes = 64 * 1024;
        let small = EndpointTarget::new(small).await.unwrap();
        let (kind, detail) = fault(small.send(&get("huge")).await);
        assert_eq!(kind, FaultKind::Malformed);
        assert!(detail.contains("limit"), "{detail}");
        assert!(matches!(t.send(&get("huge")).await, Observed::Ok(_)));
    }

    #[tokio::test]
    async fn closed_port_is_a_connection_fault() {
        // Bind and release a port so that nothing listens on it.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = target_for(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).await;
        match t.send(&get("s")).await {
            Observed::Fault { kind: FaultKind::Connection, .. } => {}
            other => panic!("expected a connection fault, got {other:?}"),
        }
        // The default cleanup treats a fault as a failure to delete.
        assert_eq!(t.cleanup(&["a".to_string()]).await, vec!["a".to_string()]);
    }
}
