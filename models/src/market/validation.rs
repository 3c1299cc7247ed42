//! `hcp validate` for the market: each generator or formula against real
//! data or cited public figures.
//!
//! - BTC price: 100,000 simulated days (seed 20251201, replication 0) of
//!   the calibrated model against the daily log-returns of
//!   `btc_price_daily_2016-2026.csv`: annualised volatility, Hill tail
//!   index (k = 5 % of each sample), p1 and p99, autocorrelation of |r| at
//!   lags 1–5 and their mean. The simulated statistics' own sampling error
//!   at 100,000 days is under 2 % (Hill: α/√k ≈ 1.4 %), well inside the
//!   tolerances, which are set by the sampling error of the real 3,829-day
//!   statistics (docs/models/market.md).
//! - Hashprice formula against Coin Metrics' miner revenue per hash on
//!   every day of `btc_coinmetrics_daily_2016-2020.csv`, and against
//!   hashprice figures published by Luxor's Hashrate Index.
//! - The default starting state's hashprice.

use std::path::Path;

use hcp_engine::rng::RngStreams;

use super::btc_price::{generate_btc_price, log_returns};
use super::daily::read_daily;
use super::hashprice::usd_per_ph_day;
use super::params::MarketParams;
use crate::check::Check;
use crate::data::{DataError, GapRepair};
use crate::describe::{autocorrelation, hill_tail_index, quantile, std_dev};
use crate::series::Horizon;

/// The price file the BTC model is validated on.
pub const PRICE_FILE: &str = "btc_price_daily_2016-2026.csv";
/// The Coin Metrics network file.
pub const NETWORK_FILE: &str = "btc_coinmetrics_daily_2016-2020.csv";
/// Seed of the validation run.
pub const VALIDATION_SEED: u64 = 20_251_201;
/// Simulated days of the price validation.
pub const VALIDATION_DAYS: u64 = 100_000;

/// The statistics compared for daily log-returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnStats {
    /// Annualised volatility, std · √365.
    pub annual_volatility: f64,
    /// Hill tail index of |r| at k = 5 % of the sample.
    pub hill_index: f64,
    /// 1st percentile.
    pub p1: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Autocorrelation of |r| at lags 1 to 5.
    pub abs_acf: [f64; 5],
}

impl ReturnStats {
    /// Computes the statistics of `returns`.
    pub fn of(returns: &[f64]) -> ReturnStats {
        let abs: Vec<f64> = returns.iter().map(|r| r.abs()).collect();
        let mut abs_acf = [0.0; 5];
        for (lag, acf) in abs_acf.iter_mut().enumerate() {
            *acf = autocorrelation(&abs, lag + 1);
        }
        ReturnStats {
            annual_volatility: std_dev(returns) * 365.0_f64.sqrt(),
            hill_index: hill_tail_index(returns, returns.len() / 20),
            p1: quantile(returns, 0.01),
            p99: quantile(returns, 0.99),
            abs_acf,
        }
    }

    /// Mean of the lag-1..5 autocorrelations.
    pub fn mean_abs_acf(&self) -> f64 {
        self.abs_acf.iter().sum::<f64>() / 5.0
    }
}

/// Daily log-returns of the default BTC model over `days` simulated days.
pub fn simulated_returns(params: &MarketParams, days: u64, streams: &RngStreams) -> Vec<f64> {
    let start = chrono::DateTime::UNIX_EPOCH;
    let horizon = Horizon::days(start, days + 1, 1_440);
    let prices = generate_btc_price(&params.btc, 1.0, &horizon, streams);
    log_returns(prices.values())
}

/// Every market check.
///
/// # Errors
/// The real files in `data_dir` are missing or invalid.
pub fn checks(data_dir: &Path) -> Result<Vec<Check>, DataError> {
    let params = MarketParams::default();
    let mut out = btc_checks(data_dir, &params)?;
    out.extend(coin_metrics_hashprice_checks(data_dir)?);
    out.extend(public_hashprice_checks());
    let s = &params.start;
    let subsidy = super::chain::subsidy_btc(s.height + 1);
    out.push(Check::absolute(
        "market/start",
        "hashprice_usd_per_ph_day",
        usd_per_ph_day(s.difficulty, subsidy, subsidy * s.fee_share, s.btc_usd),
        38.0,
        2.0,
        "USD/PH/day",
        "default MarketStart vs ≈ $38/PH/day reported for 2025-12-01 (see hashprice/2025-12-01)",
    ));
    Ok(out)
}

fn btc_checks(data_dir: &Path, params: &MarketParams) -> Result<Vec<Check>, DataError> {
    let daily = read_daily(
        &data_dir.join(PRICE_FILE),
        "date",
        &["PriceUSD"],
        GapRepair::Reject,
    )?;
    let real = ReturnStats::of(&log_returns(&daily.columns[0]));
    let sim = ReturnStats::of(&simulated_returns(
        params,
        VALIDATION_DAYS,
        &RngStreams::new(VALIDATION_SEED, 0),
    ));
    let source = format!("data/{PRICE_FILE} (Coin Metrics), daily log-returns");
    let g = "market/btc_price";
    let mut out = vec![
        Check::relative(
            g,
            "annual_volatility",
            sim.annual_volatility,
            real.annual_volatility,
            0.10,
            "1/√yr",
            &source,
        ),
        Check::relative(
            g,
            "hill_tail_index_k5pct",
            sim.hill_index,
            real.hill_index,
            0.15,
            "1",
            &source,
        ),
        Check::relative(
            g,
            "p1_daily_log_return",
            sim.p1,
            real.p1,
            0.15,
            "1",
            &source,
        ),
        Check::relative(
            g,
            "p99_daily_log_return",
            sim.p99,
            real.p99,
            0.15,
            "1",
            &source,
        ),
        Check::relative(
            g,
            "abs_return_acf_mean_lag1_5",
            sim.mean_abs_acf(),
            real.mean_abs_acf(),
            0.15,
            "1",
            &source,
        ),
    ];
    for lag in 0..5 {
        out.push(Check::absolute(
            g,
            &format!("abs_return_acf_lag{}", lag + 1),
            sim.abs_acf[lag],
            real.abs_acf[lag],
            0.06,
            "1",
            &source,
        ));
    }
    Ok(out)
}

fn coin_metrics_hashprice_checks(data_dir: &Path) -> Result<Vec<Check>, DataError> {
    let daily = read_daily(
        &data_dir.join(NETWORK_FILE),
        "date",
        &[
            "PriceUSD",
            "DiffMean",
            "BlkCnt",
            "HashRate",
            "IssTotNtv",
            "IssTotUSD",
            "FeeTotNtv",
            "FeeTotUSD",
        ],
        GapRepair::Reject,
    )?;
    let c = &daily.columns;
    let pairs: Vec<(f64, f64)> = (0..daily.len())
        .map(|d| {
            let [
                price,
                difficulty,
                blocks,
                hashrate,
                iss_btc,
                iss_usd,
                fee_btc,
                fee_usd,
            ] = std::array::from_fn(|i| c[i][d]);
            let formula = usd_per_ph_day(difficulty, iss_btc / blocks, fee_btc / blocks, price);
            (formula, (iss_usd + fee_usd) / (hashrate / 1_000.0))
        })
        .collect();
    let worst = pairs
        .iter()
        .map(|(f, r)| ((f - r) / r).abs())
        .fold(0.0, f64::max);
    let sum_formula: f64 = pairs.iter().map(|p| p.0).sum();
    let sum_reference: f64 = pairs.iter().map(|p| p.1).sum();
    let source = format!(
        "data/{NETWORK_FILE}: (IssTotUSD + FeeTotUSD) / (HashRate in PH/s), {} days",
        daily.len()
    );
    Ok(vec![
        Check::absolute(
            "market/hashprice",
            "coin_metrics_worst_day_relative_error",
            worst,
            0.0,
            0.01,
            "share",
            &source,
        ),
        Check::relative(
            "market/hashprice",
            "coin_metrics_mean_usd_per_ph_day",
            sum_formula / daily.len() as f64,
            sum_reference / daily.len() as f64,
            0.001,
            "USD/PH/day",
            &source,
        ),
    ])
}

/// A dated public hashprice and the inputs the formula takes for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicHashprice {
    /// Check name.
    pub name: &'static str,
    /// Difficulty.
    pub difficulty: f64,
    /// BTC/USD.
    pub btc_usd: f64,
    /// Subsidy, BTC.
    pub subsidy_btc: f64,
    /// Fees ÷ subsidy.
    pub fee_share: f64,
    /// Published hashprice, USD/PH/day.
    pub hashprice_usd_per_ph_day: f64,
    /// Relative tolerance.
    pub tolerance: f64,
    /// Citation.
    pub source: &'static str,
}

/// The cited figures (inputs and published hashprice).
pub const PUBLIC_HASHPRICES: [PublicHashprice; 3] = [
    PublicHashprice {
        name: "2024-09-25",
        difficulty: 88.40e12,
        btc_usd: 63_059.63,
        subsidy_btc: 3.125,
        fee_share: 0.02,
        hashprice_usd_per_ph_day: 45.79,
        tolerance: 0.05,
        source: "spot hashprice $45.79/PH/day after the retarget to 88.40 T at height 862,848 \
                 (https://nextgencoins.io/difficulty-falls-4-6-at-block-862848/); price: \
                 data/btc_price_daily_2016-2026.csv 2024-09-25; fees assumed 2 % of subsidy",
    },
    PublicHashprice {
        name: "2025-11_monthly_mean",
        difficulty: 153.33e12,
        btc_usd: 96_532.0,
        subsidy_btc: 3.125,
        fee_share: 0.0062,
        hashprice_usd_per_ph_day: 39.82,
        tolerance: 0.03,
        source: "Luxor Hashrate Lookback November 2025: mean hashprice $39.82, mean difficulty \
                 153.33 T, mean price $96,532 \
                 (https://hashrateindex.com/blog/luxor-hashrate-lookback-series-november-2025); \
                 fees 0.62 % of rewards (https://hashrateindex.com/blog/hashrate-index-roundup-november-3-2025)",
    },
    PublicHashprice {
        name: "2025-12-01",
        difficulty: 152.0e12,
        btc_usd: 91_000.0,
        subsidy_btc: 3.125,
        fee_share: 0.0062,
        hashprice_usd_per_ph_day: 38.2,
        tolerance: 0.03,
        source: "CoinDesk via https://www.chaincatcher.com/en/article/2221432: hashprice $38.2/PH/day \
                 (Luxor), difficulty ≈ 152 T, BTC ≈ $91,000; fees as in November 2025",
    },
];

fn public_hashprice_checks() -> Vec<Check> {
    PUBLIC_HASHPRICES
        .iter()
        .map(|p| {
            Check::relative(
                "market/hashprice",
                p.name,
                usd_per_ph_day(
                    p.difficulty,
                    p.subsidy_btc,
                    p.subsidy_btc * p.fee_share,
                    p.btc_usd,
                ),
                p.hashprice_usd_per_ph_day,
                p.tolerance,
                "USD/PH/day",
                p.source,
            )
        })
        .collect()
}
