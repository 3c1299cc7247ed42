//! Inference throughput per (model size, GPU): how many output tokens a GPU
//! generates per second while serving a Llama 3.1 model, at the batch
//! (sequences in flight per replica) the operator runs for interactive
//! traffic.
//!
//! Units: tokens per second per GPU, requests per second per GPU. A replica
//! is the group of `gpus_per_replica` GPUs that holds one copy of the model
//! (tensor parallelism); it runs `concurrency_per_replica` sequences at once,
//! each decoding at `output_tokens_per_s_per_gpu × gpus_per_replica ÷
//! concurrency_per_replica` tokens per second.

use serde::{Deserialize, Serialize};

use super::gpu::GpuSpecError;

/// Throughput of one model served on one GPU type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceSpec {
    /// The model, as in the demand catalogue (`Llama-3.1-8B`, `Llama-3.1-70B`,
    /// `Llama-3.1-405B`).
    pub model: String,
    /// The GPU (a name of the catalog's `gpus`).
    pub gpu: String,
    /// GPUs holding one copy of the model (tensor-parallel degree).
    pub gpus_per_replica: u32,
    /// Output tokens per second per GPU at `concurrency_per_replica`.
    pub output_tokens_per_s_per_gpu: f64,
    /// Sequences in flight per replica.
    pub concurrency_per_replica: u32,
    /// Where the figure comes from.
    pub source: String,
}

impl InferenceSpec {
    /// Requests per second one GPU completes when requests generate
    /// `mean_output_tokens` tokens on average (0 for a non-positive mean).
    #[inline]
    pub fn request_rate_capacity(&self, mean_output_tokens: f64) -> f64 {
        if mean_output_tokens > 0.0 {
            self.output_tokens_per_s_per_gpu / mean_output_tokens
        } else {
            0.0
        }
    }

    /// Output tokens per second of one replica.
    #[inline]
    pub fn replica_tokens_per_s(&self) -> f64 {
        self.output_tokens_per_s_per_gpu * f64::from(self.gpus_per_replica)
    }

    /// Decode rate of one sequence, tokens per second.
    #[inline]
    pub fn sequence_tokens_per_s(&self) -> f64 {
        self.replica_tokens_per_s() / f64::from(self.concurrency_per_replica)
    }

    pub(super) fn validate(&self) -> Result<(), GpuSpecError> {
        let what = || format!("inference {} on {}", self.model, self.gpu);
        if !(self.output_tokens_per_s_per_gpu.is_finite() && self.output_tokens_per_s_per_gpu > 0.0)
        {
            return Err(GpuSpecError::Invalid {
                what: what(),
                problem: format!(
                    "output_tokens_per_s_per_gpu = {} is not positive and finite",
                    self.output_tokens_per_s_per_gpu
                ),
            });
        }
        if self.gpus_per_replica == 0 || self.concurrency_per_replica == 0 {
            return Err(GpuSpecError::Invalid {
                what: what(),
                problem: "gpus_per_replica and concurrency_per_replica must be at least 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::plant::gpu::GpuCatalog;

    #[test]
    fn capacity_is_tokens_over_mean_length() {
        let catalog = GpuCatalog::default();
        let s = catalog.inference("Llama-3.1-8B", "H100").unwrap();
        assert!(
            (s.request_rate_capacity(200.0) - s.output_tokens_per_s_per_gpu / 200.0).abs() < 1e-12
        );
        assert_eq!(s.request_rate_capacity(0.0), 0.0);
        let per_seq = s.sequence_tokens_per_s() * f64::from(s.concurrency_per_replica);
        assert!((per_seq - s.replica_tokens_per_s()).abs() < 1e-9);
    }

    #[test]
    fn bigger_models_are_slower_per_gpu() {
        let catalog = GpuCatalog::default();
        for gpu in ["H100", "A100", "L40S"] {
            let rates: Vec<f64> = catalog
                .inference
                .iter()
                .filter(|s| s.gpu == gpu)
                .map(|s| s.output_tokens_per_s_per_gpu)
                .collect();
            assert!(rates.len() >= 2, "{gpu}");
            assert!(rates.windows(2).all(|w| w[0] > w[1]), "{gpu}: {rates:?}");
        }
    }
}
