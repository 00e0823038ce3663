//! Exit codes, and the one function that maps what a command found to its exit code.
//!
//! 0 conformant, 1 divergences found (or a replayed trace failed), 2 bad usage or a bad trace
//! file, 3 target unreachable or failing, 130 interrupted.

use sm_harness::target::TargetError;

pub const EXIT_OK: u8 = 0;
pub const EXIT_DIVERGENT: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_TARGET: u8 = 3;
pub const EXIT_INTERRUPTED: u8 = 130;

/// What a run (or a replay, or a matrix run) ended with, as far as the exit code cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ctrl-C stopped it.
    pub interrupted: bool,
    /// It found divergences that count (new ones, with a baseline).
    pub divergent: bool,
    /// The target failed: faults that count, or the run was aborted.
    pub target_failing: bool,
    /// Secrets the run created are still on the target after the final sweep.
    pub left_behind: bool,
    /// The run stopped early because the target kept failing (or stopped answering).
    pub aborted: bool,
}

/// The exit code of an outcome: interrupted wins, then an aborted run or secrets left behind (3:
/// a run the target cut short, or that left anything on it, never passes for a divergence
/// report), then divergences, then target failures.
pub fn exit_code(o: Outcome) -> u8 {
    if o.interrupted {
        EXIT_INTERRUPTED
    } else if o.aborted || o.left_behind {
        EXIT_TARGET
    } else if o.divergent {
        EXIT_DIVERGENT
    } else if o.target_failing {
        EXIT_TARGET
    } else {
        EXIT_OK
    }
}

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

/// A usage error (exit 2).
pub fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure { code: EXIT_USAGE, error: e.into() }
}

/// A usage error from a message.
pub fn usage_msg(message: impl std::fmt::Display) -> Failure {
    usage(anyhow::anyhow!("{message}"))
}

/// The target could not be set up or reached (exit 3).
pub fn target_failure(e: TargetError) -> Failure {
    Failure { code: EXIT_TARGET, error: e.into() }
}

/// What a command-line parse error exits with: help and version are printed whole (exit 0);
/// any other error is a usage error, printed as its one `error:` line (exit 2).
pub fn parse_error(e: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            std::process::ExitCode::from(EXIT_OK)
        }
        _ => {
            let text = e.render().to_string();
            let line = text.lines().find(|l| l.starts_with("error:")).unwrap_or("error: bad usage (see --help)");
            match text.lines().find(|l| l.trim_start().starts_with("[possible values:")) {
                Some(values) => eprintln!("{line} {}", values.trim()),
                None => eprintln!("{line}"),
            }
            std::process::ExitCode::from(EXIT_USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let all =
            Outcome { interrupted: true, divergent: true, target_failing: true, left_behind: true, aborted: true };
        assert_eq!(exit_code(all), EXIT_INTERRUPTED);
        assert_eq!(exit_code(Outcome { interrupted: false, ..all }), EXIT_TARGET);
        assert_eq!(exit_code(Outcome { interrupted: false, left_behind: false, ..all }), EXIT_TARGET);
        let divergent = Outcome { divergent: true, target_failing: true, ..Outcome::default() };
        assert_eq!(exit_code(divergent), EXIT_DIVERGENT);
        assert_eq!(exit_code(Outcome { target_failing: true, ..Outcome::default() }), EXIT_TARGET);
        assert_eq!(exit_code(Outcome::default()), EXIT_OK);
    }
}
