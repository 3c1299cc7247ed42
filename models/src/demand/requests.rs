//! P1 request streams: rate tapes at the horizon step and the burst model
//! behind them.
//!
//! Rate of customer c in interval i (requests per second):
//!
//!   r_c(i) = base_c · D(local hour) · W(local weekday) · B_c(i)
//!
//! with D and W mean-one daily and weekly shapes and B_c the horizon-step
//! average of the burst intensity Λ(t) = exp(σ·X(t) − σ²/2), X a unit
//! Ornstein–Uhlenbeck process of time constant τ. Within a step, requests
//! arrive in geometric batches (mean b̄) whose arrival intensity is
//! proportional to Λ: a batched Cox process. Its counts in a window w have
//! the index of dispersion
//!
//!   IoD(w) = (2b̄ − 1) + r·(2/w)·∫₀ʷ (w − u)·C(u) du,  C(u) = exp(σ²e^(−u/τ)) − 1.
//!
//! B_c is drawn as a log-normal AR(1) with the exact variance of the
//! step average, (2/w²)∫₀ʷ(w−u)C(u)du, and lag-one log-correlation
//! e^(−step/τ). Rates are stored as f32 (0.4 MB per customer-year at 5 min).

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use hcp_engine::rng::{RngStreams, StreamId};
use hcp_engine::time::{SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::customers::Customer;
use super::params::{BurstParams, RequestParams};
use crate::series::Horizon;

/// Family of the per-customer P1 streams (index = customer id).
pub const P1_STREAM: &str = "demand/p1";

/// A regular series of rates in f32: start, step, one value per interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateSeries {
    /// First instant covered.
    pub start: SimTime,
    /// Interval length.
    pub step: SimDuration,
    /// Requests per second in each interval.
    pub values: Vec<f32>,
}

impl RateSeries {
    /// The rate of the interval containing `t`, if covered.
    pub fn at(&self, t: SimTime) -> Option<f32> {
        let offset = t.as_micros().checked_sub(self.start.as_micros())?;
        let i = usize::try_from(offset / self.step.as_micros().max(1)).ok()?;
        self.values.get(i).copied()
    }

    /// Mean rate over the series, requests per second.
    pub fn mean(&self) -> f64 {
        self.values.iter().map(|&v| f64::from(v)).sum::<f64>() / self.values.len() as f64
    }
}

/// The P1 rate tape of one customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct P1Stream {
    /// Customer id.
    pub customer: u16,
    /// Request rate, requests per second, at the horizon step.
    pub rate: RateSeries,
}

/// C(u) of the burst intensity.
fn covariance(b: &BurstParams, u: f64) -> f64 {
    (b.sigma * b.sigma * (-u / b.tau_s).exp()).exp_m1()
}

/// Variance of the average of Λ over a window of `w` seconds (Simpson).
pub fn window_variance(b: &BurstParams, w: f64) -> f64 {
    const N: usize = 256;
    let h = w / N as f64;
    let f = |u: f64| (w - u) * covariance(b, u);
    let mut s = f(0.0) + f(w);
    for k in 1..N {
        s += f(k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    2.0 / (w * w) * s * h / 3.0
}

/// Stationary index of dispersion of counts in windows of `w` seconds at
/// mean rate `rate` (requests/s).
pub fn index_of_dispersion(b: &BurstParams, rate: f64, w: f64) -> f64 {
    2.0 * b.batch_mean - 1.0 + rate * w * window_variance(b, w)
}

/// Expected value of the sample index of dispersion (sample variance over
/// sample mean of the ⌊span/w⌋ counts) from one trace `span` seconds long:
/// n/(n−1)·(IoD(w) − IoD(n·w)/n).
pub fn expected_sample_iod(b: &BurstParams, rate: f64, w: f64, span: f64) -> f64 {
    let n = (span / w).floor();
    n / (n - 1.0) * (index_of_dispersion(b, rate, w) - index_of_dispersion(b, rate, n * w) / n)
}

/// Per-second request counts of a batched Cox stream at mean rate `rate`
/// over `seconds` seconds, simulated on 0.1-second sub-steps.
pub fn fine_counts(b: &BurstParams, rate: f64, seconds: usize, rng: &mut impl RngExt) -> Vec<u32> {
    const SUB: usize = 10;
    let dt = 1.0 / SUB as f64;
    let a = (-dt / b.tau_s).exp();
    let innovation = (1.0 - a * a).sqrt();
    let batch_rate = rate / b.batch_mean * dt;
    let log_keep = (1.0 - 1.0 / b.batch_mean).ln();
    let mut x: f64 = StandardNormal.sample(rng);
    let mut counts = Vec::with_capacity(seconds);
    for _ in 0..seconds {
        let mut n = 0u32;
        for _ in 0..SUB {
            let z: f64 = StandardNormal.sample(rng);
            x = a * x + innovation * z;
            let mean = batch_rate * (b.sigma * x - 0.5 * b.sigma * b.sigma).exp();
            // Poisson batches by inversion, geometric sizes by inversion.
            let mut u = rng.random::<f64>();
            let mut p = (-mean).exp();
            let mut cdf = p;
            let mut k = 0u32;
            while u > cdf && k < 10_000 {
                k += 1;
                p *= mean / f64::from(k);
                cdf += p;
            }
            for _ in 0..k {
                u = rng.random::<f64>();
                let extra = if log_keep.is_finite() {
                    ((1.0 - u).ln() / log_keep).floor()
                } else {
                    0.0
                };
                n = n.saturating_add(1 + extra.min(1e6) as u32);
            }
        }
        counts.push(n);
    }
    counts
}

/// Hour of week (0 = Monday 00:00 local) of every interval of the horizon.
pub fn hours_of_week(horizon: &Horizon, time_zone: &str) -> Vec<u8> {
    let tz: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let n = horizon.intervals();
    let step_us = horizon.step.as_micros();
    let start = horizon.epoch.start();
    let mut out = Vec::with_capacity(n);
    let mut cached: Option<(i64, i64)> = None; // (UTC hour, offset seconds)
    for i in 0..n {
        let utc = start
            + chrono::TimeDelta::microseconds(
                i64::try_from(step_us * i as u64).unwrap_or(i64::MAX),
            );
        let hour_key = utc.timestamp().div_euclid(3600);
        let offset = match cached {
            Some((k, o)) if k == hour_key => o,
            _ => {
                let local = utc.with_timezone(&tz);
                let o = i64::from(chrono::Offset::fix(local.offset()).local_minus_utc());
                cached = Some((hour_key, o));
                o
            }
        };
        let local = utc.naive_utc() + chrono::TimeDelta::seconds(offset);
        let how = local.weekday().num_days_from_monday() * 24 + local.hour();
        out.push(u8::try_from(how).unwrap_or(0));
    }
    out
}

/// The P1 rate tapes of all P1 customers (in customer order).
pub fn p1_streams(
    params: &RequestParams,
    customers: &[Customer],
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<P1Stream> {
    let how = hours_of_week(horizon, &params.time_zone);
    let shape: Vec<f64> = (0..168)
        .map(|h| {
            params.daily_shape.get(h % 24).copied().unwrap_or(1.0)
                * params.weekly_shape.get(h / 24).copied().unwrap_or(1.0)
        })
        .collect();
    let step_s = horizon.step.as_secs_f64();
    let family = StreamId::named(P1_STREAM);
    customers
        .iter()
        .filter_map(|c| {
            let service = params.services.get(usize::from(c.service?))?;
            let b = &service.stream.burst;
            let s2 = window_variance(b, step_s).ln_1p();
            let s = s2.sqrt();
            let rho = (-step_s / b.tau_s).exp();
            let innovation = (1.0 - rho * rho).sqrt();
            let mut rng = streams.stream(family.index(u64::from(c.id)));
            let mut y: f64 = StandardNormal.sample(&mut rng);
            let values = how
                .iter()
                .map(|&h| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    y = rho * y + innovation * z;
                    (c.base_rate_per_s * shape[usize::from(h)] * (s * y - 0.5 * s2).exp()) as f32
                })
                .collect();
            Some(P1Stream {
                customer: c.id,
                rate: RateSeries {
                    start: SimTime::ZERO,
                    step: horizon.step,
                    values,
                },
            })
        })
        .collect()
}
