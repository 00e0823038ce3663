//! The evidence corpus as a test: every trace of a recorded real-AWS interaction under
//! `fixtures/evidence/` must be explained by the model (some allowed outcome shows everything AWS
//! was recorded answering), except records marked `contradicted_by` stronger evidence, which must
//! still disagree (so the mark is removed when the model or the record changes). The corpus must
//! stay at 100 traces or more from at least four kinds of source.

use rstest::rstest;
use sm_harness::evidence::{check_files, counts, files, index};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evidence")
}

#[rstest]
fn recorded_interaction_is_explained_by_the_model(#[files("fixtures/evidence/**/*.json")] path: PathBuf) {
    let checked = check_files(std::slice::from_ref(&path)).expect("a valid evidence trace");
    let c = &checked[0];
    let e = c.trace.evidence.as_ref().expect("evidence member");
    match (&c.result, &e.contradicted_by) {
        (Ok(()), None) => {}
        (Err(d), None) => {
            panic!("{} ({}): the model does not explain AWS's recorded answer: {d}", e.id, path.display())
        }
        (Ok(()), Some(by)) => {
            panic!("{}: marked contradicted by {by}, but the model now agrees: remove the mark", e.id)
        }
        (Err(_), Some(_)) => {}
    }
    assert!(!c.trace.source.is_empty(), "{}: every evidence trace names its source", e.id);
}

#[test]
fn the_corpus_is_large_and_varied() {
    let all = files(&root()).expect("fixtures/evidence");
    let checked = check_files(&all).expect("valid evidence traces");
    let per_kind = counts(&checked);
    assert!(checked.len() >= 100, "{} evidence traces", checked.len());
    assert!(per_kind.len() >= 4, "kinds of source: {per_kind:?}");
    let mut ids: Vec<&str> = checked.iter().filter_map(|c| c.trace.evidence.as_ref()).map(|e| e.id.as_str()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "evidence ids are unique");
}

/// Every rule's citation resolves to a section of the project's own spec: `§5.8` to a heading,
/// `§13.26` or `§5.1.3` to a numbered item of the section that heads it.
#[test]
fn every_rule_cites_a_section_of_docs_spec() {
    let spec = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/spec/semantics.md"))
        .expect("docs/spec/semantics.md");
    // Section number -> its text (up to the next heading).
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in spec.lines() {
        let heading = line.trim_start_matches('#');
        if line.starts_with('#') && heading.len() < line.len() {
            let number: String = heading.trim().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            sections.push((number.trim_end_matches('.').to_string(), String::new()));
        } else if let Some((_, text)) = sections.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    let find = |n: &str| sections.iter().find(|(k, _)| k == n).map(|(_, t)| t.as_str());
    let mut missing = Vec::new();
    for rule in sm_model::rules::ALL {
        for cite in rule.section.split(',') {
            let Some(number) = cite.trim().strip_prefix('§') else { continue };
            let number = number.split_whitespace().next().unwrap_or_default();
            let resolves = find(number).is_some()
                || number.rsplit_once('.').is_some_and(|(head, item)| {
                    find(head).is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with(&format!("{item}."))))
                });
            if !resolves {
                missing.push(format!("{} cites §{number}", rule.id));
            }
        }
    }
    assert!(missing.is_empty(), "citations that resolve to no section of docs/spec/semantics.md: {missing:?}");
}

/// `docs/spec/evidence-index.md` (which evidence each rule rests on) is generated from the corpus
/// and must be current.
#[test]
fn the_rule_to_evidence_index_is_up_to_date() {
    let checked = check_files(&files(&root()).expect("fixtures/evidence")).expect("valid evidence traces");
    let want = index(&checked);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/spec/evidence-index.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/spec/evidence-index.md is out of date: cargo run -- evidence --index docs/spec/evidence-index.md"
    );
}
