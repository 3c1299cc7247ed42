//! Latency quantiles from an HdrHistogram.

use hdrhistogram::Histogram;

use crate::time::SimDuration;

/// Records durations (µs) and answers quantiles to three significant digits.
///
/// Backed by the `hdrhistogram` crate: memory is fixed by the range and
/// precision, recording is O(1) with no allocation (the range grows by
/// doubling when a larger value arrives), and quantiles are exact to 0.1 %.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram with three significant digits.
    ///
    /// # Panics
    /// Never: three significant digits is a valid precision.
    pub fn new() -> Self {
        // Starts at 1 µs to 1 hour and grows on demand.
        let mut histogram =
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        histogram.auto(true);
        LatencyHistogram { histogram }
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        // With auto-resize on, recording only fails for values above u64::MAX / 2.
        let _ = self.histogram.record(d.as_micros());
    }

    /// The number of durations recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The `q`-quantile (0 ≤ q ≤ 1), e.g. `quantile(0.99)` for p99; zero when empty.
    pub fn quantile(&self, q: f64) -> SimDuration {
        SimDuration::from_micros(self.histogram.value_at_quantile(q))
    }

    /// The mean of the recorded durations, in seconds.
    pub fn mean_secs(&self) -> f64 {
        self.histogram.mean() / 1e6
    }

    /// The largest recorded duration (to the histogram's precision).
    pub fn max(&self) -> SimDuration {
        SimDuration::from_micros(self.histogram.max())
    }

    /// Folds in another histogram's records.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Both auto-resize, so adding cannot fail on range.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Forgets every record.
    pub fn reset(&mut self) {
        self.histogram.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_uniform_grid() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000 {
            h.record(SimDuration::from_millis(ms));
        }
        let within = |d: SimDuration, ms: f64| (d.as_secs_f64() * 1e3 - ms).abs() / ms < 1e-3;
        assert!(within(h.quantile(0.5), 500.0), "{}", h.quantile(0.5));
        assert!(within(h.quantile(0.95), 950.0), "{}", h.quantile(0.95));
        assert!(within(h.quantile(0.99), 990.0), "{}", h.quantile(0.99));
        assert_eq!(h.count(), 1000);
        assert!((h.mean_secs() - 0.5005).abs() < 1e-3);
    }

    #[test]
    fn zero_and_very_long_durations_are_kept() {
        let mut h = LatencyHistogram::new();
        h.record(SimDuration::ZERO);
        h.record(SimDuration::from_days(30));
        assert_eq!(h.count(), 2);
        assert_eq!(h.quantile(0.0), SimDuration::ZERO);
        let max_days = h.max().as_secs_f64() / 86_400.0;
        assert!((max_days - 30.0).abs() / 30.0 < 1e-3, "{max_days}");
    }

    #[test]
    fn merge_combines_records() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(SimDuration::from_millis(10));
        b.record(SimDuration::from_millis(30));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        let max_ms = a.max().as_secs_f64() * 1e3;
        assert!((max_ms - 30.0).abs() / 30.0 < 1e-3, "{max_ms}");
        a.reset();
        assert_eq!(a.count(), 0);
    }
}
