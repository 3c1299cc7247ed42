//! The deterministic discrete-event kernel of HCP Twin.
//!
//! The engine knows nothing of mining or GPUs. It offers integer simulated
//! time ([`time`]), a calendar mapping for reports ([`calendar`]), a pending
//! event set with a documented total order and cancellation ([`queue`]), the
//! model API and run control ([`simulation`]), named seeded random streams
//! ([`rng`]) and run statistics ([`stats`]). [`queueing`] holds the reference
//! queues it is validated and benchmarked with, [`hold`] the benchmark of its
//! pending-event set at scale.
//!
//! # Tutorial: a model in four steps
//!
//! 1. Put all mutable state in one struct and all its events in one enum.
//! 2. Give the enum a tie-break with [`Event::rank`](queue::Event::rank) (or take the default).
//! 3. Implement [`Model`](simulation::Model): `start` schedules the first events, `handle`
//!    reacts to one event through the [`Scheduler`](simulation::Scheduler).
//! 4. Wrap it in a [`Simulation`](simulation::Simulation) and drive it: `run`, `run_until`,
//!    `run_until_condition` or `step`, with observers sampling on the way.
//!
//! ```
//! use hcp_engine::prelude::*;
//! use rand::RngExt;
//!
//! /// A machine that fails after Exp(1 h) of work and is repaired in 30 minutes.
//! struct Machine { up: bool, rng: StreamRng, uptime: TimeWeighted }
//!
//! #[derive(Clone, Copy, Debug)]
//! enum Ev { Fail, Repaired }
//! impl Event for Ev {}
//!
//! impl Model for Machine {
//!     type Event = Ev;
//!     fn start(&mut self, s: &mut Scheduler<Ev>) {
//!         let hours = -self.rng.random::<f64>().ln();
//!         s.schedule_in(SimDuration::from_secs_f64(hours * 3600.0), Ev::Fail);
//!     }
//!     fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
//!         match ev {
//!             Ev::Fail => {
//!                 self.up = false;
//!                 s.schedule_in(SimDuration::from_minutes(30), Ev::Repaired);
//!             }
//!             Ev::Repaired => {
//!                 self.up = true;
//!                 self.start(s);
//!             }
//!         }
//!         self.uptime.set(s.now(), if self.up { 1.0 } else { 0.0 });
//!     }
//! }
//!
//! let streams = RngStreams::new(42, 0);
//! let machine = Machine {
//!     up: true,
//!     rng: streams.stream(StreamId::named("machine.failures")),
//!     uptime: TimeWeighted::new(SimTime::ZERO, 1.0),
//! };
//! let mut sim = Simulation::new(machine);
//! let horizon = SimTime::ZERO + SimDuration::from_days(365);
//! sim.run_until(horizon);
//! // Availability = MTBF / (MTBF + MTTR) = 1 / 1.5.
//! let availability = sim.model().uptime.mean(horizon);
//! assert!((availability - 2.0 / 3.0).abs() < 0.02, "{availability}");
//! ```
//!
//! # Architecture invariants
//! The engine does no I/O, never reads the wall clock and never spawns a
//! thread; every random draw comes from a stream named in [`rng`]. So the same
//! model, seed and replication give the same event trace on every machine.

pub mod calendar;
pub mod clock;
pub mod hold;
pub mod queue;
pub mod queueing;
pub mod rng;
pub mod simulation;
pub mod stats;
pub mod time;

/// The names most models need.
pub mod prelude {
    pub use crate::calendar::Epoch;
    pub use crate::clock::{Clock, NoClock, SyncStatus};
    pub use crate::queue::{Event, EventHandle, EventId, Rank};
    pub use crate::rng::{RngStreams, StreamId, StreamRng};
    pub use crate::simulation::{Fired, Model, Observer, RunOutcome, Scheduler, Simulation};
    pub use crate::stats::{Counter, LatencyHistogram, Tally, TimeWeighted};
    pub use crate::time::{SimDuration, SimTime};
}
