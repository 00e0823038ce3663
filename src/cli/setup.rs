//! `smconform setup`: provision managed emulators (each in a virtual environment under the cache
//! folder) without running anything.

use super::exit::{target_failure, usage_msg, Failure};
use clap::Args;
use sm_harness::target::emulator::{cache_dir, moto_tests, provision};
use sm_harness::target::registry;

#[derive(Args)]
pub struct SetupArgs {
    /// Emulators to provision (default: the small ones, moto and those like it; see --all).
    pub emulators: Vec<String>,
    /// Provision every managed emulator (LocalStack is about 500 MB), and moto's AWS-verified
    /// tests (run against `serve` by the test suite).
    #[arg(long, conflicts_with = "emulators")]
    pub all: bool,
    /// Also provision LocalStack (the same as naming it).
    #[arg(long, hide = true)]
    pub localstack: bool,
}

pub async fn cmd_setup(args: SetupArgs) -> Result<u8, Failure> {
    let mut wanted: Vec<&str> = args.emulators.iter().map(String::as_str).collect();
    if args.localstack {
        wanted.push("localstack");
    }
    let specs: Vec<_> = if args.all {
        registry::MANAGED.to_vec()
    } else if args.emulators.is_empty() {
        let mut specs: Vec<_> = registry::MANAGED.iter().copied().filter(|s| s.setup_by_default).collect();
        specs.extend(wanted.iter().filter_map(|n| registry::managed(n)).filter(|s| !s.setup_by_default));
        specs
    } else {
        let mut specs = Vec::new();
        for name in &wanted {
            let spec = registry::managed(name).ok_or_else(|| {
                usage_msg(format!("unknown emulator {name:?} (known: {})", registry::names().join(", ")))
            })?;
            specs.push(spec);
        }
        specs
    };
    let cache = cache_dir().map_err(target_failure)?;
    for spec in specs {
        let venv = provision(spec, &cache).await.map_err(target_failure)?;
        println!("{} ready in {}", spec.label(), venv.display());
    }
    if args.all {
        let suite = moto_tests::provision(&cache).await.map_err(target_failure)?;
        println!("{} ready in {}", moto_tests::SPEC.label(), suite.root.display());
    }
    Ok(0)
}
