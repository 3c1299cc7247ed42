//! `seed-threshold`: the original platform's economic optimizer.
//!
//! **What it does.** At every check it values a MW at each site in its two
//! uses, both net of the site's energy (spot price × PUE), USD per MW-hour
//! of IT power:
//! - mining: hashprice × (1 − pool fee) × TH/s per MW at stock (from the
//!   best cohort's spec sheet) ÷ 24;
//! - AI: the best use's recent earnings `market.gpu_usd_per_gpu_hour[use]`
//!   (the rental market price while rental has earned nothing yet) ÷ the MW
//!   a GPU draws at full load (`max_power_per_gpu_w`).
//!
//! Each site runs in one mode. In AI mode every working GPU serves demand
//! as in `ai-first`; in mining mode GPUs serve only P1's share and are
//! otherwise off. ASICs run at stock power on what the cap leaves. The
//! site moves to the other mode only when that use beats the current one by
//! more than `threshold` (relative); in between it leaves devices where
//! they are, except to finish a move the cap deferred or to re-plan after a
//! device failed or came back.
//!
//! **When it wins.** When the two uses' values cross rarely and by wide
//! margins: the threshold keeps it from paying switching and preemption
//! costs for small, fleeting differences.
//!
//! **Parameters.** `threshold` (fraction, default 0.10);
//! `check_interval_minutes` (default 15, rounded to whole market
//! intervals).
//!
//! **Example.**
//! ```toml
//! kind = "seed-threshold"
//! threshold = 0.10
//! check_interval_minutes = 15
//! ```

use hcp_models::contract::{Action, GpuAllocation, Observation, Policy, Subscriptions};
use serde::{Deserialize, Serialize};

use crate::ai_first::serve_all;
use crate::power::{Headroom, fill_asics, p1_shares, push_gpu, stock_w};

/// Parameters of [`SeedThreshold`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SeedThresholdParams {
    /// Relative margin by which the other use must win before capacity
    /// moves (0.10 = 10 %).
    pub threshold: f64,
    /// Minutes between checks (whole market intervals, at least one).
    pub check_interval_minutes: u32,
}

impl Default for SeedThresholdParams {
    /// 10 %, every 15 minutes.
    fn default() -> Self {
        SeedThresholdParams {
            threshold: 0.10,
            check_interval_minutes: 15,
        }
    }
}

/// The use a site's capacity is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Mining,
    Ai,
}

/// Moves a site's capacity between mining and AI when one beats the other
/// by more than a threshold.
#[derive(Debug, Clone)]
pub struct SeedThreshold {
    params: SeedThresholdParams,
    modes: Vec<Option<Mode>>,
    /// Working devices (cohorts, then pools) when last planned.
    working: Vec<u32>,
    settled: bool,
    gpu_plan: Vec<GpuAllocation>,
    targets: Vec<f64>,
}

impl SeedThreshold {
    /// The policy with `params`.
    pub fn new(params: SeedThresholdParams) -> Self {
        SeedThreshold {
            params,
            modes: Vec::new(),
            working: Vec::new(),
            settled: false,
            gpu_plan: Vec::new(),
            targets: Vec::new(),
        }
    }
}

/// Energy cost of a MW of IT power at a site, USD per hour.
fn energy_per_mw_hour(o: &Observation, site: usize) -> f64 {
    o.sites
        .get(site)
        .map_or(0.0, |s| s.price_usd_per_mwh * s.pue)
}

/// Net value of a MW mining at `site` (best cohort at stock), USD per
/// MW-hour; `None` without ASICs there.
pub(crate) fn mining_value(o: &Observation, site: usize) -> Option<f64> {
    let hashprice = o.market.hashprice_usd_per_th_day * (1.0 - o.market.pool_fee);
    o.asic_cohorts
        .iter()
        .filter(|c| c.site == site && c.installed > c.failed && c.spec.power_w > 0.0)
        .map(|c| hashprice * c.spec.hashrate_th / c.spec.power_w * 1e6 / 24.0)
        .max_by(f64::total_cmp)
        .map(|gross| gross - energy_per_mw_hour(o, site))
}

/// What a GPU-hour of pool `pool` earns in `use_index` (P1, P2, P3, P4,
/// rental), USD: the recent earnings, or the rental market's price while
/// rental has earned nothing yet.
pub(crate) fn gpu_hour_value(o: &Observation, pool: usize, use_index: usize) -> f64 {
    let earned = o.market.gpu_usd_per_gpu_hour[use_index];
    if use_index == 4 && earned <= 0.0 {
        let view = &o.gpu_pools[pool];
        return view
            .rental_price
            .and_then(|i| o.market.gpu_rental_usd_per_gpu_hour.get(i))
            .map_or(0.0, |&(_, price)| price);
    }
    earned
}

/// Net value of a MW of GPUs at `site` (best pool, best use), USD per
/// MW-hour; `None` without GPUs there.
pub(crate) fn ai_value(o: &Observation, site: usize) -> Option<f64> {
    o.gpu_pools
        .iter()
        .enumerate()
        .filter(|(_, p)| p.site == site && p.installed > p.failed && p.max_power_per_gpu_w > 0.0)
        .map(|(pool, p)| {
            let best = (0..5)
                .map(|u| gpu_hour_value(o, pool, u))
                .fold(0.0, f64::max);
            best / (p.max_power_per_gpu_w / 1e6)
        })
        .max_by(f64::total_cmp)
        .map(|gross| gross - energy_per_mw_hour(o, site))
}

impl SeedThreshold {
    /// The mode `site` should be in, given the one it is in.
    fn next_mode(&self, o: &Observation, site: usize, current: Option<Mode>) -> Mode {
        let (mining, ai) = match (mining_value(o, site), ai_value(o, site)) {
            (Some(m), Some(a)) => (m, a),
            (None, Some(_)) => return Mode::Ai,
            _ => return Mode::Mining,
        };
        let wins = |challenger: f64, incumbent: f64| {
            challenger - incumbent > self.params.threshold * incumbent.abs()
        };
        match current {
            None => {
                if ai > mining {
                    Mode::Ai
                } else {
                    Mode::Mining
                }
            }
            Some(Mode::Mining) if wins(ai, mining) => Mode::Ai,
            Some(Mode::Ai) if wins(mining, ai) => Mode::Mining,
            Some(mode) => mode,
        }
    }
}

impl Policy for SeedThreshold {
    fn name(&self) -> &'static str {
        "seed-threshold"
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            every_minutes: self.params.check_interval_minutes,
            ..Subscriptions::default()
        }
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        self.modes.resize(o.sites.len(), None);
        let mut moved = false;
        for site in 0..o.sites.len() {
            let next = self.next_mode(o, site, self.modes[site]);
            moved |= self.modes[site] != Some(next);
            self.modes[site] = Some(next);
        }
        let working: Vec<u32> = o
            .asic_cohorts
            .iter()
            .map(|c| c.installed.saturating_sub(c.failed))
            .chain(
                o.gpu_pools
                    .iter()
                    .map(|p| p.installed.saturating_sub(p.failed)),
            )
            .collect();
        if !moved && self.settled && working == self.working {
            return;
        }
        self.working = working;
        let mut headroom = Headroom::of(o);
        let p1 = p1_shares(o);
        let mut settled = true;
        self.gpu_plan.clear();
        for (pool, view) in o.gpu_pools.iter().enumerate() {
            let plan = match self.modes.get(view.site).copied().flatten() {
                Some(Mode::Ai) => serve_all(o, pool, p1[pool]),
                _ => GpuAllocation {
                    p1: p1[pool],
                    ..GpuAllocation::default()
                },
            };
            self.gpu_plan.push(plan);
            settled &= push_gpu(o, pool, plan, &mut headroom, actions);
        }
        self.targets.clear();
        self.targets
            .extend((0..o.asic_cohorts.len()).map(|c| stock_w(o, c)));
        settled &= fill_asics(
            o,
            &self.gpu_plan,
            &self.targets,
            &[],
            &mut headroom,
            actions,
        );
        self.settled = settled;
    }
}
