//! Time averages of piecewise-constant signals (queue length, power draw).

use crate::time::{SimDuration, SimTime};

/// The time-weighted mean, min and max of a signal that changes at events.
///
/// The signal holds its value until the next [`set`](Self::set); the mean
/// over `[start, now]` is ∫ value dt / (now − start). The integral is kept in
/// value·microseconds as `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeWeighted {
    start: SimTime,
    last_change: SimTime,
    value: f64,
    area: f64,
    min: f64,
    max: f64,
}

impl TimeWeighted {
    /// A signal with value `initial` from `start` on.
    pub fn new(start: SimTime, initial: f64) -> Self {
        TimeWeighted {
            start,
            last_change: start,
            value: initial,
            area: 0.0,
            min: initial,
            max: initial,
        }
    }

    /// The signal changes to `value` at `now`.
    ///
    /// # Panics
    /// Panics (in debug builds) if `now` precedes the previous change.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: f64) {
        debug_assert!(
            now >= self.last_change,
            "time-weighted signal went back in time"
        );
        let held = now.saturating_since(self.last_change);
        self.area += self.value * held.as_micros() as f64;
        self.last_change = now;
        self.value = value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The signal changes by `delta` at `now`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: f64) {
        self.set(now, self.value + delta);
    }

    /// The current value.
    pub const fn value(&self) -> f64 {
        self.value
    }

    /// The time average over `[start, now]`; the current value if no time has passed.
    pub fn mean(&self, now: SimTime) -> f64 {
        let elapsed = now.saturating_since(self.start);
        if elapsed.is_zero() {
            return self.value;
        }
        let tail = self.value * now.saturating_since(self.last_change).as_micros() as f64;
        (self.area + tail) / elapsed.as_micros() as f64
    }

    /// ∫ value dt over `[start, now]`, in value·hours (MW → MWh).
    pub fn integral_hours(&self, now: SimTime) -> f64 {
        let hours = SimDuration::from_hours(1).as_micros() as f64;
        let tail = self.value * now.saturating_since(self.last_change).as_micros() as f64;
        (self.area + tail) / hours
    }

    /// The smallest value held since the start.
    pub const fn min(&self) -> f64 {
        self.min
    }

    /// The largest value held since the start.
    pub const fn max(&self) -> f64 {
        self.max
    }

    /// Restarts averaging at `now`, keeping the current value (end of warm-up).
    pub fn reset(&mut self, now: SimTime) {
        *self = TimeWeighted::new(now, self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    #[test]
    fn averages_over_time_not_over_changes() {
        // 0 for 1 s, 10 for 1 s, 4 for 2 s: mean (0 + 10 + 8) / 4 = 4.5.
        let mut q = TimeWeighted::new(at(0), 0.0);
        q.set(at(1), 10.0);
        q.set(at(2), 4.0);
        assert!((q.mean(at(4)) - 4.5).abs() < 1e-12);
        assert_eq!((q.min(), q.max()), (0.0, 10.0));
        q.add(at(4), -4.0);
        assert_eq!(q.value(), 0.0);
    }

    #[test]
    fn integral_in_hours_gives_energy() {
        // 50 MW for 30 minutes then 20 MW for 15 minutes = 25 + 5 = 30 MWh.
        let mut p = TimeWeighted::new(SimTime::ZERO, 50.0);
        p.set(SimTime::ZERO + SimDuration::from_minutes(30), 20.0);
        let end = SimTime::ZERO + SimDuration::from_minutes(45);
        assert!((p.integral_hours(end) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn reset_discards_the_warm_up() {
        let mut q = TimeWeighted::new(at(0), 100.0);
        q.set(at(10), 2.0);
        q.reset(at(10));
        q.set(at(12), 4.0);
        assert!((q.mean(at(14)) - 3.0).abs() < 1e-12);
        assert_eq!(q.max(), 4.0);
    }
}
