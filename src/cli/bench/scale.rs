//! `smconform bench scale`: being built (issue 12).

use crate::cli::exit::{usage_msg, Failure};
use clap::Args;

#[derive(Args)]
pub struct ScaleBenchArgs {}

pub async fn cmd_bench_scale(_args: ScaleBenchArgs) -> Result<u8, Failure> {
    Err(usage_msg("smconform bench scale is not built yet"))
}
