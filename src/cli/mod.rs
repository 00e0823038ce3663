//! The `smconform` commands, one module each, and what they share: exit codes and errors
//! ([`exit`]), and the target options ([`target`]).

pub mod bench;
pub mod bounds;
pub mod catalogue;
pub mod evidence;
pub mod exit;
pub mod matrix;
pub mod merge;
pub mod replay;
pub mod repro;
pub mod run;
pub mod setup;
pub mod target;
