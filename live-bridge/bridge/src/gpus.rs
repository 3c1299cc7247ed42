//! GPU telemetry for the operator: every configured GPU host is read once
//! per epoch — through NVML on the bridge's own machine (read-only by
//! construction, see `hcp_devices::gpu::nvml`) or over HTTP from a GPU
//! server's `/nvml` — and its readings go to the metrics under the NVIDIA
//! DCGM exporter's names and to the status. The policy's GPU actions are
//! not yet turned into commands (the envelope refuses them as
//! `not_supported`).

use std::time::Duration;

use hcp_devices::gpu::http::HttpGpuTelemetry;
use hcp_devices::gpu::nvml::NvmlTelemetry;
use hcp_devices::gpu::{GpuReading, GpuTelemetry};
use serde::{Deserialize, Serialize};

use crate::fleet::Fault;

/// One GPU host in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuHostConfig {
    /// The host's name in metrics (`Hostname`).
    pub name: String,
    /// `nvml` (this machine's driver) or the base URL of a server that
    /// publishes `/nvml`.
    pub telemetry: String,
}

/// The configured GPU hosts, opened.
pub struct GpuHosts {
    hosts: Vec<(String, Box<dyn GpuTelemetry>)>,
}

impl GpuHosts {
    /// Opens every host.
    ///
    /// # Errors
    /// `gpu_hosts[i].telemetry` and the problem: no NVIDIA driver on this
    /// machine, or a URL the client cannot use.
    pub fn open(configs: &[GpuHostConfig]) -> Result<GpuHosts, String> {
        let mut hosts: Vec<(String, Box<dyn GpuTelemetry>)> = Vec::new();
        for (i, c) in configs.iter().enumerate() {
            let reader: Box<dyn GpuTelemetry> = if c.telemetry == "nvml" {
                Box::new(
                    NvmlTelemetry::init().map_err(|e| format!("gpu_hosts[{i}].telemetry: {e}"))?,
                )
            } else {
                Box::new(
                    HttpGpuTelemetry::new(&c.telemetry)
                        .map_err(|e| format!("gpu_hosts[{i}].telemetry: {e}"))?,
                )
            };
            hosts.push((c.name.clone(), reader));
        }
        Ok(GpuHosts { hosts })
    }

    /// Reads every host once; the readings by host, and the faults.
    pub async fn read(&self, timeout: Duration) -> (Vec<(String, Vec<GpuReading>)>, Vec<Fault>) {
        let mut readings = Vec::new();
        let mut faults = Vec::new();
        let results =
            futures::future::join_all(self.hosts.iter().map(|(_, h)| h.read_all(timeout))).await;
        for ((name, host), result) in self.hosts.iter().zip(results) {
            match result {
                Ok(r) => readings.push((name.clone(), r)),
                Err(e) => faults.push(crate::fleet::fault(&host.host(), &e)),
            }
        }
        (readings, faults)
    }

    /// Whether any host is configured.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}
