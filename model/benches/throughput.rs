//! Model throughput: long deterministic sequences of random requests (over 5 secrets, a rolling
//! pool of tokens, every label kind and every rotation-function behaviour) run through `apply`
//! and through `branches`, reported as requests per second (`ItemsCount`). The generator is a
//! seeded xorshift, so every run measures the same sequence.
//!
//! Run with `cargo bench -p sm-model --bench throughput`.

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use sm_model::request::{
    CreateSecret, DeleteSecret, GetSecretValue, ListSecretVersionIds, PutSecretValue, RotateSecret, RotationRules,
    SecretIdOnly, UpdateSecret, UpdateSecretVersionStage,
};
use sm_model::{apply, branches, FunctionBehaviour, Model, Request, Step};

fn main() {
    divan::main();
}

const SECRETS: [&str; 5] = ["s1", "s2", "s3", "s4", "s5"];
const LABELS: [&str; 5] = ["AWSCURRENT", "AWSPREVIOUS", "AWSPENDING", "custom1", "custom2"];
const FUNCTIONS: [(&str, FunctionBehaviour); 5] = [
    ("fn:complete", FunctionBehaviour::Complete),
    ("fn:fail-create", FunctionBehaviour::FailAt(Step::CreateSecret)),
    ("fn:fail-set", FunctionBehaviour::FailAt(Step::SetSecret)),
    ("fn:fail-finish", FunctionBehaviour::FailAt(Step::FinishSecret)),
    ("fn:denied", FunctionBehaviour::NotInvocable),
];
/// How many recent tokens requests draw from (so versions, label moves and idempotent repeats
/// all happen, and a secret holds at most this many versions of its own).
const TOKEN_WINDOW: u64 = 24;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Tokens are `tok-<n>` padded to 36 characters; new ones appear as the sequence goes on.
struct Tokens {
    issued: u64,
}

impl Tokens {
    fn name(n: u64) -> String {
        format!("tok-{n:032}")
    }
    fn fresh(&mut self) -> String {
        self.issued += 1;
        Self::name(self.issued)
    }
    fn recent(&mut self, rng: &mut Rng) -> String {
        let back = rng.below(TOKEN_WINDOW.min(self.issued + 1));
        Self::name(self.issued.saturating_sub(back))
    }
    fn any(&mut self, rng: &mut Rng) -> String {
        if rng.chance(40) {
            self.fresh()
        } else {
            self.recent(rng)
        }
    }
}

fn requests(n: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng(seed);
    let mut tokens = Tokens { issued: 0 };
    let mut out = Vec::with_capacity(n);
    for s in SECRETS {
        out.push(Request::CreateSecret(CreateSecret {
            name: s.into(),
            client_request_token: Some(tokens.fresh()),
            secret_string: Some("v0".into()),
            ..Default::default()
        }));
    }
    while out.len() < n {
        let id = rng.pick(&SECRETS).to_string();
        let value = Some(["a", "b", "c"][rng.below(3) as usize].to_string());
        let r = match rng.below(100) {
            0..=24 => Request::PutSecretValue(PutSecretValue {
                secret_id: id,
                client_request_token: Some(tokens.any(&mut rng)),
                secret_string: value,
                version_stages: rng
                    .chance(30)
                    .then(|| (0..1 + rng.below(3)).map(|_| rng.pick(&LABELS).to_string()).collect()),
                ..Default::default()
            }),
            25..=44 => Request::GetSecretValue(GetSecretValue {
                secret_id: id,
                version_id: rng.chance(30).then(|| tokens.recent(&mut rng)),
                version_stage: rng.chance(30).then(|| rng.pick(&LABELS).to_string()),
            }),
            45..=54 => Request::DescribeSecret(SecretIdOnly { secret_id: id }),
            55..=64 => Request::ListSecretVersionIds(ListSecretVersionIds {
                secret_id: id,
                include_deprecated: Some(rng.chance(50)),
                ..Default::default()
            }),
            65..=74 => Request::UpdateSecretVersionStage(UpdateSecretVersionStage {
                secret_id: id,
                version_stage: rng.pick(&LABELS).to_string(),
                remove_from_version_id: rng.chance(60).then(|| tokens.recent(&mut rng)),
                move_to_version_id: rng.chance(80).then(|| tokens.recent(&mut rng)),
            }),
            75..=82 => Request::RotateSecret(RotateSecret {
                secret_id: id,
                client_request_token: Some(tokens.fresh()),
                rotation_lambda_arn: Some(FUNCTIONS[rng.below(FUNCTIONS.len() as u64) as usize].0.to_string()),
                rotation_rules: rng.chance(30).then(|| RotationRules {
                    schedule_expression: Some("cron(0 /8 * * ? *)".into()),
                    duration: Some("2h".into()),
                    ..Default::default()
                }),
                rotate_immediately: None,
            }),
            83..=87 => Request::UpdateSecret(UpdateSecret {
                secret_id: id,
                client_request_token: Some(tokens.any(&mut rng)),
                secret_string: value,
                ..Default::default()
            }),
            88..=90 => Request::CancelRotateSecret(SecretIdOnly { secret_id: id }),
            91..=94 => Request::CreateSecret(CreateSecret {
                name: id,
                client_request_token: Some(tokens.fresh()),
                secret_string: value,
                ..Default::default()
            }),
            95..=96 => Request::DeleteSecret(DeleteSecret {
                secret_id: id,
                force_delete_without_recovery: rng.chance(50).then_some(true),
                ..Default::default()
            }),
            _ => Request::RestoreSecret(SecretIdOnly { secret_id: id }),
        };
        out.push(r);
    }
    out
}

fn initial() -> Model {
    FUNCTIONS.iter().fold(Model::new(), |m, (arn, b)| m.with_function(arn, *b))
}

/// `apply` over the whole sequence, from an empty model each time.
#[divan::bench(args = [1_000, 10_000], sample_count = 20)]
fn apply_sequence(bencher: Bencher, n: usize) {
    let reqs = requests(n, 0x5EC2_E75E_C2E7_0001);
    bencher.counter(ItemsCount::new(n)).bench_local(|| {
        let mut m = initial();
        for r in &reqs {
            black_box(apply(&mut m, r));
        }
        m
    });
}

/// `branches` for every request of the sequence (following the canonical branch), which is what
/// the tracker does for each observed call.
#[divan::bench(args = [1_000, 10_000], sample_count = 20)]
fn branches_sequence(bencher: Bencher, n: usize) {
    let reqs = requests(n, 0x5EC2_E75E_C2E7_0001);
    bencher.counter(ItemsCount::new(n)).bench_local(|| {
        let mut m = initial();
        for r in &reqs {
            let mut all = branches(&m, r);
            m = all.swap_remove(0).state;
        }
        m
    });
}
