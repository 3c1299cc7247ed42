//! [`FixedPolicy`]: a trivial policy for tests and benchmarks — every GPU
//! pool split by fixed shares, every ASIC on at its current target as far
//! as the site's cap allows. It reads only its [`Observation`].

use std::collections::BTreeMap;

use hcp_contract::{Action, GpuAllocation, Observation, Policy, PoolId};

/// Fixed GPU shares; ASICs on up to the cap.
///
/// A pool's shares are set once and again only when its working GPUs
/// change, so GPUs the resource manager moves into P1 stay there.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPolicy {
    /// Shares of each pool's working GPUs for P1, P2, P3, P4 and rental;
    /// the rest idle.
    pub gpu_shares: [f64; 5],
    /// Working GPUs per pool when its shares were last set.
    set_for: BTreeMap<PoolId, u32>,
}

impl Default for FixedPolicy {
    /// 5 % P1, 5 % P2, 60 % P3, 10 % P4, 15 % rental, 5 % idle — roughly
    /// the reference demand's offered load, where training is nearly all
    /// the job work.
    fn default() -> Self {
        FixedPolicy::new([0.05, 0.05, 0.60, 0.10, 0.15])
    }
}

impl FixedPolicy {
    /// A policy with these shares for P1, P2, P3, P4 and rental.
    pub fn new(gpu_shares: [f64; 5]) -> Self {
        FixedPolicy {
            gpu_shares,
            set_for: BTreeMap::new(),
        }
    }
}

impl Policy for FixedPolicy {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let mut budget_w: Vec<f64> = o.sites.iter().map(|s| s.cap_mw * 1e6 / s.pue).collect();
        let mut spend = |site, w: f64| {
            if let Some(b) = o.site_index(site).and_then(|i| budget_w.get_mut(i)) {
                *b -= w;
            }
        };
        for view in &o.gpu_pools {
            let working = view.installed - view.failed;
            let share = |k: usize| (f64::from(working) * self.gpu_shares[k]).floor() as u32;
            let mut allocation = GpuAllocation {
                p1: share(0),
                p2: share(1),
                p3: share(2),
                p4: share(3),
                rental: share(4),
                idle: 0,
            };
            allocation.idle = working - allocation.powered();
            spend(&view.site, f64::from(working) * view.max_power_per_gpu_w);
            if self.set_for.get(&view.id) != Some(&working) {
                self.set_for.insert(view.id.clone(), working);
                actions.push(Action::Gpu {
                    pool: view.id.clone(),
                    allocation,
                });
            }
        }
        for view in &o.asic_cohorts {
            spend(&view.site, f64::from(view.installed) * view.standby_w);
        }
        for view in &o.asic_cohorts {
            let Some(site) = o.site_index(&view.site) else {
                continue;
            };
            let working = view.installed - view.failed;
            let per_device = (view.power_target_w - view.standby_w).max(1.0);
            let fits = (budget_w[site].max(0.0) / per_device).floor() as u32;
            let on = working.min(fits);
            budget_w[site] -= f64::from(on) * per_device;
            if on != view.on {
                actions.push(Action::Asic {
                    cohort: view.id.clone(),
                    on,
                    power_target_w: None,
                });
            }
        }
    }
}
