//! Simulated time: integer microseconds, never floating point.
//!
//! [`SimTime`] is an instant, counted in microseconds since the start of a
//! scenario; [`SimDuration`] is a span between two instants. Both wrap a `u64`,
//! which covers about 584,000 years, so overflow means a bug, not a long run.
//! Constructors name their unit (`SimDuration::from_minutes(5)`), so a number
//! never travels without one. Conversions from `f64` (sampled service times,
//! say) round to the nearest microsecond, which is exact and identical on every
//! platform, so floating-point draws turn into reproducible integer times.

use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Sub};

use serde::{Deserialize, Serialize};

const MICROS_PER_MILLI: u64 = 1_000;
const MICROS_PER_SEC: u64 = 1_000_000;
const MICROS_PER_MINUTE: u64 = 60 * MICROS_PER_SEC;
const MICROS_PER_HOUR: u64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: u64 = 24 * MICROS_PER_HOUR;

/// An instant of simulated time, in microseconds since the scenario start.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A span of simulated time, in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimDuration(u64);

/// A floating-point duration that cannot become a [`SimDuration`].
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error(
    "{seconds} s is not a valid simulated duration (it must be finite, non-negative and below 584,000 years)"
)]
pub struct InvalidDuration {
    /// The rejected value, in seconds.
    pub seconds: f64,
}

impl SimTime {
    /// The scenario start.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant; useful as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `micros` microseconds after the scenario start.
    pub const fn from_micros(micros: u64) -> Self {
        SimTime(micros)
    }

    /// Microseconds since the scenario start.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the scenario start, as `f64` (for reports and statistics only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The span since the scenario start.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` on overflow.
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(t) => Some(SimTime(t)),
            None => None,
        }
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros)
    }

    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * MICROS_PER_MILLI)
    }

    /// A span of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * MICROS_PER_SEC)
    }

    /// A span of `minutes` minutes.
    pub const fn from_minutes(minutes: u64) -> Self {
        SimDuration(minutes * MICROS_PER_MINUTE)
    }

    /// A span of `hours` hours.
    pub const fn from_hours(hours: u64) -> Self {
        SimDuration(hours * MICROS_PER_HOUR)
    }

    /// A span of `days` days of 24 hours.
    pub const fn from_days(days: u64) -> Self {
        SimDuration(days * MICROS_PER_DAY)
    }

    /// A span of `seconds`, rounded to the nearest microsecond.
    ///
    /// # Errors
    /// Returns [`InvalidDuration`] if `seconds` is negative, NaN, infinite or
    /// too large for a `u64` count of microseconds.
    pub fn try_from_secs_f64(seconds: f64) -> Result<Self, InvalidDuration> {
        let micros = seconds * MICROS_PER_SEC as f64;
        // Round half away from zero without a libm call. 2^64 is exactly
        // representable; anything at or above it overflows. Below it the
        // truncation is exact, and so is the fraction it leaves. Below 2^63
        // (every span the twin draws) the signed conversions give the same
        // numbers in one instruction each, where the unsigned ones take a
        // branchy sequence on x86-64.
        if (0.0..9_223_372_036_854_775_808.0).contains(&micros) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = micros as i64;
            #[allow(clippy::cast_precision_loss)]
            let fraction = micros - whole as f64;
            #[allow(clippy::cast_sign_loss)]
            Ok(SimDuration(whole as u64 + u64::from(fraction >= 0.5)))
        } else if (0.0..18_446_744_073_709_551_616.0).contains(&micros) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = micros as u64;
            let fraction = micros - whole as f64;
            Ok(SimDuration(whole + u64::from(fraction >= 0.5)))
        } else if micros > -0.5 && micros < 0.0 {
            // Rounds to (negative) zero.
            Ok(SimDuration::ZERO)
        } else {
            Err(InvalidDuration { seconds })
        }
    }

    /// A span of `seconds`, rounded to the nearest microsecond.
    ///
    /// Meant for durations drawn from distributions that are non-negative by
    /// construction (exponential, log-normal…).
    ///
    /// # Panics
    /// Panics if `seconds` is negative, NaN, infinite or too large; such a value
    /// is a bug in the model that produced it. Use
    /// [`try_from_secs_f64`](Self::try_from_secs_f64) for values read from input.
    pub fn from_secs_f64(seconds: f64) -> Self {
        match Self::try_from_secs_f64(seconds) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    /// The span in microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The span in seconds, as `f64` (for reports and statistics only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The span in hours, as `f64` (for energy: MW × h = MWh).
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_HOUR as f64
    }

    /// Whether the span is empty.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(
            self.0
                .checked_add(d.0)
                .expect("simulated time overflowed u64 microseconds"),
        )
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span from `earlier` to `self`.
    ///
    /// # Panics
    /// Panics if `earlier` is later than `self`.
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(
            self.0
                .checked_sub(earlier.0)
                .expect("subtracted a later simulated instant from an earlier one"),
        )
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(
            self.0
                .checked_add(other.0)
                .expect("simulated duration overflowed u64 microseconds"),
        )
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, other: SimDuration) {
        *self = *self + other;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, other: SimDuration) -> SimDuration {
        SimDuration(
            self.0
                .checked_sub(other.0)
                .expect("simulated duration went negative"),
        )
    }
}

impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    fn mul(self, k: u64) -> SimDuration {
        SimDuration(
            self.0
                .checked_mul(k)
                .expect("simulated duration overflowed u64 microseconds"),
        )
    }
}

impl Div<u64> for SimDuration {
    type Output = SimDuration;
    fn div(self, k: u64) -> SimDuration {
        SimDuration(self.0 / k)
    }
}

impl fmt::Display for SimDuration {
    /// Seconds with microsecond precision, e.g. `12.000450s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / MICROS_PER_SEC,
            self.0 % MICROS_PER_SEC
        )
    }
}

impl fmt::Display for SimTime {
    /// `t+` followed by the span since the scenario start, e.g. `t+300.000000s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}", SimDuration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_constructors_agree() {
        assert_eq!(SimDuration::from_days(1), SimDuration::from_hours(24));
        assert_eq!(SimDuration::from_hours(1), SimDuration::from_minutes(60));
        assert_eq!(SimDuration::from_minutes(5), SimDuration::from_secs(300));
        assert_eq!(SimDuration::from_secs(2), SimDuration::from_millis(2_000));
        assert_eq!(SimDuration::from_millis(3), SimDuration::from_micros(3_000));
        assert_eq!(SimDuration::from_minutes(5).as_micros(), 300_000_000);
    }

    #[test]
    fn float_seconds_round_to_nearest_microsecond() {
        assert_eq!(SimDuration::from_secs_f64(0.442).as_micros(), 442_000);
        assert_eq!(
            SimDuration::from_secs_f64(1.000_000_4).as_micros(),
            1_000_000
        );
        assert_eq!(
            SimDuration::from_secs_f64(1.000_000_6).as_micros(),
            1_000_001
        );
        assert_eq!(SimDuration::from_secs_f64(0.0), SimDuration::ZERO);
    }

    /// The rounding equals `f64::round` (half away from zero) on halves,
    /// near-halves, tiny negatives, huge values and random spans.
    #[test]
    fn float_rounding_matches_f64_round() {
        let reference = |seconds: f64| {
            let micros = (seconds * MICROS_PER_SEC as f64).round();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (0.0..18_446_744_073_709_551_616.0)
                .contains(&micros)
                .then_some(micros as u64)
        };
        let mut values = vec![
            0.0,
            -0.0,
            0.5e-6,
            1.5e-6,
            2.5e-6,
            -0.4e-6,
            -0.5e-6,
            -0.6e-6,
            0.5_f64.next_down() * 1e-6,
            (2_f64.powi(52) - 0.5) / 1e6,
            (2_f64.powi(53) + 2.0) / 1e6,
            18_446_744_073_709.55,
            (2_f64.powi(63) - 1024.0) / 1e6,
            2_f64.powi(63) / 1e6,
            (2_f64.powi(63) + 2048.0) / 1e6,
            2_f64.powi(64) / 1e6,
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = state >> 11;
            let scale = [1e-6, 1e-3, 1.0, 1e3, 1e7, 1e13][(state & 7) as usize % 6];
            let u = bits as f64 / (1_u64 << 53) as f64;
            values.push((u - 0.01) * scale);
            // Exact halves of a microsecond.
            values.push(((bits % 10_000_000) as f64 + 0.5) / 1e6);
        }
        for v in values {
            let ours = SimDuration::try_from_secs_f64(v)
                .ok()
                .map(SimDuration::as_micros);
            assert_eq!(ours, reference(v), "{v:e}");
        }
    }

    #[test]
    fn invalid_float_seconds_are_rejected() {
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e20] {
            assert!(SimDuration::try_from_secs_f64(bad).is_err(), "{bad}");
        }
        let msg = SimDuration::try_from_secs_f64(-2.5)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("-2.5 s"), "{msg}");
    }

    #[test]
    fn arithmetic_and_display() {
        let t = SimTime::ZERO + SimDuration::from_secs(90) + SimDuration::from_micros(5);
        assert_eq!(t.as_micros(), 90_000_005);
        assert_eq!(t - SimTime::from_micros(5), SimDuration::from_secs(90));
        assert_eq!(SimTime::ZERO.saturating_since(t), SimDuration::ZERO);
        assert_eq!(t.to_string(), "t+90.000005s");
        assert_eq!(
            SimDuration::from_minutes(5) * 12,
            SimDuration::from_hours(1)
        );
        assert_eq!(
            SimDuration::from_hours(1) / 4,
            SimDuration::from_minutes(15)
        );
        assert!((SimDuration::from_minutes(30).as_hours_f64() - 0.5).abs() < 1e-15);
        assert_eq!(SimTime::MAX.checked_add(SimDuration::from_micros(1)), None);
    }
}
