//! The parameter tree of the demand model ([`DemandParams`]) and its
//! built-in calibrated values, shipped as `models/params/demand.toml`.
//!
//! Units: rates in requests per second, prices in USD (per million tokens
//! or per GPU-hour), durations in seconds unless a field name says
//! otherwise, GPU requests in milli-GPUs (1,000 = one whole GPU).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::quantiles::QuantileTable;

pub use hcp_contract::WorkloadClass;

/// The JSON Schema of [`WorkloadClass`], which lives in the contract crate
/// (free of schemars): the same four names.
#[derive(JsonSchema)]
#[schemars(rename = "WorkloadClass")]
#[allow(dead_code)]
enum WorkloadClassSchema {
    /// Real-time inference under a latency SLA.
    P1,
    /// Batch inference with a deadline.
    P2,
    /// Training, preemptible at a checkpoint cost.
    P3,
    /// Interruptible background work.
    P4,
}

/// GPU models of the reference fleet.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[repr(u8)]
pub enum GpuModel {
    /// NVIDIA H100 80 GB (the reference speed of job work).
    H100,
    /// NVIDIA A100 80 GB.
    A100,
    /// NVIDIA L40S 48 GB.
    L40S,
}

/// Everything the demand model needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandParams {
    /// The GPU fleet the demand is sized against.
    pub fleet: FleetParams,
    /// The customer base and its contracts.
    pub customers: CustomerParams,
    /// P1 request-rate streams.
    pub requests: RequestParams,
    /// P2–P4 job arrivals.
    pub jobs: JobParams,
}

impl Default for DemandParams {
    /// The built-in calibrated values (`models/params/demand.toml`).
    fn default() -> Self {
        toml::from_str(BUILT_IN).unwrap_or_else(|e| panic!("models/params/demand.toml: {e}"))
    }
}

/// The shipped parameter file.
pub const BUILT_IN: &str = include_str!("../../params/demand.toml");

/// The GPU fleet: pools of one model at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetParams {
    /// The pools.
    pub pools: Vec<GpuPool>,
}

impl FleetParams {
    /// Total GPUs.
    pub fn gpus(&self) -> u32 {
        self.pools.iter().map(|p| p.count).sum()
    }
}

/// GPUs of one model at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuPool {
    /// Site name.
    pub site: String,
    /// GPU model.
    pub gpu: GpuModel,
    /// Number of GPUs.
    pub count: u32,
}

/// How many customers of each class, and the catalogue their contracts are
/// drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    /// Customers per class, P1 to P4.
    pub count: [u16; 4],
    /// Real-time inference offerings (P1).
    pub p1_offerings: Vec<InferenceOffering>,
    /// Batch inference offerings (P2).
    pub p2_offerings: Vec<InferenceOffering>,
    /// P1 latency targets, p99 milliseconds, one drawn per customer.
    pub p1_latency_p99_ms: Vec<u32>,
    /// P1 attainment targets, % of request batches within the latency target.
    pub p1_attainment_pct: Vec<f64>,
    /// P2 deadline after submission, hours, one drawn per customer.
    pub p2_deadline_hours: Vec<f64>,
    /// P3 training price range, USD per GPU-hour [low, high].
    pub p3_usd_per_gpu_hour: [f64; 2],
    /// P3 checkpoint intervals, minutes, one drawn per customer.
    pub p3_checkpoint_minutes: Vec<u32>,
    /// P4 interruptible price range, USD per GPU-hour [low, high].
    pub p4_usd_per_gpu_hour: [f64; 2],
    /// Spread of customer prices around the catalogue price: each price is
    /// multiplied by a factor uniform in [1 − spread, 1 + spread].
    pub price_spread: f64,
    /// SLA credit bands of P1 contracts.
    pub p1_credits: Vec<CreditBand>,
    /// SLA credit bands of P2 contracts (attainment = % of jobs on time).
    pub p2_credits: Vec<CreditBand>,
}

/// A per-token price list entry for an open model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InferenceOffering {
    /// Model name, e.g. `Llama-3.1-70B`.
    pub model: String,
    /// Weight precision, e.g. `FP8`.
    pub precision: String,
    /// Price of input (context) tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Price of output (generated) tokens, USD per million.
    pub output_usd_per_mtok: f64,
}

/// One band of an SLA credit schedule: when monthly attainment falls below
/// `below_pct`, `credit_pct` of the month's invoice is credited (the
/// lowest band reached applies).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBand {
    /// Attainment threshold, %.
    pub below_pct: f64,
    /// Credit, % of the month's invoice.
    pub credit_pct: f64,
}

/// P1 request streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestParams {
    /// Mean-one factors by local hour (0–23) in `time_zone`.
    pub daily_shape: Vec<f64>,
    /// Mean-one factors by local weekday, Monday first.
    pub weekly_shape: Vec<f64>,
    /// IANA time zone of the customers' clock (e.g. `America/Chicago`).
    pub time_zone: String,
    /// Log-normal spread (σ of ln) of customer base rates around their
    /// service's mean rate.
    pub base_rate_log_sd: f64,
    /// The request services a P1 customer runs (one is drawn per customer).
    pub services: Vec<ServiceParams>,
}

/// A request service (e.g. code completion, conversation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Service name.
    pub name: String,
    /// The service's request stream.
    pub stream: RequestStreamParams,
}

/// One request stream: mean rate, burstiness and token counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestStreamParams {
    /// Mean request rate, requests per second.
    pub mean_rate_per_s: f64,
    /// Mean-one factors by hour of day, when the trace was long enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_shape: Option<Vec<f64>>,
    /// Burstiness of arrivals.
    pub burst: BurstParams,
    /// Context tokens per request, when the trace had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<QuantileTable>,
    /// Generated tokens per request, when the trace had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_tokens: Option<QuantileTable>,
}

/// Batched Cox arrivals: request batches arrive with intensity
/// ∝ exp(σ·X(t) − σ²/2), X a unit Ornstein–Uhlenbeck process of time
/// constant τ; batch sizes are geometric with mean `batch_mean`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurstParams {
    /// Mean requests per batch (≥ 1).
    pub batch_mean: f64,
    /// σ of the log-intensity.
    pub sigma: f64,
    /// Time constant τ of the log-intensity, seconds.
    pub tau_s: f64,
}

/// P2–P4 job arrivals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobParams {
    /// Job arrivals per day at `load_scale` = 1 (all classes).
    pub jobs_per_day: f64,
    /// Offered GPU load of all jobs as a fraction of fleet capacity at
    /// `load_scale` = 1; job durations are scaled to meet it.
    pub load_fraction: f64,
    /// Multiplier of the arrival rate (and so of offered load) for boom or
    /// bust scenarios.
    pub load_scale: f64,
    /// Mean-one factors by hour of day (UTC hour of the horizon).
    pub daily_shape: Vec<f64>,
    /// P2 deadline slack: a P2 job's deadline is the larger of its
    /// customer's contract deadline and `p2_min_slack` × its duration.
    pub p2_min_slack: f64,
    /// Per class: share, sizes and runtimes.
    pub classes: Vec<JobClassParams>,
}

/// Size and runtime distributions of one job class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobClassParams {
    /// P2, P3 or P4.
    #[schemars(with = "WorkloadClassSchema")]
    pub class: WorkloadClass,
    /// Share of all job arrivals.
    pub share: f64,
    /// Probability that a job must run on H100s.
    pub h100_only: f64,
    /// GPU requests and their shares.
    pub sizes: Vec<SizeShare>,
    /// Runtime before duration scaling, seconds.
    pub runtime_s: QuantileTable,
}

/// One GPU request size and its share of a class's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeShare {
    /// GPUs, milli-GPUs (460 = 0.46 of one GPU; 8000 = eight GPUs).
    pub gpu_milli: u16,
    /// Share of the class's jobs.
    pub share: f64,
}

impl JobParams {
    /// Mean GPU-seconds per job before duration scaling (sizes and
    /// runtimes independent within a class).
    pub fn raw_mean_work(&self) -> f64 {
        self.classes
            .iter()
            .map(|c| {
                let gpus: f64 = c
                    .sizes
                    .iter()
                    .map(|s| f64::from(s.gpu_milli) / 1000.0 * s.share)
                    .sum();
                c.share * gpus * c.runtime_s.mean()
            })
            .sum()
    }

    /// The factor applied to every runtime so that `jobs_per_day` jobs
    /// offer `load_fraction` of a fleet of `gpus`.
    pub fn duration_scale(&self, gpus: u32) -> f64 {
        self.load_fraction * f64::from(gpus) * 86_400.0 / (self.jobs_per_day * self.raw_mean_work())
    }
}
