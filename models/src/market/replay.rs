//! Replays of real daily files on the tape's grid.
//!
//! - [`btc_price`]: any daily price file (date + price columns, e.g. the
//!   Coin Metrics `PriceUSD`), geometrically interpolated between UTC
//!   midnights onto the horizon's intervals.
//! - [`network`]: a Coin Metrics-like network file (price, mean difficulty,
//!   blocks, hashrate in TH/s, issuance and fees in BTC): price, difficulty,
//!   hashrate (EH/s), fee share and hashprice from the same formula the
//!   generator uses, each day's value held over the day.
//!
//! The horizon must lie inside the file's days; the replay draws nothing.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::daily::{Daily, read_daily};
use super::hashprice::usd_per_ph_day;
use crate::data::{DataError, GapRepair};
use crate::series::{Horizon, RegularSeries};

/// The highest BTC price a replay accepts, USD: beyond it the file is in
/// another unit (satoshis, cents) or broken, and the books would overflow.
pub const MAX_BTC_USD: f64 = 1e9;

/// Columns and gap handling of a daily price replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceReplayOptions {
    /// Date column (YYYY-MM-DD, UTC days).
    pub date_column: String,
    /// Price column, USD.
    pub price_column: String,
    /// Gap handling.
    pub repair: GapRepair,
}

impl Default for PriceReplayOptions {
    fn default() -> Self {
        PriceReplayOptions {
            date_column: "date".into(),
            price_column: "PriceUSD".into(),
            repair: GapRepair::Reject,
        }
    }
}

/// The horizon start in days after the file's first day, once the horizon
/// is known to end `last_needed` days before the file's end or earlier.
fn position(
    daily: &Daily,
    horizon: &Horizon,
    path: &Path,
    last_needed: usize,
) -> Result<f64, DataError> {
    let first_day: DateTime<Utc> = daily
        .start
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let offset = (horizon.epoch.start() - first_day)
        .num_microseconds()
        .unwrap_or(i64::MIN);
    let end_days = (offset as f64 + horizon.length.as_micros() as f64) / 86_400e6;
    if offset < 0 || end_days > (daily.len() - last_needed) as f64 {
        return Err(DataError::file(
            path,
            format!(
                "the file covers {} days from {}, which does not contain the horizon starting {}",
                daily.len(),
                daily.start,
                horizon.epoch.start()
            ),
        ));
    }
    Ok(offset as f64 / 86_400e6)
}

/// Replays a daily BTC price file onto the horizon's grid.
///
/// # Errors
/// The file's problems (see [`read_daily`]) or a horizon outside its days.
pub fn btc_price(
    path: &Path,
    options: &PriceReplayOptions,
    horizon: &Horizon,
) -> Result<RegularSeries, DataError> {
    let daily = read_daily(
        path,
        &options.date_column,
        &[options.price_column.as_str()],
        options.repair,
    )?;
    let offset_days = position(&daily, horizon, path, 1)?;
    let prices = &daily.columns[0];
    if let Some((d, v)) = prices.iter().enumerate().find(|(_, v)| **v > MAX_BTC_USD) {
        let day = daily.start + chrono::TimeDelta::days(i64::try_from(d).unwrap_or(i64::MAX));
        return Err(DataError::file(
            path,
            format!(
                "column '{}': the price on {day} is {v} USD, beyond {MAX_BTC_USD} USD",
                options.price_column
            ),
        ));
    }
    let step_days = horizon.step.as_secs_f64() / 86_400.0;
    let values = (0..horizon.intervals())
        .map(|i| {
            let x = offset_days + i as f64 * step_days;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let d = (x.floor() as usize).min(prices.len() - 2);
            let w = x - d as f64;
            (prices[d].ln() * (1.0 - w) + prices[d + 1].ln() * w).exp()
        })
        .collect();
    Ok(RegularSeries::new(horizon.time_of(0), horizon.step, values))
}

/// A replayed network history on the tape's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReplay {
    /// BTC/USD (the day's reference price).
    pub btc_usd: RegularSeries,
    /// Mean difficulty of the day.
    pub difficulty: RegularSeries,
    /// Hashrate, EH/s.
    pub network_hashrate_ehs: RegularSeries,
    /// Fees ÷ issuance.
    pub fee_share: RegularSeries,
    /// Hashprice, USD per PH/s per day.
    pub hashprice_usd_per_ph_day: RegularSeries,
    /// Hashprice, USD per TH/s per day.
    pub hashprice_usd_hashprice_th_day: RegularSeries,
}

/// Replays a Coin Metrics-like network file (columns `date`, `PriceUSD`,
/// `DiffMean`, `BlkCnt`, `HashRate` in TH/s, `IssTotNtv`, `FeeTotNtv`).
///
/// # Errors
/// The file's problems (see [`read_daily`]) or a horizon outside its days.
pub fn network(
    path: &Path,
    horizon: &Horizon,
    repair: GapRepair,
) -> Result<NetworkReplay, DataError> {
    let daily = read_daily(
        path,
        "date",
        &[
            "PriceUSD",
            "DiffMean",
            "BlkCnt",
            "HashRate",
            "IssTotNtv",
            "FeeTotNtv",
        ],
        repair,
    )?;
    let offset_days = position(&daily, horizon, path, 0)?;
    let step_days = horizon.step.as_secs_f64() / 86_400.0;
    let n = horizon.intervals();
    let c = &daily.columns;
    let mut columns: [Vec<f64>; 6] = std::array::from_fn(|_| Vec::with_capacity(n));
    for i in 0..n {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let d = ((offset_days + i as f64 * step_days).floor() as usize).min(daily.len() - 1);
        let (subsidy, fees) = (c[4][d] / c[2][d], c[5][d] / c[2][d]);
        let hashprice = usd_per_ph_day(c[1][d], subsidy, fees, c[0][d]);
        for (column, v) in columns.iter_mut().zip([
            c[0][d],
            c[1][d],
            c[3][d] / 1e6,
            c[5][d] / c[4][d],
            hashprice,
            hashprice / 1_000.0,
        ]) {
            column.push(v);
        }
    }
    let [
        price,
        difficulty,
        hashrate,
        fee_share,
        hashprice,
        hashprice_th,
    ] = columns;
    let series = |values| RegularSeries::new(horizon.time_of(0), horizon.step, values);
    Ok(NetworkReplay {
        btc_usd: series(price),
        difficulty: series(difficulty),
        network_hashrate_ehs: series(hashrate),
        fee_share: series(fee_share),
        hashprice_usd_per_ph_day: series(hashprice),
        hashprice_usd_hashprice_th_day: series(hashprice_th),
    })
}
