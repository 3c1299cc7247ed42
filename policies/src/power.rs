//! Power arithmetic every policy shares: the plan (how many devices a
//! site's cap holds once the GPUs have what they are given) and the
//! headroom check that turns a plan into actions the plant never clips for
//! the cap.
//!
//! The plant keeps the cap on *committed* facility power: every powered GPU
//! at full load, every ASIC on or still winding down at its target, the rest
//! at standby, all times the site's PUE. Reductions free committed power
//! when the device stops drawing, so ASICs curtailed now still count until
//! their firmware has wound them down; increases must fit the headroom left.
//! [`Headroom`] therefore budgets every increase of a decision against the
//! observed headroom only, and counts nothing a reduction frees in the same
//! decision: power moved from one use to another arrives one decision
//! later, and no action is ever clipped for the cap.
//!
//! Units: facility W in [`Headroom`], IT W per device in the plans.

// Device counts are floors of non-negative, finite power ratios clamped to
// the fleet's size (far below 2^32).
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use hcp_contract::{
    Action, AsicCohortView, GpuAllocation, GpuPoolView, GpuUse, Observation, SiteId, WorkloadClass,
};

/// Facility W left unbudgeted at each site, against rounding in the plant's
/// sum of committed power.
const MARGIN_W: f64 = 10.0;

/// Facility power each site may still add in this decision, W.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Headroom {
    left_w: Vec<f64>,
}

impl Headroom {
    /// The observed headroom of every site, less a small margin (in the
    /// observation's site order).
    pub(crate) fn of(o: &Observation) -> Self {
        Headroom {
            left_w: o
                .sites
                .iter()
                .map(|s| (s.headroom_mw * 1e6 - MARGIN_W).max(0.0))
                .collect(),
        }
    }

    /// How many of `wanted` devices costing `each_w` facility W fit at
    /// `site`; takes their power.
    fn take_devices(&mut self, site: usize, each_w: f64, wanted: u32) -> u32 {
        let Some(left) = self.left_w.get_mut(site) else {
            return 0;
        };
        let fits = if each_w > 0.0 {
            ((*left / each_w).floor().min(f64::from(wanted))) as u32
        } else {
            wanted
        };
        *left -= f64::from(fits) * each_w.max(0.0);
        fits
    }
}

/// Site budgets for a plan, IT W: the cap over the PUE, less every GPU at
/// full load in its planned use and every ASIC at standby.
pub(crate) fn asic_budgets(o: &Observation, gpu_plan: &[GpuAllocation]) -> Vec<f64> {
    let mut budget: Vec<f64> = o.sites.iter().map(|s| s.cap_mw * 1e6 / s.pue).collect();
    for (view, plan) in o.gpu_pools.iter().zip(gpu_plan) {
        if let Some(b) = o.site_index(&view.site).and_then(|i| budget.get_mut(i)) {
            *b -= f64::from(plan.powered()) * view.max_power_per_gpu_w;
        }
    }
    for view in &o.asic_cohorts {
        if let Some(b) = o.site_index(&view.site).and_then(|i| budget.get_mut(i)) {
            *b -= f64::from(view.installed) * view.standby_w;
        }
    }
    budget
}

/// Whether a site's spot price is known.
pub(crate) fn priced(o: &Observation, site: &SiteId) -> bool {
    o.site(site).is_some_and(|s| s.price_usd_per_mwh.is_some())
}

/// Holds what a policy cannot judge: drops every ASIC and GPU action at a
/// site whose spot price is unknown, and every ASIC action when the
/// hashprice is unknown and the policy weighs it (`needs_hashprice`).
/// Those devices keep their current settings — neither switched on at a
/// price that may be dear nor off at one that may pay — until the reading
/// comes back. Commitments to grid events stand.
pub(crate) fn hold_unknown(o: &Observation, needs_hashprice: bool, actions: &mut Vec<Action>) {
    let hashprice_unknown = needs_hashprice && o.market.hashprice_usd_per_th_day.is_none();
    actions.retain(|action| match action {
        Action::Asic { cohort, .. } => {
            !hashprice_unknown && o.cohort(cohort).is_some_and(|c| priced(o, &c.site))
        }
        Action::Gpu { pool, .. } => o.pool(pool).is_some_and(|p| priced(o, &p.site)),
        _ => true,
    });
}

/// Lowers the targets of each site's power-target cohorts so that every
/// working device fits the site's budget (`budgets`, IT W, as
/// [`asic_budgets`] gives it) when the cap binds. Hashrate grows as P^k
/// with k < 1, so under a binding cap more devices at a lower target hash
/// more than fewer devices at a higher one. Targets only go down, never
/// below the firmware's minimum (the fill then switches the rest off);
/// cohorts that `skip` marks or whose firmware takes no targets keep
/// theirs and take their share of the budget first.
pub(crate) fn fit_targets_to_cap(
    o: &Observation,
    targets: &mut [f64],
    skip: &[bool],
    budgets: &[f64],
) {
    for (site, &budget) in o.sites.iter().zip(budgets) {
        let site = &site.id;
        let (mut fixed, mut flexible) = (0.0, 0.0);
        for (cohort, view) in o.asic_cohorts.iter().enumerate() {
            if &view.site != site || skip.get(cohort).copied().unwrap_or(false) {
                continue;
            }
            let Some(&target) = targets.get(cohort) else {
                continue;
            };
            let working = f64::from(view.working());
            let need = working * (target - view.standby_w).max(0.0);
            if view.supports_power_target {
                flexible += need;
            } else {
                fixed += need;
            }
        }
        let Some(scale) = cap_scale(fixed, flexible, budget) else {
            continue;
        };
        for (cohort, view) in o.asic_cohorts.iter().enumerate() {
            if &view.site != site
                || !view.supports_power_target
                || skip.get(cohort).copied().unwrap_or(false)
            {
                continue;
            }
            if let Some(target) = targets.get_mut(cohort) {
                *target = shrunk_target(view, *target, scale);
            }
        }
    }
}

/// The factor by which a site's power-target cohorts must shrink their
/// power above standby (`flexible_w`) so that it and the other cohorts'
/// (`fixed_w`) fit `budget_w`; `None` when everything fits or no room is
/// left for them.
pub(crate) fn cap_scale(fixed_w: f64, flexible_w: f64, budget_w: f64) -> Option<f64> {
    let room = budget_w - fixed_w;
    (flexible_w > room && room > 0.0).then(|| room / flexible_w)
}

/// A power-target cohort's target with its power above standby scaled by
/// `scale`, never below the firmware's minimum nor above `target_w`.
pub(crate) fn shrunk_target(view: &AsicCohortView, target_w: f64, scale: f64) -> f64 {
    let fitted = view.standby_w + (target_w - view.standby_w) * scale;
    fitted.max(view.power_range_w.0).min(target_w)
}

/// Devices of one cohort that `budget_w` (IT W) holds at `target_w` each,
/// at most its working devices; takes their power from the budget.
pub(crate) fn asics_in_budget(
    o: &Observation,
    cohort: usize,
    target_w: f64,
    budget_w: &mut [f64],
) -> u32 {
    let view = &o.asic_cohorts[cohort];
    let working = view.working();
    let Some(budget) = o.site_index(&view.site).and_then(|i| budget_w.get_mut(i)) else {
        return 0;
    };
    let per_device = (target_w - view.standby_w).max(1.0);
    let fits = (budget.max(0.0) / per_device)
        .floor()
        .min(f64::from(working)) as u32;
    *budget -= f64::from(fits) * per_device;
    fits
}

/// Pushes the action that moves a cohort towards `on` devices at
/// `target_w`, with every increase cut to the headroom; nothing when the
/// cohort is there already. Returns whether the action reaches the plan.
pub(crate) fn push_asic(
    o: &Observation,
    cohort: usize,
    on: u32,
    target_w: f64,
    headroom: &mut Headroom,
    actions: &mut Vec<Action>,
) -> bool {
    let view = &o.asic_cohorts[cohort];
    let site = o.site_index(&view.site);
    let pue = site.map_or(1.0, |s| o.sites[s].pue);
    let (low, high) = view.power_range_w;
    let mut target = if view.supports_power_target {
        target_w.clamp(low, high)
    } else {
        view.power_target_w
    };
    if target > view.power_target_w {
        let devices = f64::from(view.on + view.curtailing);
        let cost = (target - view.power_target_w) * devices * pue;
        if let Some(left) = site.and_then(|s| headroom.left_w.get_mut(s)) {
            if cost > *left {
                target = view.power_target_w + *left / (devices * pue);
            }
            *left -= (target - view.power_target_w) * devices * pue;
        }
    }
    let complete_target = !view.supports_power_target || target >= target_w.clamp(low, high);
    let standby = view.working().saturating_sub(view.on + view.curtailing);
    let planned = on.min(view.working());
    let mut on = planned;
    if on > view.on {
        let each = (target - view.standby_w).max(0.0) * pue;
        let fits = site.map_or(0, |s| {
            headroom.take_devices(s, each, (on - view.on).min(standby))
        });
        on = view.on + fits;
    }
    let retarget = view.supports_power_target && (target - view.power_target_w).abs() > 0.5;
    if on != view.on || retarget {
        actions.push(Action::Asic {
            cohort: view.id.clone(),
            on,
            power_target_w: retarget.then_some(target),
        });
    }
    complete_target && on == planned
}

/// Pushes the action that moves a pool to `plan`, cut to its working GPUs
/// and its growth cut to the headroom; nothing when the pool is there.
/// Returns whether the action reaches the plan.
pub(crate) fn push_gpu(
    o: &Observation,
    pool: usize,
    plan: GpuAllocation,
    headroom: &mut Headroom,
    actions: &mut Vec<Action>,
) -> bool {
    let view = &o.gpu_pools[pool];
    let site = o.site_index(&view.site);
    let pue = site.map_or(1.0, |s| o.sites[s].pue);
    let working = view.working();
    let current = view.allocation;
    let mut plan = plan;
    let over = plan.powered().saturating_sub(working);
    plan.cut(over);
    let growth = plan.powered().saturating_sub(current.powered());
    let mut complete = true;
    if growth > 0 {
        let fits = site.map_or(0, |s| {
            headroom.take_devices(s, view.max_power_per_gpu_w * pue, growth)
        });
        if fits < growth {
            complete = false;
            let mut grow = GpuAllocation::default();
            let mut kept = GpuAllocation::default();
            for use_ in GpuUse::ALL {
                grow.set(use_, plan.get(use_).saturating_sub(current.get(use_)));
                kept.set(use_, plan.get(use_).min(current.get(use_)));
            }
            let excess = plan.powered() - (current.powered() + fits);
            grow.cut(excess);
            for use_ in GpuUse::ALL {
                plan.set(use_, kept.get(use_) + grow.get(use_));
            }
        }
    }
    if worth_switching(&current, &plan, working) {
        actions.push(Action::Gpu {
            pool: view.id.clone(),
            allocation: plan,
        });
    }
    complete
}

/// Whether moving a pool from `current` to `plan` is worth the switches:
/// always when P1 grows (its SLA is at stake), otherwise only when some use
/// changes by at least 2 % of the pool (and 2 GPUs). Every switch costs
/// the GPUs half a second or more of lost work and P3 jobs their progress
/// since the last checkpoint, so chasing one-GPU changes of demand every
/// interval loses more than it gains.
fn worth_switching(current: &GpuAllocation, plan: &GpuAllocation, working: u32) -> bool {
    if plan == current {
        return false;
    }
    if plan.p1 > current.p1 {
        return true;
    }
    let band = (working / 50).max(2);
    GpuUse::ALL
        .iter()
        .filter(|&&u| u != GpuUse::Off)
        .any(|&u| plan.get(u).abs_diff(current.get(u)) >= band)
        || plan.powered().abs_diff(current.powered()) >= band
}

/// Each pool's share of the P1 need, GPUs: the fleet's H100-equivalent need
/// split across pools in proportion to their working H100-equivalents,
/// rounded up, at most the pool's working GPUs.
pub(crate) fn p1_shares(o: &Observation) -> Vec<u32> {
    let need: f64 = o.p1.iter().map(|m| m.gpus_needed.max(0.0)).sum();
    let capacity: f64 = o
        .gpu_pools
        .iter()
        .map(|p| f64::from(p.working()) * p.job_speed)
        .sum();
    o.gpu_pools
        .iter()
        .map(|p| {
            let working = p.working();
            if capacity <= 0.0 || need <= 0.0 {
                return 0;
            }
            let share = need * f64::from(working) / capacity;
            (share.ceil().min(f64::from(working))) as u32
        })
        .collect()
}

/// GPUs a pool's jobs of `class` (P2, P3 or P4) want: the GPUs busy with
/// them plus the pool's share of the queue's requested GPUs (in proportion
/// to its working GPUs among all pools').
pub(crate) fn job_demand(o: &Observation, pool: usize, class: WorkloadClass) -> f64 {
    let total: u32 = o.gpu_pools.iter().map(GpuPoolView::working).sum();
    let view = &o.gpu_pools[pool];
    let working = view.working();
    let queued = o.queues.get(class).map_or(0.0, |q| q.gpus.max(0.0));
    let share = if total > 0 {
        f64::from(working) / f64::from(total)
    } else {
        0.0
    };
    view.busy.get(class).map_or(0.0, |b| b.max(0.0)) + queued * share
}

/// Splits `gpus` in proportion to `weights` (largest remainders, so the
/// parts sum to exactly `gpus` when any weight is positive).
pub(crate) fn split(gpus: u32, weights: &[f64]) -> Vec<u32> {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if total <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| f64::from(gpus) * w.max(0.0) / total)
        .collect();
    let mut parts: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut left = gpus.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        if weights[i] > 0.0 {
            parts[i] += 1;
            left -= 1;
        }
    }
    parts
}

/// The stock target of a cohort, W (its spec's stock power).
pub(crate) fn stock_w(o: &Observation, cohort: usize) -> f64 {
    o.asic_cohorts[cohort].curve.stock_power_w
}

/// Every ASIC cohort at its stock power, as many devices on as the site's
/// headroom left by `gpu_plan` holds (`targets` is a reused buffer).
pub(crate) fn hash_at_stock(
    o: &Observation,
    gpu_plan: &[GpuAllocation],
    targets: &mut Vec<f64>,
    headroom: &mut Headroom,
    actions: &mut Vec<Action>,
) {
    targets.clear();
    targets.extend((0..o.asic_cohorts.len()).map(|c| stock_w(o, c)));
    let _ = fill_asics(o, gpu_plan, targets, &[], headroom, actions);
}

/// Fills every cohort with as many devices as the plan's budgets hold at
/// `targets` (cohort order; none where `skip` says so), cut to the
/// headroom, and pushes the actions. Returns whether every cohort reaches
/// its plan.
pub(crate) fn fill_asics(
    o: &Observation,
    gpu_plan: &[GpuAllocation],
    targets: &[f64],
    skip: &[bool],
    headroom: &mut Headroom,
    actions: &mut Vec<Action>,
) -> bool {
    let mut budget = asic_budgets(o, gpu_plan);
    let mut complete = true;
    for (cohort, &target) in targets.iter().enumerate().take(o.asic_cohorts.len()) {
        let on = if skip.get(cohort).copied().unwrap_or(false) {
            0
        } else {
            asics_in_budget(o, cohort, target, &mut budget)
        };
        complete &= push_asic(o, cohort, on, target, headroom, actions);
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sums_exactly_and_follows_weights() {
        assert_eq!(split(10, &[1.0, 1.0, 2.0]), vec![3, 2, 5]);
        assert_eq!(split(7, &[0.0, 3.0]), vec![0, 7]);
        assert_eq!(split(5, &[0.0, 0.0]), vec![0, 0]);
        assert_eq!(split(100, &[1.0, 1.0, 1.0]).iter().sum::<u32>(), 100);
    }

    #[test]
    fn cut_takes_idle_first_and_p1_last() {
        let mut a = GpuAllocation {
            p1: 4,
            p2: 0,
            p3: 3,
            p4: 0,
            rental: 2,
            idle: 1,
        };
        a.cut(5);
        assert_eq!((a.p1, a.p3, a.rental, a.idle), (4, 1, 0, 0));
    }
}
