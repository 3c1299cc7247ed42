//! Hashprice: the expected revenue of one unit of hashrate per day.
//!
//! A hash finds a block with probability 1/(D·2³²), so one PH/s finds
//! 10¹⁵·86,400/(D·2³²) blocks per day; each pays subsidy + fees (BTC);
//! times the BTC price this is USD per PH/s per day. Divide by 1,000 for
//! USD per TH/s per day.

use super::chain::HASHES_PER_DIFFICULTY;

/// Hashes per second in one PH/s.
pub const HASHES_PER_PH: f64 = 1e15;
/// Seconds in a day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// Expected blocks per day found by 1 PH/s at difficulty `difficulty`.
pub fn blocks_per_ph_day(difficulty: f64) -> f64 {
    HASHES_PER_PH * SECONDS_PER_DAY / (difficulty * HASHES_PER_DIFFICULTY)
}

/// BTC per PH/s per day for a block reward of `reward_btc` (subsidy + fees).
pub fn btc_per_ph_day(difficulty: f64, reward_btc: f64) -> f64 {
    blocks_per_ph_day(difficulty) * reward_btc
}

/// USD per PH/s per day.
pub fn usd_per_ph_day(difficulty: f64, subsidy_btc: f64, fees_btc: f64, price_usd: f64) -> f64 {
    btc_per_ph_day(difficulty, subsidy_btc + fees_btc) * price_usd
}

/// USD per TH/s per day.
pub fn usd_per_th_day(difficulty: f64, subsidy_btc: f64, fees_btc: f64, price_usd: f64) -> f64 {
    usd_per_ph_day(difficulty, subsidy_btc, fees_btc, price_usd) / 1_000.0
}
