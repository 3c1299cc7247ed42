//! [`Scenario`]: one scenario file — the world, the plant, the policies to
//! compare and how to sweep them — with the reference scenario as the
//! default of every key.
//!
//! Units are those of the sections it holds: the world's
//! ([`hcp_models::world::WorldConfig`]: days, minutes, USD) and the plant's
//! ([`hcp_models::plant::PlantConfig`]: MW of facility power, W per device,
//! device counts).

use hcp_models::plant::PlantConfig;
use hcp_models::world::WorldConfig;
use hcp_policies::{ForecasterConfig, PolicyConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A scenario: everything a sweep needs besides the master seed's
/// replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Short name, used in output paths and reports.
    pub name: String,
    /// What the scenario tests, one paragraph.
    pub description: String,
    /// The exogenous world: horizon, market, grid, demand, replays.
    pub world: WorldConfig,
    /// The operator's plant: sites, fleets, rental, router.
    pub plant: PlantConfig,
    /// Replications, master seed and outputs of a sweep.
    pub sweep: SweepConfig,
    /// Policies to compare, each a table with its `kind` and parameters
    /// (policies/README.md); default: every policy with its defaults.
    pub policies: Vec<PolicyConfig>,
    /// The forecaster every policy sees the future through.
    pub forecaster: ForecasterConfig,
}

impl Default for Scenario {
    /// The reference scenario: the reference fleet over one year of a
    /// stochastic world, every registered policy, 12 replications.
    fn default() -> Self {
        Scenario {
            name: "reference".into(),
            description: "The reference fleet (three sites, 38,000 ASICs, 1,152 GPUs) over \
                          one year of a generated world."
                .into(),
            world: WorldConfig::default(),
            plant: PlantConfig::default(),
            sweep: SweepConfig::default(),
            policies: PolicyConfig::defaults(),
            forecaster: ForecasterConfig::default(),
        }
    }
}

/// How a sweep repeats the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Replications (independent worlds) per policy.
    pub replications: u32,
    /// Master seed; replication r of every policy reads the same world.
    pub seed: u64,
    /// Whether per-interval records are written (large for big plants).
    pub intervals_output: bool,
    /// Replications (the first ones) whose detail tables — intervals,
    /// switches, clips — are written; every replication writes its runs
    /// row and invoices. A year of one run's intervals is about 24 MB.
    pub detail_replications: u32,
}

impl Default for SweepConfig {
    /// 12 replications, seed 1, detail tables (interval records
    /// included) for the first 2.
    fn default() -> Self {
        SweepConfig {
            replications: 12,
            seed: 1,
            intervals_output: true,
            detail_replications: 2,
        }
    }
}
