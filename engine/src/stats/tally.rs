//! Welford's running mean and variance, with exact merging and confidence intervals.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Running statistics of a stream of observations.
///
/// Uses Welford's update, which stays accurate where the naive
/// sum-of-squares formula cancels catastrophically, and Chan et al.'s
/// pairwise formula to merge tallies (from replications run in parallel)
/// exactly as if all observations had gone into one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

/// A two-sided confidence interval for a mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The sample mean.
    pub mean: f64,
    /// Half the interval's width: the interval is `mean ± half_width`.
    pub half_width: f64,
    /// The confidence level, e.g. 0.95.
    pub level: f64,
}

impl ConfidenceInterval {
    /// The lower end.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// The upper end.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }

    /// Whether `x` lies inside the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low() <= x && x <= self.high()
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    /// An empty tally.
    pub const fn new() -> Self {
        Tally {
            count: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one observation.
    #[inline]
    pub fn record(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Folds `other` in, as if its observations had been recorded here.
    pub fn merge(&mut self, other: &Tally) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * n_b / n;
        self.m2 += other.m2 + delta * delta * n_a * n_b / n;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Forgets every observation (e.g. at the end of a warm-up period).
    pub fn reset(&mut self) {
        *self = Tally::new();
    }

    /// The number of observations.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// The sample mean (NaN when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.mean }
    }

    /// The unbiased sample variance (NaN with fewer than two observations).
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// The sample standard deviation.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The standard error of the mean, assuming independent observations.
    pub fn std_error(&self) -> f64 {
        (self.variance() / self.count as f64).sqrt()
    }

    /// The smallest observation (+∞ when empty).
    pub const fn min(&self) -> f64 {
        self.min
    }

    /// The largest observation (−∞ when empty).
    pub const fn max(&self) -> f64 {
        self.max
    }

    /// Student-t confidence interval for the mean at `level` (e.g. 0.95),
    /// assuming independent, roughly normal observations — such as the means
    /// of independent replications. `None` with fewer than two observations
    /// or a level outside (0, 1).
    pub fn confidence_interval(&self, level: f64) -> Option<ConfidenceInterval> {
        if self.count < 2 || !(level > 0.0 && level < 1.0) {
            return None;
        }
        let t = StudentsT::new(0.0, 1.0, (self.count - 1) as f64).ok()?;
        let quantile = t.inverse_cdf(0.5 + level / 2.0);
        Some(ConfidenceInterval {
            mean: self.mean,
            half_width: quantile * self.std_error(),
            level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(xs: &[f64]) -> Tally {
        let mut t = Tally::new();
        for &x in xs {
            t.record(x);
        }
        t
    }

    #[test]
    fn textbook_values() {
        let t = tally(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(t.count(), 8);
        assert!((t.mean() - 5.0).abs() < 1e-12);
        // Population variance is 4; the unbiased sample variance is 32/7.
        assert!((t.variance() - 32.0 / 7.0).abs() < 1e-12);
        assert_eq!((t.min(), t.max()), (2.0, 9.0));
    }

    #[test]
    fn stays_accurate_with_a_large_offset() {
        // The naive Σx² − n·x̄² formula loses every digit here.
        let t = tally(&[1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0]);
        assert!((t.variance() - 30.0).abs() < 1e-6, "{}", t.variance());
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| f64::from(i).sin() * 100.0 + 3.0)
            .collect();
        let whole = tally(&xs);
        let mut merged = tally(&xs[..317]);
        merged.merge(&tally(&xs[317..]));
        merged.merge(&Tally::new());
        assert_eq!(merged.count(), whole.count());
        assert!((merged.mean() - whole.mean()).abs() < 1e-12);
        assert!((merged.variance() - whole.variance()).abs() < 1e-9);
        assert_eq!((merged.min(), merged.max()), (whole.min(), whole.max()));
    }

    #[test]
    fn confidence_interval_uses_student_t() {
        // n = 5, mean 3, s = √2.5; t(0.975, 4) = 2.776445105.
        let t = tally(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let ci = t.confidence_interval(0.95).unwrap();
        let expected = 2.776_445_105 * (2.5f64 / 5.0).sqrt();
        assert!((ci.half_width - expected).abs() < 1e-6, "{}", ci.half_width);
        assert!(ci.contains(3.0) && !ci.contains(5.0));
        assert!(tally(&[1.0]).confidence_interval(0.95).is_none());
        assert!(t.confidence_interval(1.5).is_none());
    }

    #[test]
    fn empty_tally_is_nan_not_zero() {
        let t = Tally::new();
        assert!(t.mean().is_nan() && t.variance().is_nan());
    }
}
