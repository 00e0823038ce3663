//! `sm-model`: a small, pure, executable reference model of AWS Secrets Manager's secret versions,
//! staging labels, rotation and deletion. No I/O, no async, no AWS SDK.
//!
//! The entry point is [`apply`]`(&mut Model, &Request) -> Outcome`, where a [`Request`] mirrors the
//! AWS API input of one operation and an [`Outcome`] is either the response (AWS member names) or
//! an error (AWS error code and, where known, exact message). Where AWS allows several outcomes,
//! [`branches`] returns every one with the state it leads to, and a [`Tracker`] follows a target
//! through a sequence by keeping the states its observations still allow.
//!
//! Every behaviour is a rule in [`rules`], citing its section of `docs/spec/semantics.md` and
//! that section's confidence. Start reading at [`labels`] (the label algebra), then `ops/`.

pub mod engine;
pub mod labels;
pub mod narrative;
mod ops;
pub mod outcome;
pub mod persistent;
pub mod request;
pub mod response;
pub mod rules;
pub mod schedule;
pub mod state;
pub mod tracker;
mod validate;
pub mod versions;

pub use engine::{apply, branches, Branch, Ctx};
pub use ops::{finish_external_rotation, rotation_value};
pub use outcome::{ApiError, Expect, Outcome, ANY};
pub use request::{Blob, Request, RequestError};
pub use response::Response;
pub use state::{FunctionBehaviour, Model, Secret, SecretValue, Step, Version, AWSCURRENT, AWSPENDING, AWSPREVIOUS};
pub use tracker::Tracker;
