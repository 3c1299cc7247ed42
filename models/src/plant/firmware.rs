//! Miner firmware: whether it can hold a power target, what a curtailed
//! miner draws, and how long curtailing and resuming take.
//!
//! Units: power in W, latencies in seconds (returned as [`SimDuration`]).
//! Each latency is log-normal, given by its median `m` and 99th percentile
//! `q`: `ln T ~ N(ln m, σ²)` with `σ = ln(q/m) / z₀.₉₉` (z₀.₉₉ = 2.3263).
//! Draws are clamped to `[0, max]`, the documented hard bound the twin uses
//! for power-cap budgeting, so no sample ever exceeds it. A draw takes one
//! standard-normal variate from the caller's stream and allocates nothing.

use hcp_engine::time::SimDuration;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The standard-normal 99th percentile.
pub const Z_P99: f64 = 2.326_347_874_040_841;

/// Longest curtail time of load that qualifies as ancillary capacity, s.
pub const ANCILLARY_SHED_S: f64 = 10.0;

/// One firmware kind and its curtail/resume behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmwareSpec {
    /// Name: "stock", "luxos".
    pub name: String,
    /// Whether the miner can run at a power target (otherwise only on/off
    /// at stock power).
    pub supports_power_target: bool,
    /// Draw of a curtailed (sleeping) miner at the wall, W.
    pub standby_w: f64,
    /// Median time from the curtail command to standby draw, s.
    pub curtail_median_s: f64,
    /// 99th percentile of the curtail time, s.
    pub curtail_p99_s: f64,
    /// Hard upper bound of the curtail time, s (draws are clamped to it).
    pub curtail_max_s: f64,
    /// Median time from the resume command to full hashrate, s.
    pub resume_median_s: f64,
    /// 99th percentile of the resume time, s.
    pub resume_p99_s: f64,
    /// Hard upper bound of the resume time, s (draws are clamped to it).
    pub resume_max_s: f64,
}

impl FirmwareSpec {
    /// A curtail latency drawn from `rng`, never above
    /// [`max_curtail_latency`](Self::max_curtail_latency).
    pub fn curtail_latency<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        draw(
            rng,
            self.curtail_median_s,
            self.curtail_p99_s,
            self.curtail_max_s,
        )
    }

    /// A resume latency drawn from `rng`, never above
    /// [`max_resume_latency`](Self::max_resume_latency).
    pub fn resume_latency<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        draw(
            rng,
            self.resume_median_s,
            self.resume_p99_s,
            self.resume_max_s,
        )
    }

    /// The longest a curtail can take.
    pub fn max_curtail_latency(&self) -> SimDuration {
        SimDuration::from_secs_f64(self.curtail_max_s)
    }

    /// Whether miners on this firmware shed their load fast enough to be
    /// offered as ancillary capacity (within [`ANCILLARY_SHED_S`]).
    pub fn sheds_for_ancillary(&self) -> bool {
        self.max_curtail_latency().as_secs_f64() <= ANCILLARY_SHED_S
    }

    /// The longest a resume can take.
    pub fn max_resume_latency(&self) -> SimDuration {
        SimDuration::from_secs_f64(self.resume_max_s)
    }

    /// σ of ln(curtail time).
    pub fn curtail_sigma(&self) -> f64 {
        sigma(self.curtail_median_s, self.curtail_p99_s)
    }

    /// σ of ln(resume time).
    pub fn resume_sigma(&self) -> f64 {
        sigma(self.resume_median_s, self.resume_p99_s)
    }

    /// Checks every range; a sentence naming the first problem.
    ///
    /// # Errors
    /// A negative standby draw; a latency whose median, p99 and bound are
    /// not `0 < median ≤ p99 ≤ max` (finite, at most a day).
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.name;
        if !(self.standby_w.is_finite() && self.standby_w >= 0.0) {
            return Err(format!(
                "firmware '{n}': standby_w must be zero or positive, got {}",
                self.standby_w
            ));
        }
        for (what, m, q, max) in [
            (
                "curtail",
                self.curtail_median_s,
                self.curtail_p99_s,
                self.curtail_max_s,
            ),
            (
                "resume",
                self.resume_median_s,
                self.resume_p99_s,
                self.resume_max_s,
            ),
        ] {
            if !(m > 0.0 && m <= q && q <= max && max <= 86_400.0) {
                return Err(format!(
                    "firmware '{n}': need 0 < {what}_median_s ≤ {what}_p99_s ≤ {what}_max_s ≤ 86400, got {m}, {q}, {max}"
                ));
            }
        }
        Ok(())
    }
}

fn sigma(median: f64, p99: f64) -> f64 {
    (p99 / median).ln() / Z_P99
}

fn draw<R: Rng + ?Sized>(rng: &mut R, median: f64, p99: f64, max: f64) -> SimDuration {
    let z: f64 = StandardNormal.sample(rng);
    let seconds = median * (sigma(median, p99) * z).exp();
    SimDuration::from_secs_f64(seconds.clamp(0.0, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::asic::AsicCatalog;

    #[test]
    fn sigma_closed_form() {
        let c = AsicCatalog::default();
        let lux = c.firmware("luxos").unwrap();
        assert!((lux.curtail_sigma() - (4.5_f64 / 2.0).ln() / Z_P99).abs() < 1e-15);
        assert_eq!(lux.max_curtail_latency(), SimDuration::from_secs(5));
        assert_eq!(lux.max_resume_latency(), SimDuration::from_secs(10));
    }

    #[test]
    fn bad_latencies_rejected() {
        let mut f = AsicCatalog::default().firmware[1].clone();
        f.resume_p99_s = f.resume_max_s + 1.0;
        assert!(f.validate().unwrap_err().contains("resume_p99_s"));
        f = AsicCatalog::default().firmware[1].clone();
        f.standby_w = -1.0;
        assert!(f.validate().unwrap_err().contains("standby_w"));
    }
}
