//! Device failures and repairs, for any kind of device (ASIC or GPU).
//!
//! A working device fails at a constant rate (exponential lifetimes), given
//! as an annual failure rate (failures per device-year, 365-day year). The
//! twin draws the next failure in a cohort as exponential with rate
//! `working devices × failure_rate_per_s()` — no per-device objects — and
//! schedules one repair per failure, its duration log-normal with median
//! `repair_median_hours` and log-scale σ `repair_sigma`.

use hcp_engine::time::SimDuration;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Seconds in the 365-day year the annual failure rate refers to.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// Longest repair a draw may give: a year (a device not back by then is
/// written off in practice; the bound keeps tails finite).
pub const MAX_REPAIR_HOURS: f64 = 8_760.0;

/// Failure and repair parameters of one device kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityParams {
    /// Failures per device-year of operation.
    pub annual_failure_rate: f64,
    /// Median repair time, hours.
    pub repair_median_hours: f64,
    /// σ of ln(repair time).
    pub repair_sigma: f64,
}

impl ReliabilityParams {
    /// Failure rate of one working device, per second.
    pub fn failure_rate_per_s(&self) -> f64 {
        self.annual_failure_rate / SECONDS_PER_YEAR
    }

    /// Mean repair time, hours: median · exp(σ²/2).
    pub fn mean_repair_hours(&self) -> f64 {
        self.repair_median_hours * (0.5 * self.repair_sigma * self.repair_sigma).exp()
    }

    /// Long-run share of devices in repair: λ·MTTR / (1 + λ·MTTR).
    pub fn unavailability(&self) -> f64 {
        let x = self.failure_rate_per_s() * self.mean_repair_hours() * 3_600.0;
        x / (1.0 + x)
    }

    /// A repair time drawn from `rng` (one standard-normal variate), at most
    /// [`MAX_REPAIR_HOURS`].
    pub fn repair_time<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let z: f64 = StandardNormal.sample(rng);
        let hours =
            (self.repair_median_hours * (self.repair_sigma * z).exp()).clamp(0.0, MAX_REPAIR_HOURS);
        SimDuration::from_secs_f64(hours * 3_600.0)
    }

    /// Checks every range; a sentence naming the first problem.
    ///
    /// # Errors
    /// A negative or non-finite failure rate, a non-positive median repair
    /// time (or one above [`MAX_REPAIR_HOURS`]), a negative σ.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.annual_failure_rate.is_finite() && self.annual_failure_rate >= 0.0) {
            return Err(format!(
                "reliability: annual_failure_rate must be zero or positive, got {}",
                self.annual_failure_rate
            ));
        }
        if !(self.repair_median_hours > 0.0 && self.repair_median_hours <= MAX_REPAIR_HOURS) {
            return Err(format!(
                "reliability: repair_median_hours must be in (0, {MAX_REPAIR_HOURS}], got {}",
                self.repair_median_hours
            ));
        }
        if !(self.repair_sigma.is_finite() && self.repair_sigma >= 0.0) {
            return Err(format!(
                "reliability: repair_sigma must be zero or positive, got {}",
                self.repair_sigma
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_means() {
        let r = ReliabilityParams {
            annual_failure_rate: 0.1,
            repair_median_hours: 48.0,
            repair_sigma: 0.0,
        };
        assert!((r.failure_rate_per_s() * SECONDS_PER_YEAR - 0.1).abs() < 1e-15);
        assert_eq!(r.mean_repair_hours(), 48.0);
        // σ = 0: every repair is exactly the median.
        let mut rng = hcp_engine::rng::RngStreams::new(1, 0)
            .stream(hcp_engine::rng::StreamId::named("asic/test"));
        assert_eq!(r.repair_time(&mut rng), SimDuration::from_hours(48));
        let x = 0.1 * 48.0 / 8_760.0;
        assert!((r.unavailability() - x / (1.0 + x)).abs() < 1e-12);
        let bad = ReliabilityParams {
            repair_median_hours: 0.0,
            ..r
        };
        assert!(bad.validate().unwrap_err().contains("repair_median_hours"));
    }
}
