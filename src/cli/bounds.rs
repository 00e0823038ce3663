//! Upper (and lower) bounds on the numbers a user passes, and their parsers, so that a value out
//! of range is a one-line usage error (exit 2) instead of a panic, a silent default or a run that
//! needs more memory than the machine has. The bounds are stated in each option's `--help`.

/// Most generated cases in one run.
pub const MAX_CASES: usize = 1_000_000;
/// Most requests in one case.
pub const MAX_STEPS: usize = 1_000;
/// Most cases at once.
pub const MAX_JOBS: usize = 64;
/// Longest per-request time-out, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 600;
/// Most shrink attempts per divergence.
pub const MAX_SHRINK: usize = 100_000;

/// Parses an integer in `MIN..=MAX`.
fn bounded<const MIN: u64, const MAX: u64>(s: &str) -> Result<u64, String> {
    let n: u64 = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number from {MIN} to {MAX}"))?;
    if n < MIN {
        return Err(format!("must be at least {MIN} (and at most {MAX})"));
    }
    if n > MAX {
        return Err(format!("must be at most {MAX}"));
    }
    Ok(n)
}

pub fn cases(s: &str) -> Result<usize, String> {
    bounded::<1, { MAX_CASES as u64 }>(s).map(|n| n as usize)
}

pub fn steps(s: &str) -> Result<usize, String> {
    bounded::<1, { MAX_STEPS as u64 }>(s).map(|n| n as usize)
}

pub fn jobs(s: &str) -> Result<usize, String> {
    bounded::<1, { MAX_JOBS as u64 }>(s).map(|n| n as usize)
}

pub fn timeout(s: &str) -> Result<u64, String> {
    bounded::<1, MAX_TIMEOUT_SECS>(s)
}

pub fn shrink(s: &str) -> Result<usize, String> {
    bounded::<0, { MAX_SHRINK as u64 }>(s).map(|n| n as usize)
}

/// Whether `region` looks like an AWS region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`):
/// lowercase words joined by `-`, a two-letter first word and a number last.
pub fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else { return false };
    parts.len() >= 3
        && region.len() <= 32
        && first.len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 3
        && last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert_eq!(steps("30"), Ok(30));
        assert!(steps("0").unwrap_err().contains("at least 1"));
        assert!(steps("18446744073709551615").unwrap_err().contains("at most 1000"));
        assert!(steps("99999999999999999999999").is_err());
        assert!(steps("-1").is_err());
        assert!(cases("1000001").is_err());
        assert!(jobs("65").is_err());
        assert!(timeout("0").is_err());
        assert_eq!(timeout("600"), Ok(600));
        assert_eq!(shrink("0"), Ok(0));
    }

    #[test]
    fn regions() {
        for r in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2", "il-central-1", "us-isob-east-1"] {
            assert!(valid_region(r), "{r}");
        }
        for r in
            ["", "us", "us-east", "US-EAST-1", "us_east_1", "us-east-1a", "nowhere", "us--1", "a-b-1", "us-east-1/x"]
        {
            assert!(!valid_region(r), "{r}");
        }
    }
}
