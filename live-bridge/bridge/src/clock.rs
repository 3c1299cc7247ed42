//! The bridge's time: the tape instant of epoch 0 (`start` in the
//! configuration, or the current market interval for a live fleet) plus
//! `speed` × the wall time since the bridge started. Epoch `k` begins at
//! `start + k × interval`; its observation carries `k × interval` as the
//! contract's simulated time, exactly as the twin's does, so a policy's
//! dwell times mean the same in both.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use hcp_engine::time::SimTime;

/// Tape time on the wall clock.
#[derive(Debug, Clone, Copy)]
pub struct BridgeClock {
    origin: DateTime<Utc>,
    wall_start: Instant,
    speed: f64,
    interval_s: f64,
}

impl BridgeClock {
    /// A clock on which `origin` is now and epochs last `interval_s`
    /// seconds of tape time, running `speed` times faster than wall time.
    pub fn new(origin: DateTime<Utc>, speed: f64, interval_s: f64) -> BridgeClock {
        BridgeClock {
            origin,
            wall_start: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            interval_s,
        }
    }

    /// A live clock: epoch 0 is the market interval `now` falls in, already
    /// under way, so tape time is the calendar time (at speed 1) and epochs
    /// begin on the market's interval boundaries.
    pub fn live(now: DateTime<Utc>, speed: f64, interval_s: f64) -> BridgeClock {
        let origin = BridgeClock::interval_start(now, interval_s);
        let mut clock = BridgeClock::new(origin, speed, interval_s);
        let into = (now - origin).to_std().unwrap_or_default();
        clock.wall_start = Instant::now()
            .checked_sub(into.div_f64(clock.speed))
            .unwrap_or(clock.wall_start);
        clock
    }

    /// The start of the market interval `now` falls in, for a live start.
    pub fn interval_start(now: DateTime<Utc>, interval_s: f64) -> DateTime<Utc> {
        // An interval is whole minutes; the remainder is below it.
        #[allow(clippy::cast_possible_truncation)]
        let step = (interval_s as i64).max(1);
        let secs = now.timestamp();
        DateTime::from_timestamp(secs - secs.rem_euclid(step), 0).unwrap_or(now)
    }

    /// Seconds of tape time since epoch 0.
    pub fn now_s(&self) -> f64 {
        self.wall_start.elapsed().as_secs_f64() * self.speed
    }

    /// The tape instant now.
    pub fn now_utc(&self) -> DateTime<Utc> {
        self.at(self.now_s())
    }

    /// The tape instant `s` seconds after epoch 0.
    pub fn at(&self, s: f64) -> DateTime<Utc> {
        // Microseconds of a run far shorter than 292,000 years.
        #[allow(clippy::cast_possible_truncation)]
        let us = (s * 1e6).round() as i64;
        self.origin + TimeDelta::microseconds(us)
    }

    /// Epoch `k`'s start, seconds of tape time.
    pub fn epoch_s(&self, k: u64) -> f64 {
        k as f64 * self.interval_s
    }

    /// Epoch `k`'s start as the contract's simulated time.
    pub fn epoch_time(&self, k: u64) -> SimTime {
        // Whole seconds per interval, so exact in microseconds.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let us = (self.interval_s * 1e6).round() as u64;
        SimTime::from_micros(us.saturating_mul(k))
    }

    /// The epoch running now.
    pub fn current_epoch(&self) -> u64 {
        // Non-negative and far below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = (self.now_s() / self.interval_s).floor() as u64;
        k
    }

    /// Wall time until tape second `s` (zero if past).
    pub fn wall_until(&self, s: f64) -> Duration {
        Duration::from_secs_f64(((s - self.now_s()) / self.speed).max(0.0))
    }

    /// Wall seconds per tape second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Market interval length, seconds.
    pub fn interval_s(&self) -> f64 {
        self.interval_s
    }

    /// The tape instant of epoch 0.
    pub fn origin(&self) -> DateTime<Utc> {
        self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_whole_intervals_from_the_origin() {
        let origin = DateTime::parse_from_rfc3339("2021-02-14T06:00:00Z")
            .unwrap()
            .to_utc();
        let c = BridgeClock::new(origin, 600.0, 300.0);
        assert_eq!(c.epoch_time(3), SimTime::from_micros(900_000_000));
        assert_eq!(
            c.at(c.epoch_s(12)).to_rfc3339(),
            "2021-02-14T07:00:00+00:00"
        );
        let live = DateTime::parse_from_rfc3339("2026-12-03T07:13:16Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            BridgeClock::interval_start(live, 300.0).to_rfc3339(),
            "2026-12-03T07:10:00+00:00"
        );
        // A live clock reads the calendar: epoch 0 began on the boundary.
        let now = Utc::now();
        let c = BridgeClock::live(now, 1.0, 300.0);
        let drift = (c.now_utc() - now).as_seconds_f64();
        // Tape time is kept in whole microseconds: it may read a fraction
        // of one behind the instant it was built from.
        assert!((-1e-3..1.0).contains(&drift), "{drift}");
        assert_eq!(c.current_epoch(), 0);
        assert_eq!(c.origin(), BridgeClock::interval_start(now, 300.0));
    }
}
