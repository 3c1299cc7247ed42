//! [`Placement`]: the placement score's inputs for every pool, kept as flat
//! arrays so that placing a job scans a few cache lines instead of every
//! pool's state — at the designed scale jobs arrive every second and there
//! are dozens of pools.
//!
//! The cache holds, per job class, each pool's free and ready milli-GPUs,
//! and per pool the part of the score that changes only between intervals
//! (pre-warmed bonus, site headroom and price). Job starts and finishes
//! update it in O(1); any other change of a pool (an allocation, a switch
//! finishing, a failure) marks it stale, and it is rebuilt before the next
//! placement.

use super::gpu_pool::GpuPool;
use super::jobs::SiteSignal;
use crate::plant::ScoreWeights;

/// Flat copies of what the placement score reads.
#[derive(Debug, Default)]
pub(crate) struct Placement {
    /// Free milli-GPUs per class (P2, P3, P4) per pool.
    pub(crate) free: [Vec<u64>; 3],
    /// 1 ÷ ready milli-GPUs per class per pool (0 when none are ready).
    inv_ready: [Vec<f64>; 3],
    /// The score's slowly changing part per pool.
    base: Vec<f64>,
    /// Whether each pool is H100.
    h100: Vec<bool>,
    /// Whether the copies must be rebuilt before use.
    pub(crate) stale: bool,
}

impl Placement {
    /// An empty cache, to be built before first use.
    pub(crate) fn stale() -> Placement {
        Placement {
            stale: true,
            ..Placement::default()
        }
    }

    /// Rebuilds every copy from the pools and the sites' signals.
    pub(crate) fn sync(&mut self, pools: &[GpuPool], sites: &[SiteSignal], w: &ScoreWeights) {
        for slot in 0..3 {
            self.free[slot].clear();
            self.free[slot].extend(pools.iter().map(|p| p.free_milli(slot)));
            self.inv_ready[slot].clear();
            self.inv_ready[slot].extend(pools.iter().map(|p| {
                let ready = f64::from(p.ready[slot + 1]) * 1000.0;
                if ready > 0.0 { 1.0 / ready } else { 0.0 }
            }));
        }
        self.base.clear();
        self.base.extend(pools.iter().map(|p| {
            let site = sites[p.site];
            (if p.prewarmed { w.prewarmed } else { 0.0 }) + w.headroom * site.headroom_share
                - w.price * site.price_usd_per_mwh / 100.0
        }));
        self.h100.clear();
        self.h100.extend(pools.iter().map(|p| p.is_h100));
        self.stale = false;
    }

    /// The most free milli-GPUs of a class in any pool, and in any H100 pool.
    pub(crate) fn most_free(&self, slot: usize) -> (u64, u64) {
        self.free[slot]
            .iter()
            .zip(&self.h100)
            .fold((0, 0), |(any, h100), (&free, &is_h100)| {
                (any.max(free), if is_h100 { h100.max(free) } else { h100 })
            })
    }

    /// The pool with the highest score among those with `need` free
    /// milli-GPUs of the class (H100 pools only if asked); ties go to the
    /// lower index.
    pub(crate) fn best(
        &self,
        slot: usize,
        need: u64,
        h100_only: bool,
        w_free: f64,
    ) -> Option<usize> {
        let mut best = f64::NEG_INFINITY;
        let mut at = None;
        let pools = self.free[slot]
            .iter()
            .zip(&self.inv_ready[slot])
            .zip(self.base.iter().zip(&self.h100));
        for (p, ((&free, &inv_ready), (&base, &h100))) in pools.enumerate() {
            if free < need || (h100_only && !h100) {
                continue;
            }
            let score = base + w_free * free as f64 * inv_ready;
            if score > best {
                best = score;
                at = Some(p);
            }
        }
        at
    }
}
