//! [`Integral`]: the time integral of a piecewise-constant rate (power in
//! W, hashrate in TH/s, GPUs in a use), updated lazily when the rate
//! changes, so energy and hashes are exact between events at O(1) cost.

use hcp_engine::time::SimTime;

/// ∫ rate dt since the last [`take`](Integral::take), in rate·seconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Integral {
    since: SimTime,
    rate: f64,
    sum: f64,
}

impl Integral {
    /// Sets the rate from `now` on.
    #[inline]
    pub(crate) fn set(&mut self, now: SimTime, rate: f64) {
        self.advance(now);
        self.rate = rate;
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        let dt = now.as_micros().saturating_sub(self.since.as_micros());
        self.sum += self.rate * dt as f64 * 1e-6;
        self.since = now;
    }

    /// The integral up to `now` since the last take, and restarts it.
    #[inline]
    pub(crate) fn take(&mut self, now: SimTime) -> f64 {
        self.advance(now);
        std::mem::take(&mut self.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_a_step_function_exactly() {
        let mut power = Integral::default();
        power.set(SimTime::ZERO, 100.0);
        power.set(SimTime::from_micros(10_000_000), 50.0);
        assert_eq!(
            power.take(SimTime::from_micros(30_000_000)),
            100.0 * 10.0 + 50.0 * 20.0
        );
        assert_eq!(power.take(SimTime::from_micros(31_000_000)), 50.0);
    }
}
