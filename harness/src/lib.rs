//! `sm-harness`: runs generated or recorded Secrets Manager request sequences against a target,
//! compares every response with the reference model (`sm-model`), and shrinks divergences to
//! minimal reproductions written as `smconform-trace/1` files.

pub mod target;
pub mod matcher;
pub mod naming;
pub mod trace;
pub mod generate;
pub mod coverage;
pub mod runner;
pub mod report;
