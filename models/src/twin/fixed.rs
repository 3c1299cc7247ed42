//! [`FixedPolicy`]: a trivial policy for tests and benchmarks — every GPU
//! pool split by fixed shares, every ASIC on at its current target as far
//! as the site's cap allows. It reads only its [`Observation`].

use crate::contract::{Action, GpuAllocation, Observation, Policy};

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
    set_for: Vec<Option<u32>>,
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
            set_for: Vec::new(),
        }
    }
}

impl Policy for FixedPolicy {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let mut budget_w: Vec<f64> = o.sites.iter().map(|s| s.cap_mw * 1e6 / s.pue).collect();
        for (pool, view) in o.gpu_pools.iter().enumerate() {
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
            budget_w[view.site] -= f64::from(working) * view.max_power_per_gpu_w;
            if self.set_for.len() <= pool {
                self.set_for.resize(pool + 1, None);
            }
            if self.set_for[pool] != Some(working) {
                self.set_for[pool] = Some(working);
                actions.push(Action::Gpu { pool, allocation });
            }
        }
        for view in &o.asic_cohorts {
            budget_w[view.site] -= f64::from(view.installed) * view.standby_w;
        }
        for (cohort, view) in o.asic_cohorts.iter().enumerate() {
            let working = view.installed - view.failed;
            let per_device = (view.power_target_w - view.standby_w).max(1.0);
            let fits = (budget_w[view.site].max(0.0) / per_device).floor() as u32;
            let on = working.min(fits);
            budget_w[view.site] -= f64::from(on) * per_device;
            if on != view.on {
                actions.push(Action::Asic {
                    cohort,
                    on,
                    power_target_w: None,
                });
            }
        }
    }
}
