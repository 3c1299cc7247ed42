//! `breakeven`: what careful miners do.
//!
//! **What it does.**
//! - *Power targets.* Where the firmware takes targets, each cohort runs at
//!   the candidate target (`target_candidates` evenly spaced over the
//!   allowed range) that earns most per hour: hashprice × (1 − fee) × H(P)
//!   ÷ 24 − price × P × PUE, from the spec sheet's curve H(P).
//! - *Curtailment.* A cohort curtails when the site's spot price exceeds its
//!   breakeven at the current hashprice
//!   ([`breakeven_usd_per_mwh`] with the J/TH at that target, the pool fee
//!   and the site's PUE), and resumes when the price falls back below
//!   breakeven × (1 − `hysteresis`); it never switches twice within
//!   `min_dwell_minutes`.
//! - *Demand response.* For each announced grid event at a site that takes
//!   part, it commits the MW its fast (power-target) firmware is hashing,
//!   and curtails those cohorts for the event's window.
//! - *GPUs by value per MW.* P1 gets its share of the fleet's need first;
//!   then P2, P3, P4 (up to what their jobs want) and rental (the rest) in
//!   order of what a GPU-hour earns there net of its energy; GPUs whose
//!   every use earns less than its energy are powered off. A job class
//!   that has earned nothing yet is valued at the rental market price.
//! - ASICs take the power left under each site's cap. Where the cap
//!   binds, the power-target cohorts run every working device at a lower
//!   target rather than fewer devices at the best one: hashrate grows as
//!   P^0.63, so spreading the power hashes more per MW.
//!
//! **Unknown readings.** An unknown price is neither $0 nor a spike: a
//! site whose spot price is unknown keeps its cohorts' curtailment state
//! and every device as it is (no action for its ASICs or GPUs) until the
//! price is back; with the hashprice unknown no cohort switches and no ASIC
//! action is sent. Grid-event commitments stand.
//!
//! **When it wins.** Volatile power prices (ERCOT spikes): it sheds load
//! exactly when mining loses money and is paid for doing so in grid events.
//!
//! **Parameters.** `hysteresis` (fraction, default 0.05),
//! `min_dwell_minutes` (default 30), `target_candidates` (default 9),
//! `demand_response` (default true).
//!
//! **Example.**
//! ```toml
//! kind = "breakeven"
//! hysteresis = 0.05
//! min_dwell_minutes = 30
//! target_candidates = 9
//! demand_response = true
//! ```

use hcp_engine::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

use hcp_contract::{
    Action, CohortId, GpuAllocation, GpuUse, Observation, Policy, WorkloadClass,
    breakeven_usd_per_mwh,
};

use serde::{Deserialize, Serialize};

use crate::power::{
    Headroom, asic_budgets, fill_asics, fit_targets_to_cap, hold_unknown, job_demand, p1_shares,
    push_gpu,
};
use crate::seed_threshold::gpu_hour_value;

/// Parameters of [`Breakeven`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BreakevenParams {
    /// A curtailed cohort resumes below breakeven × (1 − hysteresis).
    pub hysteresis: f64,
    /// Least time between two switches of a cohort, minutes.
    pub min_dwell_minutes: u32,
    /// Power targets tried over the firmware's range (at least 2).
    pub target_candidates: u32,
    /// Whether to commit to announced grid events.
    pub demand_response: bool,
}

impl Default for BreakevenParams {
    /// 5 % hysteresis, 30 minutes' dwell, 9 targets, demand response on.
    fn default() -> Self {
        BreakevenParams {
            hysteresis: 0.05,
            min_dwell_minutes: 30,
            target_candidates: 9,
            demand_response: true,
        }
    }
}

/// One cohort's curtailment state.
#[derive(Debug, Clone, Copy, Default)]
struct CohortState {
    curtailed: bool,
    last_switch: Option<SimTime>,
}

/// Curtails each cohort above its breakeven, tunes power targets, takes
/// part in demand response and ranks GPU uses by value per MW.
#[derive(Debug, Clone)]
pub struct Breakeven {
    params: BreakevenParams,
    /// Curtailment state of every cohort now in the fleet.
    cohorts: BTreeMap<CohortId, CohortState>,
    /// Announced grid events already answered (commitment offered or
    /// declined), forgotten once their notice is gone.
    committed: BTreeSet<u32>,
    targets: Vec<f64>,
    skip: Vec<bool>,
    pub(crate) gpu_plan: Vec<GpuAllocation>,
}

impl Breakeven {
    /// The policy with `params`.
    pub fn new(params: BreakevenParams) -> Self {
        Breakeven {
            params,
            cohorts: BTreeMap::new(),
            committed: BTreeSet::new(),
            targets: Vec::new(),
            skip: Vec::new(),
            gpu_plan: Vec::new(),
        }
    }

    /// Grid events it remembers having answered: only those still
    /// announced, so the state stays bounded however long it runs.
    pub fn events_remembered(&self) -> usize {
        self.committed.len()
    }

    /// The target that earns most per device-hour, W.
    fn best_target(&self, o: &Observation, cohort: usize) -> f64 {
        let view = &o.asic_cohorts[cohort];
        let site = o.site(&view.site);
        let (Some(site), Some(hashprice), true) = (
            site,
            o.market.hashprice_usd_per_th_day,
            view.supports_power_target,
        ) else {
            return view.power_target_w;
        };
        let Some(price) = site.price_usd_per_mwh else {
            return view.power_target_w;
        };
        let hashprice = hashprice * (1.0 - o.market.pool_fee) / 24.0;
        let energy = price * site.pue / 1e6;
        let (low, high) = view.power_range_w;
        let n = self.params.target_candidates.max(2);
        let margin = |w: f64| hashprice * view.curve.hashrate_th_at(w) - energy * w;
        (0..n)
            .map(|k| low + (high - low) * f64::from(k) / f64::from(n - 1))
            .fold((high, f64::NEG_INFINITY), |best, w| {
                let m = margin(w);
                if m > best.1 { (w, m) } else { best }
            })
            .0
    }

    /// Whether a cohort may switch now.
    fn dwell_over(&self, state: CohortState, now: SimTime) -> bool {
        let dwell = SimDuration::from_minutes(u64::from(self.params.min_dwell_minutes));
        state
            .last_switch
            .is_none_or(|t| now.saturating_since(t) >= dwell)
    }

    /// Commits to new grid events; returns, per site, whether an event it
    /// committed to is under way.
    pub(crate) fn demand_response(
        &mut self,
        o: &Observation,
        actions: &mut Vec<Action>,
    ) -> Vec<bool> {
        let mut during = vec![false; o.sites.len()];
        if !self.params.demand_response {
            return during;
        }
        // Notices that are over never come back: their ids are forgotten,
        // so the state stays as small as the events now announced.
        self.committed
            .retain(|id| o.grid_notices.iter().any(|n| n.id == *id));
        for notice in &o.grid_notices {
            for (site, view) in o.sites.iter().enumerate() {
                if !view.grid_events {
                    continue;
                }
                let fast_mw: f64 = o
                    .asic_cohorts
                    .iter()
                    .filter(|c| c.site == view.id && c.supports_power_target)
                    .map(|c| f64::from(c.on) * c.power_target_w * view.pue / 1e6)
                    .sum();
                let mine = notice.committed_at(&view.id) > 0.0;
                if !mine && !self.committed.contains(&notice.id) {
                    let mw = fast_mw.min(view.last_power_mw).max(0.0);
                    if mw > 0.0 {
                        actions.push(Action::DemandResponse {
                            event: notice.id,
                            site: view.id.clone(),
                            mw,
                        });
                    }
                }
                if (mine || self.committed.contains(&notice.id)) && notice.covers(o.time) {
                    during[site] = true;
                }
            }
            self.committed.insert(notice.id);
        }
        during
    }

    /// Each pool's GPUs by net value per GPU-hour: P1's share first, then
    /// the uses that earn more than their energy, best first.
    pub(crate) fn plan_gpus(&mut self, o: &Observation) {
        let p1 = p1_shares(o);
        self.gpu_plan.clear();
        for (pool, view) in o.gpu_pools.iter().enumerate() {
            let working = view.working();
            // A pool at a site whose price is unknown is held (its action
            // is dropped); its plan prices energy at 0 only to be complete.
            let (price, pue) = o
                .site(&view.site)
                .map_or((0.0, 1.0), |s| (s.price_usd_per_mwh.unwrap_or(0.0), s.pue));
            let energy = price * pue * view.max_power_per_gpu_w / 1e6;
            let rental_price = gpu_hour_value(o, view, GpuUse::Rental);
            let mut uses: Vec<(GpuUse, f64)> = [GpuUse::P2, GpuUse::P3, GpuUse::P4, GpuUse::Rental]
                .iter()
                .map(|&u| {
                    let earned = gpu_hour_value(o, view, u);
                    let value = if earned > 0.0 { earned } else { rental_price };
                    (u, value - energy)
                })
                .filter(|&(_, net)| net > 0.0)
                .collect();
            uses.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut plan = GpuAllocation {
                p1: p1[pool].min(working),
                ..GpuAllocation::default()
            };
            let mut left = working - plan.p1;
            for (use_, _) in uses {
                let want = match use_ {
                    GpuUse::P2 => job_demand(o, pool, WorkloadClass::P2),
                    GpuUse::P3 => job_demand(o, pool, WorkloadClass::P3),
                    GpuUse::P4 => job_demand(o, pool, WorkloadClass::P4),
                    _ => f64::from(left),
                };
                let give = want_gpus(want).min(left);
                plan.set(use_, give);
                left -= give;
            }
            self.gpu_plan.push(plan);
        }
    }
}

/// GPUs covering a fractional demand (rounded up, clamped to u32).
// A clamped, non-negative ceiling.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn want_gpus(want: f64) -> u32 {
    want.max(0.0).ceil().min(f64::from(u32::MAX)) as u32
}

impl Policy for Breakeven {
    fn name(&self) -> &'static str {
        "breakeven"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let during = self.demand_response(o, actions);
        self.cohorts.retain(|id, _| o.cohort(id).is_some());
        self.targets.clear();
        self.skip.clear();
        for (cohort, view) in o.asic_cohorts.iter().enumerate() {
            let target = self.best_target(o, cohort);
            let site = o.site_index(&view.site);
            let state = self.cohorts.get(&view.id).copied().unwrap_or_default();
            let flip = match (
                site.and_then(|s| o.sites[s].price_usd_per_mwh),
                o.market.hashprice_usd_per_th_day,
            ) {
                (Some(price), Some(hashprice)) => {
                    let efficiency = target / view.curve.hashrate_th_at(target).max(1e-9);
                    let pue = site.map_or(1.0, |s| o.sites[s].pue);
                    let breakeven =
                        breakeven_usd_per_mwh(efficiency, hashprice, o.market.pool_fee, pue);
                    if state.curtailed {
                        price < breakeven * (1.0 - self.params.hysteresis)
                    } else {
                        price > breakeven
                    }
                }
                // An unknown price or hashprice: no reason to switch.
                _ => false,
            };
            let state = if flip && self.dwell_over(state, o.time) {
                CohortState {
                    curtailed: !state.curtailed,
                    last_switch: Some(o.time),
                }
            } else {
                state
            };
            self.cohorts.insert(view.id.clone(), state);
            let event = site.is_some_and(|s| during[s]) && view.supports_power_target;
            self.targets.push(target);
            self.skip.push(state.curtailed || event);
        }
        self.plan_gpus(o);
        let budgets = asic_budgets(o, &self.gpu_plan);
        fit_targets_to_cap(o, &mut self.targets, &self.skip, &budgets);
        let mut headroom = Headroom::of(o);
        for (pool, &plan) in self.gpu_plan.iter().enumerate() {
            let _ = push_gpu(o, pool, plan, &mut headroom, actions);
        }
        let _ = fill_asics(
            o,
            &self.gpu_plan,
            &self.targets,
            &self.skip,
            &mut headroom,
            actions,
        );
        hold_unknown(o, true, actions);
    }
}
