//! Calibration from daily files: the BTC price regimes (maximum
//! likelihood, [`super::fit`]) from any daily price file, and the hashrate
//! and fee-share dynamics from a Coin Metrics-like network file.
//!
//! Hashrate fit: the days are grouped into blocks of `block_days`; with
//! h_b, r_b the block means of ln HashRate and ln miner revenue
//! (IssTotUSD + FeeTotUSD), ordinary least squares of
//! h_{b+1} − h_b = a + c·t_b + k·(r_{b−1} − h_{b−1}) gives the reversion
//! κ = −ln(1 − k)/block_days, the efficiency trend g = c/k per day and,
//! after removing the block-count (Poisson) noise 2/(144·block_days) of the
//! difficulty-implied hashrate from the residual variance, σ per √day. The
//! regressor is lagged one block so that the measurement noise of h_b does
//! not bias κ.
//!
//! Fee fit: OLS of the daily ln(FeeTotNtv/IssTotNtv) on its previous day.

use std::path::Path;

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use super::btc_price::{BtcPriceParams, log_returns};
use super::daily::read_daily;
use super::fit::fit_markov_switching_t;
use super::network::{BLOCKS_PER_DAY, FeeParams, HashrateParams};
use crate::data::{DataError, GapRepair};

/// Options of [`calibrate_btc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BtcCalibrationOptions {
    /// Date column (YYYY-MM-DD, UTC days).
    pub date_column: String,
    /// Price column, USD.
    pub price_column: String,
    /// Number of regimes.
    pub regimes: usize,
    /// Gap handling.
    pub repair: GapRepair,
}

impl Default for BtcCalibrationOptions {
    fn default() -> Self {
        BtcCalibrationOptions {
            date_column: "date".into(),
            price_column: "PriceUSD".into(),
            regimes: 4,
            repair: GapRepair::Reject,
        }
    }
}

/// Fits the BTC price model on the daily log-returns of a price file.
///
/// # Errors
/// The file's problems ([`read_daily`]), fewer than 100 days, or zero regimes.
pub fn calibrate_btc(
    path: &Path,
    options: &BtcCalibrationOptions,
) -> Result<BtcPriceParams, DataError> {
    let daily = read_daily(
        path,
        &options.date_column,
        &[options.price_column.as_str()],
        options.repair,
    )?;
    if daily.len() < 100 || options.regimes == 0 {
        return Err(DataError::file(
            path,
            "a fit needs at least 100 days and one regime",
        ));
    }
    Ok(fit_markov_switching_t(&log_returns(&daily.columns[0]), options.regimes).params)
}

/// Options of [`calibrate_network`] (Coin Metrics column names by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkCalibrationOptions {
    /// Date column.
    pub date_column: String,
    /// Hashrate column (any unit; only its logarithm's changes matter).
    pub hashrate_column: String,
    /// Issuance in USD per day.
    pub issuance_usd_column: String,
    /// Fees in USD per day.
    pub fees_usd_column: String,
    /// Issuance in BTC per day.
    pub issuance_btc_column: String,
    /// Fees in BTC per day.
    pub fees_btc_column: String,
    /// Days per block of the hashrate regression.
    pub block_days: usize,
    /// Gap handling.
    pub repair: GapRepair,
}

impl Default for NetworkCalibrationOptions {
    fn default() -> Self {
        NetworkCalibrationOptions {
            date_column: "date".into(),
            hashrate_column: "HashRate".into(),
            issuance_usd_column: "IssTotUSD".into(),
            fees_usd_column: "FeeTotUSD".into(),
            issuance_btc_column: "IssTotNtv".into(),
            fees_btc_column: "FeeTotNtv".into(),
            block_days: 14,
            repair: GapRepair::Reject,
        }
    }
}

/// What [`calibrate_network`] fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFit {
    /// Hashrate dynamics.
    pub hashrate: HashrateParams,
    /// Fee-share dynamics; `long_run_share` is the sample's geometric mean.
    pub fees: FeeParams,
}

/// Fits the hashrate and fee-share dynamics on a daily network file.
///
/// # Errors
/// The file's problems ([`read_daily`]) or fewer than 8 blocks of days.
pub fn calibrate_network(
    path: &Path,
    options: &NetworkCalibrationOptions,
) -> Result<NetworkFit, DataError> {
    let daily = read_daily(
        path,
        &options.date_column,
        &[
            options.hashrate_column.as_str(),
            options.issuance_usd_column.as_str(),
            options.fees_usd_column.as_str(),
            options.issuance_btc_column.as_str(),
            options.fees_btc_column.as_str(),
        ],
        options.repair,
    )?;
    let width = options.block_days.max(1);
    let blocks = daily.len() / width;
    if blocks < 8 {
        return Err(DataError::file(
            path,
            format!("the hashrate fit needs at least {} days", 8 * width),
        ));
    }
    let [hashrate_col, iss_usd, fee_usd, iss_btc, fee_btc] =
        [0, 1, 2, 3, 4].map(|i| &daily.columns[i]);
    let block_mean = |f: &dyn Fn(usize) -> f64, block: usize| {
        (block * width..(block + 1) * width).map(f).sum::<f64>() / width as f64
    };
    let log_hash: Vec<f64> = (0..blocks)
        .map(|b| block_mean(&|d| hashrate_col[d].ln(), b))
        .collect();
    let log_revenue: Vec<f64> = (0..blocks)
        .map(|b| block_mean(&|d| (iss_usd[d] + fee_usd[d]).ln(), b))
        .collect();
    let rows: Vec<([f64; 3], f64)> = (1..blocks - 1)
        .map(|b| {
            let gap = log_revenue[b - 1] - log_hash[b - 1];
            (
                [1.0, (b * width) as f64, gap],
                log_hash[b + 1] - log_hash[b],
            )
        })
        .collect();
    let (coef, residual_var) = least_squares(&rows);
    let pull = coef[2];
    let noise = 2.0 / (BLOCKS_PER_DAY * width as f64);
    let hashrate = HashrateParams {
        reversion_per_day: -(1.0 - pull).ln() / width as f64,
        efficiency_trend_per_day: coef[1] / pull,
        volatility_per_sqrt_day: ((residual_var - noise).max(0.0) / width as f64).sqrt(),
    };
    let log_share: Vec<f64> = fee_btc
        .iter()
        .zip(iss_btc)
        .map(|(f, i)| (f / i).ln())
        .collect();
    let pairs: Vec<(f64, f64)> = log_share.windows(2).map(|p| (p[0], p[1])).collect();
    let (coef, residual_var) = simple_regression(&pairs);
    let fees = FeeParams {
        long_run_share: (coef[0] / (1.0 - coef[1])).exp(),
        persistence_per_day: coef[1],
        volatility_per_day: residual_var.sqrt(),
    };
    Ok(NetworkFit { hashrate, fees })
}

/// OLS with three regressors: coefficients and residual variance (n − 3).
/// The normal equations are solved by LU with partial pivoting (nalgebra);
/// a singular system gives NaN coefficients, which the caller's checks
/// refuse.
fn least_squares(rows: &[([f64; 3], f64)]) -> ([f64; 3], f64) {
    let mut xtx = Matrix3::zeros();
    let mut xty = Vector3::zeros();
    for (x, y) in rows {
        let x = Vector3::from_column_slice(x);
        xtx += x * x.transpose();
        xty += x * *y;
    }
    let coef = xtx
        .lu()
        .solve(&xty)
        .map_or([f64::NAN; 3], |c| [c[0], c[1], c[2]]);
    let ss: f64 = rows
        .iter()
        .map(|(x, y)| (y - x.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>()).powi(2))
        .sum();
    (coef, ss / (rows.len() as f64 - 3.0))
}

/// OLS of y on (1, x): [intercept, slope] and residual variance (n − 2).
fn simple_regression(pairs: &[(f64, f64)]) -> ([f64; 2], f64) {
    let n = pairs.len() as f64;
    let (sx, sy) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = pairs.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx).powi(2))
    });
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss: f64 = pairs
        .iter()
        .map(|(x, y)| (y - intercept - slope * x).powi(2))
        .sum();
    ([intercept, slope], ss / (n - 2.0))
}
