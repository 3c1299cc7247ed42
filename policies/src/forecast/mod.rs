//! Forecasters behind the contract's [`Forecaster`] seam: what a policy may
//! know of the prices ahead, learnt only from the observations the twin
//! shows them, one per market interval, in order.
//!
//! - [`SeasonalNaive`]: each future interval equals the same interval one
//!   period (a day) back;
//! - [`Autoregressive`]: an AR(p) on deviations from a rolling daily
//!   profile, refitted by least squares on a rolling window.
//!
//! Both forecast every site's spot price (USD/MWh) and the hashprice
//! (USD per TH/s per day); both fall back to persistence (the last value
//! seen) until they have seen enough. [`Persistence`] itself is built into
//! the contract.
//!
//! [`Forecaster`]: hcp_contract::Forecaster
//! [`Persistence`]: hcp_contract::Persistence

mod autoregressive;
mod seasonal_naive;

pub use autoregressive::{Autoregressive, AutoregressiveParams};
pub use seasonal_naive::{SeasonalNaive, SeasonalNaiveParams};

use hcp_contract::Observation;

/// Intervals in `period_hours` at the observation's interval length (at
/// least one).
// A rounded, clamped, positive count of intervals.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn intervals_in(period_hours: f64, o: &Observation) -> usize {
    if o.interval_s > 0.0 && period_hours.is_finite() && period_hours > 0.0 {
        (period_hours * 3600.0 / o.interval_s)
            .round()
            .clamp(1.0, 1e7) as usize
    } else {
        1
    }
}
