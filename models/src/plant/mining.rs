//! Mining economics on pay-per-share terms: expected value, so results never
//! hinge on block luck.
//!
//! Units: hashrate in TH/s, hashprice in USD per TH/s per day (the usual
//! "$/PH/day" figure ÷ 1,000), time in seconds, power prices in USD/MWh,
//! efficiency in J/TH, BTC in whole coins. A pool paying FPPS credits every
//! share at its expected value (subsidy and fees) minus its fee, so revenue
//! is `H · hashprice · (seconds/86,400) · (1 − fee)`. One TH/s at `e` J/TH
//! for a day burns `e · 86,400 J = e · 2.4·10⁻⁵ MWh` (one PH/s: `e · 0.024`
//! MWh), so with a facility PUE the breakeven power price is
//! `hashprice·(1 − fee) / (e · PUE · 2.4·10⁻⁵)` with hashprice per TH/s-day,
//! the same as `$/PH/day·(1 − fee) / (e · PUE · 0.024)`.

/// Pool fee of an FPPS pool: 2.5 % (Braiins Pool FPPS,
/// <https://braiins.com/pool>; FPPS pools charge about 2–2.5 %).
pub const DEFAULT_POOL_FEE: f64 = 0.025;

/// Seconds per day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// MWh burnt by one TH/s at 1 J/TH over one day (86,400 J = 2.4·10⁻⁵
/// MWh) and the breakeven power price: defined once, in the contract that
/// policies read them from.
pub use hcp_contract::{MWH_PER_JTH_DAY, breakeven_usd_per_mwh};

/// Revenue of `hashrate_th` TH/s hashing for `seconds` at
/// `hashprice_usd_per_th_day`, net of the pool fee, USD.
pub fn mining_revenue_usd(
    hashrate_th: f64,
    seconds: f64,
    hashprice_usd_per_th_day: f64,
    pool_fee: f64,
) -> f64 {
    hashrate_th * hashprice_usd_per_th_day * (seconds / SECONDS_PER_DAY) * (1.0 - pool_fee)
}

/// BTC credited for the same work at BTC/USD price `btc_usd`.
pub fn btc_mined(
    hashrate_th: f64,
    seconds: f64,
    hashprice_usd_per_th_day: f64,
    btc_usd: f64,
    pool_fee: f64,
) -> f64 {
    mining_revenue_usd(hashrate_th, seconds, hashprice_usd_per_th_day, pool_fee) / btc_usd
}

/// Energy cost of drawing `power_w` W at the miner for `seconds` at
/// `usd_per_mwh`, the facility overhead included through `pue`, USD.
pub fn energy_cost_usd(power_w: f64, seconds: f64, usd_per_mwh: f64, pue: f64) -> f64 {
    power_w * pue * seconds / 3.6e9 * usd_per_mwh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_s21_at_50_per_ph_day() {
        // 200 TH/s × $0.050/TH/day × 0.975 = $9.75 a day.
        assert!((mining_revenue_usd(200.0, 86_400.0, 0.05, 0.025) - 9.75).abs() < 1e-12);
        // $48.75/PH/day / (17.5 × 0.024 MWh per PH/s-day) = $116.07/MWh.
        let b = breakeven_usd_per_mwh(17.5, 0.05, 0.025, 1.0);
        assert!((b - 48.75 / 0.42).abs() < 1e-9);
        assert!((MWH_PER_JTH_DAY - 2.4e-5).abs() < 1e-18);
        // At $100,000/BTC: 9.75e-5 BTC a day.
        assert!((btc_mined(200.0, 86_400.0, 0.05, 100_000.0, 0.025) - 9.75e-5).abs() < 1e-15);
    }
}
