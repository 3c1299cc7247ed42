//! GPU specifications, the built-in catalog (`models/params/gpu.toml`) and
//! wall power per GPU.
//!
//! Units: power in watts (W) at the wall, memory in GB, job speed relative
//! to an H100 (job work is GPU-seconds at H100 speed). A GPU's wall power
//! includes its share of the server it sits in (CPUs, memory, NICs,
//! switches, fans, power-supply losses): an 8×H100 DGX draws 10.2 kW at full
//! load, not 8 × 700 W. The catalog also carries the inference throughput
//! table ([`InferenceSpec`]), the switching phases ([`SwitchingParams`]) and
//! the GPU failure defaults ([`GpuReliabilityDefaults`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inference::InferenceSpec;
use super::switching::SwitchingParams;
use crate::demand::GpuModel;

/// The shipped catalog file.
pub const BUILT_IN: &str = include_str!("../../params/gpu.toml");

/// Standby draw of a powered-down server (BMC, power-supply standby rail,
/// fans stopped), in W: a few watts per GPU once shared over the server.
pub const SERVER_OFF_W: f64 = 40.0;

/// Errors of the GPU catalog.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuSpecError {
    /// A GPU or model name the catalog does not hold.
    #[error("unknown {kind} {name:?}; known: {known}")]
    Unknown {
        /// What was looked up (`GPU`, `inference model`).
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names the catalog holds, comma-separated.
        known: String,
    },
    /// The catalog text is not valid TOML for [`GpuCatalog`].
    #[error("GPU catalog: {0}")]
    Parse(String),
    /// A value out of its physical range.
    #[error("GPU catalog: {what}: {problem}")]
    Invalid {
        /// The entry and field.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// One GPU model and the server it is sold in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    /// Short name: `H100`, `A100`, `L40S`.
    pub name: String,
    /// Full product name.
    pub full_name: String,
    /// Board power limit (TDP), W.
    pub tdp_w: f64,
    /// Board power when idle (clocks down, no kernel running), W.
    pub idle_w: f64,
    /// GPUs per server.
    pub gpus_per_server: u32,
    /// Non-GPU power of a server at full load, W (system maximum − GPUs × TDP).
    pub server_overhead_w: f64,
    /// Non-GPU power of a powered, idle server, W.
    pub server_idle_overhead_w: f64,
    /// Throughput on P2–P4 jobs relative to an H100 (= 1).
    pub job_speed: f64,
    /// Memory per GPU, GB.
    pub memory_gb: f64,
    /// Where the figures come from.
    pub source: String,
}

impl GpuSpec {
    /// Wall power per GPU including its share of the server, at GPU
    /// utilisation `utilisation` ∈ [0, 1] (clamped), W:
    /// idle + (TDP − idle)·u + (server idle overhead + (server overhead −
    /// server idle overhead)·u) / GPUs per server.
    #[inline]
    pub fn power_per_gpu_w(&self, utilisation: f64) -> f64 {
        let u = if utilisation.is_nan() {
            0.0
        } else {
            utilisation.clamp(0.0, 1.0)
        };
        let board = self.idle_w + (self.tdp_w - self.idle_w) * u;
        let server = self.server_idle_overhead_w
            + (self.server_overhead_w - self.server_idle_overhead_w) * u;
        board + server / f64::from(self.gpus_per_server)
    }

    /// Wall power per GPU at full load (u = 1), W.
    #[inline]
    pub fn max_power_per_gpu_w(&self) -> f64 {
        self.power_per_gpu_w(1.0)
    }

    /// Wall power per GPU of a powered-down server ([`SERVER_OFF_W`] shared
    /// over its GPUs), W.
    #[inline]
    pub fn off_power_per_gpu_w(&self) -> f64 {
        SERVER_OFF_W / f64::from(self.gpus_per_server)
    }

    /// Wall power of a whole server at utilisation `utilisation`, W.
    pub fn server_power_w(&self, utilisation: f64) -> f64 {
        self.power_per_gpu_w(utilisation) * f64::from(self.gpus_per_server)
    }

    fn validate(&self) -> Result<(), GpuSpecError> {
        let fail = |field: &str, problem: &str| {
            Err(GpuSpecError::Invalid {
                what: format!("GPU {:?} {field}", self.name),
                problem: problem.to_owned(),
            })
        };
        let positive = |x: f64| x.is_finite() && x > 0.0;
        for (field, value) in [
            ("tdp_w", self.tdp_w),
            ("idle_w", self.idle_w),
            ("server_overhead_w", self.server_overhead_w),
            ("server_idle_overhead_w", self.server_idle_overhead_w),
            ("job_speed", self.job_speed),
            ("memory_gb", self.memory_gb),
        ] {
            if !positive(value) {
                return fail(field, &format!("{value} is not positive and finite"));
            }
        }
        if self.idle_w > self.tdp_w {
            return fail("idle_w", "exceeds tdp_w");
        }
        if self.server_idle_overhead_w > self.server_overhead_w {
            return fail("server_idle_overhead_w", "exceeds server_overhead_w");
        }
        if self.gpus_per_server == 0 {
            return fail("gpus_per_server", "must be at least 1");
        }
        Ok(())
    }
}

/// GPU failure defaults, read by the reliability model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuReliabilityDefaults {
    /// Failures per GPU per year.
    pub annual_failure_rate: f64,
    /// Median time to repair (swap or reset and return to service), hours.
    pub repair_median_hours: f64,
    /// Log-normal σ of the repair time.
    pub repair_sigma: f64,
}

/// Everything the GPU plant needs: specs, inference throughput, switching
/// phases and failure defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuCatalog {
    /// GPU models.
    pub gpus: Vec<GpuSpec>,
    /// Inference throughput per (model, GPU).
    pub inference: Vec<InferenceSpec>,
    /// Switching phases and cold start.
    pub switching: SwitchingParams,
    /// GPU failure defaults.
    pub reliability: GpuReliabilityDefaults,
}

impl Default for GpuCatalog {
    /// The built-in catalog (`models/params/gpu.toml`).
    fn default() -> Self {
        GpuCatalog::from_toml(BUILT_IN).unwrap_or_else(|e| panic!("models/params/gpu.toml: {e}"))
    }
}

impl GpuCatalog {
    /// Parses and checks a catalog.
    ///
    /// # Errors
    /// [`GpuSpecError::Parse`] for bad TOML or unknown keys,
    /// [`GpuSpecError::Invalid`] for a value out of range, and
    /// [`GpuSpecError::Unknown`] for an inference entry on a GPU the catalog
    /// does not list.
    pub fn from_toml(text: &str) -> Result<GpuCatalog, GpuSpecError> {
        let catalog: GpuCatalog =
            toml::from_str(text).map_err(|e| GpuSpecError::Parse(e.to_string()))?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// Checks every entry.
    ///
    /// # Errors
    /// See [`GpuCatalog::from_toml`].
    pub fn validate(&self) -> Result<(), GpuSpecError> {
        for gpu in &self.gpus {
            gpu.validate()?;
        }
        for spec in &self.inference {
            self.gpu(&spec.gpu)?;
            spec.validate()?;
        }
        self.switching.validate()?;
        let r = &self.reliability;
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if !ok(r.annual_failure_rate) || !ok(r.repair_median_hours) || !ok(r.repair_sigma) {
            return Err(GpuSpecError::Invalid {
                what: "reliability".into(),
                problem: "every value must be positive and finite".into(),
            });
        }
        Ok(())
    }

    /// The GPU called `name`.
    ///
    /// # Errors
    /// [`GpuSpecError::Unknown`] listing the known GPUs.
    pub fn gpu(&self, name: &str) -> Result<&GpuSpec, GpuSpecError> {
        self.gpus
            .iter()
            .find(|g| g.name == name)
            .ok_or_else(|| GpuSpecError::Unknown {
                kind: "GPU",
                name: name.to_owned(),
                known: join(self.gpus.iter().map(|g| g.name.as_str())),
            })
    }

    /// The spec of a GPU model of the demand model's fleet.
    ///
    /// # Errors
    /// [`GpuSpecError::Unknown`] if the catalog lacks it.
    pub fn spec_of(&self, model: GpuModel) -> Result<&GpuSpec, GpuSpecError> {
        self.gpu(match model {
            GpuModel::H100 => "H100",
            GpuModel::A100 => "A100",
            GpuModel::L40S => "L40S",
        })
    }

    /// The throughput of `model` served on `gpu`.
    ///
    /// # Errors
    /// [`GpuSpecError::Unknown`] naming the unknown GPU, or the model and the
    /// (model, GPU) pairs the catalog holds.
    pub fn inference(&self, model: &str, gpu: &str) -> Result<&InferenceSpec, GpuSpecError> {
        self.gpu(gpu)?;
        self.inference
            .iter()
            .find(|s| s.model == model && s.gpu == gpu)
            .ok_or_else(|| GpuSpecError::Unknown {
                kind: "inference model",
                name: format!("{model} on {gpu}"),
                known: self
                    .inference
                    .iter()
                    .map(|s| format!("{} on {}", s.model, s.gpu))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_interpolates_between_idle_and_full_load() {
        let catalog = GpuCatalog::default();
        let h100 = catalog.gpu("H100").unwrap();
        let idle = h100.idle_w + h100.server_idle_overhead_w / 8.0;
        assert!((h100.power_per_gpu_w(0.0) - idle).abs() < 1e-9);
        let mid = h100.power_per_gpu_w(0.5);
        assert!((mid - f64::midpoint(idle, h100.max_power_per_gpu_w())).abs() < 1e-9);
        assert_eq!(h100.power_per_gpu_w(2.0), h100.max_power_per_gpu_w());
        assert_eq!(h100.power_per_gpu_w(f64::NAN), h100.power_per_gpu_w(0.0));
        assert!((h100.off_power_per_gpu_w() - 5.0).abs() < 1e-12);
        for pool in &crate::demand::DemandParams::default().fleet.pools {
            assert!(catalog.spec_of(pool.gpu).is_ok(), "{:?}", pool.gpu);
        }
        assert_eq!(catalog.spec_of(GpuModel::L40S).unwrap().tdp_w, 350.0);
    }

    #[test]
    fn inverted_ranges_are_refused() {
        let bad = BUILT_IN.replacen("idle_w = 70.0", "idle_w = 900.0", 1);
        let err = GpuCatalog::from_toml(&bad).unwrap_err().to_string();
        assert!(
            err.contains("\"H100\" idle_w") && err.contains("exceeds tdp_w"),
            "{err}"
        );
    }
}
