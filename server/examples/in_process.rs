//! Testing code that uses `aws_sdk_secretsmanager` against the reference model, two ways:
//! in process with no socket, and over loopback HTTP with `Server::start`.
//!
//! ```sh
//! cargo run -p sm-server --example in_process
//! ```

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use sm_model::FunctionBehaviour;
use sm_server::{in_process, FunctionSpec, Server, ServerConfig, Service};

const ROTATOR: &str = "arn:aws:lambda:us-east-1:123456789012:function:rotator";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServerConfig::default().with_function(ROTATOR, FunctionSpec::Model(FunctionBehaviour::Complete));

    // 1. In process: the SDK's whole encode/sign/decode path, no socket.
    let service = Service::new(&config)?;
    let client = in_process::client(&service, "us-east-1");
    let created = client
        .create_secret()
        .name("app/db")
        .client_request_token("00000000-0000-4000-8000-000000000001")
        .secret_string("hunter2")
        .send()
        .await?;
    println!("created {}", created.arn().unwrap_or_default());
    client
        .rotate_secret()
        .secret_id("app/db")
        .client_request_token("00000000-0000-4000-8000-000000000002")
        .rotation_lambda_arn(ROTATOR)
        .send()
        .await?;
    let value = client.get_secret_value().secret_id("app/db").send().await?;
    println!("after rotation: {}", value.secret_string().unwrap_or_default());
    match client.get_secret_value().secret_id("app/db").version_stage("AWSPENDING").send().await {
        Ok(_) => println!("AWSPENDING still there"),
        Err(e) => println!("AWSPENDING: {}: {}", e.code().unwrap_or_default(), e.message().unwrap_or_default()),
    }

    // 2. Over HTTP on a free loopback port: point any SDK, the AWS CLI or boto3 at server.url().
    let server = Server::start(config).await?;
    println!("serving on {}", server.url());
    let sdk_config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("any", "credentials", None, None, "example"))
        .endpoint_url(server.url())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let http_client = aws_sdk_secretsmanager::Client::from_conf(sdk_config);
    http_client.create_secret().name("over-http").secret_string("x").send().await?;
    let listed = http_client.list_secrets().send().await?;
    for entry in listed.secret_list() {
        println!("listed over HTTP: {}", entry.arn().unwrap_or_default());
    }
    server.shutdown().await;
    Ok(())
}
