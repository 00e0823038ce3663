//! `smconform catalogue`: a maintainer's tools for the divergence catalogues.
//!
//! - `grow --target T --seeds A..B`: runs seed after seed against a managed emulator until `K`
//!   consecutive seeds bring no cause the catalogue (or an earlier seed) does not hold, writes a
//!   draft entry per new cause for review, and reports whether the catalogue saturated.
//! - `regroup DIR` (hidden): turns a folder of per-symptom entries (`smconform-divergence/1`) into
//!   per-cause entries (`/2`), attributing each reproduction from its recorded observations.

use super::exit::{usage, usage_msg, Failure, EXIT_OK, EXIT_TARGET};
use super::target::{build_target, watch_interrupt, TargetArgs};
use clap::{Args, Subcommand};
use serde_json::Value;
use sm_harness::catalogue::{recorded_cause, Catalogue, Entry, Reproduction};
use sm_harness::finding::{slug, Cause, DivergenceId};
use sm_harness::runner::{run, Found, RunConfig, Session};
use sm_harness::target::registry;
use sm_harness::trace::Trace;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CatalogueArgs {
    #[command(subcommand)]
    pub command: CatalogueCommand,
}

#[derive(Subcommand)]
pub enum CatalogueCommand {
    /// Run seeds until K consecutive ones bring no new cause; draft an entry per new cause.
    Grow(GrowArgs),
    /// Regroup per-symptom entries (format /1) into per-cause entries (format /2), in place.
    #[command(hide = true)]
    Regroup(RegroupArgs),
}

#[derive(Args)]
pub struct GrowArgs {
    /// The managed emulator (moto, localstack, ministack).
    #[arg(long)]
    pub target: String,
    /// Seeds to run, `A..B` (B excluded).
    #[arg(long)]
    pub seeds: String,
    /// Stop after this many consecutive seeds with no new cause.
    #[arg(long, default_value_t = 3)]
    pub until_quiet: usize,
    /// Cases per seed.
    #[arg(long, default_value_t = 200)]
    pub cases: usize,
    /// Maximum requests per case.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// The catalogue to grow (default fixtures/divergences/<target>).
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// Where drafts (and each seed's reproductions) go.
    #[arg(long, default_value = "smconform-out/drafts")]
    pub out: PathBuf,
    /// Cases run at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
}

#[derive(Args)]
pub struct RegroupArgs {
    pub dir: PathBuf,
}

pub async fn cmd_catalogue(args: CatalogueArgs) -> Result<u8, Failure> {
    match args.command {
        CatalogueCommand::Grow(a) => grow(a).await,
        CatalogueCommand::Regroup(a) => regroup(&a.dir),
    }
}

fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, Failure> {
    let bad = || usage_msg(format!("--seeds {text:?}: expected A..B with A < B, e.g. 10..20"));
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b) = (a.trim().parse::<u64>().map_err(|_| bad())?, b.trim().parse::<u64>().map_err(|_| bad())?);
    if a >= b {
        return Err(bad());
    }
    Ok(a..b)
}

async fn grow(args: GrowArgs) -> Result<u8, Failure> {
    let spec = registry::managed(&args.target)
        .ok_or_else(|| usage_msg(format!("--target {:?}: not a managed emulator", args.target)))?;
    let seeds = parse_seeds(&args.seeds)?;
    if args.until_quiet == 0 || args.cases == 0 || args.steps == 0 {
        return Err(usage_msg("--until-quiet, --cases and --steps must be at least 1"));
    }
    let dir = args.catalogue.clone().unwrap_or_else(|| PathBuf::from("fixtures/divergences").join(spec.name));
    let catalogue = Catalogue::load(&dir).map_err(usage)?;
    std::fs::create_dir_all(&args.out).map_err(|e| usage_msg(format!("{}: {e}", args.out.display())))?;
    let prefix = format!("smcg-{}-", std::process::id());
    let target = build_target(&TargetArgs::managed(spec), &prefix).await?;
    let session = Session::new(prefix);
    watch_interrupt(session.clone());
    let mut drafts: BTreeMap<Cause, Entry> = BTreeMap::new();
    let (mut quiet, mut saturated_at) = (0, None);
    for seed in seeds.clone() {
        let config = RunConfig {
            cases: args.cases,
            steps: args.steps,
            seed,
            jobs: args.jobs,
            out_dir: args.out.join(format!("seed-{seed}")),
            max_shrink_iters: 500,
            already_reproduced: catalogue.reproduced(),
        };
        let report = run(target.clone(), config, session.clone()).await;
        if let Some(why) = &report.aborted {
            sm_harness::runner::sweep(&*target, &session).await;
            return Err(Failure { code: EXIT_TARGET, error: anyhow::anyhow!("seed {seed}: {why}") });
        }
        let mut fresh = Vec::new();
        for f in &report.found {
            if catalogue.entry_of(&f.cause).is_some() {
                continue;
            }
            match drafts.get_mut(&f.cause) {
                Some(d) => {
                    if !d.reproductions.iter().any(|r| r.divergence == f.signature) {
                        d.reproductions.push(draft_reproduction(spec.name, f));
                    }
                }
                None => {
                    fresh.push(f.cause.to_string());
                    drafts.insert(f.cause.clone(), draft_entry(spec.name, spec.version, f, &args.out));
                }
            }
        }
        // Kinds of fault (an operation the target fails on) are catalogued like causes.
        for repro in &report.fault_reproductions {
            let Ok(Some((divergence, cause))) = recorded_cause(&repro.trace) else { continue };
            let known = |e: &Entry| e.cause == cause && e.operations().contains(&divergence.operation);
            if catalogue.entries.iter().any(known) || drafts.values().any(known) {
                continue;
            }
            let reproduction = Reproduction {
                id: format!("{}-{}", spec.name, slug(&repro.signature)),
                explanation: format!("{} fails ({}) where AWS answers as the model does.", spec.name, repro.signature),
                divergence,
                trace: repro.trace.clone(),
            };
            match drafts.get_mut(&cause) {
                Some(d) => d.reproductions.push(reproduction),
                None => {
                    fresh.push(cause.to_string());
                    let id = format!("{}-{}", spec.name, cause.slug());
                    drafts.insert(
                        cause.clone(),
                        Entry {
                            path: args.out.join(format!("{id}.json")),
                            id,
                            target: spec.name.to_string(),
                            target_version: spec.version.to_string(),
                            explanation: format!("DRAFT: {}", cause.sentence(spec.name)),
                            cause,
                            upstream: None,
                            reproductions: vec![reproduction],
                        },
                    );
                }
            }
        }
        println!(
            "seed {seed}: {} cases, {} causes seen, {} new: {}",
            report.cases_run,
            causes(&report.found),
            fresh.len(),
            fresh.join("; ")
        );
        // Drafts are written after every seed, so an interrupted grow keeps what it found.
        save_drafts(&drafts, &args.out)?;
        if session.is_interrupted() {
            break;
        }
        quiet = if fresh.is_empty() { quiet + 1 } else { 0 };
        if quiet >= args.until_quiet {
            saturated_at = Some(seed);
            break;
        }
    }
    let cleanup = sm_harness::runner::sweep(&*target, &session).await;
    if !cleanup.left.is_empty() {
        eprint!("{}", sm_harness::report::render_cleanup(&cleanup));
    }
    for d in drafts.values() {
        println!("draft: {}", d.path.display());
    }
    match saturated_at {
        Some(seed) => println!(
            "saturated: {} consecutive seeds up to {seed} brought no new cause; {} new cause(s) drafted",
            args.until_quiet,
            drafts.len()
        ),
        None => println!(
            "not saturated within {}..{}: {} new cause(s) drafted; run more seeds",
            seeds.start,
            seeds.end,
            drafts.len()
        ),
    }
    Ok(EXIT_OK)
}

fn save_drafts(drafts: &BTreeMap<Cause, Entry>, out: &Path) -> Result<(), Failure> {
    for d in drafts.values() {
        let path = out.join(format!("{}.json", d.id));
        d.save(&path).map_err(|e| usage_msg(format!("writing {}: {e}", path.display())))?;
    }
    Ok(())
}

fn causes(found: &[Found]) -> usize {
    let mut c: Vec<&Cause> = found.iter().map(|f| &f.cause).collect();
    c.sort();
    c.dedup();
    c.len()
}

fn draft_reproduction(target: &str, f: &Found) -> Reproduction {
    let last = f.trace.steps.last();
    let compact = |v: Option<Value>| v.map(|v| v.to_string()).unwrap_or_else(|| "nothing recorded".into());
    Reproduction {
        id: format!("{target}-{}", slug(&f.signature.to_string())),
        divergence: f.signature.clone(),
        explanation: format!(
            "DRAFT: {}: AWS answers {}; {target} answers {}.",
            f.signature.operation,
            compact(last.and_then(|s| s.expect.as_ref()).map(|e| e.to_json())),
            compact(last.and_then(|s| s.observed.clone())),
        ),
        trace: f.trace.clone(),
    }
}

fn draft_entry(target: &str, version: &str, f: &Found, out: &Path) -> Entry {
    let id = format!("{target}-{}", f.cause.slug());
    Entry {
        path: out.join(format!("{id}.json")),
        id,
        target: target.to_string(),
        target_version: version.to_string(),
        explanation: format!("DRAFT: {}", f.cause.sentence(target)),
        cause: f.cause.clone(),
        upstream: None,
        reproductions: vec![draft_reproduction(target, f)],
    }
}

/// A per-symptom entry of format `smconform-divergence/1`.
struct Legacy {
    id: String,
    target: String,
    target_version: String,
    divergence: DivergenceId,
    explanation: String,
    upstream: Option<String>,
    trace: Trace,
}

fn legacy(path: &Path) -> Result<Option<Legacy>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if v.get("format").and_then(Value::as_str) != Some("smconform-divergence/1") {
        return Ok(None);
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let need = |k: &str| s(k).ok_or_else(|| format!("{}: no `{k}`", path.display()));
    let decided = s("decided_by").map_or_else(|| need("rule"), Ok)?;
    let divergence = format!("{} {} [{decided}]", need("operation")?, need("difference")?)
        .parse::<DivergenceId>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let trace = Trace::from_json(v.get("trace").unwrap_or(&Value::Null))
        .map_err(|(_, w)| format!("{}: trace: {w}", path.display()))?;
    Ok(Some(Legacy {
        id: need("id")?,
        target: need("target")?,
        target_version: need("target_version")?,
        divergence,
        explanation: need("explanation")?,
        upstream: s("upstream"),
        trace,
    }))
}

fn regroup(dir: &Path) -> Result<u8, Failure> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| usage_msg(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut groups: BTreeMap<Cause, Vec<(PathBuf, Legacy)>> = BTreeMap::new();
    for p in paths {
        let Some(l) = legacy(&p).map_err(usage_msg)? else { continue };
        let (divergence, cause) = recorded_cause(&l.trace)
            .map_err(|e| usage_msg(format!("{}: {e}", p.display())))?
            .ok_or_else(|| usage_msg(format!("{}: the recording does not diverge at its last step", p.display())))?;
        if divergence != l.divergence {
            eprintln!("{}: recorded as {}, now {divergence}", p.display(), l.divergence);
        }
        groups.entry(cause).or_default().push((p, Legacy { divergence, ..l }));
    }
    for (cause, members) in &groups {
        let first = &members[0].1;
        let explanation = match members.as_slice() {
            [(_, only)] => only.explanation.clone(),
            _ => format!(
                "{}. Seen on {} operations or answers: see each reproduction.",
                cause.sentence(&first.target),
                members.len()
            ),
        };
        let entry = Entry {
            id: format!("{}-{}", first.target, cause.slug()),
            target: first.target.clone(),
            target_version: first.target_version.clone(),
            cause: cause.clone(),
            explanation,
            upstream: members.iter().find_map(|(_, l)| l.upstream.clone()),
            reproductions: members
                .iter()
                .map(|(_, l)| Reproduction {
                    id: l.id.clone(),
                    divergence: l.divergence.clone(),
                    explanation: l.explanation.clone(),
                    trace: l.trace.clone(),
                })
                .collect(),
            path: dir.join(format!("{}-{}.json", first.target, cause.slug())),
        };
        entry.save(&entry.path).map_err(|e| usage_msg(format!("{}: {e}", entry.path.display())))?;
        for (p, _) in members {
            if *p != entry.path {
                std::fs::remove_file(p).map_err(|e| usage_msg(format!("{}: {e}", p.display())))?;
            }
        }
        println!("{} ({} reproduction(s))", entry.path.display(), members.len());
    }
    Ok(EXIT_OK)
}
