//! The stochastic spot-price generator of one price node, in $/MWh.
//!
//! At interval t (local Central time: month m, hour h, weekday or weekend):
//!
//! ```text
//! base_t  = shape[m][h] · (weekend[h] if Saturday/Sunday) + level[m]
//! x_t     = φ x_{t−1} + √(1−φ²) (√ρ ε^sys_t + √(1−ρ) ε^node_t)      (x stationary N(0,1))
//! J_e     = k[m] · exp(μ + σ ξ_e)            spike excess of episode e
//! normal  = base_t + month_scale[m] · Q(x_t) + a^k J_next + d^j J_last
//! spike   = base_t + J_e                     while the market's spike regime is on
//! price_t = clamp(spike or normal, floor, cap)
//! ```
//!
//! ε^sys and ξ are the market's common shocks (stream `grid/system/<market>`),
//! ε^node the node's own (stream `grid/price/<NODE>`); the spike regime is a
//! two-state Markov chain shared by every node of a market. Around an
//! episode the price ramps: k intervals before the next episode the excess
//! is a^k J_next (a = `spike_ramp`), j intervals after the last one it is
//! d^j J_last (d = `spike_decay`). φ, a, d, the spike entry rate and exit
//! rate are per 15 minutes and converted to the horizon's step.

use chrono::{Datelike, Timelike, Weekday};
use chrono_tz::America::Chicago;
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};

/// Number of residual quantile knots.
pub const KNOTS: usize = 32;
/// Normal score of the first knot; knots are [`KNOT_STEP`] apart.
pub const KNOT_FIRST: f64 = -3.875;
/// Spacing of the knots in normal-score units.
pub const KNOT_STEP: f64 = 0.25;

/// Envelope values below this are treated as zero (no spike excess).
const ENVELOPE_MIN: f64 = 1e-4;

/// The market-wide part of the price process (one per market).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "GridMarketParams")]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Probability that a spike episode starts in a 15-minute interval.
    pub spike_rate: f64,
    /// Spike-rate multiplier by month (January = 1).
    pub month_weight: [f64; 12],
    /// Mean spike-episode length, in 15-minute intervals.
    pub spike_intervals: f64,
    /// Ramp-up factor a per 15 minutes: k intervals before an episode the
    /// price carries a^k of the episode's spike excess.
    pub spike_ramp: f64,
    /// Decay factor d per 15 minutes: j intervals after an episode the
    /// price carries d^j of its spike excess.
    pub spike_decay: f64,
    /// Offer cap, $/MWh (ERCOT 5,000 since 2022, 9,000 before; MISO 3,500).
    pub cap: f64,
    /// Price floor, $/MWh.
    pub floor: f64,
}

/// One node's price parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeParams {
    /// The market (key of [`super::GridParams::markets`]) the node belongs to.
    pub market: String,
    /// Weekday median price by month (Jan…Dec) and local hour (0–23), $/MWh.
    pub shape: [[f64; 24]; 12],
    /// Weekend / weekday price ratio by local hour.
    pub weekend: [f64; 24],
    /// Level offset by month, $/MWh, added to the base price (zero in the
    /// month the real-time dynamics are fitted on).
    pub level: [f64; 12],
    /// Spike-size factor k by month: the node's spike excess is k·J.
    pub spike_scale: [f64; 12],
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

/// A quantile function given at the normal-score knots −3.875, −3.625, …,
/// 3.875, read at normal score `x`: linear between knots, flat beyond the
/// outer ones.
pub(crate) fn knot_quantile(knots: &[f64; KNOTS], x: f64) -> f64 {
    let pos = ((x - KNOT_FIRST) / KNOT_STEP).clamp(0.0, (KNOTS - 1) as f64);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = (pos as usize).min(KNOTS - 2);
    let w = pos - i as f64;
    knots[i] + w * (knots[i + 1] - knots[i])
}

impl NodeParams {
    /// The residual quantile at normal score `x` (linear between knots,
    /// flat beyond the outer knots).
    pub fn residual_at(&self, x: f64) -> f64 {
        knot_quantile(&self.residual, x)
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
    /// Ramp envelope a^k toward the next episode (zero when none follows).
    pub ramp: Vec<f64>,
    /// Magnitude score of the next episode.
    pub ramp_magnitude: Vec<f64>,
    /// Decay envelope d^j after the last episode (zero before the first).
    pub decay: Vec<f64>,
    /// Magnitude score of the last episode.
    pub decay_magnitude: Vec<f64>,
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
        ramp: vec![0.0; n],
        ramp_magnitude: vec![0.0; n],
        decay: Vec::with_capacity(n),
        decay_magnitude: Vec::with_capacity(n),
    };
    let ramp = envelope_factor(params.spike_ramp, minutes);
    let decay = envelope_factor(params.spike_decay, minutes);
    let mut on = false;
    let mut magnitude = 0.0;
    let (mut tail, mut last) = (0.0, 0.0);
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
        if on {
            (tail, last) = (1.0, magnitude);
        } else {
            tail = if tail * decay < ENVELOPE_MIN {
                0.0
            } else {
                tail * decay
            };
        }
        path.decay.push(if on { 0.0 } else { tail });
        path.decay_magnitude.push(last);
    }
    let (mut head, mut next) = (0.0, 0.0);
    for i in (0..n).rev() {
        if path.spiking[i] {
            (head, next) = (1.0, path.magnitude[i]);
        } else {
            head = if head * ramp < ENVELOPE_MIN {
                0.0
            } else {
                head * ramp
            };
            path.ramp[i] = head;
            path.ramp_magnitude[i] = next;
        }
    }
    path
}

/// A per-15-minute envelope factor converted to a step of `minutes`.
fn envelope_factor(f15: f64, minutes: f64) -> f64 {
    f15.clamp(0.0, 0.99).powf(minutes / 15.0)
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
        base += params.level[month];
        let scale = params.spike_scale[month];
        let excess =
            |magnitude: f64| scale * (params.spike_mu + params.spike_sigma * magnitude).exp();
        let price = if path.spiking[i] {
            base + excess(path.magnitude[i])
        } else {
            let mut normal = base + params.month_scale[month] * params.residual_at(x);
            if path.ramp[i] > 0.0 {
                normal += path.ramp[i] * excess(path.ramp_magnitude[i]);
            }
            if path.decay[i] > 0.0 {
                normal += path.decay[i] * excess(path.decay_magnitude[i]);
            }
            normal
        };
        values.push(price.clamp(market.floor, market.cap));
    }
    RegularSeries::new(hcp_engine::time::SimTime::ZERO, horizon.step, values)
}
