//! The plant inside the fence: sites with their grid connection and
//! cooling, ASIC fleets (specs, power-target curves, firmware latencies,
//! reliability, pay-per-share mining revenue), GPU fleets (specs, server
//! power, inference throughput, the switching state machine, the P1
//! serving model) and the checks that refuse impossible plants.

mod check;
mod config;
mod scale;

pub use scale::DESIGN_SCALE_NODES;
pub use check::{PlantError, catalogs, check};
pub use config::{
    AsicFleetConfig, Cooling, GpuPoolConfig, PlantConfig, RentalConfig, RouterConfig,
    ScoreWeights, SiteConfig,
};
