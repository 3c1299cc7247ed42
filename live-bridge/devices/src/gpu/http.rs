//! GPU telemetry published as JSON at `GET {base}/nvml` — one
//! [`GpuReading`] per GPU, the shape the virtual fleet's GPU servers serve
//! — and the range check every GPU reading passes, whatever its source.

use std::time::Duration;

use async_trait::async_trait;

use super::{GpuReading, GpuTelemetry};
use crate::error::{DeviceError, DeviceResult};
use crate::limits::{GPU_MAX_W, TEMP_RANGE_C, check};

/// `reading` from `device` if every value is possible.
///
/// # Errors
/// [`DeviceError::Implausible`] for the first impossible value.
pub fn check_reading(device: &str, reading: GpuReading) -> DeviceResult<GpuReading> {
    check(device, "power_w", reading.power_w, 0.0, GPU_MAX_W)?;
    check(device, "energy_j", reading.energy_j, 0.0, f64::MAX)?;
    check(
        device,
        "utilisation_pct",
        reading.utilisation_pct,
        0.0,
        100.0,
    )?;
    check(
        device,
        "temperature_c",
        reading.temperature_c,
        TEMP_RANGE_C.0,
        TEMP_RANGE_C.1,
    )?;
    if reading.memory_used_bytes > reading.memory_total_bytes {
        return Err(DeviceError::Implausible {
            device: device.to_owned(),
            field: "memory_used_bytes",
            value: reading.memory_used_bytes as f64,
            allowed: format!("0 to {} (the total)", reading.memory_total_bytes),
        });
    }
    Ok(reading)
}

/// Telemetry read over HTTP from a GPU server's `/nvml`.
#[derive(Debug, Clone)]
pub struct HttpGpuTelemetry {
    base: String,
    client: reqwest::Client,
}

impl HttpGpuTelemetry {
    /// A reader of `base` (`http://127.32.0.1:8000`).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(base: &str) -> DeviceResult<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| DeviceError::protocol(base, "client", e.to_string()))?;
        Ok(HttpGpuTelemetry {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }
}

/// Maps a reqwest error on `what` at `device` to its kind.
pub(crate) fn http_error(
    device: &str,
    what: &str,
    e: &reqwest::Error,
    after: Duration,
) -> DeviceError {
    if e.is_timeout() {
        DeviceError::Timeout {
            device: device.to_owned(),
            what: what.to_owned(),
            after,
        }
    } else if e.is_connect() {
        DeviceError::Refused {
            device: device.to_owned(),
            what: what.to_owned(),
            detail: "connection refused".into(),
        }
    } else if e.is_decode() {
        DeviceError::protocol(device, what, "not the expected JSON")
    } else {
        DeviceError::protocol(device, what, "the connection failed mid-request")
    }
}

#[async_trait]
impl GpuTelemetry for HttpGpuTelemetry {
    fn host(&self) -> String {
        self.base.clone()
    }

    async fn read_all(&self, timeout: Duration) -> DeviceResult<Vec<GpuReading>> {
        let url = format!("{}/nvml", self.base);
        let response = self
            .client
            .get(&url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| http_error(&self.base, "nvml", &e, timeout))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(DeviceError::Unauthorised {
                device: self.base.clone(),
                what: "nvml".into(),
            });
        }
        if !status.is_success() {
            return Err(DeviceError::protocol(
                &self.base,
                "nvml",
                format!("HTTP {status}"),
            ));
        }
        let readings: Vec<GpuReading> = response
            .json()
            .await
            .map_err(|e| http_error(&self.base, "nvml", &e, timeout))?;
        readings
            .into_iter()
            .map(|r| check_reading(&self.base, r))
            .collect()
    }
}
