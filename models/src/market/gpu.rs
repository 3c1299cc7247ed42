//! GPU rental prices, USD per GPU-hour, one process per GPU model.
//!
//! ln p(t) = ln(L · e^(−δ·t)) + x(t), where L is the long-run level at the
//! horizon start, δ the secular decline per year (t in years) and x an
//! Ornstein–Uhlenbeck deviation with reversion θ per day and volatility
//! σ per √day, started at x₀ = ln(p₀ / L). Sampled exactly on the grid.
//! No public history of rental prices ships with the product: the defaults
//! are documented assumptions (docs/models/market.md) that a scenario
//! overrides per model.

use hcp_engine::rng::{RngStreams, StreamId};
use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};

/// Stream family prefix: model `NAME` draws from `market/gpu_rental/NAME`.
pub const GPU_RENTAL_STREAM_PREFIX: &str = "market/gpu_rental/";

/// Parameters of one GPU model's rental price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuRentalParams {
    /// Model name, e.g. `H100_SXM`; also names the RNG stream.
    pub model: String,
    /// Price at the horizon start, USD per GPU-hour.
    pub start_usd_per_hour: f64,
    /// Long-run level at the horizon start, USD per GPU-hour.
    pub level_usd_per_hour: f64,
    /// Secular decline δ of the level, per year (0.2 = −20 %/yr, continuous).
    pub decline_per_year: f64,
    /// Reversion speed θ of the deviation, per day.
    pub reversion_per_day: f64,
    /// Volatility σ of the log price, per √day.
    pub volatility_per_sqrt_day: f64,
}

/// One GPU model's price on the tape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuRentalSeries {
    /// Model name.
    pub model: String,
    /// USD per GPU-hour, one value per interval.
    pub usd_per_gpu_hour: RegularSeries,
}

/// The stream a model draws from.
pub fn gpu_stream(model: &str) -> StreamId {
    StreamId::named(&format!("{GPU_RENTAL_STREAM_PREFIX}{model}"))
}

/// Generates one model's rental price on the horizon's grid.
pub fn generate_gpu_rental(
    params: &GpuRentalParams,
    horizon: &Horizon,
    streams: &RngStreams,
) -> GpuRentalSeries {
    let mut rng = streams.stream(gpu_stream(&params.model));
    let n = horizon.intervals();
    let step_days = horizon.step.as_secs_f64() / 86_400.0;
    let theta = params.reversion_per_day;
    let decay = (-theta * step_days).exp();
    let noise_sd = if theta > 0.0 {
        params.volatility_per_sqrt_day * ((1.0 - decay * decay) / (2.0 * theta)).sqrt()
    } else {
        params.volatility_per_sqrt_day * step_days.sqrt()
    };
    let trend_per_step = -params.decline_per_year * step_days / 365.25;
    let mut log_level = params.level_usd_per_hour.ln();
    let mut x = (params.start_usd_per_hour / params.level_usd_per_hour).ln();
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        values.push((log_level + x).exp());
        let z: f64 = StandardNormal.sample(&mut rng);
        x = x * decay + noise_sd * z;
        log_level += trend_per_step;
    }
    GpuRentalSeries {
        model: params.model.clone(),
        usd_per_gpu_hour: RegularSeries::new(horizon.time_of(0), horizon.step, values),
    }
}
