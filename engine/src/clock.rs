//! The clock seam: how simulated time relates to the time outside.
//!
//! A simulation on its own runs as fast as it can ([`NoClock`]). A viewer
//! that plays a run at a chosen speed, or a loop that must keep pace with a
//! live fleet, hands the run a clock that waits until the outside time
//! catches up with each event's simulated time before it is handled
//! ([`Simulation::run_until_with_clock`]). The engine never reads the wall
//! clock itself: a clock that does lives outside the engine and the models
//! (`hcp_realtime::WallClock`, in `live-bridge/realtime/`).
//!
//! [`Simulation::run_until_with_clock`]: crate::simulation::Simulation::run_until_with_clock

use crate::time::{SimDuration, SimTime};

/// Whether a clock kept up with the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    /// The clock waited until `deadline` (or did not need to wait).
    Synchronized,
    /// The outside time was already past `deadline` by this much: the
    /// simulation is running behind.
    OutOfSync(SimDuration),
}

/// Paces a simulation: called with the simulated time of the next event
/// before it is handled.
pub trait Clock {
    /// Blocks until the outside time reaches `deadline`, if the clock has
    /// an outside time; says whether it was already late.
    fn synchronize(&mut self, deadline: SimTime) -> SyncStatus;
}

/// No pacing: every event is handled as soon as the last is done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoClock;

impl Clock for NoClock {
    fn synchronize(&mut self, _deadline: SimTime) -> SyncStatus {
        SyncStatus::Synchronized
    }
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn synchronize(&mut self, deadline: SimTime) -> SyncStatus {
        (**self).synchronize(deadline)
    }
}
