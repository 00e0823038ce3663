//! The evidence corpus as a test: every trace of a recorded real-AWS interaction under
//! `fixtures/evidence/` must be explained by the model (some allowed outcome shows everything AWS
//! was recorded answering), except records marked `contradicted_by` stronger evidence, which must
//! still disagree (so the mark is removed when the model or the record changes). The corpus must
//! stay at 100 traces or more from at least four kinds of source.

use rstest::rstest;
use sm_harness::evidence::{check_files, counts, files};
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
