//! The plant inside the fence: sites with their grid connection and
//! cooling, ASIC fleets (specs, power-target curves, firmware latencies,
//! device reliability, pay-per-share mining revenue), GPU fleets (specs,
//! server power, inference throughput, the switching state machine, the P1
//! serving model) and the checks that refuse impossible plants.

pub mod asic;
pub mod asic_validation;
mod check;
mod config;
pub mod firmware;
pub mod mining;
pub mod reliability;
mod scale;

pub use asic::{AsicCatalog, AsicSpec, SpecError};
pub use check::{PlantError, catalogs, check};
pub use config::{
    AsicFleetConfig, Cooling, GpuPoolConfig, PlantConfig, RentalConfig, RouterConfig,
    ScoreWeights, SiteConfig,
};
pub use firmware::FirmwareSpec;
pub use mining::{DEFAULT_POOL_FEE, breakeven_usd_per_mwh, mining_revenue_usd};
pub use reliability::ReliabilityParams;
pub use scale::DESIGN_SCALE_NODES;
