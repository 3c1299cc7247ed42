//! [`SweepPlan`]: which replications this process runs — all of them, one
//! shard of them (`--shard i/N`), less those already on disk (`--resume`).

use std::fmt;
use std::str::FromStr;

/// One shard of a sweep: replications r with r mod `count` = `index` − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

/// A shard written wrongly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {given}: {problem} (write i/N with 1 ≤ i ≤ N, e.g. 2/4)")]
pub struct ShardError {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let error = |problem: &str| ShardError {
            given: s.to_owned(),
            problem: problem.to_owned(),
        };
        let (i, n) = s.split_once('/').ok_or_else(|| error("no '/'"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| error("i is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| error("N is not a whole number"))?;
        if count == 0 {
            return Err(error("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(error("i must lie between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether replication `r` belongs to this shard.
    pub fn owns(&self, r: u64) -> bool {
        r % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The replications one process runs, in increasing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepPlan {
    /// Master seed.
    pub seed: u64,
    /// Every replication of the sweep: 0..total.
    pub total: u64,
    /// The ones this process runs.
    pub replications: Vec<u64>,
}

impl SweepPlan {
    /// Replications `0..total` of `shard` (all when `None`), skipping those
    /// `done`.
    pub fn new(seed: u64, total: u64, shard: Option<Shard>, done: &[u64]) -> SweepPlan {
        let replications = (0..total)
            .filter(|&r| shard.is_none_or(|s| s.owns(r)))
            .filter(|r| !done.contains(r))
            .collect();
        SweepPlan {
            seed,
            total,
            replications,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_replications() {
        let shards: Vec<SweepPlan> = (1..=3)
            .map(|i| SweepPlan::new(7, 10, Some(Shard { index: i, count: 3 }), &[]))
            .collect();
        let mut all: Vec<u64> = shards.iter().flat_map(|p| p.replications.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(shards[0].replications, vec![0, 3, 6, 9]);
        let resumed = SweepPlan::new(7, 10, None, &[0, 1, 5]);
        assert_eq!(resumed.replications, vec![2, 3, 4, 6, 7, 8, 9]);
    }

    #[test]
    fn bad_shards_say_what_is_wrong() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["3/2", "0/2", "1/0", "a/2", "2"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("i/N"), "{e}");
        }
    }
}
