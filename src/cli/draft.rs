//! `smconform draft-entries` (hidden; a maintainer's tool): turns the reproductions a run wrote
//! into `--out` into draft divergence-catalogue entries, one file each, for review. A draft has
//! the id, operation, difference and deciding rule of the reproduction (the rule from replaying
//! it on the model), and an explanation that only quotes what AWS answers and what the emulator
//! answered at the divergent step: a reviewer rewrites it, and sets `rule`/`decided_by` where the
//! broken rule is an earlier write's.

use super::exit::{usage, usage_msg, Failure};
use clap::Args;
use serde_json::{json, Value};
use sm_harness::catalogue::{self, FORMAT};
use sm_harness::runner::{replay, Session};
use sm_harness::target::model::ModelTarget;
use sm_harness::target::registry;
use std::path::PathBuf;

#[derive(Args)]
pub struct DraftArgs {
    /// The folder a run wrote its reproductions to.
    pub from: PathBuf,
    /// The managed emulator the run was against.
    #[arg(long)]
    pub target: String,
    /// Where the drafts go; an existing file is left alone.
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn cmd_draft(args: DraftArgs) -> Result<u8, Failure> {
    let spec =
        registry::managed(&args.target).ok_or_else(|| usage_msg(format!("unknown emulator {:?}", args.target)))?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&args.from)
        .map_err(|e| usage_msg(format!("{}: {e}", args.from.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.file_name().is_none_or(|n| n != "report.json"))
        .collect();
    paths.sort();
    std::fs::create_dir_all(&args.out).map_err(|e| usage_msg(format!("{}: {e}", args.out.display())))?;
    let session = Session::new("draft-");
    for path in paths {
        let trace = catalogue::load_trace(&path).map_err(usage)?;
        let Some(last) = trace.steps.last() else { continue };
        let operation = last.request.op().to_string();
        // Titles are `<target>: <signature>` (and ` (rule <id>)` for divergences).
        let signature = trace.title.split_once(": ").map(|(_, s)| s).unwrap_or(&trace.title);
        let signature = signature.split(" (rule ").next().unwrap_or(signature);
        let difference = match signature.strip_prefix("fault ") {
            Some(rest) => format!("fault {}", rest.strip_prefix(&operation).unwrap_or(rest).trim()),
            None => {
                let rest = signature.strip_prefix(&operation).unwrap_or(signature).trim();
                rest.split(" [").next().unwrap_or(rest).to_string()
            }
        };
        let on_model = replay(&ModelTarget::new(), &trace, &session).await;
        let rule = on_model.steps.last().and_then(|s| s.model_outcome.as_ref()).and_then(|o| o.rules.last().copied());
        let Some(rule) = rule else {
            eprintln!("{}: the model gives no deciding rule; skipped", path.display());
            continue;
        };
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("entry");
        let id = format!("{}-{stem}", spec.name);
        let compact = |v: Option<Value>| v.map(|v| v.to_string()).unwrap_or_else(|| "nothing recorded".into());
        let explanation = format!(
            "DRAFT: {operation}: AWS answers {} (rule {}, {} [{}]: {}); {} answers {}.",
            compact(last.expect.as_ref().map(|e| e.to_json())),
            rule.id,
            rule.section,
            rule.confidence.tag(),
            rule.summary,
            spec.name,
            compact(last.observed.clone()),
        );
        let entry = json!({
            "format": FORMAT,
            "id": id,
            "target": spec.name,
            "target_version": spec.version,
            "rule": rule.id,
            "operation": operation,
            "difference": difference,
            "explanation": explanation,
            "upstream": null,
            "trace": trace.to_json(),
        });
        let file = args.out.join(format!("{id}.json"));
        if file.exists() {
            eprintln!("{} exists; left alone", file.display());
            continue;
        }
        let text = serde_json::to_string_pretty(&entry).map_err(usage)? + "\n";
        std::fs::write(&file, text).map_err(|e| usage_msg(format!("writing {}: {e}", file.display())))?;
        println!("{}", file.display());
    }
    Ok(0)
}
