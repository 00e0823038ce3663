//! `smconform catalogue`: a maintainer's tools for the divergence catalogues.
//!
//! - `grow --target T --seeds A..B`: runs seed after seed against a managed emulator until `K`
//!   consecutive seeds bring no cause the catalogue (or an earlier seed) does not hold, writes a
//!   draft entry per new cause (and a draft of a known entry with each new symptom's reproduction
//!   added) for review, and reports whether the catalogue saturated.
//! - `regroup DIR` (hidden): re-derives the cause of every reproduction in a catalogue from its
//!   recorded observations and writes one entry per cause (after attribution changed).

use super::exit::{usage, usage_msg, Failure, EXIT_OK, EXIT_TARGET};
use super::target::{build_target, watch_interrupt, TargetArgs};
use clap::{Args, Subcommand};
use serde_json::Value;
use sm_harness::catalogue::{recorded_cause, reproduction, Catalogue, Entry, Reproduction};
use sm_harness::finding::{slug, Cause};
use sm_harness::runner::{run, Found, RunConfig, Session};
use sm_harness::target::registry;
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
    /// Re-derive every reproduction's cause from its recording and write one entry per cause, in place.
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
        // An interrupted seed is not drafted from: stopping the emulator under it makes faults
        // (LocalStack answers HTTP 500 while it shuts down) that are not the emulator's behaviour.
        if session.is_interrupted() {
            println!("seed {seed}: interrupted after {} cases; nothing drafted from it", report.cases_run);
            break;
        }
        let (mut fresh, mut symptoms) = (Vec::new(), 0);
        for f in &report.found {
            if let Some(known) = catalogue.entry_of(&f.cause) {
                // A new symptom of a known cause: the entry, drafted again with its reproduction added.
                if known.holds(&f.signature) {
                    continue;
                }
                let draft = drafts
                    .entry(f.cause.clone())
                    .or_insert_with(|| Entry { path: args.out.join(format!("{}.json", known.id)), ..known.clone() });
                if !draft.holds(&f.signature) {
                    draft.reproductions.push(draft_reproduction(spec.name, f));
                    symptoms += 1;
                }
                continue;
            }
            match drafts.get_mut(&f.cause) {
                Some(d) => {
                    if !d.holds(&f.signature) {
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
            "seed {seed}: {} cases, {} causes seen, {} new symptom(s) of known causes, {} new cause(s): {}",
            report.cases_run,
            causes(&report.found),
            symptoms,
            fresh.len(),
            fresh.join("; ")
        );
        // Drafts are written after every seed, so an interrupted grow keeps what it found.
        save_drafts(&drafts, &args.out)?;
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

/// One reproduction read back from an entry file, with what that entry said around it.
struct Member {
    path: PathBuf,
    target: String,
    target_version: String,
    explanation: String,
    upstream: Option<String>,
    reproduction: Reproduction,
}

/// Reads an entry file as JSON without parsing its cause (the cause may be in a form this version
/// no longer writes: that is what regrouping mends).
fn members(path: &Path) -> Result<Vec<Member>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if v.get("format").and_then(Value::as_str) != Some(sm_harness::catalogue::FORMAT) {
        return Err(format!("{}: not a catalogue entry", path.display()));
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let need = |k: &str| s(k).ok_or_else(|| format!("{}: no `{k}`", path.display()));
    let list = v.get("reproductions").and_then(Value::as_array).cloned().unwrap_or_default();
    list.iter()
        .map(|r| {
            Ok(Member {
                path: path.to_path_buf(),
                target: need("target")?,
                target_version: need("target_version")?,
                explanation: need("explanation")?,
                upstream: s("upstream"),
                reproduction: reproduction(r, path).map_err(|e| e.to_string())?,
            })
        })
        .collect()
}

/// Re-derives the cause of every reproduction in `dir` from its recorded observations and writes
/// one entry per cause (merging entries whose causes became one, splitting any that became two).
/// Reviewed drafts of `catalogue grow` are merged by copying them into `dir` and regrouping.
fn regroup(dir: &Path) -> Result<u8, Failure> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| usage_msg(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut groups: BTreeMap<Cause, Vec<Member>> = BTreeMap::new();
    for p in &paths {
        for m in members(p).map_err(usage_msg)? {
            // A recording whose last step no longer diverges (following the target past an
            // earlier step now reaches the state it showed) reproduces nothing: it is dropped, and
            // said so.
            let Some((divergence, cause)) =
                recorded_cause(&m.reproduction.trace).map_err(|e| usage_msg(format!("{}: {e}", p.display())))?
            else {
                eprintln!(
                    "{}: dropped {} ({}): its last step no longer diverges",
                    p.display(),
                    m.reproduction.id,
                    m.reproduction.divergence
                );
                continue;
            };
            if divergence != m.reproduction.divergence {
                eprintln!("{}: recorded as {}, now {divergence}", p.display(), m.reproduction.divergence);
            }
            let reproduction = Reproduction { divergence, ..m.reproduction };
            groups.entry(cause).or_default().push(Member { reproduction, ..m });
        }
    }
    let mut written = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (cause, members) in &groups {
        let first = &members[0];
        let mut sources: Vec<&Path> = members.iter().map(|m| m.path.as_path()).collect();
        sources.dedup();
        let explanation = match sources.as_slice() {
            [_] => first.explanation.trim_start_matches("DRAFT: ").to_string(),
            _ => format!(
                "{}. Seen as {} symptom(s) on {} operation(s): see each reproduction.",
                cause.sentence(&first.target),
                members.len(),
                members
                    .iter()
                    .map(|m| m.reproduction.divergence.operation)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            ),
        };
        let mut reproductions: Vec<Reproduction> = Vec::new();
        for m in members {
            if !reproductions.iter().any(|r| r.divergence == m.reproduction.divergence) {
                let mut r = m.reproduction.clone();
                r.explanation = r.explanation.trim_start_matches("DRAFT: ").to_string();
                // Reproduction ids stay unique across the catalogue (one symptom may have been
                // recorded under two causes' files before).
                let base = r.id.clone();
                for n in 2.. {
                    if !ids.contains(&r.id) {
                        break;
                    }
                    r.id = format!("{base}-{n}");
                }
                ids.insert(r.id.clone());
                reproductions.push(r);
            }
        }
        let id = format!("{}-{}", first.target, cause.slug());
        let entry = Entry {
            path: dir.join(format!("{id}.json")),
            id,
            target: first.target.clone(),
            target_version: first.target_version.clone(),
            cause: cause.clone(),
            explanation,
            upstream: members.iter().find_map(|m| m.upstream.clone()),
            reproductions,
        };
        entry.save(&entry.path).map_err(|e| usage_msg(format!("{}: {e}", entry.path.display())))?;
        println!("{} ({} reproduction(s))", entry.path.display(), entry.reproductions.len());
        written.push(entry.path);
    }
    for p in paths.iter().filter(|p| !written.contains(p)) {
        std::fs::remove_file(p).map_err(|e| usage_msg(format!("{}: {e}", p.display())))?;
    }
    Ok(EXIT_OK)
}
