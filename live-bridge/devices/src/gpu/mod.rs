//! GPUs: telemetry ([`GpuTelemetry`], one reading per GPU with its UUID)
//! and workload switching ([`WorkloadSwitch`]: putting an inference engine
//! to sleep and waking it, the product's pre-warmed switch).
//!
//! Telemetry is read-only by construction: the NVML reader
//! ([`nvml::NvmlTelemetry`]) never holds a mutable device handle, and this
//! crate's clippy.toml forbids every nvml-wrapper setter. The virtual
//! fleet's GPU servers publish the same readings as JSON
//! ([`http::HttpGpuTelemetry`]).

pub mod http;
pub mod nvml;
pub mod vllm;
pub mod workload;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::DeviceResult;

/// One range-checked reading of one GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuReading {
    /// NVML's UUID (`GPU-…`), stable across reboots.
    pub uuid: String,
    /// Index on its host.
    pub index: u32,
    /// Product name.
    pub name: String,
    /// Board power, W.
    pub power_w: f64,
    /// Energy counter since the driver loaded, J.
    pub energy_j: f64,
    /// GPU utilisation over the driver's last sample period, %.
    pub utilisation_pct: f64,
    /// Memory in use, bytes.
    pub memory_used_bytes: u64,
    /// Memory in all, bytes.
    pub memory_total_bytes: u64,
    /// Core temperature, °C.
    pub temperature_c: f64,
    /// Active clock-throttle reasons, by NVML's names (`sw_power_cap`, …).
    pub throttle_reasons: Vec<String>,
}

/// Reads every GPU of one host.
#[async_trait]
pub trait GpuTelemetry: Send + Sync {
    /// The host's name or address.
    fn host(&self) -> String;
    /// One reading per GPU, within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError); an impossible value is
    /// [`Implausible`](crate::DeviceError::Implausible).
    async fn read_all(&self, timeout: Duration) -> DeviceResult<Vec<GpuReading>>;
}

/// How deeply an inference engine sleeps (vLLM's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SleepLevel {
    /// Weights offloaded to host memory, KV cache discarded: a fast wake.
    Offload = 1,
    /// Weights and KV cache discarded: the GPU memory is free, waking
    /// reloads the weights.
    Discard = 2,
}

/// Whether an inference engine is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadState {
    /// Serving.
    Awake,
    /// Asleep.
    Asleep,
}

/// Switches the workload of one inference server.
#[async_trait]
pub trait WorkloadSwitch: Send + Sync {
    /// The server's address.
    fn endpoint(&self) -> String;
    /// Puts the engine to sleep at `level`, acknowledged within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError).
    async fn sleep(&self, level: SleepLevel, timeout: Duration) -> DeviceResult<()>;
    /// Wakes the engine, acknowledged within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError).
    async fn wake(&self, timeout: Duration) -> DeviceResult<()>;
    /// Whether the engine is asleep.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError).
    async fn state(&self, timeout: Duration) -> DeviceResult<WorkloadState>;
}
