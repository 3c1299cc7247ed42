//! GPU telemetry through NVML (`nvml-wrapper`), read-only by construction:
//! [`NvmlTelemetry`] keeps the library handle to itself, binds each device
//! handle immutably for the length of one read and hands out only
//! [`GpuReading`]s, so no code path can reach a setter; this crate's
//! clippy.toml forbids every setter, reset and clear of nvml-wrapper on top
//! (some, such as `set_mig_mode`, take `&self`).
//!
//! NVML calls block; a read runs on tokio's blocking pool under the call's
//! timeout. A machine without the NVIDIA driver gets [`NvmlUnavailable`]
//! with a plain sentence, never a panic.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nvml_wrapper::Nvml;
use nvml_wrapper::bitmasks::device::ThrottleReasons;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::error::NvmlError;

use super::http::check_reading;
use super::{GpuReading, GpuTelemetry};
use crate::error::{DeviceError, DeviceResult};

/// NVML could not be started.
#[derive(Debug, thiserror::Error)]
pub enum NvmlUnavailable {
    /// No driver library on this machine.
    #[error(
        "no NVIDIA driver on this machine (libnvidia-ml.so could not be loaded): GPU telemetry is unavailable"
    )]
    NoDriver,
    /// The library loaded but NVML did not start.
    #[error("NVML did not start: {0}")]
    Init(String),
}

/// Read-only NVML telemetry of this host's GPUs.
#[derive(Clone)]
pub struct NvmlTelemetry {
    nvml: Arc<Nvml>,
}

impl std::fmt::Debug for NvmlTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NvmlTelemetry")
    }
}

impl NvmlTelemetry {
    /// Starts NVML.
    ///
    /// # Errors
    /// [`NvmlUnavailable::NoDriver`] without a driver; another init failure
    /// with NVML's words.
    pub fn init() -> Result<Self, NvmlUnavailable> {
        match Nvml::init() {
            Ok(nvml) => Ok(NvmlTelemetry {
                nvml: Arc::new(nvml),
            }),
            Err(
                NvmlError::LibloadingError(_)
                | NvmlError::LibraryNotFound
                | NvmlError::DriverNotLoaded,
            ) => Err(NvmlUnavailable::NoDriver),
            Err(e) => Err(NvmlUnavailable::Init(e.to_string())),
        }
    }
}

/// NVML's names of the active throttle reasons, snake_case.
pub fn throttle_reason_names(reasons: ThrottleReasons) -> Vec<String> {
    reasons
        .iter_names()
        .map(|(name, _)| name.to_lowercase())
        .collect()
}

fn nvml_error(what: &str, e: &NvmlError) -> DeviceError {
    match e {
        NvmlError::NotSupported => DeviceError::NotSupported {
            device: "nvml".into(),
            what: what.to_owned(),
            firmware: "this GPU or driver".into(),
        },
        NvmlError::NoPermission => DeviceError::Unauthorised {
            device: "nvml".into(),
            what: what.to_owned(),
        },
        other => DeviceError::protocol("nvml", what, other.to_string()),
    }
}

/// Reads every GPU (blocking).
fn read_blocking(nvml: &Nvml) -> DeviceResult<Vec<GpuReading>> {
    let count = nvml
        .device_count()
        .map_err(|e| nvml_error("device_count", &e))?;
    let mut readings = Vec::with_capacity(count as usize);
    for index in 0..count {
        // Bound immutably: no `&mut Device`, so no setter is reachable.
        let device = nvml
            .device_by_index(index)
            .map_err(|e| nvml_error("device_by_index", &e))?;
        let uuid = device.uuid().map_err(|e| nvml_error("uuid", &e))?;
        let memory = device
            .memory_info()
            .map_err(|e| nvml_error("memory_info", &e))?;
        // Optional on some boards (energy before Volta, throttle reasons in
        // some virtual GPUs): not supported reads as 0 / none.
        let energy_mj = match device.total_energy_consumption() {
            Ok(mj) => mj,
            Err(NvmlError::NotSupported) => 0,
            Err(e) => return Err(nvml_error("total_energy_consumption", &e)),
        };
        let throttle = match device.current_throttle_reasons() {
            Ok(r) => throttle_reason_names(r),
            Err(NvmlError::NotSupported) => Vec::new(),
            Err(e) => return Err(nvml_error("current_throttle_reasons", &e)),
        };
        let reading = GpuReading {
            uuid: uuid.clone(),
            index,
            name: device.name().map_err(|e| nvml_error("name", &e))?,
            power_w: f64::from(
                device
                    .power_usage()
                    .map_err(|e| nvml_error("power_usage", &e))?,
            ) / 1_000.0,
            energy_j: energy_mj as f64 / 1_000.0,
            utilisation_pct: f64::from(
                device
                    .utilization_rates()
                    .map_err(|e| nvml_error("utilization_rates", &e))?
                    .gpu,
            ),
            memory_used_bytes: memory.used,
            memory_total_bytes: memory.total,
            temperature_c: f64::from(
                device
                    .temperature(TemperatureSensor::Gpu)
                    .map_err(|e| nvml_error("temperature", &e))?,
            ),
            throttle_reasons: throttle,
        };
        readings.push(check_reading(&uuid, reading)?);
    }
    Ok(readings)
}

#[async_trait]
impl GpuTelemetry for NvmlTelemetry {
    fn host(&self) -> String {
        "localhost (nvml)".into()
    }

    async fn read_all(&self, timeout: Duration) -> DeviceResult<Vec<GpuReading>> {
        let nvml = Arc::clone(&self.nvml);
        let task = tokio::task::spawn_blocking(move || read_blocking(&nvml));
        match tokio::time::timeout(timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(DeviceError::protocol("nvml", "read", join.to_string())),
            Err(_) => Err(DeviceError::Timeout {
                device: "nvml".into(),
                what: "read".into(),
                after: timeout,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_reasons_are_named() {
        let names =
            throttle_reason_names(ThrottleReasons::SW_POWER_CAP | ThrottleReasons::GPU_IDLE);
        assert_eq!(
            names,
            vec!["gpu_idle".to_owned(), "sw_power_cap".to_owned()]
        );
        assert!(throttle_reason_names(ThrottleReasons::empty()).is_empty());
    }

    #[tokio::test]
    async fn no_driver_is_a_clear_error_not_a_panic() {
        match NvmlTelemetry::init() {
            Err(e) => {
                let text = e.to_string();
                assert!(
                    text.contains("NVIDIA driver") || text.contains("NVML"),
                    "{text}"
                );
            }
            Ok(nvml) => {
                // A machine with a driver: read every GPU, read-only.
                let readings = nvml
                    .read_all(Duration::from_secs(10))
                    .await
                    .expect("NVML reads");
                assert!(!readings.is_empty());
                assert!(
                    readings
                        .iter()
                        .all(|r| r.uuid.starts_with("GPU-") && r.memory_total_bytes > 0)
                );
            }
        }
    }
}
