//! MiniStack (`ministack==1.5.33`, a Python emulator of many AWS services) as a managed emulator.
//!
//! Started with `BIND_HOST=127.0.0.1` (without it, it listens on every interface) and
//! `GATEWAY_PORT`, only its Secrets Manager service loaded, and its state and temporary files
//! inside the instance folder. Ready when a ListSecrets call succeeds.
//!
//! Rotation: its RotateSecret is a stub that never looks for the function: it accepts any ARN,
//! copies the current value into a new version and makes it AWSCURRENT at once. So no ARN is
//! ever refused and no function runs; the only behaviour generation uses is not-invocable
//! (whose AWS outcome, AccessDeniedException, MiniStack does not give: that is a divergence).

use super::emulator::{Accept, EmulatorSpec, PipInstall, ReadySpec, StartSpec};

/// The MiniStack release this suite is tested against.
pub const MINISTACK_VERSION: &str = "1.5.33";

/// MiniStack, for the registry.
pub static SPEC: EmulatorSpec = EmulatorSpec {
    about: "MiniStack, provisioned and started by smconform on a loopback port",
    install: &[PipInstall { requirements: &["ministack==1.5.33"], constraints: None }],
    start: StartSpec {
        program: "ministack",
        args: &[],
        env: &[
            ("BIND_HOST", "127.0.0.1"),
            ("GATEWAY_PORT", "{port}"),
            ("SERVICES", "secretsmanager"),
            ("PERSIST_STATE", "0"),
            ("STATE_DIR", "{dir}/fs/state"),
            ("S3_DATA_DIR", "{dir}/fs/s3"),
            ("TMPDIR", "{dir}/tmp"),
        ],
    },
    ready: ReadySpec { headers: LIST_SECRETS, accept: Accept::Success, ..EmulatorSpec::defaults("", "").ready },
    ..EmulatorSpec::defaults("ministack", MINISTACK_VERSION)
};

/// The readiness probe's headers: a ListSecrets call (with the shape of a signature; MiniStack
/// does not check it).
const LIST_SECRETS: &[(&str, &str)] = &[
    ("Content-Type", "application/x-amz-json-1.1"),
    ("X-Amz-Target", "secretsmanager.ListSecrets"),
    ("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_listens_on_loopback_only() {
        let env: std::collections::BTreeMap<_, _> = SPEC.start.env.iter().copied().collect();
        assert_eq!(env["BIND_HOST"], "127.0.0.1");
        assert_eq!(env["GATEWAY_PORT"], "{port}");
    }
}
