//! `smconform bench serve`: being built (issue 9).

use crate::cli::exit::{usage_msg, Failure};
use clap::Args;

#[derive(Args)]
pub struct ServeBenchArgs {}

pub async fn cmd_bench_serve(_args: ServeBenchArgs) -> Result<u8, Failure> {
    Err(usage_msg("smconform bench serve is not built yet"))
}
