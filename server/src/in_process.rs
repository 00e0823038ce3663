//! An `aws_sdk_secretsmanager::Client` backed by the model in this process, with no socket: a
//! custom SDK HTTP client hands each encoded request to the same [`Service`] the HTTP listener
//! uses, so the SDK's whole encode, sign and decode path runs against the model.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let service = sm_server::Service::new(&sm_server::ServerConfig::default())?;
//! let client = sm_server::in_process::client(&service, "us-east-1");
//! client.create_secret().name("db").secret_string("s3cret").send().await?;
//! # Ok(()) }
//! ```

use crate::service::Service;
use crate::wire::CONTENT_TYPE;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::Client;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// The SDK HTTP client that answers from a [`Service`].
#[derive(Clone, Debug)]
pub struct ModelHttpClient {
    service: Service,
}

impl ModelHttpClient {
    pub fn new(service: Service) -> Self {
        ModelHttpClient { service }
    }
}

impl HttpConnector for ModelHttpClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let service = self.service.clone();
        HttpConnectorFuture::new(async move {
            let header = |name: &str| request.headers().get(name).map(str::to_string);
            let target = header("x-amz-target");
            let authorization = header("authorization");
            let body = request.body().bytes().unwrap_or_default().to_vec();
            let answer = service.handle(target.as_deref(), authorization.as_deref(), &body).await;
            let status = StatusCode::try_from(answer.status).map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut response = HttpResponse::new(status, SdkBody::from(answer.body));
            response.headers_mut().insert("content-type", CONTENT_TYPE);
            Ok(response)
        })
    }
}

impl HttpClient for ModelHttpClient {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A client for `region` whose every call is served by `service`, without a socket. Any
/// credentials would do; these are static test ones. Retries are off.
pub fn client(service: &Service, region: &str) -> Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDSMCONFORM", "smconform", None, None, "smconform-in-process"))
        .endpoint_url("http://smconform.in-process")
        .retry_config(RetryConfig::disabled())
        .http_client(ModelHttpClient::new(service.clone()))
        .build();
    Client::from_conf(config)
}
