//! The stochastic spot-price generator of one price node, in $/MWh.
//!
//! At interval t (local Central time: month m, hour h, weekday or weekend):
//!
//! ```text
//! base_t  = shape[m][h] · (weekend[h] if Saturday/Sunday)
//! x_t     = φ x_{t−1} + √(1−φ²) (√ρ ε^sys_t + √(1−ρ) ε^node_t)      (x stationary N(0,1))
//! normal  = base_t + month_scale[m] · Q(x_t)                           (Q: residual quantiles)
//! spike   = base_t + exp(μ + σ ξ_t)          while the market's spike regime is on
//! price_t = clamp(spike or normal, floor, cap)
//! ```
//!
//! ε^sys and ξ are the market's common shocks (stream `grid/system/<market>`),
//! ε^node the node's own (stream `grid/price/<NODE>`); the spike regime is a
//! two-state Markov chain shared by every node of a market. φ, the spike
//! entry rate and exit rate are per 15 minutes and converted to the
//! horizon's step.

use chrono::{Datelike, Timelike, Weekday};
use chrono_tz::America::Chicago;
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};

/// Number of residual quantile knots.
pub const KNOTS: usize = 32;
/// Normal score of the first knot; knots are [`KNOT_STEP`] apart.
pub const KNOT_FIRST: f64 = -3.875;
/// Spacing of the knots in normal-score units.
pub const KNOT_STEP: f64 = 0.25;

/// During a spike the node's normal score is raised to at least this value,
/// so that prices come down from a spike over the AR(1) decay instead of at
/// once (as real prices do).
pub const SPIKE_SCORE: f64 = 2.25;

/// The market-wide part of the price process (one per market).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Probability that a spike episode starts in a 15-minute interval.
    pub spike_rate: f64,
    /// Spike-rate multiplier by month (January = 1).
    pub month_weight: [f64; 12],
    /// Mean spike-episode length, in 15-minute intervals.
    pub spike_intervals: f64,
    /// Offer cap, $/MWh (ERCOT 5,000 since 2022, 9,000 before; MISO 3,500).
    pub cap: f64,
    /// Price floor, $/MWh.
    pub floor: f64,
}

/// One node's price parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeParams {
    /// The market (key of [`super::GridParams::markets`]) the node belongs to.
    pub market: String,
    /// Weekday median price by month (Jan…Dec) and local hour (0–23), $/MWh.
    pub shape: [[f64; 24]; 12],
    /// Weekend / weekday price ratio by local hour.
    pub weekend: [f64; 24],
    /// Residual spread of each month relative to the fitted months.
    pub month_scale: [f64; 12],
    /// Residual quantiles ($/MWh) at normal scores −3.875, −3.625, …, 3.875.
    pub residual: [f64; KNOTS],
    /// Lag-1 autocorrelation of the normal scores per 15 minutes.
    pub phi: f64,
    /// Share ρ of the innovation variance common to the market.
    pub common_share: f64,
    /// μ of the log spike excess over the base price (ln $/MWh).
    pub spike_mu: f64,
    /// σ of the log spike excess.
    pub spike_sigma: f64,
}

impl NodeParams {
    /// The residual quantile at normal score `x` (linear between knots,
    /// flat beyond the outer knots).
    pub fn residual_at(&self, x: f64) -> f64 {
        let pos = ((x - KNOT_FIRST) / KNOT_STEP).clamp(0.0, (KNOTS - 1) as f64);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (pos as usize).min(KNOTS - 2);
        let w = pos - i as f64;
        self.residual[i] + w * (self.residual[i + 1] - self.residual[i])
    }
}

/// Calendar bucket of each interval: `month·48 + weekend·24 + hour`, local time.
pub fn calendar(horizon: &Horizon) -> Vec<u16> {
    let n = horizon.intervals();
    let mut out = Vec::with_capacity(n);
    let step_us = horizon.step.as_micros();
    let mut cached_hour = u64::MAX;
    let mut bucket = 0u16;
    for i in 0..n {
        let micros = step_us * i as u64;
        let hour = micros / 3_600_000_000;
        if hour != cached_hour {
            cached_hour = hour;
            let t = horizon.time_of(i);
            let utc = horizon.epoch.to_utc(t).unwrap_or_default();
            let local = utc.with_timezone(&Chicago);
            let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
            #[allow(clippy::cast_possible_truncation)]
            {
                bucket = (local.month0() * 48 + u32::from(weekend) * 24 + local.hour()) as u16;
            }
        }
        out.push(bucket);
    }
    out
}

/// The market's common draws over a horizon.
pub struct MarketPath {
    /// Common innovation ε^sys per interval.
    pub shock: Vec<f64>,
    /// Whether the spike regime is on, per interval.
    pub spiking: Vec<bool>,
    /// Common spike magnitude score ξ per interval, held over an episode.
    pub magnitude: Vec<f64>,
}

/// Per-15-minute probability converted to a step of `minutes`.
fn per_step(p15: f64, minutes: f64) -> f64 {
    1.0 - (1.0 - p15.clamp(0.0, 1.0)).powf(minutes / 15.0)
}

fn step_minutes(horizon: &Horizon) -> f64 {
    horizon.step.as_secs_f64() / 60.0
}

/// Draws the market path from stream `grid/system/<market>`.
pub fn market_path(
    market: &str,
    params: &MarketParams,
    calendar: &[u16],
    horizon: &Horizon,
    streams: &RngStreams,
) -> MarketPath {
    let mut rng: StreamRng = streams.stream(StreamId::named(&format!("grid/system/{market}")));
    let n = horizon.intervals();
    let minutes = step_minutes(horizon);
    let enter: Vec<f64> = params
        .month_weight
        .iter()
        .map(|w| per_step(params.spike_rate * w, minutes))
        .collect();
    let exit = per_step(1.0 / params.spike_intervals.max(1.0), minutes);
    let mut path = MarketPath {
        shock: Vec::with_capacity(n),
        spiking: Vec::with_capacity(n),
        magnitude: Vec::with_capacity(n),
    };
    let mut on = false;
    let mut magnitude = 0.0;
    for &bucket in calendar.iter().take(n) {
        let u: f64 = rng.random();
        let was_on = on;
        on = if on {
            u >= exit
        } else {
            u < enter[usize::from(bucket / 48)]
        };
        path.spiking.push(on);
        path.shock.push(StandardNormal.sample(&mut rng));
        let fresh: f64 = StandardNormal.sample(&mut rng);
        magnitude = if was_on && on { magnitude } else { fresh };
        path.magnitude.push(magnitude);
    }
    path
}

/// Generates one node's prices over the horizon from its own stream
/// `grid/price/<NODE>` and its market's path.
pub fn node_prices(
    node: &str,
    params: &NodeParams,
    market: &MarketParams,
    path: &MarketPath,
    calendar: &[u16],
    horizon: &Horizon,
    streams: &RngStreams,
) -> RegularSeries {
    let mut rng: StreamRng = streams.stream(StreamId::named(&format!("grid/price/{node}")));
    let phi = params
        .phi
        .clamp(0.0, 0.9999)
        .powf(step_minutes(horizon) / 15.0);
    let rho = params.common_share.clamp(0.0, 1.0);
    let (a, b) = (rho.sqrt(), (1.0 - rho).sqrt());
    let innovation = (1.0 - phi * phi).sqrt();
    let mut x = 0.0;
    let mut values = Vec::with_capacity(calendar.len());
    for (i, &bucket) in calendar.iter().enumerate() {
        let own: f64 = StandardNormal.sample(&mut rng);
        let e = a * path.shock[i] + b * own;
        x = if i == 0 { e } else { phi * x + innovation * e };
        let month = usize::from(bucket / 48);
        let hour = usize::from(bucket % 24);
        let mut base = params.shape[month][hour];
        if bucket % 48 >= 24 {
            base *= params.weekend[hour];
        }
        if path.spiking[i] {
            x = x.max(SPIKE_SCORE);
        }
        let price = if path.spiking[i] {
            base + (params.spike_mu + params.spike_sigma * path.magnitude[i]).exp()
        } else {
            base + params.month_scale[month] * params.residual_at(x)
        };
        values.push(price.clamp(market.floor, market.cap));
    }
    RegularSeries::new(hcp_engine::time::SimTime::ZERO, horizon.step, values)
}
