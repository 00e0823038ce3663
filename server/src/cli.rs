//! `smconform serve`: the command-line front of [`crate::Server`]. The CLI crate only declares
//! the subcommand with [`ServeArgs`] and calls [`run`].

use crate::config::{FunctionSpec, ServerConfig, DEFAULT_ACCOUNT, DEFAULT_REGION};
use crate::http::Server;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `smconform serve`.
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "Any credentials are accepted: signatures are not checked, and the region of each request is \
read from its SigV4 credential scope (Credential=AKID/DATE/REGION/secretsmanager/aws4_request), else --region.\n\
Served: the 11 modelled operations, ListSecrets and GetRandomPassword; every other operation answers \
UnknownOperationException. GET /_smconform/health and POST /_smconform/reset are for test set-ups.")]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one; the URL is printed when ready).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to bind (loopback unless you say otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Region for requests that carry no SigV4 credential scope.
    #[arg(long, default_value = DEFAULT_REGION)]
    pub region: String,
    /// Account id in every ARN.
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    pub account: String,
    /// Keep a journal in DIR so that a restart (or kill -9) loses no acknowledged write.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// A rotation function: ARN=BEHAVIOUR (complete, fail-at-createSecret|setSecret|testSecret|finishSecret,
    /// not-invocable) run by the model, or ARN=URL of a function on the Lambda invoke API
    /// (POST URL/2015-03-31/functions/function/invocations). Undeclared ARNs are not invocable.
    #[arg(long = "function", value_name = "ARN=BEHAVIOUR|URL")]
    pub functions: Vec<String>,
    /// Time limit of one invocation of a URL function, in seconds.
    #[arg(long, default_value_t = 30)]
    pub function_timeout: u64,
}

impl ServeArgs {
    /// The server configuration these arguments describe.
    pub fn config(&self) -> Result<ServerConfig, String> {
        let mut config = ServerConfig {
            bind: self.bind,
            port: self.port,
            region: self.region.clone(),
            account: self.account.clone(),
            state_dir: self.state.clone(),
            function_timeout: Duration::from_secs(self.function_timeout.max(1)),
            ..ServerConfig::default()
        };
        for f in &self.functions {
            let (arn, spec) = FunctionSpec::parse_declaration(f).map_err(|e| format!("--function {e}"))?;
            config.functions.insert(arn, spec);
        }
        Ok(config)
    }
}

/// Runs the server until Ctrl-C (or SIGTERM). Returns the exit code: 0 after a clean stop,
/// 2 for bad arguments, 3 when the server cannot start (port in use, damaged journal).
pub async fn run(args: ServeArgs) -> u8 {
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let handle = match Server::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return 3;
        }
    };
    println!("smconform serve: listening on {}", handle.url());
    let _ = std::io::stdout().flush();
    wait_for_stop().await;
    handle.shutdown().await;
    0
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
