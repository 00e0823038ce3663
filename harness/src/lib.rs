//! `sm-harness`: runs generated or recorded Secrets Manager request sequences against a target,
//! compares every response with the reference model (`sm-model`), and shrinks divergences to
//! minimal reproductions written as `smconform-trace/1` files.

pub mod attribute;
pub mod baseline;
pub mod catalogue;
pub mod coverage;
pub mod events;
pub mod evidence;
pub mod export;
pub mod finding;
pub mod follow;
pub mod generate;
pub mod matcher;
pub mod merge;
pub mod naming;
pub mod parity;
pub mod report;
pub mod repro;
pub mod runner;
pub mod shard;
pub mod target;
pub mod trace;
