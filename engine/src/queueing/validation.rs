//! The engine's validation suite: simulated queues against closed forms.
//!
//! Each [`ValidationCase`] is a queue with a textbook answer. Running it for
//! several independent replications (each on its own RNG streams) gives, per
//! metric, a replication mean and a Student-t 95 % confidence interval, which
//! [`checks`] compares with the closed form: a [`Check`] passes when the
//! relative error is within its tolerance.
//!
//! # Run lengths
//! Waits at ρ = 0.9 are strongly autocorrelated, so lengths were chosen from
//! measured spread, not guessed. A pilot of 10 replications × 2,000,000
//! customers gave a standard error of 0.82 % for the M/M/8 mean wait; the
//! standard case runs 10 × 6,000,000, for a standard error near 0.47 %, so
//! the 2 % tolerance sits about four standard errors out: a correct engine
//! passes for practically any seed, and a bias of 2 % or more fails. M/M/1
//! and M/D/1 at ρ = 0.8 need less (pilot standard errors 0.32 % and 0.16 %
//! at 10 × 2,000,000). Warm-up covers at least 20 relaxation times
//! 1/(cμ(1−√ρ)²) of each queue: ≈ 48 s at ρ = 0.9, c = 8, μ = 1, about
//! 6,800 customers, rounded up to 10,000; ≈ 90 s (72 customers) for the
//! ρ = 0.8 single-server queues, which discard a generous 20,000.

use serde::Serialize;

use crate::stats::{ConfidenceInterval, Tally};

use super::closed_form::{MmcQueue, QueueError, pollaczek_khinchine_mean_wait};
use super::mmc::{MmcConfig, MmcResult};
use super::station::{ServiceTime, StationStats};

/// A queue with a known answer, and how long to simulate it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ValidationCase {
    /// Short name, e.g. `M/M/8 ρ=0.9`.
    pub name: &'static str,
    /// The queue.
    pub config: MmcConfig,
    /// Independent replications to run.
    pub replications: u64,
}

/// One metric of one case: simulated against expected.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The case's name.
    pub case: String,
    /// The metric, e.g. `mean wait W_q`.
    pub metric: String,
    /// Its unit, e.g. `s`.
    pub unit: String,
    /// The closed-form value.
    pub expected: f64,
    /// The replication mean and its 95 % confidence interval.
    pub simulated: ConfidenceInterval,
    /// (simulated − expected) / expected.
    pub relative_error: f64,
    /// Largest accepted |relative error|.
    pub tolerance: f64,
    /// Whether |relative error| ≤ tolerance.
    pub passed: bool,
}

/// The standard suite: M/M/8 at ρ = 0.9 (the reference), M/M/1 and
/// M/D/1 at ρ = 0.8. `scale` multiplies the replication counts (1 for the
/// `hcp validate engine` command; tests use the same lengths).
pub fn standard_cases(scale: u64) -> Vec<ValidationCase> {
    let scale = scale.max(1);
    vec![
        ValidationCase {
            name: "M/M/8 ρ=0.9",
            config: MmcConfig::mmc(8, 0.9, 6_000_000, 10_000),
            replications: 10 * scale,
        },
        ValidationCase {
            name: "M/M/1 ρ=0.8",
            config: MmcConfig::mmc(1, 0.8, 2_000_000, 20_000),
            replications: 10 * scale,
        },
        ValidationCase {
            name: "M/D/1 ρ=0.8",
            config: MmcConfig {
                servers: 1,
                arrival_rate: 0.8,
                service: ServiceTime::Deterministic { seconds: 1.0 },
                customers: 2_000_000,
                warmup_customers: 20_000,
            },
            replications: 10 * scale,
        },
    ]
}

/// Compares the replications `results` of `case` with the closed form.
///
/// # Errors
/// [`QueueError`] if the case describes an unstable or invalid queue.
pub fn checks(case: &ValidationCase, results: &[MmcResult]) -> Result<Vec<Check>, QueueError> {
    let cfg = &case.config;
    let rho = cfg.utilisation();
    let mean_wait = match cfg.service {
        ServiceTime::Exponential { rate } => {
            MmcQueue::new(cfg.arrival_rate, rate, cfg.servers)?.mean_wait()
        }
        ServiceTime::Deterministic { .. } => {
            pollaczek_khinchine_mean_wait(cfg.arrival_rate, cfg.service.mean(), 0.0)?
        }
    };
    let prob_wait = match cfg.service {
        ServiceTime::Exponential { rate } => {
            MmcQueue::new(cfg.arrival_rate, rate, cfg.servers)?.prob_wait()
        }
        // M/G/1: an arrival waits iff the server is busy, which by PASTA has probability ρ.
        ServiceTime::Deterministic { .. } => rho,
    };

    let mut out = Vec::new();
    let mut check = |metric: &str,
                     unit: &str,
                     expected: f64,
                     tolerance: f64,
                     pick: fn(&StationStats) -> f64| {
        let mut tally = Tally::new();
        for r in results {
            tally.record(pick(&r.stats));
        }
        let simulated = tally
            .confidence_interval(0.95)
            .unwrap_or(ConfidenceInterval {
                mean: tally.mean(),
                half_width: f64::NAN,
                level: 0.95,
            });
        let relative_error = (simulated.mean - expected) / expected;
        out.push(Check {
            case: case.name.to_string(),
            metric: metric.to_string(),
            unit: unit.to_string(),
            expected,
            simulated,
            relative_error,
            tolerance,
            passed: relative_error.abs() <= tolerance,
        });
    };

    check("mean wait W_q", "s", mean_wait, 0.02, |s| s.mean_wait);
    check("P(wait)", "", prob_wait, 0.01, |s| s.prob_wait);
    check(
        "mean queue L_q",
        "customers",
        cfg.arrival_rate * mean_wait,
        0.02,
        |s| s.mean_queue_length,
    );
    check("utilisation", "", rho, 0.005, |s| s.utilisation);
    if let ServiceTime::Exponential { rate } = cfg.service {
        let queue = MmcQueue::new(cfg.arrival_rate, rate, cfg.servers)?;
        // Quantiles below 1 − C are zero; only those above it are checked.
        for (metric, q, pick) in [
            (
                "wait p50",
                0.50,
                (|s: &StationStats| s.wait_p50) as fn(&StationStats) -> f64,
            ),
            ("wait p95", 0.95, |s: &StationStats| s.wait_p95),
            ("wait p99", 0.99, |s: &StationStats| s.wait_p99),
        ] {
            let expected = queue.wait_quantile(q);
            if expected > 0.0 {
                check(metric, "s", expected, 0.03, pick);
            }
        }
    }
    Ok(out)
}
