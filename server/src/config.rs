//! What a server is started with: where it listens, its default region and account, where its
//! journal lives, and the rotation functions it knows (a behaviour the model runs, or the URL of
//! a function speaking the Lambda invoke API).

use sm_model::FunctionBehaviour;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// The account id used when none is given (the one moto and most examples use).
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region used when a request carries no SigV4 credential scope and none is given.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Largest request body accepted (a 65,536-character SecretString escaped as `\uXXXX` fits).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// How a declared rotation function runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionSpec {
    /// A behaviour the model runs itself (`complete`, `fail-at-<step>`, `not-invocable`).
    Model(FunctionBehaviour),
    /// A function served at this base URL on the Lambda invoke API
    /// (`POST {url}/2015-03-31/functions/function/invocations`).
    Url(String),
}

impl FunctionSpec {
    /// Parses `BEHAVIOUR` or `http://…`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("http://") {
            return Ok(FunctionSpec::Url(text.trim_end_matches('/').to_string()));
        }
        if text.starts_with("https://") {
            return Err(format!("{text}: only http:// function URLs are supported"));
        }
        match FunctionBehaviour::parse(text) {
            Some(b) => Ok(FunctionSpec::Model(b)),
            None => Err(format!(
                "{text:?} is neither a behaviour (complete, fail-at-createSecret|setSecret|testSecret|finishSecret, not-invocable) nor an http:// URL"
            )),
        }
    }

    /// Parses a `--function ARN=BEHAVIOUR|URL` argument.
    pub fn parse_declaration(text: &str) -> Result<(String, Self), String> {
        let (arn, spec) = text.split_once('=').ok_or_else(|| format!("{text:?}: expected ARN=BEHAVIOUR or ARN=URL"))?;
        if arn.is_empty() {
            return Err(format!("{text:?}: the ARN is empty"));
        }
        Ok((arn.to_string(), FunctionSpec::parse(spec)?))
    }

    /// The behaviour the model is told: `External` for a URL function (the model then does only
    /// the service's half of RotateSecret).
    pub fn behaviour(&self) -> FunctionBehaviour {
        match self {
            FunctionSpec::Model(b) => *b,
            FunctionSpec::Url(_) => FunctionBehaviour::External,
        }
    }
}

/// Configuration of a [`crate::Server`] (and of an in-process [`crate::Service`]).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to bind (loopback unless told otherwise).
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Region for requests without a SigV4 credential scope.
    pub region: String,
    /// The account id in every ARN.
    pub account: String,
    /// Folder of the journal; `None` keeps state in memory only.
    pub state_dir: Option<PathBuf>,
    /// Rotation functions by ARN.
    pub functions: BTreeMap<String, FunctionSpec>,
    /// Time limit of one invocation of a URL function.
    pub function_timeout: Duration,
    /// Largest request body accepted.
    pub max_body: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            region: DEFAULT_REGION.to_string(),
            account: DEFAULT_ACCOUNT.to_string(),
            state_dir: None,
            functions: BTreeMap::new(),
            function_timeout: Duration::from_secs(30),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl ServerConfig {
    /// Declares a rotation function.
    pub fn with_function(mut self, arn: &str, spec: FunctionSpec) -> Self {
        self.functions.insert(arn.to_string(), spec);
        self
    }

    /// Sets the journal folder.
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm_model::Step;

    #[test]
    fn declarations_parse() {
        let (arn, spec) =
            FunctionSpec::parse_declaration("arn:aws:lambda:us-east-1:1:function:f=fail-at-setSecret").unwrap();
        assert_eq!(arn, "arn:aws:lambda:us-east-1:1:function:f");
        assert_eq!(spec, FunctionSpec::Model(FunctionBehaviour::FailAt(Step::SetSecret)));
        let (_, spec) = FunctionSpec::parse_declaration("a=http://127.0.0.1:9000/").unwrap();
        assert_eq!(spec, FunctionSpec::Url("http://127.0.0.1:9000".into()));
        assert!(FunctionSpec::parse_declaration("a=sometimes").is_err());
        assert!(FunctionSpec::parse_declaration("no-equals").is_err());
        assert!(FunctionSpec::parse_declaration("a=https://x").is_err());
    }
}
