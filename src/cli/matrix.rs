//! `smconform matrix`: the parity matrix of every model rule against each catalogued emulator
//! (one column per registry entry), from the catalogues into docs/ and README.md; with `--run`,
//! also from a run of the same seed against each.

use super::exit::{usage, usage_msg, Failure, EXIT_DIVERGENT, EXIT_INTERRUPTED};
use super::target::{build_target, check_target_args, final_cleanup, watch_interrupt, TargetArgs};
use clap::Args;
use sm_harness::baseline::classify;
use sm_harness::catalogue::Catalogue;
use sm_harness::parity;
use sm_harness::runner::{run, RunConfig, Session};
use sm_harness::target::registry;
use std::path::PathBuf;

#[derive(Args)]
pub struct MatrixArgs {
    /// Targets to put in the matrix (default: the model, which is always the reference column,
    /// and every managed emulator).
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// The folder holding one catalogue folder per target.
    #[arg(long, default_value = "fixtures/divergences")]
    pub catalogues: PathBuf,
    /// Where the full markdown table goes.
    #[arg(long, default_value = "docs/matrix.md")]
    pub markdown: PathBuf,
    /// Where the JSON table goes.
    #[arg(long, default_value = "docs/matrix.json")]
    pub json: PathBuf,
    /// README whose block between `<!-- matrix:begin -->` and `<!-- matrix:end -->` gets the summary.
    #[arg(long, default_value = "README.md")]
    pub readme: PathBuf,
    /// Only check that the files are up to date (exit 1 if not).
    #[arg(long, conflicts_with = "run")]
    pub check: bool,
    /// Also run the same generated cases against every listed emulator and mark what each run
    /// exercised and any divergence its catalogue does not hold. Writes into --out, not docs/.
    #[arg(long)]
    pub run: bool,
    /// With --run: cases per target, steps per case, seed, and where the tables go.
    #[arg(long, default_value_t = 300, requires = "run")]
    pub cases: usize,
    #[arg(long, default_value_t = 30, requires = "run")]
    pub steps: usize,
    #[arg(long, default_value_t = 1, requires = "run")]
    pub seed: u64,
    #[arg(long, default_value = "smconform-out", requires = "run")]
    pub out: PathBuf,
}

/// The catalogued targets `--targets` names (all of them by default), with their catalogues.
fn matrix_columns(args: &MatrixArgs) -> Result<Vec<parity::Column>, Failure> {
    let known = registry::names();
    if let Some(bad) = args.targets.iter().find(|t| *t != "model" && !known.contains(&t.as_str())) {
        return Err(usage_msg(format!("--targets: unknown target {bad:?} (model, {})", known.join(", "))));
    }
    let mut columns = Vec::new();
    for spec in registry::MANAGED.iter().filter(|s| args.targets.is_empty() || args.targets.iter().any(|x| x == s.name))
    {
        let dir = args.catalogues.join(spec.name);
        let catalogue = if dir.exists() { Catalogue::load(&dir).map_err(usage)? } else { Catalogue::default() };
        columns.push(parity::Column {
            target: spec.name.to_string(),
            behaviours: spec.behaviours.to_vec(),
            catalogue,
            run: None,
        });
    }
    Ok(columns)
}

/// `matrix --run`: the same seed against every listed emulator, classified against its catalogue.
pub async fn cmd_matrix_run(args: MatrixArgs) -> Result<u8, Failure> {
    let mut columns = matrix_columns(&args)?;
    let mut any_new = false;
    for column in &mut columns {
        let spec = registry::managed(&column.target).ok_or_else(|| usage_msg("no such emulator"))?;
        let target_args = TargetArgs::managed(spec);
        let prefix = check_target_args(&target_args)?;
        let target = build_target(&target_args).await?;
        let session = Session::new(prefix);
        watch_interrupt(session.clone());
        eprintln!(
            "matrix: {} cases of up to {} steps (seed {}) against {}",
            args.cases,
            args.steps,
            args.seed,
            target.name()
        );
        let config = RunConfig {
            cases: args.cases,
            steps: args.steps,
            seed: args.seed,
            jobs: 4,
            out_dir: args.out.join(&column.target),
            max_shrink_iters: 500,
            already_reproduced: column.catalogue.reproduced(),
        };
        let report = run(target.clone(), config, session.clone()).await;
        let classified = classify(&report, &column.catalogue, &*target, &session).await;
        final_cleanup(&*target, &session).await;
        if report.interrupted {
            return Ok(EXIT_INTERRUPTED);
        }
        let new: Vec<(String, String)> = classified
            .new
            .iter()
            .map(|i| {
                let f = &report.found[*i];
                (f.cause.rule.id.to_string(), format!("{} ({})", f.cause, f.signature))
            })
            .collect();
        any_new |= !new.is_empty() || !classified.changed().is_empty();
        let exercised =
            sm_model::rules::ALL.iter().filter(|r| report.coverage.exercised(r.id)).map(|r| r.id.to_string()).collect();
        column.run = Some(parity::RunEvidence { exercised, new });
    }
    let markdown = parity::markdown(&columns);
    let json = serde_json::to_string_pretty(&parity::json(&columns)).map_err(usage)? + "\n";
    tokio::fs::create_dir_all(&args.out)
        .await
        .map_err(|e| usage_msg(format!("creating {}: {e}", args.out.display())))?;
    for (name, text) in [("matrix.md", &markdown), ("matrix.json", &json)] {
        let path = args.out.join(name);
        tokio::fs::write(&path, text).await.map_err(|e| usage_msg(format!("writing {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    Ok(if any_new { EXIT_DIVERGENT } else { 0 })
}

/// `matrix` (and `matrix --check`): from the catalogues alone.
pub fn cmd_matrix(args: MatrixArgs) -> Result<u8, Failure> {
    let columns = matrix_columns(&args)?;
    let markdown = parity::markdown(&columns);
    let json = serde_json::to_string_pretty(&parity::json(&columns)).map_err(usage)? + "\n";
    let readme_now = std::fs::read_to_string(&args.readme)
        .map_err(|e| usage_msg(format!("reading {}: {e}", args.readme.display())))?;
    let readme = parity::replace_block(&readme_now, &parity::summary(&columns)).ok_or_else(|| {
        usage_msg(format!("{} has no <!-- matrix:begin --> … <!-- matrix:end --> block", args.readme.display()))
    })?;
    let files = [(&args.markdown, &markdown), (&args.json, &json), (&args.readme, &readme)];
    if args.check {
        let stale: Vec<String> = files
            .iter()
            .filter(|(p, text)| !std::fs::read_to_string(p).is_ok_and(|t| &t == *text))
            .map(|(p, _)| p.display().to_string())
            .collect();
        if stale.is_empty() {
            println!("the parity matrix is up to date");
            return Ok(0);
        }
        eprintln!("out of date: {} (run `cargo run -- matrix`)", stale.join(", "));
        return Ok(EXIT_DIVERGENT);
    }
    for (path, text) in files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| usage_msg(format!("creating {}: {e}", dir.display())))?;
        }
        std::fs::write(path, text).map_err(|e| usage_msg(format!("writing {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    Ok(0)
}
