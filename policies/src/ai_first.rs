//! `ai-first`: GPUs serve every admitted AI request; ASICs take the rest.
//!
//! **What it does.** Each pool gives P1 its share of the fleet's P1 need
//! (`p1[].gpus_needed`, H100-equivalents split across pools in proportion
//! to their working H100-equivalents via `job_speed`). The pool's other
//! working GPUs go to P2, P3 and P4 in proportion to what each class wants
//! there — the GPUs busy with its jobs plus the pool's share of the GPUs its
//! queue requests — and whatever no queue wants is let on the rental
//! market: every working GPU is powered, none idle. ASICs run at stock
//! power on the power left under each site's cap with the GPUs at full
//! load.
//!
//! **Unknown readings.** It reads no price, so an unknown spot price or
//! hashprice changes nothing; devices that did not answer are left out of
//! the plan.
//!
//! **When it wins.** When AI work pays far more per MW than mining — the
//! usual case for GPUs whose customers are waiting — and power is cheap
//! enough that no GPU is worth switching off.
//!
//! **Parameters.** None.
//!
//! **Example.**
//! ```toml
//! kind = "ai-first"
//! ```

use hcp_contract::{Action, GpuAllocation, Observation, Policy, WorkloadClass};
use serde::{Deserialize, Serialize};

use crate::power::{Headroom, hash_at_stock, job_demand, p1_shares, push_gpu, split};

/// Parameters of [`AiFirst`] (none).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct AiFirstParams {}

/// Every working GPU serving AI demand (rental for the rest); ASICs on the
/// power left.
#[derive(Debug, Clone, Default)]
pub struct AiFirst {
    gpu_plan: Vec<GpuAllocation>,
    targets: Vec<f64>,
}

impl AiFirst {
    /// The policy with `params`.
    pub fn new(params: AiFirstParams) -> Self {
        let AiFirstParams {} = params;
        AiFirst::default()
    }
}

/// A pool's allocation when every working GPU serves demand: P1 its share,
/// P2–P4 what they want (in proportion when they want more than is left),
/// rental the rest.
// `wants` are ceilings of non-negative GPU counts no larger than `rest`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn serve_all(o: &Observation, pool: usize, p1: u32) -> GpuAllocation {
    let view = &o.gpu_pools[pool];
    let working = view.working();
    let p1 = p1.min(working);
    let rest = working - p1;
    let wants: Vec<f64> = WorkloadClass::JOBS
        .iter()
        .map(|&class| job_demand(o, pool, class).ceil())
        .collect();
    let total: f64 = wants.iter().sum();
    let jobs = if total > f64::from(rest) {
        split(rest, &wants)
    } else {
        // Fewer GPUs wanted than are left: each class gets what it wants.
        wants.iter().map(|&w| w as u32).collect()
    };
    let given: u32 = jobs.iter().sum();
    GpuAllocation {
        p1,
        p2: jobs[0],
        p3: jobs[1],
        p4: jobs[2],
        rental: rest.saturating_sub(given),
        idle: 0,
    }
}

impl Policy for AiFirst {
    fn name(&self) -> &'static str {
        "ai-first"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let mut headroom = Headroom::of(o);
        let p1 = p1_shares(o);
        self.gpu_plan.clear();
        for (pool, &share) in p1.iter().enumerate() {
            let plan = serve_all(o, pool, share);
            self.gpu_plan.push(plan);
            let _ = push_gpu(o, pool, plan, &mut headroom, actions);
        }
        hash_at_stock(o, &self.gpu_plan, &mut self.targets, &mut headroom, actions);
    }
}
