//! A plain event counter with a rate over simulated time.

use crate::time::SimDuration;

/// Counts occurrences (arrivals, switches, SLA misses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    count: u64,
}

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Counter { count: 0 }
    }

    /// Adds one.
    #[inline]
    pub fn increment(&mut self) {
        self.count += 1;
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&mut self, n: u64) {
        self.count += n;
    }

    /// The count so far.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// Occurrences per second over `window` (zero for an empty window).
    pub fn rate_per_sec(&self, window: SimDuration) -> f64 {
        if window.is_zero() {
            0.0
        } else {
            self.count as f64 / window.as_secs_f64()
        }
    }

    /// Back to zero.
    pub fn reset(&mut self) {
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let mut c = Counter::new();
        c.increment();
        c.add(9);
        assert_eq!(c.count(), 10);
        assert!((c.rate_per_sec(SimDuration::from_secs(4)) - 2.5).abs() < 1e-12);
        assert_eq!(c.rate_per_sec(SimDuration::ZERO), 0.0);
        c.reset();
        assert_eq!(c.count(), 0);
    }
}
