//! The hold model: how the pending-event set copes with many pending events.
//!
//! The classic benchmark of event-list implementations (Vaucher & Duval,
//! 1975; Jones, 1986): `n` entities each hold one pending event; handling an
//! event schedules the same entity again after an exponential delay. The
//! pending set stays at exactly `n` events, so the cost per event shows how
//! the queue scales — from the handful of events of an M/M/c queue to the
//! hundreds of thousands of failure and repair timers of a designed-scale
//! fleet. [`HoldEngine`] runs it on the engine, [`HoldBaseline`] on a plain
//! `BinaryHeap<Reverse<(time, seq, event)>>`, with identical draws.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_distr::{Distribution, Exp1};

use crate::queue::Event;
use crate::rng::{RngStreams, StreamId, StreamRng};
use crate::simulation::{Model, Scheduler, Simulation};
use crate::time::{SimDuration, SimTime};

/// Stream of hold times.
pub const HOLD_STREAM: StreamId = StreamId::named("hold.delays");

/// The one event of the hold model: entity `0` is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hold(pub u32);

impl Event for Hold {}

/// Draws hold times with a mean of `n` seconds, so the `n` entities together
/// fire one event per simulated second on average, whatever `n` is (and
/// microsecond rounding never crowds events together).
struct Delays {
    rng: StreamRng,
    mean_secs: f64,
}

impl Delays {
    fn new(pending: u32, streams: &RngStreams) -> Self {
        Delays {
            rng: streams.stream(HOLD_STREAM),
            mean_secs: f64::from(pending.max(1)),
        }
    }

    #[inline]
    fn next(&mut self) -> SimDuration {
        let x: f64 = Exp1.sample(&mut self.rng);
        SimDuration::from_secs_f64(x * self.mean_secs)
    }
}

/// The hold model as an engine model.
struct HoldModel {
    pending: u32,
    delays: Delays,
    handled: u64,
    checksum: u64,
}

impl Model for HoldModel {
    type Event = Hold;

    fn start(&mut self, s: &mut Scheduler<Hold>) {
        for entity in 0..self.pending {
            let delay = self.delays.next();
            s.schedule_in(delay, Hold(entity));
        }
    }

    #[inline]
    fn handle(&mut self, event: Hold, s: &mut Scheduler<Hold>) {
        self.handled += 1;
        self.checksum = self.checksum.wrapping_add(u64::from(event.0));
        let delay = self.delays.next();
        s.schedule_in(delay, event);
    }
}

/// The hold model on the engine, filled and ready to run.
pub struct HoldEngine {
    sim: Simulation<HoldModel>,
}

impl HoldEngine {
    /// `pending` entities, each with one event scheduled.
    pub fn new(pending: u32, streams: &RngStreams) -> Self {
        HoldEngine {
            sim: Simulation::new(HoldModel {
                pending,
                delays: Delays::new(pending, streams),
                handled: 0,
                checksum: 0,
            }),
        }
    }

    /// Handles `events` more events; returns (simulated time, checksum of
    /// the entities handled), which a correct run reproduces bit for bit.
    pub fn run(&mut self, events: u64) -> (SimTime, u64) {
        let target = self.sim.model().handled + events;
        self.sim.run_until_condition(|m| m.handled >= target);
        (self.sim.now(), self.sim.model().checksum)
    }
}

/// The hold model on a plain binary heap, filled and ready to run.
pub struct HoldBaseline {
    heap: BinaryHeap<Reverse<(u64, u64, Hold)>>,
    delays: Delays,
    sequence: u64,
    now: SimTime,
    checksum: u64,
}

impl HoldBaseline {
    /// `pending` entities, each with one event scheduled.
    pub fn new(pending: u32, streams: &RngStreams) -> Self {
        let mut delays = Delays::new(pending, streams);
        let mut heap = BinaryHeap::with_capacity(pending as usize);
        for entity in 0..pending {
            let time = delays.next().as_micros();
            heap.push(Reverse((time, u64::from(entity), Hold(entity))));
        }
        HoldBaseline {
            heap,
            delays,
            sequence: u64::from(pending),
            now: SimTime::ZERO,
            checksum: 0,
        }
    }

    /// As [`HoldEngine::run`].
    pub fn run(&mut self, events: u64) -> (SimTime, u64) {
        for _ in 0..events {
            let Some(Reverse((time, _, event))) = self.heap.pop() else {
                break;
            };
            self.now = SimTime::from_micros(time);
            self.checksum = self.checksum.wrapping_add(u64::from(event.0));
            let due = self.now + self.delays.next();
            self.heap
                .push(Reverse((due.as_micros(), self.sequence, event)));
            self.sequence += 1;
        }
        (self.now, self.checksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_and_baseline_agree_and_the_pending_set_stays_full() {
        let streams = RngStreams::new(4, 0);
        for pending in [1, 10, 5_000] {
            let mut engine = HoldEngine::new(pending, &streams);
            let mut baseline = HoldBaseline::new(pending, &streams);
            let a = engine.run(20_000);
            let b = baseline.run(20_000);
            assert_eq!(a, b, "pending = {pending}");
            assert_eq!(engine.sim.scheduler_mut().pending(), pending as usize);
            // Exponential holds are memoryless: the merged events form a
            // Poisson process of rate 1/s, so the 20,000th event falls near
            // 20,000 s (standard deviation √20,000 ≈ 141 s).
            let secs = a.0.as_secs_f64();
            assert!(
                (secs - 20_000.0).abs() < 600.0,
                "pending = {pending}: {secs} s"
            );
        }
    }
}
