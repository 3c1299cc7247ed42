//! Real-time pacing for HCP Twin's engine.
//!
//! [`WallClock`]: the engine's [`Clock`] paced by real time, for drivers
//! that run a simulation as it would unfold (the viewer's playback, a live
//! loop). It is the one place in the product where simulated time meets the
//! wall clock; the engine and the models never read it, and nothing a
//! policy decides depends on it.

use std::time::{Duration, Instant};

use hcp_engine::clock::{Clock, SyncStatus};
use hcp_engine::time::{SimDuration, SimTime};

/// Waits until `speed` × the wall time elapsed since the clock started
/// reaches each deadline (speed 1: real time; 3,600: an hour a second).
#[derive(Debug, Clone)]
pub struct WallClock {
    start: Instant,
    origin: SimTime,
    speed: f64,
}

impl WallClock {
    /// A clock on which simulated `origin` is now, running at `speed`
    /// (clamped to at least 10⁻⁶; a non-finite speed runs at real time).
    pub fn new(origin: SimTime, speed: f64) -> WallClock {
        WallClock {
            start: Instant::now(),
            origin,
            speed: if speed.is_finite() {
                speed.max(1e-6)
            } else {
                1.0
            },
        }
    }

    /// The wall time at which simulated `t` is due, after the start.
    fn due_after_start(&self, t: SimTime) -> Duration {
        let sim_s = t.saturating_since(self.origin).as_secs_f64();
        Duration::try_from_secs_f64(sim_s / self.speed).unwrap_or(Duration::MAX)
    }
}

impl Clock for WallClock {
    fn synchronize(&mut self, deadline: SimTime) -> SyncStatus {
        let due = self.due_after_start(deadline);
        let elapsed = self.start.elapsed();
        if let Some(wait) = due.checked_sub(elapsed) {
            std::thread::sleep(wait);
            SyncStatus::Synchronized
        } else {
            let late_s = elapsed.saturating_sub(due).as_secs_f64() * self.speed;
            SyncStatus::OutOfSync(
                SimDuration::try_from_secs_f64(late_s).unwrap_or(SimDuration::MAX),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_waits_the_scaled_time_and_reports_lateness() {
        // 1 simulated hour at 36,000× is 0.1 s of wall time.
        let mut clock = WallClock::new(SimTime::ZERO, 36_000.0);
        let before = Instant::now();
        assert_eq!(
            clock.synchronize(SimTime::ZERO + SimDuration::from_hours(1)),
            SyncStatus::Synchronized
        );
        assert!(before.elapsed() >= Duration::from_millis(95));
        // A deadline already passed is late, not waited for.
        assert!(matches!(
            clock.synchronize(SimTime::ZERO + SimDuration::from_minutes(1)),
            SyncStatus::OutOfSync(_)
        ));
    }
}
