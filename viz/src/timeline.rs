//! The time control every panel shares (rerun's time panel is the model):
//! a cursor on the run's time axis, play and pause, step forward and back
//! by one interval, a speed in simulated time per wall second or as fast
//! as possible, loop, scrub, and jump to a date. It is plain state — the
//! app feeds it the frame's wall time and the span of the data — so tests
//! drive it without a window. For a live source the cursor follows the
//! live edge while playing; the source itself does the running.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The time axis of what is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start of the first interval, µs since 1970 (UTC).
    pub start_us: i64,
    /// Start of the last interval held, µs since 1970.
    pub last_us: i64,
    /// Interval length, µs.
    pub step_us: i64,
}

impl Span {
    /// Clamps an instant to the span and snaps it to an interval start.
    pub fn snap(&self, t_us: i64) -> i64 {
        let t = t_us.clamp(self.start_us, self.last_us.max(self.start_us));
        self.start_us + (t - self.start_us) / self.step_us.max(1) * self.step_us.max(1)
    }
}

/// How fast playing moves the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    /// Simulated seconds per wall second.
    Times(f64),
    /// As fast as possible: a dataset moves one day a frame, a live twin
    /// runs flat out.
    AsFastAsPossible,
}

impl Speed {
    /// The choices offered, slowest first.
    pub const CHOICES: [Speed; 7] = [
        Speed::Times(300.0),
        Speed::Times(3_600.0),
        Speed::Times(21_600.0),
        Speed::Times(86_400.0),
        Speed::Times(604_800.0),
        Speed::Times(2_592_000.0),
        Speed::AsFastAsPossible,
    ];

    /// The speed in words.
    pub fn label(self) -> String {
        match self {
            Speed::AsFastAsPossible => "as fast as possible".to_owned(),
            Speed::Times(x) => match x {
                x if x >= 2_592_000.0 => format!("{:.0} days/s", x / 86_400.0),
                x if x >= 604_800.0 => format!("{:.0} week/s", x / 604_800.0),
                x if x >= 86_400.0 => format!("{:.0} day/s", x / 86_400.0),
                x if x >= 3_600.0 => format!("{:.0} h/s", x / 3_600.0),
                x => format!("{:.0} min/s", x / 60.0),
            },
        }
    }

    /// The next faster (`up`) or slower choice.
    #[must_use]
    pub fn next(self, up: bool) -> Speed {
        let i = Speed::CHOICES.iter().position(|s| *s == self).unwrap_or(3);
        let j = if up {
            (i + 1).min(Speed::CHOICES.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        Speed::CHOICES[j]
    }
}

/// How far a dataset moves per frame at [`Speed::AsFastAsPossible`], µs.
pub const FASTEST_STEP_US: i64 = 86_400_000_000;

/// The shared time cursor and how it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeControl {
    /// The cursor, µs since 1970 (UTC); `None` until data arrives.
    pub cursor_us: Option<i64>,
    /// Whether it is playing.
    pub playing: bool,
    /// How fast.
    pub speed: Speed,
    /// Whether playing past the end starts again from the beginning.
    pub looping: bool,
    /// Simulated µs owed from earlier frames (less than one interval).
    carry_us: f64,
}

impl Default for TimeControl {
    fn default() -> Self {
        TimeControl {
            cursor_us: None,
            playing: false,
            speed: Speed::Times(86_400.0),
            looping: false,
            carry_us: 0.0,
        }
    }
}

impl TimeControl {
    /// The cursor clamped to `span` (its start when unset).
    pub fn cursor(&self, span: Span) -> i64 {
        span.snap(self.cursor_us.unwrap_or(span.start_us))
    }

    /// Moves the cursor to `t_us`, snapped into `span`.
    pub fn set_cursor(&mut self, t_us: i64, span: Span) {
        self.cursor_us = Some(span.snap(t_us));
        self.carry_us = 0.0;
    }

    /// Starts or stops playing. Playing from the end starts over.
    pub fn toggle_play(&mut self, span: Span) {
        self.playing = !self.playing;
        if self.playing && self.cursor(span) >= span.last_us {
            self.set_cursor(span.start_us, span);
        }
    }

    /// One interval forward (`forward`) or back; stops playing.
    pub fn step(&mut self, forward: bool, span: Span) {
        self.playing = false;
        let now = self.cursor(span);
        let to = if forward {
            now + span.step_us
        } else {
            now - span.step_us
        };
        self.set_cursor(to, span);
    }

    /// Advances a playing cursor by a frame of `dt_s` wall seconds; returns
    /// whether it moved. At the end it stops, or starts over when looping.
    pub fn tick(&mut self, dt_s: f64, span: Span) -> bool {
        if !self.playing {
            return false;
        }
        let before = self.cursor(span);
        let advance = match self.speed {
            Speed::AsFastAsPossible => FASTEST_STEP_US as f64,
            Speed::Times(x) => x * dt_s.clamp(0.0, 0.25) * 1e6,
        } + self.carry_us;
        let step = span.step_us.max(1) as f64;
        let whole = (advance / step).floor();
        self.carry_us = advance - whole * step;
        let mut to = before.saturating_add((whole * step) as i64);
        if to > span.last_us {
            if self.looping {
                to = span.start_us;
            } else {
                to = span.last_us;
                self.playing = false;
            }
            self.carry_us = 0.0;
        }
        self.cursor_us = Some(span.snap(to));
        self.cursor(span) != before
    }

    /// Jumps to a date typed by the user (`2026-03-04`, `2026-03-04 17:30`
    /// or RFC 3339), snapped into `span`.
    ///
    /// # Errors
    /// Text that is no date, in words.
    pub fn jump_to(&mut self, text: &str, span: Span) -> Result<(), String> {
        let t = parse_date(text)?;
        self.set_cursor(t.timestamp_micros(), span);
        Ok(())
    }
}

/// A date the user typed, in UTC.
///
/// # Errors
/// Text that matches none of the accepted forms.
pub fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for form in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, form) {
            return Ok(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!(
        "'{t}' is not a date: write 2026-03-04, 2026-03-04 17:30 or 2026-03-04T17:30:00Z (UTC)"
    ))
}

/// An instant as `2026-03-04 17:30` (UTC).
pub fn format_time(t_us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(t_us).map_or_else(
        || "—".to_owned(),
        |d| d.format("%Y-%m-%d %H:%M").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN5: i64 = 300_000_000;

    fn span() -> Span {
        // One day of 5-minute intervals from 2026-01-01.
        let start = parse_date("2026-01-01").unwrap().timestamp_micros();
        Span {
            start_us: start,
            last_us: start + 287 * MIN5,
            step_us: MIN5,
        }
    }

    #[test]
    fn playing_at_an_hour_a_second_moves_twelve_intervals_a_second() {
        let s = span();
        let mut t = TimeControl {
            speed: Speed::Times(3_600.0),
            ..TimeControl::default()
        };
        t.toggle_play(s);
        // 60 frames of 1/60 s: 12 intervals, fractions carried over.
        for _ in 0..60 {
            t.tick(1.0 / 60.0, s);
        }
        assert_eq!(t.cursor(s), s.start_us + 12 * MIN5);
    }

    #[test]
    fn the_end_stops_or_loops() {
        let s = span();
        let mut t = TimeControl {
            speed: Speed::AsFastAsPossible,
            ..TimeControl::default()
        };
        t.toggle_play(s);
        assert!(t.tick(0.016, s));
        assert_eq!(t.cursor(s), s.last_us);
        assert!(!t.playing);
        t.looping = true;
        t.toggle_play(s); // from the end: starts over
        assert_eq!(t.cursor(s), s.start_us);
        t.tick(0.016, s);
        assert_eq!(t.cursor(s), s.start_us, "looped back");
        assert!(t.playing);
    }

    #[test]
    fn steps_and_jumps_snap_to_intervals() {
        let s = span();
        let mut t = TimeControl::default();
        t.step(true, s);
        t.step(true, s);
        t.step(false, s);
        assert_eq!(t.cursor(s), s.start_us + MIN5);
        t.step(false, s);
        t.step(false, s);
        assert_eq!(t.cursor(s), s.start_us, "clamped at the start");
        t.jump_to("2026-01-01 17:32", s).unwrap();
        assert_eq!(format_time(t.cursor(s)), "2026-01-01 17:30");
        t.jump_to("2027-05-01", s).unwrap();
        assert_eq!(t.cursor(s), s.last_us);
        let e = t.jump_to("tomorrow", s).unwrap_err();
        assert!(e.contains("'tomorrow' is not a date"), "{e}");
    }

    #[test]
    fn speeds_step_through_their_choices() {
        assert_eq!(Speed::Times(86_400.0).next(true), Speed::Times(604_800.0));
        assert_eq!(Speed::AsFastAsPossible.next(true), Speed::AsFastAsPossible);
        assert_eq!(Speed::Times(300.0).next(false), Speed::Times(300.0));
        assert_eq!(Speed::Times(3_600.0).label(), "1 h/s");
        assert_eq!(Speed::Times(2_592_000.0).label(), "30 days/s");
    }
}
