//! The bridge from simulated time to the calendar.
//!
//! A scenario starts at a UTC instant (its [`Epoch`]); simulated time counts
//! microseconds from there. Reports, market replays and the viewer need real
//! dates ("which day of the February 2021 storm is this?"), so the epoch maps
//! both ways. The mapping is pure arithmetic on UTC, with no time zones and no
//! wall clock, so it is as deterministic as the simulation. Local market time
//! (ERCOT's Central prevailing time, say) is the concern of the model that
//! reads such data, not of the engine.

use chrono::{DateTime, TimeDelta, Utc};

use crate::time::{SimDuration, SimTime};

/// The UTC instant at which simulated time zero falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch {
    start: DateTime<Utc>,
}

/// A calendar instant that simulated time cannot represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The instant precedes the scenario start.
    #[error("{instant} is before the scenario start {start}")]
    BeforeStart {
        /// The rejected instant.
        instant: DateTime<Utc>,
        /// The scenario start.
        start: DateTime<Utc>,
    },
    /// The instant lies too far after the start for the calendar library.
    #[error("simulated time {0} is beyond the supported calendar range")]
    OutOfRange(SimTime),
}

impl Epoch {
    /// An epoch whose simulated time zero is `start`.
    pub const fn new(start: DateTime<Utc>) -> Self {
        Epoch { start }
    }

    /// The UTC instant of simulated time zero.
    pub const fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The UTC instant of simulated time `t`.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] if `t` lies beyond year 262,143, the end
    /// of `chrono`'s calendar.
    pub fn to_utc(&self, t: SimTime) -> Result<DateTime<Utc>, CalendarError> {
        i64::try_from(t.as_micros())
            .ok()
            .map(TimeDelta::microseconds)
            .and_then(|delta| self.start.checked_add_signed(delta))
            .ok_or(CalendarError::OutOfRange(t))
    }

    /// The simulated time of the UTC instant `instant`, truncated to the microsecond.
    ///
    /// # Errors
    /// [`CalendarError::BeforeStart`] if `instant` precedes the epoch.
    pub fn to_sim(&self, instant: DateTime<Utc>) -> Result<SimTime, CalendarError> {
        let delta = instant.signed_duration_since(self.start);
        // num_microseconds only fails beyond ±292,000 years, which DateTime cannot reach.
        let micros = delta.num_microseconds().unwrap_or(i64::MIN);
        u64::try_from(micros)
            .map(SimTime::from_micros)
            .map_err(|_| CalendarError::BeforeStart {
                instant,
                start: self.start,
            })
    }

    /// Simulated time at which the UTC day containing `t` began (for daily roll-ups).
    ///
    /// # Errors
    /// As [`to_utc`](Self::to_utc); also [`CalendarError::BeforeStart`] when the
    /// day began before the epoch (the first, partial day maps to time zero).
    pub fn start_of_day(&self, t: SimTime) -> Result<SimTime, CalendarError> {
        let utc = self.to_utc(t)?;
        let midnight = utc
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|naive| naive.and_utc())
            .ok_or(CalendarError::OutOfRange(t))?;
        if midnight < self.start {
            Ok(SimTime::ZERO)
        } else {
            self.to_sim(midnight)
        }
    }

    /// The span between the epoch and `instant`, if it is not before the epoch.
    ///
    /// # Errors
    /// [`CalendarError::BeforeStart`] if `instant` precedes the epoch.
    pub fn offset_of(&self, instant: DateTime<Utc>) -> Result<SimDuration, CalendarError> {
        self.to_sim(instant).map(SimTime::since_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn epoch() -> Epoch {
        Epoch::new(Utc.with_ymd_and_hms(2021, 2, 1, 6, 0, 0).unwrap())
    }

    #[test]
    fn maps_both_ways() {
        let e = epoch();
        let t = SimTime::ZERO + SimDuration::from_days(14) + SimDuration::from_minutes(15);
        let utc = e.to_utc(t).unwrap();
        assert_eq!(utc, Utc.with_ymd_and_hms(2021, 2, 15, 6, 15, 0).unwrap());
        assert_eq!(e.to_sim(utc).unwrap(), t);
    }

    #[test]
    fn leap_day_is_counted() {
        let e = Epoch::new(Utc.with_ymd_and_hms(2024, 2, 28, 0, 0, 0).unwrap());
        let march_first = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(e.offset_of(march_first).unwrap(), SimDuration::from_days(2));
    }

    #[test]
    fn before_start_is_an_error() {
        let e = epoch();
        let early = Utc.with_ymd_and_hms(2021, 1, 31, 0, 0, 0).unwrap();
        let err = e.to_sim(early).unwrap_err();
        assert!(
            err.to_string().contains("before the scenario start"),
            "{err}"
        );
    }

    #[test]
    fn start_of_day_truncates_to_utc_midnight() {
        let e = epoch();
        // 2021-02-02 05:00 UTC is 23 h after the 06:00 start; its day began at 18 h.
        let t = SimTime::ZERO + SimDuration::from_hours(23);
        assert_eq!(
            e.start_of_day(t).unwrap(),
            SimTime::ZERO + SimDuration::from_hours(18)
        );
        // The first, partial day maps to time zero.
        let first = SimTime::ZERO + SimDuration::from_hours(2);
        assert_eq!(e.start_of_day(first).unwrap(), SimTime::ZERO);
    }
}
