//! `mpc`: rolling-horizon optimisation over the scenario's forecast.
//!
//! **What it does.** At every market interval it plans the next
//! `horizon_steps` intervals (the current one first, then the
//! forecaster's prices and hashprice) with one small linear program per
//! site (`mpc/lp.rs`), and acts on the plan's first step:
//! - *ASICs.* Per cohort and step, the devices on, each at the power target
//!   that earns most at that step's forecast prices (as `breakeven` picks
//!   it). A device on earns hashprice × (1 − fee) × H(P) ÷ 24 − price × PUE
//!   × (P − standby) per hour.
//! - *Switching.* Turning a device on costs the hash it loses while its
//!   firmware resumes — `fast_resume_s` (fast firmware, the kind that takes
//!   power targets: LuxOS resumes in under 10 s) or `stock_resume_s` (stock
//!   firmware: a full start, about 5 minutes) — plus `wear_usd_per_switch`;
//!   turning it off costs the wear. So it rides out a one-interval spike
//!   that costs less than a switch, and curtails for a sustained one.
//! - *Cap.* Each step's ASIC power fits the site's cap once the GPUs have
//!   their planned power and every ASIC its standby draw.
//! - *GPUs and demand response* as `breakeven`: GPUs by net value per
//!   GPU-hour (the GPU fleet is small beside the caps), fast MW committed to
//!   announced grid events, and fast cohorts held off during the windows
//!   committed to (the LP sees those windows ahead).
//! - Increases are budgeted against the observed headroom, so no action is
//!   clipped for the cap.
//!
//! **Unknown readings.** As `breakeven`: a site whose spot price is
//! unknown, or every site when the hashprice is, keeps its last plan and
//! its devices as they are until the reading is back.
//!
//! **When it wins.** Volatile prices where spikes come in runs the
//! forecaster can see (a day's evening peak): it curtails for the run,
//! ignores blips that cost less than a restart, and does not chase the
//! price across breakeven every interval.
//!
//! **Parameters.** `horizon_steps` (market intervals, default 12),
//! `fine_steps` (intervals planned one by one, default 3), `block_steps`
//! (intervals per later step, default 3), `fast_resume_s` (s, default 10), `stock_resume_s` (s, default 300),
//! `wear_usd_per_switch` (USD per device per switch, default 0.01),
//! `min_change_devices` (devices, default 0: off), `target_candidates`
//! (default 9), `demand_response` (default true).
//!
//! **Example.**
//! ```toml
//! kind = "mpc"
//! horizon_steps = 12
//! fine_steps = 3
//! block_steps = 3
//! fast_resume_s = 10.0
//! stock_resume_s = 300.0
//! wear_usd_per_switch = 0.01
//! min_change_devices = 0
//! target_candidates = 9
//! demand_response = true
//! ```

mod lp;
mod targets;

use hcp_engine::time::SimDuration;
use std::collections::BTreeMap;

use hcp_contract::{Action, AsicCohortView, CohortId, Observation, Policy, Subscriptions};
use serde::{Deserialize, Serialize};

use crate::breakeven::{Breakeven, BreakevenParams};
use crate::power::{
    Headroom, asic_budgets, cap_scale, hold_unknown, push_asic, push_gpu, shrunk_target,
};
use lp::SiteLp;
use targets::TargetGrid;

/// Devices a plan's fraction may fall short of a whole device and still
/// count as it.
const WHOLE: f64 = 1e-6;

/// Parameters of [`Mpc`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MpcParams {
    /// Market intervals planned, the current one included (at least 1).
    pub horizon_steps: u32,
    /// Leading intervals planned one by one (at least 1: the current one).
    pub fine_steps: u32,
    /// Intervals per LP step after the leading ones (1: every interval its
    /// own step).
    pub block_steps: u32,
    /// Seconds a device on fast firmware (one that takes power targets)
    /// hashes nothing after it is turned on, s.
    pub fast_resume_s: f64,
    /// Seconds a device on stock firmware hashes nothing after it is
    /// turned on, s.
    pub stock_resume_s: f64,
    /// Wear and tear of switching one device on or off, USD per switch.
    pub wear_usd_per_switch: f64,
    /// Changes of a cohort's count smaller than this are not acted on,
    /// devices (0: every change is).
    pub min_change_devices: u32,
    /// Power targets tried over the firmware's range (at least 2).
    pub target_candidates: u32,
    /// Whether to commit to announced grid events.
    pub demand_response: bool,
}

impl Default for MpcParams {
    /// One hour of 5-minute intervals (three alone, then three blocks of
    /// three: 6 LP steps), LuxOS and stock resume times, one
    /// cent of wear per switch, no dead band, 9 targets, demand response on.
    fn default() -> Self {
        MpcParams {
            horizon_steps: 12,
            fine_steps: 3,
            block_steps: 3,
            fast_resume_s: 10.0,
            stock_resume_s: 300.0,
            wear_usd_per_switch: 0.01,
            min_change_devices: 0,
            target_candidates: 9,
            demand_response: true,
        }
    }
}

/// The name `mpc` goes by when the sweep shows it the true future (the
/// clairvoyant reference, a diagnostic).
pub const CLAIRVOYANT_NAME: &str = "mpc-clairvoyant";

/// Plans each site over a rolling horizon with an LP and acts on its first
/// step.
#[derive(Debug, Clone)]
pub struct Mpc {
    /// `mpc`, or `mpc-clairvoyant` when the sweep shows it the true future.
    name: &'static str,
    params: MpcParams,
    /// GPU planning and demand response, shared with `breakeven`.
    inner: Breakeven,
    lp: SiteLp,
    /// The last plan's first step per cohort (devices, fractional), kept
    /// by id from one decision to the next.
    last_plan: BTreeMap<CohortId, f64>,
    /// Candidate targets and their hashrates per cohort, kept by id.
    last_grids: BTreeMap<CohortId, TargetGrid>,
    /// This decision's first step per cohort, in the observation's order.
    plan: Vec<f64>,
    /// Power target of each cohort in the plan's first step, W.
    targets: Vec<f64>,
    /// This decision's candidate targets per cohort, in the observation's
    /// order.
    grids: Vec<TargetGrid>,
    /// Cohorts of the site being planned.
    members: Vec<usize>,
    /// The LP's steps: (first interval ahead, intervals).
    blocks: Vec<(usize, u32)>,
    first: Vec<f64>,
}

impl Mpc {
    /// The policy with `params`.
    pub fn new(params: MpcParams) -> Self {
        Mpc::named("mpc", params)
    }

    /// The policy with `params` under the name the clairvoyant reference
    /// goes by (the same decisions; only its forecaster differs).
    pub fn clairvoyant(params: MpcParams) -> Self {
        Mpc::named(CLAIRVOYANT_NAME, params)
    }

    fn named(name: &'static str, params: MpcParams) -> Self {
        Mpc {
            name,
            params,
            inner: Breakeven::new(BreakevenParams {
                demand_response: params.demand_response,
                target_candidates: params.target_candidates,
                ..BreakevenParams::default()
            }),
            lp: SiteLp::default(),
            last_plan: BTreeMap::new(),
            last_grids: BTreeMap::new(),
            plan: Vec::new(),
            targets: Vec::new(),
            grids: Vec::new(),
            members: Vec::new(),
            blocks: Vec::new(),
            first: Vec::new(),
        }
    }

    /// The last decision's plan for the current interval of `cohort`:
    /// devices on (fractional, before rounding down to whole devices).
    pub fn planned_on(&self, cohort: &CohortId) -> Option<f64> {
        self.last_plan.get(cohort).copied()
    }

    /// Splits the horizon into the LP's steps, `(first interval, intervals)`:
    /// `fine_steps` single intervals (at least the current one), then
    /// blocks of `block_steps`.
    fn split_horizon(&mut self) {
        self.blocks.clear();
        let horizon = self.params.horizon_steps.max(1) as usize;
        let fine = (self.params.fine_steps.max(1) as usize).min(horizon);
        self.blocks.extend((0..fine).map(|t| (t, 1)));
        let block = self.params.block_steps.max(1);
        let mut from = fine;
        while from < horizon {
            let len = block.min(u32::try_from(horizon - from).unwrap_or(block));
            self.blocks.push((from, len));
            from += len as usize;
        }
    }

    /// Plans the cohorts of `site` and writes their first step into
    /// `self.plan` and `self.targets`.
    fn plan_site(&mut self, o: &Observation, site: usize, budget_w: f64, during: bool) {
        self.members.clear();
        let id = &o.sites[site].id;
        self.members
            .extend((0..o.asic_cohorts.len()).filter(|&c| &o.asic_cohorts[c].site == id));
        if self.members.is_empty() {
            return;
        }
        self.split_horizon();
        let steps = self.blocks.len();
        let view = &o.sites[site];
        let dt_h = o.interval_s / 3600.0;
        let fee = 1.0 - o.market.pool_fee;
        self.lp.reset(self.members.len(), steps);
        self.lp.budget_w = budget_w;
        for (k, &c) in self.members.iter().enumerate() {
            let cohort = &o.asic_cohorts[c];
            let working = f64::from(cohort.installed.saturating_sub(cohort.failed));
            let resume_s = if cohort.supports_power_target {
                self.params.fast_resume_s
            } else {
                self.params.stock_resume_s
            };
            let grid = &mut self.grids[c];
            let stock = if cohort.supports_power_target {
                grid.update(cohort, self.params.target_candidates);
                None
            } else {
                let w = cohort.power_target_w;
                Some((w, cohort.curve.hashrate_th_at(w)))
            };
            for (h, &(from, len)) in self.blocks.iter().enumerate() {
                let (price, hashprice) = block_prices(o, site, from, len);
                let hash_usd_per_th_h = hashprice * fee / 24.0;
                let (target, hash_th) = stock.unwrap_or_else(|| {
                    grid.best(cohort, price * view.pue / 1e6, hash_usd_per_th_h)
                });
                let revenue_h = hash_usd_per_th_h * hash_th;
                let extra_w = (target - cohort.standby_w).max(1.0);
                let i = k * steps + h;
                self.lp.margin[i] =
                    (revenue_h - price * view.pue * extra_w / 1e6) * dt_h * f64::from(len);
                self.lp.watts[i] = extra_w;
                let held = cohort.supports_power_target
                    && (from..from + len as usize)
                        .any(|t| if t == 0 { during } else { in_event(o, site, t) });
                self.lp.upper[i] = if held { 0.0 } else { working };
                self.lp.up_cost[i] = revenue_h * resume_s.max(0.0) / 3600.0
                    + self.params.wear_usd_per_switch.max(0.0);
                if h == 0 {
                    self.targets[c] = target;
                }
            }
            self.lp.down_cost[k] = self.params.wear_usd_per_switch.max(0.0);
            let on = f64::from(cohort.on);
            let last = self.plan[c];
            self.lp.start[k] = if (last + WHOLE).floor() == on {
                last
            } else {
                on
            };
        }
        self.fit_to_cap(o, site, budget_w, dt_h, fee);
        let mut first = std::mem::take(&mut self.first);
        self.lp.solve(&mut first);
        for (k, &c) in self.members.iter().enumerate() {
            self.plan[c] = first[k];
        }
        self.first = first;
    }

    /// Where the cap binds at a step, lowers the power-target cohorts'
    /// targets so that every device they may run fits the budget (the
    /// rule of `power::fit_targets_to_cap` that `breakeven` uses: spread
    /// power hashes more per MW, since hashrate grows as P^0.63), and
    /// re-prices their columns of the LP.
    fn fit_to_cap(&mut self, o: &Observation, site: usize, budget_w: f64, dt_h: f64, fee: f64) {
        let steps = self.blocks.len();
        let pue = o.sites[site].pue;
        for h in 0..steps {
            let (from, len) = self.blocks[h];
            let (mut fixed, mut flexible) = (0.0, 0.0);
            for (k, &c) in self.members.iter().enumerate() {
                let i = k * steps + h;
                let need = self.lp.upper[i] * self.lp.watts[i];
                if o.asic_cohorts[c].supports_power_target {
                    flexible += need;
                } else {
                    fixed += need;
                }
            }
            let Some(scale) = cap_scale(fixed, flexible, budget_w) else {
                continue;
            };
            let (price, hashprice) = block_prices(o, site, from, len);
            let usd_per_th_h = hashprice * fee / 24.0;
            for (k, &c) in self.members.iter().enumerate() {
                let cohort = &o.asic_cohorts[c];
                let i = k * steps + h;
                if !cohort.supports_power_target || self.lp.upper[i] <= 0.0 {
                    continue;
                }
                let target = shrunk_target(cohort, cohort.standby_w + self.lp.watts[i], scale);
                let extra_w = (target - cohort.standby_w).max(1.0);
                if extra_w >= self.lp.watts[i] {
                    continue;
                }
                let revenue_h = usd_per_th_h * cohort.curve.hashrate_th_at(target);
                self.lp.margin[i] =
                    (revenue_h - price * pue * extra_w / 1e6) * dt_h * f64::from(len);
                self.lp.watts[i] = extra_w;
                self.lp.up_cost[i] = revenue_h * self.params.fast_resume_s.max(0.0) / 3600.0
                    + self.params.wear_usd_per_switch.max(0.0);
                if h == 0 {
                    self.targets[c] = target;
                }
            }
        }
    }

    /// The devices to ask of `cohort`: the plan's whole devices, or the
    /// current count when the change is inside the dead band.
    // Counts are floors of non-negative plans bounded by the cohort's size.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn devices(&self, cohort: &AsicCohortView, planned: f64) -> u32 {
        let working = cohort.working();
        let on = ((planned + WHOLE).floor().max(0.0) as u32).min(working);
        if on.abs_diff(cohort.on) < self.params.min_change_devices {
            cohort.on.min(working)
        } else {
            on
        }
    }
}

/// Price (USD/MWh) and hashprice (USD per TH/s per day) at step `h`: now,
/// then the forecast (its last value repeated if it is short; now's when
/// there is none).
fn step_prices(o: &Observation, site: usize, h: usize) -> (f64, f64) {
    // Only sites with a known price and hashprice are planned.
    let now = (
        o.sites[site].price_usd_per_mwh.unwrap_or(0.0),
        o.market.hashprice_usd_per_th_day.unwrap_or(0.0),
    );
    if h == 0 {
        return now;
    }
    let Some(f) = &o.forecast else {
        return now;
    };
    let pick = |v: &[f64], fallback: f64| v.get(h - 1).or(v.last()).copied().unwrap_or(fallback);
    let price = pick(f.price(&o.sites[site].id), now.0);
    (price, pick(&f.hashprice_usd_per_th_day, now.1))
}

/// Mean price and hashprice over `len` intervals from interval `from`.
fn block_prices(o: &Observation, site: usize, from: usize, len: u32) -> (f64, f64) {
    let mut sum = (0.0, 0.0);
    for t in from..from + len as usize {
        let (p, h) = step_prices(o, site, t);
        sum = (sum.0 + p, sum.1 + h);
    }
    let n = f64::from(len.max(1));
    (sum.0 / n, sum.1 / n)
}

/// Whether step `h` falls in a grid event committed at `site`.
fn in_event(o: &Observation, site: usize, h: usize) -> bool {
    let ahead = o.interval_s * f64::from(u32::try_from(h).unwrap_or(u32::MAX));
    let t = o.time + SimDuration::try_from_secs_f64(ahead).unwrap_or(SimDuration::ZERO);
    o.grid_notices
        .iter()
        .any(|n| n.committed_at(&o.sites[site].id) > 0.0 && n.covers(t))
}

impl Policy for Mpc {
    fn name(&self) -> &'static str {
        self.name
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            forecast_steps: self.params.horizon_steps.saturating_sub(1),
            ..Subscriptions::default()
        }
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let during = self.inner.demand_response(o, actions);
        self.inner.plan_gpus(o);
        let n = o.asic_cohorts.len();
        // State kept by id, laid out in this observation's order.
        self.plan.clear();
        self.plan.extend(
            o.asic_cohorts
                .iter()
                .map(|c| self.last_plan.get(&c.id).copied().unwrap_or(f64::NAN)),
        );
        self.grids.clear();
        for c in &o.asic_cohorts {
            let grid = self.last_grids.remove(&c.id).unwrap_or_default();
            self.grids.push(grid);
        }
        self.targets.resize(n, 0.0);
        let budgets = asic_budgets(o, &self.inner.gpu_plan);
        let hashprice_known = o.market.hashprice_usd_per_th_day.is_some();
        for site in 0..o.sites.len() {
            // A site whose price (or the hashprice) is unknown keeps its
            // last plan; its actions are held below.
            if !hashprice_known || o.sites[site].price_usd_per_mwh.is_none() {
                continue;
            }
            let budget = budgets.get(site).copied().unwrap_or(0.0);
            let event = during.get(site).copied().unwrap_or(false);
            self.plan_site(o, site, budget, event);
        }
        self.last_plan.clear();
        self.last_grids.clear();
        for (c, cohort) in o.asic_cohorts.iter().enumerate() {
            self.last_plan.insert(cohort.id.clone(), self.plan[c]);
            self.last_grids
                .insert(cohort.id.clone(), std::mem::take(&mut self.grids[c]));
        }
        let mut headroom = Headroom::of(o);
        for (pool, &plan) in self.inner.gpu_plan.iter().enumerate() {
            let _ = push_gpu(o, pool, plan, &mut headroom, actions);
        }
        for (c, cohort) in o.asic_cohorts.iter().enumerate() {
            let on = self.devices(cohort, self.plan[c]);
            let _ = push_asic(o, c, on, self.targets[c], &mut headroom, actions);
        }
        hold_unknown(o, true, actions);
    }
}
