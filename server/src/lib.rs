//! `sm-server`: the reference model (`sm-model`) served as an AWS Secrets Manager endpoint.
//!
//! It speaks awsJson1.1 as AWS does (`POST /`, `X-Amz-Target: secretsmanager.<Operation>`, JSON
//! bodies in AWS's member names, errors as `{"__type", "Message"}` with HTTP 400, dates as epoch
//! seconds, ARNs with AWS's random six-character suffix, the region taken from the request's SigV4
//! credential scope) and runs rotation functions: behaviours the model knows, or real functions
//! reached over the Lambda invoke API, invoked step by step after RotateSecret answers.
//!
//! - [`Server::start`] binds a loopback port and serves until [`ServerHandle::shutdown`].
//! - [`in_process::client`] builds an `aws_sdk_secretsmanager::Client` that reaches the same
//!   service with no socket.
//! - [`cli`] is the `smconform serve` command.
//!
//! Layers, each in its own module: [`wire`] (errors and their JSON), [`shapes`] (the service
//! model's input checks), [`arn`] (real ARNs and `SecretId` resolution), [`core`] (the model per
//! region, applied one request at a time), [`list`] and [`password`] (the operations computed
//! outside the model), [`journal`] (durability), [`service`] (the async front shared by HTTP and
//! in-process callers), [`rotation`] (invoking functions), [`http`] (the listener).

pub mod arn;
pub mod cli;
pub mod config;
pub mod core;
pub mod http;
pub mod in_process;
pub mod journal;
pub mod list;
pub mod meta;
pub mod password;
mod random;
pub mod rotation;
pub mod service;
pub mod shapes;
pub mod wire;

pub use config::{FunctionSpec, ServerConfig};
pub use http::{Server, ServerHandle, StartError};
pub use service::Service;
