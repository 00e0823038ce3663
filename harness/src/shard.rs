//! Shards: a deterministic partition of a seed's cases, so that one run can be spread over many
//! machines. Shard `I/N` (1-based on the command line) runs the cases whose index is `I-1`
//! modulo `N`; every case keeps its index (and so its generated sequence), so the N shards
//! together run exactly the cases of the whole run and their outputs merge into its output
//! ([`crate::merge`]).

use std::fmt;
use std::str::FromStr;

/// One shard of a run: `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    index: usize,
    count: usize,
}

/// Why a `--shard` value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("expected I/N, such as 1/4 (shard I of N, 1-based)")]
    Format,
    #[error("the shard count N must be at least 1")]
    ZeroCount,
    #[error("shard {index} of {count}: I must be between 1 and N")]
    OutOfRange { index: usize, count: usize },
}

impl Shard {
    /// The whole run: one shard of one.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` (0-based) of `count`.
    pub fn new(index: usize, count: usize) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index: index + 1, count });
        }
        Ok(Shard { index, count })
    }

    /// 0-based index.
    pub fn index(self) -> usize {
        self.index
    }

    pub fn count(self) -> usize {
        self.count
    }

    /// Whether case `case` belongs to this shard.
    pub fn contains(self, case: usize) -> bool {
        case % self.count == self.index
    }

    /// The cases of this shard among `0..cases`, in order.
    pub fn cases(self, cases: usize) -> impl Iterator<Item = usize> {
        (self.index..cases).step_by(self.count)
    }
}

impl fmt::Display for Shard {
    /// `I/N`, 1-based.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// Parses `I/N` (1-based).
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (i, n) = s.split_once('/').ok_or(ShardError::Format)?;
        let i: usize = i.trim().parse().map_err(|_| ShardError::Format)?;
        let n: usize = n.trim().parse().map_err(|_| ShardError::Format)?;
        if n == 0 {
            return Err(ShardError::ZeroCount);
        }
        if i == 0 || i > n {
            return Err(ShardError::OutOfRange { index: i, count: n });
        }
        Shard::new(i - 1, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn shards_partition_the_cases() {
        let cases = 103;
        let mut seen = vec![0; cases];
        for i in 0..4 {
            let shard = Shard::new(i, 4).unwrap();
            for c in shard.cases(cases) {
                assert!(shard.contains(c));
                seen[c] += 1;
            }
        }
        assert!(seen.iter().all(|n| *n == 1), "every case in exactly one shard");
        assert_eq!(Shard::WHOLE.cases(5).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    }

    #[rstest]
    #[case("1/4", Ok(Shard { index: 0, count: 4 }))]
    #[case("4/4", Ok(Shard { index: 3, count: 4 }))]
    #[case("0/4", Err(ShardError::OutOfRange { index: 0, count: 4 }))]
    #[case("5/4", Err(ShardError::OutOfRange { index: 5, count: 4 }))]
    #[case("1/0", Err(ShardError::ZeroCount))]
    #[case("1", Err(ShardError::Format))]
    #[case("a/b", Err(ShardError::Format))]
    fn parses(#[case] text: &str, #[case] expected: Result<Shard, ShardError>) {
        assert_eq!(text.parse::<Shard>(), expected);
        if let Ok(s) = expected {
            assert_eq!(s.to_string(), text);
        }
    }
}
