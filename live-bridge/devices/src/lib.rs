//! HCP Twin's device layer: the drivers the live bridge reads and commands
//! a real fleet with.
//!
//! - [`miner`]: ASIC miners on their firmware's own wire protocol — stock
//!   Antminer, LuxOS, Braiins OS and Whatsminer on the cgminer-family API
//!   (TCP 4028), with `asic-rs` for the commands that live elsewhere.
//! - [`gpu`]: NVML telemetry, read-only by construction, and workload
//!   switching through an inference server's sleep API (vLLM).
//! - [`fanout`] and [`retry`]: fleet-wide calls with bounded concurrency
//!   and bounded, backed-off retries; [`health`]: fresh, stale or unknown.
//! - [`error`] and [`limits`]: every failure typed, every reading
//!   range-checked; [`credentials`]: logins that never print.
//!
//! The crate depends on the contract and on the field's driver crates,
//! never on the twin or the virtual fleet (`tests/boundary.rs`).

pub mod credentials;
pub mod error;
pub mod fanout;
pub mod gpu;
pub mod health;
pub mod limits;
pub mod miner;
pub mod retry;

pub use error::{DeviceError, DeviceResult, FailureKind};
