//! The stochastic spot-price generator of one price node, in $/MWh.
//!
//! At interval t (local Central time: month m, hour h, weekday or weekend):
//!
//! ```text
//! base_t  = shape[m][h] · (weekend[h] if Saturday/Sunday) + level[m]
//! f_t     = φ f_{t−1} + √(1−φ²) (√ρ ε^sys_t + √(1−ρ) ε^node_t)      (fast, N(0,1))
//! S_t     = φ_s S_{t−1} + √(1−φ_s²) η^sys_t                          (the market's slow factor)
//! s_t     = √ρ S_t + √(1−ρ) s'_t,   s'_t = φ_s s'_{t−1} + √(1−φ_s²) η^node_t  (slow, N(0,1))
//! x_t     = √(1−w) f_t + √w s_t                                     (x stationary N(0,1))
//! J_t     = k[m] · exp(μ + σ ξ_t)            spike excess, ξ AR(1) within an episode
//! normal  = base_t + month_scale[m] · Q(x_t) + a^k J_next + d^j J_last
//! spike   = base_t + J_t                     while the market's spike regime is on
//! price_t = clamp(spike or normal, floor, cap)
//! ```
//!
//! ε^sys, η^sys and ξ are the market's common shocks (stream
//! `grid/system/<market>`), ε^node and η^node the node's own (stream
//! `grid/price/<NODE>`). Two AR(1) factors give the normal scores their
//! persistence at two scales: the fast one (φ, minutes to hours) and the
//! slow one (φ_s, a day and more, weight w) — one factor cannot give both
//! the hour-scale and the day-scale autocorrelation of real prices. The
//! spike regime is a Markov chain shared by every node of a market, its
//! entry rate p\[m\] · exp(β S_t − β²/2) higher while the market's slow
//! factor is high (cold spells and heat waves bring spikes back day after
//! day); an
//! episode is either a blip (mean `spike_intervals`) or, with probability
//! `sustained_share`, a sustained episode (mean `sustained_intervals`),
//! each geometric in length: real spikes are mostly single intervals with
//! a few that last for hours. Around an
//! episode the price ramps: k intervals before the next episode the excess
//! is a^k J_next (a = `spike_ramp`), j intervals after the last one it is
//! d^j J_last (d = `spike_decay`). φ, φ_s, a, d, the spike entry rate and
//! exit rates are per 15 minutes and converted to the horizon's step.

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
    /// Mean length of a blip spike episode, in 15-minute intervals.
    pub spike_intervals: f64,
    /// Share of spike episodes that are sustained (0: every episode is a
    /// blip).
    #[serde(default)]
    pub sustained_share: f64,
    /// Mean length of a sustained spike episode, in 15-minute intervals.
    #[serde(default = "one")]
    pub sustained_intervals: f64,
    /// Lag-1 autocorrelation per 15 minutes of the market's slow factor
    /// (shared by its nodes: they move at one pace).
    #[serde(default)]
    pub phi_slow: f64,
    /// Coupling β of the spike entry rate to the slow factor s: the rate is
    /// multiplied by exp(β s − β²/2), whose mean is one.
    #[serde(default)]
    pub spike_coupling: f64,
    /// Lag-1 correlation per 15 minutes of the spike magnitude score within
    /// an episode (1: held for the whole episode).
    #[serde(default = "one")]
    pub spike_persistence: f64,
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
    /// Lag-1 autocorrelation of the fast factor per 15 minutes.
    pub phi: f64,
    /// Share w of the normal scores' variance in the slow factor (0: one
    /// factor).
    #[serde(default)]
    pub slow_share: f64,
    /// Share ρ of the innovation variance common to the market.
    pub common_share: f64,
    /// μ of the log spike excess over the base price (ln $/MWh).
    pub spike_mu: f64,
    /// σ of the log spike excess.
    pub spike_sigma: f64,
}

fn one() -> f64 {
    1.0
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
    /// Common innovation ε^sys of the fast factor per interval.
    pub shock: Vec<f64>,
    /// The market's slow factor S per interval (stationary N(0, 1)).
    pub slow: Vec<f64>,
    /// Whether the spike regime is on, per interval.
    pub spiking: Vec<bool>,
    /// Common spike magnitude score ξ per interval (AR(1) within an episode).
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
    let blip_exit = per_step(1.0 / params.spike_intervals.max(1.0), minutes);
    let sustained_exit = per_step(1.0 / params.sustained_intervals.max(1.0), minutes);
    let sustained_share = params.sustained_share.clamp(0.0, 1.0);
    let mut exit = blip_exit;
    let persistence = params
        .spike_persistence
        .clamp(0.0, 1.0)
        .powf(minutes / 15.0);
    let renewal = (1.0 - persistence * persistence).sqrt();
    let mut slow_factor = Ar1::new(params.phi_slow, minutes);
    let beta = params.spike_coupling;
    let mut path = MarketPath {
        shock: Vec::with_capacity(n),
        slow: Vec::with_capacity(n),
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
        let kind: f64 = rng.random();
        let slow = slow_factor.next(StandardNormal.sample(&mut rng));
        path.slow.push(slow);
        let was_on = on;
        on = if on {
            u >= exit
        } else {
            u < (enter[usize::from(bucket / 48)] * (beta * slow - 0.5 * beta * beta).exp()).min(1.0)
        };
        if on && !was_on {
            exit = if kind < sustained_share {
                sustained_exit
            } else {
                blip_exit
            };
        }
        path.spiking.push(on);
        path.shock.push(StandardNormal.sample(&mut rng));
        let fresh: f64 = StandardNormal.sample(&mut rng);
        magnitude = if was_on && on {
            persistence * magnitude + renewal * fresh
        } else {
            fresh
        };
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

/// A stationary N(0, 1) AR(1): x_t = φ x_{t−1} + √(1−φ²) ε_t, started
/// from its stationary law (x_0 = ε_0).
struct Ar1 {
    phi: f64,
    innovation: f64,
    state: Option<f64>,
}

impl Ar1 {
    /// φ per 15 minutes (clamped to [0, 0.99999]) at a step of `minutes`.
    fn new(phi15: f64, minutes: f64) -> Ar1 {
        let phi = phi15.clamp(0.0, 0.99999).powf(minutes / 15.0);
        Ar1 {
            phi,
            innovation: (1.0 - phi * phi).sqrt(),
            state: None,
        }
    }

    /// The next value after shock `e` (N(0, 1)).
    fn next(&mut self, e: f64) -> f64 {
        let x = self
            .state
            .map_or(e, |previous| self.phi * previous + self.innovation * e);
        self.state = Some(x);
        x
    }
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
    let minutes = step_minutes(horizon);
    let mut fast_factor = Ar1::new(params.phi, minutes);
    let mut own_slow_factor = Ar1::new(market.phi_slow, minutes);
    let slow_share = params.slow_share.clamp(0.0, 1.0);
    let (fast_weight, slow_weight) = ((1.0 - slow_share).sqrt(), slow_share.sqrt());
    let rho = params.common_share.clamp(0.0, 1.0);
    let (a, b) = (rho.sqrt(), (1.0 - rho).sqrt());
    let mut values = Vec::with_capacity(calendar.len());
    for (i, &bucket) in calendar.iter().enumerate() {
        let own: f64 = StandardNormal.sample(&mut rng);
        let fast = fast_factor.next(a * path.shock[i] + b * own);
        let slow = a * path.slow[i] + b * own_slow_factor.next(StandardNormal.sample(&mut rng));
        let x = fast_weight * fast + slow_weight * slow;
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
