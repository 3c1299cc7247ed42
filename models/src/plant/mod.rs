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
pub mod gpu;
pub mod gpu_validation;
pub mod inference;
pub mod mining;
pub mod reliability;
mod scale;
pub mod serving;
pub mod serving_sim;
pub mod switching;

pub use asic::{AsicCatalog, AsicSpec, SpecError};
pub use check::{PlantError, catalogs, check};
pub use config::{
    AsicFleetConfig, Cooling, GpuPoolConfig, PlantConfig, RentalConfig, RouterConfig, ScoreWeights,
    SiteConfig,
};
pub use firmware::FirmwareSpec;
pub use gpu::{GpuCatalog, GpuReliabilityDefaults, GpuSpec, GpuSpecError};
pub use inference::InferenceSpec;
pub use mining::{DEFAULT_POOL_FEE, breakeven_usd_per_mwh, mining_revenue_usd};
pub use reliability::ReliabilityParams;
pub use scale::DESIGN_SCALE_NODES;
pub use serving::{ServingOutcome, ServingPool, TokenMoments, serve};
pub use switching::{SwitchSample, SwitchingParams};
