//! The market's parameter tree and starting state, with the calibrated
//! defaults shipped in `models/params/market.toml`.
//!
//! Units are in every field's name: USD, BTC, H/s (difficulty is
//! dimensionless), per day / per √day / per year.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::btc_price::BtcPriceParams;
use super::gpu::GpuRentalParams;
use super::network::{FeeParams, HashrateParams};

/// Fastest block time the start's difficulty and hashrate may imply, s.
pub const MIN_START_BLOCK_S: f64 = 1.0;
/// Slowest block time the start's difficulty and hashrate may imply, s.
pub const MAX_START_BLOCK_S: f64 = 86_400.0;

/// The shipped defaults (calibrated values and documented assumptions).
pub const DEFAULT_TOML: &str = include_str!("../../params/market.toml");

/// The state of the market at the horizon start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketStart {
    /// BTC/USD price.
    pub btc_usd: f64,
    /// Network difficulty (expected hashes per block ÷ 2³²).
    pub difficulty: f64,
    /// Network hashrate, EH/s.
    pub hashrate_ehs: f64,
    /// Height of the last block before the start.
    pub height: u64,
    /// Seconds between the first block of the current retarget epoch and
    /// the start; absent: the epoch's blocks so far came at 600 s each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_elapsed_s: Option<f64>,
    /// Transaction fees per block ÷ subsidy.
    pub fee_share: f64,
}

/// Every parameter of the market processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// The starting state.
    pub start: MarketStart,
    /// BTC/USD price process.
    pub btc: BtcPriceParams,
    /// Network hashrate process.
    pub hashrate: HashrateParams,
    /// Fee share process.
    pub fees: FeeParams,
    /// GPU rental price processes, one per model.
    pub gpu: Vec<GpuRentalParams>,
}

/// A parameter set that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The TOML text does not parse into the parameter tree.
    #[error("market parameters: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range.
    #[error("market parameters: {0}")]
    Invalid(String),
}

impl MarketParams {
    /// Parses and checks a TOML parameter block.
    ///
    /// # Errors
    /// Unknown or missing fields, wrong types, out-of-range values.
    pub fn from_toml(text: &str) -> Result<MarketParams, ParamsError> {
        let params: MarketParams = toml::from_str(text)?;
        params.validate().map_err(ParamsError::Invalid)?;
        Ok(params)
    }

    /// Checks every range; a sentence naming the first problem.
    ///
    /// # Errors
    /// A non-positive price, difficulty, hashrate or share; invalid BTC
    /// regimes; a persistence outside [0, 1); a negative volatility.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.start;
        for (name, v) in [
            ("start.btc_usd", s.btc_usd),
            ("start.difficulty", s.difficulty),
            ("start.hashrate_ehs", s.hashrate_ehs),
            ("start.fee_share", s.fee_share),
            ("fees.long_run_share", self.fees.long_run_share),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("{name} must be positive, got {v}"));
            }
        }
        // The chain mines block by block: a start whose hashrate finds a
        // block every microsecond would mine billions before its first
        // retarget could catch up (the fuzz test found one).
        let block_s = s.difficulty * 2f64.powi(32) / (s.hashrate_ehs * 1e18);
        if !(MIN_START_BLOCK_S..=MAX_START_BLOCK_S).contains(&block_s) {
            return Err(format!(
                "start.difficulty {} and start.hashrate_ehs {} give a block every {block_s:.3e} s \
                 at the start; they must give {MIN_START_BLOCK_S} s to {MAX_START_BLOCK_S} s \
                 (the network's target is 600 s)",
                s.difficulty, s.hashrate_ehs
            ));
        }
        let h = &self.hashrate;
        for (name, v) in [
            ("hashrate.reversion_per_day", h.reversion_per_day),
            (
                "hashrate.efficiency_trend_per_day",
                h.efficiency_trend_per_day,
            ),
            (
                "hashrate.volatility_per_sqrt_day",
                h.volatility_per_sqrt_day,
            ),
        ] {
            if !(v.is_finite() && v.abs() <= 1.0) {
                return Err(format!(
                    "{name} must be a rate between -1 and 1 per day, got {v}"
                ));
            }
        }
        self.btc.validate()?;
        if !(0.0..1.0).contains(&self.fees.persistence_per_day) {
            return Err("fees.persistence_per_day must be in [0, 1)".into());
        }
        let h = &self.hashrate;
        if h.reversion_per_day < 0.0
            || h.volatility_per_sqrt_day < 0.0
            || self.fees.volatility_per_day < 0.0
        {
            return Err("reversion speeds and volatilities must not be negative".into());
        }
        for g in &self.gpu {
            if !(g.start_usd_per_hour > 0.0 && g.level_usd_per_hour > 0.0) {
                return Err(format!("gpu '{}': prices must be positive", g.model));
            }
            if g.reversion_per_day < 0.0 || g.volatility_per_sqrt_day < 0.0 {
                return Err(format!(
                    "gpu '{}': reversion and volatility must not be negative",
                    g.model
                ));
            }
        }
        let mut names: Vec<&str> = self.gpu.iter().map(|g| g.model.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("gpu model names must be unique".into());
        }
        Ok(())
    }
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams::from_toml(DEFAULT_TOML)
            .expect("the shipped models/params/market.toml is valid")
    }
}
