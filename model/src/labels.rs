//! The label algebra every mutating operation uses (semantics.md §5.1): attaching a staging label
//! moves it from its holder, AWSPREVIOUS follows AWSCURRENT, other labels stay where they are, and
//! a version left without labels is deprecated. This is the one place that answers "what happens
//! to AWSPREVIOUS when AWSCURRENT moves".

use crate::engine::Ctx;
use crate::outcome::ApiError;
use crate::rules;
use crate::state::{Secret, AWSCURRENT, AWSPENDING, AWSPREVIOUS};

/// Attaches `label` to version `to` (which must exist).
///
/// 1. If another version holds `label`, it loses it ([`rules::LABEL_MOVES`]).
/// 2. If `label` is AWSCURRENT and it came from version U, AWSPREVIOUS leaves whichever version
///    holds it (even `to`) and goes to U; U keeps its other labels
///    ([`rules::PREVIOUS_FOLLOWS_CURRENT`]). The first AWSCURRENT creates no AWSPREVIOUS
///    ([`rules::FIRST_CURRENT`]).
/// 3. AWSPENDING on `to` is never touched ([`rules::PENDING_KEPT_ON_MOVE`]).
pub fn attach(secret: &mut Secret, label: &str, to: &str, cx: &mut Ctx) {
    let from = secret.holder(label).map(str::to_string);
    if from.as_deref() == Some(to) {
        return;
    }
    if let Some(f) = &from {
        cx.cite(&rules::LABEL_MOVES);
        remove(secret, label, f);
    }
    insert(secret, label, to);
    if label == AWSCURRENT {
        match from {
            Some(previous_current) => {
                cx.cite(&rules::PREVIOUS_FOLLOWS_CURRENT);
                if let Some(h) = secret.holder(AWSPREVIOUS).map(str::to_string) {
                    remove(secret, AWSPREVIOUS, &h);
                }
                insert(secret, AWSPREVIOUS, &previous_current);
            }
            None => cx.cite(&rules::FIRST_CURRENT),
        }
        if secret.versions[to].labels.contains(AWSPENDING) {
            cx.cite(&rules::PENDING_KEPT_ON_MOVE);
        }
    }
}

/// Removes `label` from version `from`, if it is there.
pub fn remove(secret: &mut Secret, label: &str, from: &str) {
    secret.versions.remove_label(from, label);
}

fn insert(secret: &mut Secret, label: &str, to: &str) {
    secret.versions.add_label(to, label);
}

/// AWSPENDING is stalled when it sits on a version that does not also hold AWSCURRENT
/// (semantics.md §6, "AWSPENDING stalled").
pub fn is_stalled(secret: &Secret) -> bool {
    match secret.holder(AWSPENDING) {
        Some(p) => secret.holder(AWSCURRENT) != Some(p),
        None => false,
    }
}

/// Fails with LimitExceededException when the secret now holds more than 20 labels
/// ([`rules::LABELS_PER_SECRET`]). Called after a change; the engine discards the changed state
/// when an operation fails.
pub fn check_limit(secret: &Secret, cx: &mut Ctx) -> Result<(), ApiError> {
    if secret.label_count() > 20 && !cx.waives(&rules::LABELS_PER_SECRET) {
        return cx.fail(
            &rules::LABELS_PER_SECRET,
            ApiError::code_only(
                "LimitExceededException",
                "The request failed because it would exceed the quota of staging labels for a secret.",
            ),
        );
    }
    Ok(())
}
