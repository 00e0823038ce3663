//! The model's state: secrets by name, each with its versions (value, staging labels, creation
//! order), rotation configuration, deletion state and description. Everything is ordered
//! (`BTreeSet` and the persistent [`PMap`]/[`PSet`], which order like `BTreeMap`) so that two equal
//! states compare, hash and print the same way every time; the persistent collections make a copy
//! of the state O(1), so the engine's per-request and per-branch copies cost what they change.

use crate::persistent::{PMap, PSet};
use crate::request::{Blob, RotationRules};
use crate::versions::Versions;
use std::collections::BTreeSet;

pub const AWSCURRENT: &str = "AWSCURRENT";
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
pub const AWSPENDING: &str = "AWSPENDING";

/// A secret value: exactly one of SecretString or SecretBinary.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretValue {
    String(String),
    Binary(Blob),
}

/// One version of a secret.
#[derive(Clone, Debug, Eq, PartialOrd, Ord)]
pub struct Version {
    pub id: String,
    /// `None` for the placeholder RotateSecret creates before the rotation function stores a value.
    pub value: Option<SecretValue>,
    pub labels: BTreeSet<String>,
    /// Creation time (model clock, milliseconds since the Unix epoch).
    pub created: u64,
    /// When GetSecretValue last returned this version, truncated to the day as AWS reports it.
    pub last_accessed: Option<u64>,
    /// Creation order within the secret (0 = first).
    pub seq: u64,
}

impl Version {
    /// Whether `self` and `other` hold the same data, ignoring when it was last read
    /// (LastAccessedDate); the very same version (shared by two states) is checked first.
    pub fn same_content(&self, other: &Version) -> bool {
        std::ptr::eq(self, other)
            || self.id == other.id
                && self.value == other.value
                && self.labels == other.labels
                && self.created == other.created
                && self.seq == other.seq
    }
}

/// Member by member, after a check for the very same version (shared by two states).
impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.same_content(other) && self.last_accessed == other.last_accessed
    }
}

impl Version {
    /// A new version with no labels, never read.
    pub fn new(id: &str, value: Option<SecretValue>, created: u64, seq: u64) -> Self {
        Version { id: id.to_string(), value, labels: Default::default(), created, last_accessed: None, seq }
    }

    /// A version with no labels is deprecated.
    pub fn is_deprecated(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Rotation configuration as DescribeSecret shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rotation {
    /// `None` until a RotateSecret configuration was accepted (DescribeSecret omits the field).
    pub enabled: Option<bool>,
    pub lambda_arn: Option<String>,
    pub rules: Option<RotationRules>,
    /// Whether a rotation has ever completed (LastRotatedDate present).
    pub rotated: bool,
    /// When the last rotation completed (model clock, ms).
    pub last_rotated: Option<u64>,
    /// When the configuration was last saved by RotateSecret (model clock, ms): the base of
    /// NextRotationDate until a rotation completes.
    pub configured: Option<u64>,
}

/// One secret.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secret {
    pub name: String,
    pub description: Option<String>,
    /// Versions by id, with an index of the labels they hold ([`Versions`]).
    pub versions: Versions,
    pub rotation: Rotation,
    /// Scheduled for deletion (DeleteSecret with a recovery window).
    pub deleted: bool,
    /// When the deletion was scheduled and for how many days (DeletedDate, DeletionDate).
    pub deletion: Option<(u64, u64)>,
    /// Next creation sequence number.
    pub next_seq: u64,
    /// CreatedDate (model clock, ms).
    pub created: u64,
    /// LastChangedDate: the last request that changed the secret (set by the engine).
    pub last_changed: u64,
    /// LastAccessedDate: the day GetSecretValue last read the secret.
    pub last_accessed: Option<u64>,
}

impl Secret {
    pub fn new(name: &str, description: Option<String>, now: u64) -> Self {
        Secret {
            name: name.to_string(),
            description,
            versions: Versions::new(),
            rotation: Rotation::default(),
            deleted: false,
            deletion: None,
            next_seq: 0,
            created: now,
            last_changed: now,
            last_accessed: None,
        }
    }

    /// Whether `self` and `other` hold the same data, ignoring the dates the engine and the reads
    /// maintain (LastChangedDate, LastAccessedDate): what "the request changed the secret" means.
    pub fn same_content(&self, other: &Secret) -> bool {
        // The cheap members first: most changes show in them (a new version moves next_seq).
        let others_equal = self.next_seq == other.next_seq
            && self.deleted == other.deleted
            && self.deletion == other.deletion
            && self.created == other.created
            && self.name == other.name
            && self.description == other.description
            && self.rotation == other.rotation;
        others_equal
            && (self.versions.ptr_eq(&other.versions)
                || self.versions.len() == other.versions.len()
                    && self.versions.label_count() == other.versions.label_count()
                    && self.versions.values().zip(other.versions.values()).all(|(a, b)| a.same_content(b)))
    }

    /// The version holding `label`, if any.
    pub fn holder(&self, label: &str) -> Option<&str> {
        self.versions.holder(label)
    }

    /// All labels attached across the secret's versions.
    pub fn label_count(&self) -> usize {
        self.versions.label_count()
    }
}

/// How a rotation function behaves when Secrets Manager invokes it. This is an input to the
/// model, not something it predicts: a trace or the harness says which behaviour each Lambda
/// ARN has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FunctionBehaviour {
    /// Runs every step like AWS's rotation template; createSecret stores `rotated-<token>`.
    Complete,
    /// Fails at the named step (after the earlier steps ran).
    FailAt(Step),
    /// Secrets Manager cannot invoke it (missing function or no resource policy).
    NotInvocable,
    /// The function runs outside the model (`smconform serve` invokes a real function over the
    /// Lambda invoke API). RotateSecret does only the service's half, R0-R1 of semantics.md §6:
    /// it validates, saves the configuration and creates the empty AWSPENDING version, and the
    /// function's steps then reach the model as ordinary requests; the service's clean-up after
    /// a successful finishSecret (R6) is [`crate::finish_external_rotation`]. Not part of the
    /// trace format (a trace cannot say what an outside function does).
    External,
}

/// The four steps of a Lambda rotation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::CreateSecret, Step::SetSecret, Step::TestSecret, Step::FinishSecret];
    pub fn name(self) -> &'static str {
        match self {
            Step::CreateSecret => "createSecret",
            Step::SetSecret => "setSecret",
            Step::TestSecret => "testSecret",
            Step::FinishSecret => "finishSecret",
        }
    }
}

impl FunctionBehaviour {
    /// The trace-format name: `complete`, `fail-at-<step>`, `not-invocable`.
    pub fn name(self) -> String {
        match self {
            FunctionBehaviour::Complete => "complete".into(),
            FunctionBehaviour::FailAt(s) => format!("fail-at-{}", s.name()),
            FunctionBehaviour::NotInvocable => "not-invocable".into(),
            FunctionBehaviour::External => "external".into(),
        }
    }
    /// Parses a trace-format name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "complete" => Some(FunctionBehaviour::Complete),
            "not-invocable" => Some(FunctionBehaviour::NotInvocable),
            _ => {
                let step = text.strip_prefix("fail-at-")?;
                Step::ALL.into_iter().find(|s| s.name() == step).map(FunctionBehaviour::FailAt)
            }
        }
    }
}

/// The whole model: every secret of one account and region, the known rotation functions, and a
/// clock (milliseconds since the Unix epoch) that advances one millisecond per request and can be
/// moved forward to the wall clock ([`Model::observe_time`]) by a caller that serves real time.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Model {
    pub secrets: PMap<String, Secret>,
    pub functions: PMap<String, FunctionBehaviour>,
    /// Names force-deleted so recently that AWS may still treat them as scheduled for deletion.
    pub recently_force_deleted: PSet<String>,
    pub clock: u64,
    /// Refusal rules switched off (ids), for attributing a target's answer to a rule it breaks
    /// (`smconform`'s ablation): a waived check lets the request through as if its condition did
    /// not hold. Empty for the model of AWS.
    pub waived: BTreeSet<&'static str>,
}

impl Model {
    pub fn new() -> Self {
        Model::default()
    }

    /// The same model with the refusal rule `rule` switched off (see [`Model::waived`]).
    pub fn waiving(mut self, rule: &'static crate::rules::Rule) -> Self {
        self.waived.insert(rule.id);
        self
    }

    /// Declares how the rotation function at `arn` behaves. Unknown ARNs are not invocable.
    pub fn with_function(mut self, arn: &str, behaviour: FunctionBehaviour) -> Self {
        self.functions.insert(arn.to_string(), behaviour);
        self
    }

    /// The behaviour of the function at `arn` (not invocable when unknown: AWS answers a missing
    /// function with AccessDeniedException, [V] M11).
    pub fn function(&self, arn: &str) -> FunctionBehaviour {
        self.functions.get(arn).copied().unwrap_or(FunctionBehaviour::NotInvocable)
    }

    /// Moves the clock forward by `seconds` (for tests of time-dependent rules such as version
    /// garbage collection, which spares versions younger than 24 hours).
    pub fn advance_clock(&mut self, seconds: u64) {
        self.clock += seconds * 1000;
    }

    /// Moves the clock forward to at least `epoch_millis` (never backwards), so that the dates
    /// the model reports are real ones. The model stays pure: time is an input.
    pub fn observe_time(&mut self, epoch_millis: u64) {
        self.clock = self.clock.max(epoch_millis);
    }

    /// Looks a secret up by its `SecretId` (its name, or the logical ARN the model reports).
    pub fn find(&self, secret_id: &str) -> Option<&Secret> {
        self.secrets.get(name_of(secret_id))
    }
}

/// What a logical ARN starts with; the secret's name follows.
const ARN_PREFIX: &str = "arn:aws:secretsmanager:<region>:<account>:secret:";

/// The logical ARN the model reports for a secret. Targets' ARNs are mapped to this form before
/// comparison (the real suffix is random).
pub fn logical_arn(name: &str) -> String {
    [ARN_PREFIX, name].concat()
}

/// The name inside a logical ARN, or the id itself when it is a name.
pub fn name_of(secret_id: &str) -> &str {
    secret_id.strip_prefix(ARN_PREFIX).unwrap_or(secret_id)
}
