//! [`SweepPlan`]: which replications this process runs — all of them, one
//! shard of them (`--shard i/N`), less those already on disk (`--resume`).

use super::shard::Shard;

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
        let replications = shard
            .unwrap_or(Shard::WHOLE)
            .replications(total)
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
}
