//! The virtual fleet's time: fleet time runs `speed` times faster than the
//! wall clock from the moment the fleet starts, so an hour of curtailments
//! can be watched in a minute. Every virtual device reads this one clock,
//! and every latency of the plant models is a span of fleet time.

use std::time::{Duration, Instant};

/// Fleet time, `speed` × wall time since `start`.
#[derive(Debug, Clone, Copy)]
pub struct FleetClock {
    start: Instant,
    speed: f64,
}

impl FleetClock {
    /// A clock starting now, running `speed` times faster than wall time
    /// (a `speed` that is not finite and positive is taken as 1).
    pub fn new(speed: f64) -> Self {
        FleetClock {
            start: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// Fleet seconds since the start.
    pub fn now_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.speed
    }

    /// How fast fleet time runs against wall time.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The wall time that `fleet_s` fleet seconds take.
    pub fn wall(&self, fleet_s: f64) -> Duration {
        Duration::from_secs_f64((fleet_s / self.speed).max(0.0))
    }
}
