//! `smconform bench`: measured speed and memory, reported (never asserted by timed tests).
//! Each benchmark is a subcommand in its own module: [`serve`] measures `smconform serve` beside
//! moto on the same request mix; [`scale`] measures runs against moto at several job counts and
//! the model's own throughput and memory.

pub mod scale;
pub mod serve;

use super::exit::Failure;
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub bench: Bench,
}

#[derive(Subcommand)]
pub enum Bench {
    /// Requests/s and p50/p99 latency of `smconform serve` from concurrent raw clients, next to
    /// moto's on the same request mix; memory holding many secrets.
    Serve(serve::ServeBenchArgs),
    /// Requests/s of runs against moto at several job counts; the model's apply and branches
    /// throughput; memory.
    Scale(scale::ScaleBenchArgs),
}

pub async fn cmd_bench(args: BenchArgs) -> Result<u8, Failure> {
    match args.bench {
        Bench::Serve(a) => serve::cmd_bench_serve(a).await,
        Bench::Scale(a) => scale::cmd_bench_scale(a).await,
    }
}
