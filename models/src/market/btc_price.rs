//! BTC/USD price: a Markov-switching model of daily log-returns with
//! Student-t innovations, spread over the tape's interval grid.
//!
//! Each UTC day of simulated time is in one of K regimes (a Markov chain,
//! daily transition matrix P). In regime k the day's log-return is
//! r = μ_k + σ_k·√W·Z with W = ν/χ²_ν (so r − μ_k is σ_k times a Student-t
//! with ν degrees of freedom) and Z standard normal. Within the day the
//! log-price moves by Gaussian increments of mean μ_k·Δ and variance
//! σ_k²·W·Δ (Δ = step / 1 day), so the sum over a day is exactly the daily
//! model. Units: log-returns per day (dimensionless), prices in USD.

use hcp_engine::rng::{RngStreams, StreamId};
use rand::RngExt;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};

/// The RNG stream of the BTC price process.
pub const BTC_PRICE_STREAM: &str = "market/btc_price";

/// Microseconds in one day.
pub(crate) const DAY_MICROS: u64 = 86_400_000_000;

/// One regime of the daily log-return model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// Location μ of the day's log-return (per day).
    pub drift_per_day: f64,
    /// Scale σ of the Student-t innovation (per day; the standard deviation
    /// is σ·√(ν/(ν−2))).
    pub scale_per_day: f64,
}

/// Parameters of the BTC/USD price process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BtcPriceParams {
    /// Degrees of freedom ν of the Student-t innovations (> 2).
    pub dof: f64,
    /// The regimes, calmest first.
    pub regimes: Vec<Regime>,
    /// Daily transition matrix: `transition[i][j]` = P(regime j tomorrow |
    /// regime i today); rows sum to 1.
    pub transition: Vec<Vec<f64>>,
}

impl BtcPriceParams {
    /// The stationary distribution of the regime chain (power iteration).
    pub fn stationary(&self) -> Vec<f64> {
        let k = self.regimes.len();
        let mut pi = vec![1.0 / k as f64; k];
        let mut next = vec![0.0; k];
        for _ in 0..10_000 {
            next.fill(0.0);
            for (i, row) in self.transition.iter().enumerate() {
                for (j, p) in row.iter().enumerate() {
                    next[j] += pi[i] * p;
                }
            }
            let change: f64 = pi.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
            pi.copy_from_slice(&next);
            if change < 1e-15 {
                break;
            }
        }
        pi
    }

    /// Checks shapes and ranges; a description of the first problem found.
    ///
    /// # Errors
    /// No regime, ν ≤ 2, a non-positive scale, a non-square or
    /// non-stochastic transition matrix.
    pub fn validate(&self) -> Result<(), String> {
        let k = self.regimes.len();
        if k == 0 {
            return Err("the BTC price model needs at least one regime".into());
        }
        if !(self.dof > 2.0 && self.dof.is_finite()) {
            return Err(format!("dof must be above 2, got {}", self.dof));
        }
        if let Some(r) = self
            .regimes
            .iter()
            .find(|r| !(r.scale_per_day > 0.0 && r.drift_per_day.is_finite()))
        {
            return Err(format!("regime scale must be positive, got {r:?}"));
        }
        if self.transition.len() != k || self.transition.iter().any(|row| row.len() != k) {
            return Err(format!("the transition matrix must be {k}×{k}"));
        }
        for (i, row) in self.transition.iter().enumerate() {
            let sum: f64 = row.iter().sum();
            if row.iter().any(|p| !(0.0..=1.0).contains(p)) || (sum - 1.0).abs() > 1e-6 {
                return Err(format!("transition row {i} is not a probability vector"));
            }
        }
        Ok(())
    }
}

/// Draws a regime index from a probability vector.
pub(crate) fn draw_index(probabilities: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, p) in probabilities.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    probabilities.len() - 1
}

/// Generates the BTC/USD price on the horizon's grid from `start_price`
/// (USD), drawing only from the stream [`BTC_PRICE_STREAM`].
///
/// The value of interval i is the price at its start. Regimes and the t
/// mixing variable W change at each UTC midnight of simulated time counted
/// from the horizon start. Steps longer than a day keep one regime per step.
///
/// # Panics
/// If `params` fails [`BtcPriceParams::validate`] (parameters are checked
/// when loaded).
pub fn generate_btc_price(
    params: &BtcPriceParams,
    start_price: f64,
    horizon: &Horizon,
    streams: &RngStreams,
) -> RegularSeries {
    if let Err(problem) = params.validate() {
        panic!("invalid BTC price parameters: {problem}");
    }
    let mut rng = streams.stream(StreamId::named(BTC_PRICE_STREAM));
    let n = horizon.intervals();
    let step = horizon.step.as_micros();
    let fraction = step as f64 / DAY_MICROS as f64;
    let sqrt_fraction = fraction.sqrt();
    let chi = ChiSquared::new(params.dof).expect("dof validated above");
    let stationary = params.stationary();
    let mut regime = draw_index(&stationary, rng.random::<f64>());
    let mut values = Vec::with_capacity(n);
    let mut log_price = start_price.ln();
    let mut day = u64::MAX;
    let (mut drift, mut sd) = (0.0, 0.0);
    for i in 0..n {
        values.push(log_price.exp());
        let today = (step * i as u64) / DAY_MICROS;
        if today != day {
            if day != u64::MAX {
                regime = draw_index(&params.transition[regime], rng.random::<f64>());
            }
            day = today;
            let w = params.dof / chi.sample(&mut rng);
            let r = &params.regimes[regime];
            drift = r.drift_per_day * fraction;
            sd = r.scale_per_day * w.sqrt() * sqrt_fraction;
        }
        let z: f64 = StandardNormal.sample(&mut rng);
        log_price += drift + sd * z;
    }
    RegularSeries::new(horizon.time_of(0), horizon.step, values)
}

/// Daily log-returns of a daily price series: ln(p\[i+1\] / p\[i\]).
pub fn log_returns(prices: &[f64]) -> Vec<f64> {
    prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
}
