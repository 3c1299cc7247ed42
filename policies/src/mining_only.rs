//! `mining-only`: the Bitcoin-only operator.
//!
//! **What it does.** Every ASIC cohort hashes at its stock power target,
//! with as many devices on as the site's cap holds; every GPU pool is
//! powered off (its allocation all zero), so GPUs earn nothing. The plant's
//! P1 resource manager moves GPUs into P1 only from idle, P4 and P3 GPUs,
//! and a mining-only pool has none of those, so P1 requests go unserved and
//! the run books no AI or rental revenue — only the SLA credits P1
//! customers are owed.
//!
//! **Unknown readings.** It reads no price, so an unknown spot price or
//! hashprice changes nothing; devices that did not answer are left out of
//! the plan.
//!
//! **When it wins.** When hashprice is high against power prices and the
//! GPUs have no buyers: the baseline every hybrid policy must beat.
//!
//! **Parameters.** None.
//!
//! **Example.**
//! ```toml
//! kind = "mining-only"
//! ```

use hcp_contract::{Action, GpuAllocation, Observation, Policy};
use serde::{Deserialize, Serialize};

use crate::power::{Headroom, hash_at_stock, push_gpu};

/// Parameters of [`MiningOnly`] (none).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct MiningOnlyParams {}

/// Every ASIC at stock power up to the cap; every GPU off.
#[derive(Debug, Clone, Default)]
pub struct MiningOnly {
    gpu_plan: Vec<GpuAllocation>,
    targets: Vec<f64>,
}

impl MiningOnly {
    /// The policy with `params`.
    pub fn new(params: MiningOnlyParams) -> Self {
        let MiningOnlyParams {} = params;
        MiningOnly::default()
    }
}

impl Policy for MiningOnly {
    fn name(&self) -> &'static str {
        "mining-only"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        // A BTC-only operator takes no batch, training or background work.
        for (class, queue) in o.queues.iter() {
            if queue.admitting {
                actions.push(Action::Admission { class, open: false });
            }
        }
        let mut headroom = Headroom::of(o);
        self.gpu_plan.clear();
        self.gpu_plan
            .resize(o.gpu_pools.len(), GpuAllocation::default());
        for pool in 0..o.gpu_pools.len() {
            let _ = push_gpu(o, pool, GpuAllocation::default(), &mut headroom, actions);
        }
        hash_at_stock(o, &self.gpu_plan, &mut self.targets, &mut headroom, actions);
    }
}
