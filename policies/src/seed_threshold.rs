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
//! **Unknown readings.** A site whose spot price is unknown (or, with
//! miners, whose hashprice is) keeps its mode, and its devices stay as they
//! are until the reading is back; then the site is planned again.
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

use std::collections::BTreeMap;

use hcp_contract::{
    Action, CohortId, GpuAllocation, GpuPoolView, GpuUse, Observation, PerGpuUse, Policy, PoolId,
    SiteId, SiteView, Subscriptions,
};
use serde::{Deserialize, Serialize};

use crate::ai_first::serve_all;
use crate::power::{Headroom, fill_asics, hold_unknown, p1_shares, push_gpu, stock_w};

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
/// Working devices of every cohort and pool when the plan was last made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Working {
    cohorts: BTreeMap<CohortId, u32>,
    pools: BTreeMap<PoolId, u32>,
}

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
    modes: BTreeMap<SiteId, Mode>,
    /// Working devices (cohorts, then pools) when last planned.
    working: Working,
    settled: bool,
    gpu_plan: Vec<GpuAllocation>,
    targets: Vec<f64>,
}

impl SeedThreshold {
    /// The policy with `params`.
    pub fn new(params: SeedThresholdParams) -> Self {
        SeedThreshold {
            params,
            modes: BTreeMap::new(),
            working: Working::default(),
            settled: false,
            gpu_plan: Vec::new(),
            targets: Vec::new(),
        }
    }
}

/// Energy cost of a MW of IT power at a site, USD per hour.
/// A site's energy price per MW-hour of IT power, USD (`None`: unknown).
fn energy_per_mw_hour(site: &SiteView) -> Option<f64> {
    site.price_usd_per_mwh.map(|price| price * site.pue)
}

/// What a MW hashing earns at `site` net of energy, USD per MW-hour: the
/// best cohort at stock (`None` without working ASICs, or when the price or
/// the hashprice is unknown).
pub(crate) fn mining_value(o: &Observation, site: &SiteView) -> Option<f64> {
    let hashprice = o.market.hashprice_usd_per_th_day? * (1.0 - o.market.pool_fee);
    let energy = energy_per_mw_hour(site)?;
    o.asic_cohorts
        .iter()
        .filter(|c| c.site == site.id && c.working() > 0 && c.curve.stock_power_w > 0.0)
        .map(|c| hashprice * c.curve.stock_hashrate_th / c.curve.stock_power_w * 1e6 / 24.0)
        .max_by(f64::total_cmp)
        .map(|gross| gross - energy)
}

/// What a GPU-hour of `pool` has earned lately in `use_`, USD: the
/// operator's billing, or the rental market's price while rental has
/// earned nothing yet.
pub(crate) fn gpu_hour_value(o: &Observation, pool: &GpuPoolView, use_: GpuUse) -> f64 {
    let earned = o
        .market
        .gpu_usd_per_gpu_hour
        .get(use_)
        .copied()
        .flatten()
        .unwrap_or(0.0);
    if use_ == GpuUse::Rental && earned <= 0.0 {
        return o.market.rental_price(pool).unwrap_or(0.0);
    }
    earned
}

/// What a MW of GPUs earns at `site` net of energy, USD per MW-hour: the
/// best pool's best use (`None` without working GPUs, or when the price is
/// unknown).
pub(crate) fn ai_value(o: &Observation, site: &SiteView) -> Option<f64> {
    let energy = energy_per_mw_hour(site)?;
    o.gpu_pools
        .iter()
        .filter(|p| p.site == site.id && p.working() > 0 && p.max_power_per_gpu_w > 0.0)
        .map(|p| {
            let best = PerGpuUse::<f64>::EARNING
                .into_iter()
                .map(|u| gpu_hour_value(o, p, u))
                .fold(0.0, f64::max);
            best / (p.max_power_per_gpu_w / 1e6)
        })
        .max_by(f64::total_cmp)
        .map(|gross| gross - energy)
}

impl SeedThreshold {
    /// The site's mode after this check: the current one unless the other
    /// use wins by more than the threshold. A site whose price (or, with
    /// miners, the hashprice) is unknown keeps its mode.
    fn next_mode(&self, o: &Observation, site: &SiteView, current: Option<Mode>) -> Option<Mode> {
        let has_miners = o.asic_cohorts.iter().any(|c| c.site == site.id);
        if site.price_usd_per_mwh.is_none()
            || (has_miners && o.market.hashprice_usd_per_th_day.is_none())
        {
            return current;
        }
        let (mining, ai) = match (mining_value(o, site), ai_value(o, site)) {
            (Some(m), Some(a)) => (m, a),
            (None, Some(_)) => return Some(Mode::Ai),
            _ => return Some(Mode::Mining),
        };
        let wins = |challenger: f64, incumbent: f64| {
            challenger - incumbent > self.params.threshold * incumbent.abs()
        };
        Some(match current {
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
        })
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
        self.modes.retain(|site, _| o.site(site).is_some());
        let mut moved = false;
        for site in &o.sites {
            let current = self.modes.get(&site.id).copied();
            let next = self.next_mode(o, site, current);
            moved |= current != next;
            if let Some(mode) = next {
                self.modes.insert(site.id.clone(), mode);
            }
        }
        let working = Working {
            cohorts: o
                .asic_cohorts
                .iter()
                .map(|c| (c.id.clone(), c.working()))
                .collect(),
            pools: o
                .gpu_pools
                .iter()
                .map(|p| (p.id.clone(), p.working()))
                .collect(),
        };
        if !moved && self.settled && working == self.working {
            return;
        }
        self.working = working;
        let mut headroom = Headroom::of(o);
        let p1 = p1_shares(o);
        let mut settled = true;
        self.gpu_plan.clear();
        for (pool, view) in o.gpu_pools.iter().enumerate() {
            let plan = match self.modes.get(&view.site).copied() {
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
        // Devices at a site whose price is unknown stay as they are; the
        // plan is made again once it is known.
        let planned = actions.len();
        hold_unknown(o, true, actions);
        self.settled = settled && actions.len() == planned;
    }
}
