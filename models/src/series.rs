//! Regular time series on simulated time, and the horizon they cover.
//!
//! Every price the tape holds is a [`RegularSeries`]: a start, a fixed step
//! and one `f64` per interval, read by interval index or by [`SimTime`]
//! (the value of the interval containing that instant). A year of 5-minute
//! values is 105,120 numbers, 0.8 MB.

use chrono::{DateTime, Utc};
use hcp_engine::calendar::Epoch;
use hcp_engine::time::{SimDuration, SimTime};
use serde::Serialize;

/// The simulated span a tape covers: a UTC start (the epoch), a length and
/// the market interval every regular series of the tape uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// Calendar start of simulated time zero.
    pub epoch: Epoch,
    /// Length of the horizon.
    pub length: SimDuration,
    /// The market interval (5 or 15 minutes in the built-in scenarios).
    pub step: SimDuration,
}

impl Horizon {
    /// A horizon starting at `start`, `days` long, on `step_minutes` intervals.
    pub fn days(start: DateTime<Utc>, days: u64, step_minutes: u64) -> Horizon {
        Horizon {
            epoch: Epoch::new(start),
            length: SimDuration::from_days(days),
            step: SimDuration::from_minutes(step_minutes),
        }
    }

    /// Number of whole intervals in the horizon.
    pub fn intervals(&self) -> usize {
        usize::try_from(self.length.as_micros() / self.step.as_micros().max(1))
            .unwrap_or(usize::MAX)
    }

    /// Start of interval `i`.
    pub fn time_of(&self, i: usize) -> SimTime {
        SimTime::from_micros(self.step.as_micros() * i as u64)
    }

    /// End of the horizon.
    pub fn end(&self) -> SimTime {
        SimTime::ZERO + self.length
    }
}

/// Values at a fixed step from a start instant; the value of interval `i`
/// holds over `[start + i·step, start + (i+1)·step)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegularSeries {
    start: SimTime,
    step: SimDuration,
    values: Vec<f64>,
}

impl RegularSeries {
    /// A series of `values` starting at `start`, one per `step`.
    ///
    /// # Panics
    /// If `step` is zero.
    pub fn new(start: SimTime, step: SimDuration, values: Vec<f64>) -> Self {
        assert!(!step.is_zero(), "a series needs a positive step");
        RegularSeries {
            start,
            step,
            values,
        }
    }

    /// First instant covered.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// Interval length.
    pub fn step(&self) -> SimDuration {
        self.step
    }

    /// All values, one per interval.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no interval.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Index of the interval containing `t`, if the series covers it.
    pub fn index_of(&self, t: SimTime) -> Option<usize> {
        let offset = t.as_micros().checked_sub(self.start.as_micros())?;
        let i = usize::try_from(offset / self.step.as_micros()).ok()?;
        (i < self.values.len()).then_some(i)
    }

    /// The value of the interval containing `t`, if covered.
    pub fn at(&self, t: SimTime) -> Option<f64> {
        self.index_of(t).map(|i| self.values[i])
    }

    /// Mean of the values (NaN when empty).
    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_time_holds_each_value_over_its_interval() {
        let s = RegularSeries::new(
            SimTime::from_micros(1_000),
            SimDuration::from_micros(10),
            vec![1.0, 2.0, 3.0],
        );
        assert_eq!(s.at(SimTime::from_micros(999)), None);
        assert_eq!(s.at(SimTime::from_micros(1_000)), Some(1.0));
        assert_eq!(s.at(SimTime::from_micros(1_019)), Some(2.0));
        assert_eq!(s.at(SimTime::from_micros(1_029)), Some(3.0));
        assert_eq!(s.at(SimTime::from_micros(1_030)), None);
    }

    #[test]
    fn a_year_of_five_minute_intervals() {
        let start = DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let h = Horizon::days(start, 365, 5);
        assert_eq!(h.intervals(), 105_120);
        assert_eq!(h.time_of(12), SimTime::ZERO + SimDuration::from_hours(1));
    }
}
