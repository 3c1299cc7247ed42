//! Network hashrate and the fee share: the two chain-side state processes.
//!
//! **Hashrate** (H, hashes per second) follows miners' revenue with a lag
//! and a growth trend. Let R(t) = price · 144 · subsidy · (1 + fee share)
//! be the miners' revenue in USD per day at the target block pace. The
//! log-hashrate is an Ornstein–Uhlenbeck process pulled towards a target
//! that moves with ln R and grows at the efficiency trend g (hashes bought
//! per dollar rise as ASICs improve):
//!
//! d ln H = κ (ln R(t) + m + g·t − ln H) dt + σ dW,
//!
//! with κ per day, g per day, σ per √day and t in days. The offset m is
//! set from the starting state so that the network starts on its steady
//! lag behind the target (ln H₀ = ln R₀ + m − g/κ), where a constant price
//! gives a hashrate growing at rate g.
//!
//! **Fee share** f (fees per block ÷ subsidy) is a daily log-AR(1):
//! ln f_d = ln f̄ + φ (ln f_{d−1} − ln f̄) + s·ε_d, constant within a day.

use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use hcp_engine::rng::StreamRng;

/// The RNG stream of the hashrate process.
pub const HASHRATE_STREAM: &str = "market/hashrate";
/// The RNG stream of the fee-share process.
pub const FEES_STREAM: &str = "market/fees";
/// The RNG stream of block discovery.
pub const BLOCKS_STREAM: &str = "market/blocks";

/// Blocks per day at the 600 s target.
pub const BLOCKS_PER_DAY: f64 = 144.0;

/// Parameters of the hashrate process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HashrateParams {
    /// Speed κ at which ln H closes the gap to its revenue target, per day
    /// (mean lag 1/κ days).
    pub reversion_per_day: f64,
    /// Growth g of hashes per dollar of revenue (efficiency trend), per day.
    pub efficiency_trend_per_day: f64,
    /// Volatility σ of ln H, per √day.
    pub volatility_per_sqrt_day: f64,
}

/// Parameters of the fee share (fees per block ÷ subsidy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeParams {
    /// Long-run level f̄ of the fee share (geometric mean), dimensionless.
    pub long_run_share: f64,
    /// Day-to-day persistence φ of ln f.
    pub persistence_per_day: f64,
    /// Standard deviation s of the daily innovation of ln f.
    pub volatility_per_day: f64,
}

/// Miners' revenue, USD per day, at the target block pace.
pub fn revenue_usd_per_day(price_usd: f64, subsidy_btc: f64, fee_share: f64) -> f64 {
    price_usd * BLOCKS_PER_DAY * subsidy_btc * (1.0 + fee_share)
}

/// The hashrate process while a tape is generated.
#[derive(Debug, Clone)]
pub struct Hashrate {
    log_h: f64,
    offset: f64,
    decay: f64,
    noise_sd: f64,
    trend_per_step: f64,
    elapsed_trend: f64,
}

impl Hashrate {
    /// Starts at `hashrate` (H/s) with revenue `revenue0` (USD/day), on a
    /// grid of `step_days`.
    pub fn new(params: &HashrateParams, hashrate: f64, revenue0: f64, step_days: f64) -> Hashrate {
        let kappa = params.reversion_per_day;
        let lag = if kappa > 0.0 {
            params.efficiency_trend_per_day / kappa
        } else {
            0.0
        };
        let decay = (-kappa * step_days).exp();
        let noise_sd = if kappa > 0.0 {
            params.volatility_per_sqrt_day * ((1.0 - decay * decay) / (2.0 * kappa)).sqrt()
        } else {
            params.volatility_per_sqrt_day * step_days.sqrt()
        };
        Hashrate {
            log_h: hashrate.ln(),
            offset: hashrate.ln() - revenue0.ln() + lag,
            decay,
            noise_sd,
            trend_per_step: params.efficiency_trend_per_day * step_days,
            elapsed_trend: 0.0,
        }
    }

    /// Current hashrate, H/s.
    pub fn hashes_per_second(&self) -> f64 {
        self.log_h.exp()
    }

    /// Advances one step given this step's revenue (USD/day), drawing one
    /// normal from `rng`.
    pub fn step(&mut self, revenue: f64, rng: &mut StreamRng) {
        let target = revenue.ln() + self.offset + self.elapsed_trend;
        let z: f64 = StandardNormal.sample(rng);
        self.log_h = target + (self.log_h - target) * self.decay + self.noise_sd * z;
        self.elapsed_trend += self.trend_per_step;
    }
}

/// The fee-share process while a tape is generated (daily updates).
#[derive(Debug, Clone)]
pub struct FeeShare {
    log_mean: f64,
    log_f: f64,
    persistence: f64,
    volatility: f64,
}

impl FeeShare {
    /// Starts at `share` (fees ÷ subsidy).
    pub fn new(params: &FeeParams, share: f64) -> FeeShare {
        FeeShare {
            log_mean: params.long_run_share.ln(),
            log_f: share.ln(),
            persistence: params.persistence_per_day,
            volatility: params.volatility_per_day,
        }
    }

    /// Current share.
    pub fn share(&self) -> f64 {
        self.log_f.exp()
    }

    /// Advances one day, drawing one normal from `rng`.
    pub fn next_day(&mut self, rng: &mut StreamRng) {
        let z: f64 = StandardNormal.sample(rng);
        self.log_f =
            self.log_mean + self.persistence * (self.log_f - self.log_mean) + self.volatility * z;
    }
}
