//! Generating request sequences. An [`Op`] is an abstract request: it names secrets, versions,
//! labels and rotation functions by small indices that are resolved (modulo what exists) against
//! the model's current state when the step runs, so a sequence stays meaningful however proptest
//! shrinks it. Variants are ordered simplest-first because proptest shrinks towards earlier ones.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use sm_model::request::{
    CreateSecret, DeleteSecret, GetSecretValue, ListSecretVersionIds, PutSecretValue, RotateSecret, RotationRules,
    SecretIdOnly, UpdateSecret, UpdateSecretVersionStage,
};
use sm_model::{Blob, FunctionBehaviour, Model, Request, SecretValue, AWSCURRENT, AWSPENDING, AWSPREVIOUS};
use std::collections::{BTreeMap, BTreeSet};

/// Logical secret names a case uses.
pub const SECRETS: [&str; 3] = ["s0", "s1", "s2"];
/// Labels generation picks from.
pub const LABELS: [&str; 6] = [AWSCURRENT, AWSPREVIOUS, AWSPENDING, "custom1", "custom2", "AWSSOMETHING"];
const STRINGS: [&str; 3] = ["v0", "v1", "v2"];
const BINARIES: [&[u8]; 2] = [b"\x00\x01bin", b"\xffbin2"];
const DAYS: [i64; 6] = [7, 1, 30, 1000, 0, 1001];
const SCHEDULES: [&str; 8] = [
    "rate(4 hours)",
    "rate(10 days)",
    "cron(0 16 1,15 * ? *)",
    "cron(0 8/8 * * ? *)",
    "rate(3 hours)",
    "cron(5 10 * * ? *)",
    "cron(0 /2 * * ? *)",
    "nonsense",
];
const DURATIONS: [&str; 4] = ["2h", "1h", "0h", "30h"];
/// A version id no version has.
pub const UNKNOWN_VERSION: &str = "ffffffff-ffff-4fff-8fff-ffffffffffff";

/// How a GetSecretValue picks its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetSel {
    Current,
    Stage(u8),
    Version(u8),
    Both(u8, u8),
    UnknownVersion,
}

/// Which ClientRequestToken a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSel {
    /// A token no version of the case has used.
    Fresh,
    /// The id of an existing version (idempotency and conflicts).
    Reuse(u8),
    /// Too short (31 characters).
    Short,
    /// No token (only where the target can express it).
    Omit,
}

/// Which value a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueSel {
    Text(u8),
    Binary(u8),
    /// The value of the version whose token is reused (or `v0`).
    SameAsReused,
    /// Both SecretString and SecretBinary (invalid).
    Both,
    /// An empty SecretString (invalid).
    Empty,
}

/// RotationRules choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesSel {
    Days(u8),
    Schedule(u8),
    DaysAndSchedule,
    WithDuration(Box<RulesSel>, u8),
}

/// DeleteSecret choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteMode {
    Default,
    Window(u8),
    Force,
    ForceAndWindow,
}

/// An abstract request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Describe { s: u8 },
    Get { s: u8, sel: GetSel },
    List { s: u8, include_deprecated: bool },
    Create { s: u8, value: Option<ValueSel>, token: TokenSel, description: bool },
    Put { s: u8, value: Option<ValueSel>, token: TokenSel, stages: Option<Vec<u8>> },
    Update { s: u8, value: Option<ValueSel>, token: TokenSel, description: bool },
    Stage { s: u8, label: u8, remove: Option<u8>, move_to: Option<u8> },
    Rotate { s: u8, function: Option<u8>, rules: Option<RulesSel>, immediately: Option<bool>, token: TokenSel },
    Cancel { s: u8 },
    Delete { s: u8, mode: DeleteMode },
    Restore { s: u8 },
}

/// A secret: resolved against the secrets that exist when the step runs (see [`Resolver::resolve`]).
fn secret() -> impl Strategy<Value = u8> {
    any::<u8>()
}

fn token(omit: bool) -> BoxedStrategy<TokenSel> {
    let omit_weight = if omit { 1 } else { 0 };
    prop_oneof![
        12 => Just(TokenSel::Fresh),
        5 => any::<u8>().prop_map(TokenSel::Reuse),
        1 => Just(TokenSel::Short),
        omit_weight => Just(TokenSel::Omit),
    ]
    .boxed()
}

fn value() -> impl Strategy<Value = ValueSel> {
    prop_oneof![
        10 => (0u8..3).prop_map(ValueSel::Text),
        4 => Just(ValueSel::SameAsReused),
        2 => (0u8..2).prop_map(ValueSel::Binary),
        1 => Just(ValueSel::Both),
        1 => Just(ValueSel::Empty),
    ]
}

fn rules() -> impl Strategy<Value = RulesSel> {
    let base = prop_oneof![
        4 => (0u8..DAYS.len() as u8).prop_map(RulesSel::Days),
        4 => (0u8..SCHEDULES.len() as u8).prop_map(RulesSel::Schedule),
        1 => Just(RulesSel::DaysAndSchedule),
    ];
    (base, proptest::option::weighted(0.25, 0u8..DURATIONS.len() as u8)).prop_map(|(b, d)| match d {
        Some(d) => RulesSel::WithDuration(Box::new(b), d),
        None => b,
    })
}

/// The strategy for one operation. `omit_token`: whether the target can send a request without a
/// ClientRequestToken.
pub fn op(omit_token: bool) -> BoxedStrategy<Op> {
    let get_sel = prop_oneof![
        4 => Just(GetSel::Current),
        4 => any::<u8>().prop_map(GetSel::Stage),
        4 => any::<u8>().prop_map(GetSel::Version),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(v, l)| GetSel::Both(v, l)),
        1 => Just(GetSel::UnknownVersion),
    ];
    let stages = proptest::option::weighted(0.5, proptest::collection::vec(0u8..LABELS.len() as u8, 1..3));
    let delete = prop_oneof![
        3 => Just(DeleteMode::Default),
        2 => (0u8..4).prop_map(DeleteMode::Window),
        3 => Just(DeleteMode::Force),
        1 => Just(DeleteMode::ForceAndWindow),
    ];
    prop_oneof![
        4 => secret().prop_map(|s| Op::Describe { s }),
        4 => (secret(), get_sel).prop_map(|(s, sel)| Op::Get { s, sel }),
        3 => (secret(), any::<bool>()).prop_map(|(s, include_deprecated)| Op::List { s, include_deprecated }),
        12 => (secret(), proptest::option::weighted(0.8, value()), token(omit_token), proptest::bool::weighted(0.2))
            .prop_map(|(s, value, token, description)| Op::Create { s, value, token, description }),
        10 => (secret(), proptest::option::weighted(0.95, value()), token(omit_token), stages)
            .prop_map(|(s, value, token, stages)| Op::Put { s, value, token, stages }),
        4 => (secret(), proptest::option::weighted(0.7, value()), token(omit_token), any::<bool>())
            .prop_map(|(s, value, token, description)| Op::Update { s, value, token, description }),
        8 => (secret(), 0u8..LABELS.len() as u8, proptest::option::weighted(0.7, any::<u8>()), proptest::option::weighted(0.8, any::<u8>()))
            .prop_map(|(s, label, remove, move_to)| Op::Stage { s, label, remove, move_to }),
        6 => (secret(), proptest::option::weighted(0.85, any::<u8>()), proptest::option::weighted(0.4, rules()), proptest::option::weighted(0.3, any::<bool>()), token(omit_token))
            .prop_map(|(s, function, rules, immediately, token)| Op::Rotate { s, function, rules, immediately, token }),
        2 => secret().prop_map(|s| Op::Cancel { s }),
        2 => (secret(), delete).prop_map(|(s, mode)| Op::Delete { s, mode }),
        2 => secret().prop_map(|s| Op::Restore { s }),
    ]
    .boxed()
}

/// A sequence of 1..=max_steps operations.
pub fn sequence(max_steps: usize, omit_token: bool) -> BoxedStrategy<Vec<Op>> {
    proptest::collection::vec(op(omit_token), 1..=max_steps.max(1)).boxed()
}

/// The ARN generation uses for a rotation function with `behaviour`.
pub fn function_arn(behaviour: FunctionBehaviour) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:smconform-{}", behaviour.name())
}

/// Per-case context for resolving [`Op`]s into requests.
#[derive(Clone, Debug)]
pub struct Resolver {
    /// Rotation functions the target can run, by ARN.
    pub functions: BTreeMap<String, FunctionBehaviour>,
    arns: Vec<String>,
    next_token: u64,
    /// Secrets a sequence no longer touches (their state is unknown after a divergence).
    retired: BTreeSet<String>,
}

impl Resolver {
    pub fn new(behaviours: &[FunctionBehaviour]) -> Self {
        let functions: BTreeMap<String, FunctionBehaviour> =
            behaviours.iter().map(|b| (function_arn(*b), *b)).collect();
        let arns = behaviours.iter().map(|b| function_arn(*b)).collect();
        Resolver { functions, arns, next_token: 0, retired: BTreeSet::new() }
    }

    fn fresh_token(&mut self) -> String {
        self.next_token += 1;
        format!("00000000-0000-4000-8000-{:012}", self.next_token)
    }

    /// The versions of secret `s` in creation order.
    fn versions(state: &Model, s: &str) -> Vec<String> {
        let Some(secret) = state.secrets.get(s) else {
            return Vec::new();
        };
        let mut v: Vec<_> = secret.versions.values().collect();
        v.sort_by_key(|v| v.seq);
        v.into_iter().map(|v| v.id.clone()).collect()
    }

    fn version(state: &Model, s: &str, i: u8) -> String {
        let v = Self::versions(state, s);
        if v.is_empty() {
            UNKNOWN_VERSION.to_string()
        } else {
            v[i as usize % v.len()].clone()
        }
    }

    fn token(&mut self, state: &Model, s: &str, t: &TokenSel) -> Option<String> {
        match t {
            TokenSel::Fresh => Some(self.fresh_token()),
            TokenSel::Reuse(i) => {
                if Self::versions(state, s).is_empty() {
                    Some(self.fresh_token())
                } else {
                    Some(Self::version(state, s, *i))
                }
            }
            TokenSel::Short => Some("0".repeat(31)),
            TokenSel::Omit => None,
        }
    }

    fn value(state: &Model, s: &str, token: Option<&str>, v: &ValueSel) -> (Option<String>, Option<Blob>) {
        match v {
            ValueSel::Text(i) => (Some(STRINGS[*i as usize % STRINGS.len()].to_string()), None),
            ValueSel::Binary(i) => (None, Some(Blob(BINARIES[*i as usize % BINARIES.len()].to_vec()))),
            ValueSel::SameAsReused => {
                let existing = token
                    .and_then(|t| state.secrets.get(s).and_then(|x| x.versions.get(t)))
                    .and_then(|v| v.value.clone());
                match existing {
                    Some(SecretValue::String(x)) => (Some(x), None),
                    Some(SecretValue::Binary(b)) => (None, Some(b)),
                    None => (Some(STRINGS[0].to_string()), None),
                }
            }
            ValueSel::Both => (Some(STRINGS[0].to_string()), Some(Blob(BINARIES[0].to_vec()))),
            ValueSel::Empty => (Some(String::new()), None),
        }
    }

    fn rules(r: &RulesSel) -> RotationRules {
        match r {
            RulesSel::Days(i) => {
                RotationRules { automatically_after_days: Some(DAYS[*i as usize % DAYS.len()]), ..Default::default() }
            }
            RulesSel::Schedule(i) => RotationRules {
                schedule_expression: Some(SCHEDULES[*i as usize % SCHEDULES.len()].to_string()),
                ..Default::default()
            },
            RulesSel::DaysAndSchedule => RotationRules {
                automatically_after_days: Some(30),
                schedule_expression: Some(SCHEDULES[0].to_string()),
                ..Default::default()
            },
            RulesSel::WithDuration(b, d) => {
                RotationRules { duration: Some(DURATIONS[*d as usize % DURATIONS.len()].to_string()), ..Self::rules(b) }
            }
        }
    }

    /// Stops using the secret `name` (logical): later operations go to the others, and a fresh
    /// name takes its place among the case's names.
    pub fn retire(&mut self, name: &str) {
        self.retired.insert(name.to_string());
    }

    /// The case's names: [`SECRETS`], with each retired one replaced by a fresh `s3`, `s4`, ...
    fn names(&self) -> Vec<String> {
        (0..).map(|i| format!("s{i}")).filter(|n| !self.retired.contains(n)).take(SECRETS.len()).collect()
    }

    /// Resolves `op` against `state` into a concrete request with logical names.
    pub fn resolve(&mut self, op: &Op, state: &Model) -> Request {
        // Mostly a secret that exists (so sequences reach deep states), sometimes any name of the
        // case (so unknown secrets and re-creation are exercised too).
        let names = self.names();
        let existing: Vec<&String> = state.secrets.keys().filter(|n| !self.retired.contains(*n)).collect();
        let name = |s: &u8| match existing.len() {
            n if n > 0 && s % 8 != 7 => existing[*s as usize % n].clone(),
            _ => names[*s as usize % names.len()].clone(),
        };
        let label = |l: &u8| LABELS[*l as usize % LABELS.len()].to_string();
        match op {
            Op::Describe { s } => Request::DescribeSecret(SecretIdOnly { secret_id: name(s) }),
            Op::Get { s, sel } => {
                let n = name(s);
                let (version_id, version_stage) = match sel {
                    GetSel::Current => (None, None),
                    GetSel::Stage(l) => (None, Some(label(l))),
                    GetSel::Version(v) => (Some(Self::version(state, &n, *v)), None),
                    GetSel::Both(v, l) => (Some(Self::version(state, &n, *v)), Some(label(l))),
                    GetSel::UnknownVersion => (Some(UNKNOWN_VERSION.to_string()), None),
                };
                Request::GetSecretValue(GetSecretValue { secret_id: n, version_id, version_stage })
            }
            Op::List { s, include_deprecated } => Request::ListSecretVersionIds(ListSecretVersionIds {
                secret_id: name(s),
                include_deprecated: Some(*include_deprecated).filter(|b| *b),
                ..Default::default()
            }),
            Op::Create { s, value, token, description } => {
                // Any name of the case: creating an existing one is the rarer, conflicting case.
                let n = names[*s as usize % names.len()].clone();
                let t = self.token(state, &n, token);
                let (secret_string, secret_binary) = match value {
                    Some(v) => Self::value(state, &n, t.as_deref(), v),
                    None => (None, None),
                };
                Request::CreateSecret(CreateSecret {
                    name: n,
                    client_request_token: t,
                    description: description.then(|| "created by smconform".to_string()),
                    secret_string,
                    secret_binary,
                })
            }
            Op::Put { s, value, token, stages } => {
                let n = name(s);
                let t = self.token(state, &n, token);
                let (secret_string, secret_binary) = match value {
                    Some(v) => Self::value(state, &n, t.as_deref(), v),
                    None => (None, None),
                };
                let version_stages = stages.as_ref().map(|ls| {
                    let mut out: Vec<String> = Vec::new();
                    for l in ls {
                        let l = label(l);
                        if !out.contains(&l) {
                            out.push(l);
                        }
                    }
                    out
                });
                Request::PutSecretValue(PutSecretValue {
                    secret_id: n,
                    client_request_token: t,
                    secret_string,
                    secret_binary,
                    version_stages,
                    rotation_token: None,
                })
            }
            Op::Update { s, value, token, description } => {
                let n = name(s);
                let t = self.token(state, &n, token);
                let (secret_string, secret_binary) = match value {
                    Some(v) => Self::value(state, &n, t.as_deref(), v),
                    None => (None, None),
                };
                Request::UpdateSecret(UpdateSecret {
                    secret_id: n,
                    client_request_token: t,
                    description: description.then(|| "updated by smconform".to_string()),
                    secret_string,
                    secret_binary,
                })
            }
            Op::Stage { s, label: l, remove, move_to } => {
                let n = name(s);
                let stage = label(l);
                // RemoveFromVersionId usually names the label's holder, so moves succeed often.
                let holder = state.secrets.get(&n).and_then(|x| x.holder(&stage)).map(str::to_string);
                let remove_from_version_id = remove.map(|r| match (&holder, r % 4) {
                    (Some(h), 0..=2) => h.clone(),
                    _ => Self::version(state, &n, r),
                });
                let move_to_version_id = move_to.map(|m| Self::version(state, &n, m));
                Request::UpdateSecretVersionStage(UpdateSecretVersionStage {
                    secret_id: n,
                    version_stage: stage,
                    remove_from_version_id,
                    move_to_version_id,
                })
            }
            Op::Rotate { s, function, rules, immediately, token } => {
                let n = name(s);
                let t = match token {
                    // A reused token would name an existing version; rotations want fresh ones mostly.
                    TokenSel::Reuse(i) if i % 4 != 0 => Some(self.fresh_token()),
                    other => self.token(state, &n, other),
                };
                let rotation_lambda_arn = match function {
                    Some(f) if !self.arns.is_empty() => Some(self.arns[*f as usize % self.arns.len()].clone()),
                    _ => None,
                };
                Request::RotateSecret(RotateSecret {
                    secret_id: n,
                    client_request_token: t,
                    rotation_lambda_arn,
                    rotation_rules: rules.as_ref().map(Self::rules),
                    rotate_immediately: *immediately,
                })
            }
            Op::Cancel { s } => Request::CancelRotateSecret(SecretIdOnly { secret_id: name(s) }),
            Op::Delete { s, mode } => {
                let (recovery_window_in_days, force_delete_without_recovery) = match mode {
                    DeleteMode::Default => (None, None),
                    DeleteMode::Window(i) => (Some([7, 30, 6, 31][*i as usize % 4]), None),
                    DeleteMode::Force => (None, Some(true)),
                    DeleteMode::ForceAndWindow => (Some(7), Some(true)),
                };
                Request::DeleteSecret(DeleteSecret {
                    secret_id: name(s),
                    recovery_window_in_days,
                    force_delete_without_recovery,
                })
            }
            Op::Restore { s } => Request::RestoreSecret(SecretIdOnly { secret_id: name(s) }),
        }
    }
}
