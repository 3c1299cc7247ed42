//! The event design the engine did not take, kept to measure why.
//!
//! Many simulation frameworks store events as boxed trait objects: each event
//! is a `Box<dyn …>` that knows how to fire itself. It is flexible — any
//! component can define new event types without touching a central enum — but
//! every event costs a heap allocation and a virtual call. This loop runs the
//! same [`MmcSystem`] logic that way (on the same `(time, sequence)` heap as
//! the baseline), so `hcp bench engine` can show what the engine's typed enum
//! with static dispatch saves.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::rng::RngStreams;
use crate::time::{SimDuration, SimTime};

use super::mmc::{MmcConfig, MmcEvent, MmcResult, MmcSystem};

/// An event that fires itself, scheduling follow-ups into `out`.
trait DynEvent {
    fn fire(
        self: Box<Self>,
        system: &mut MmcSystem,
        now: SimTime,
        out: &mut Vec<(SimDuration, Box<dyn DynEvent>)>,
    );
}

/// One boxed M/M/c event (a one-byte payload, so every box allocates).
struct Boxed(MmcEvent);

impl DynEvent for Boxed {
    fn fire(
        self: Box<Self>,
        system: &mut MmcSystem,
        now: SimTime,
        out: &mut Vec<(SimDuration, Box<dyn DynEvent>)>,
    ) {
        system.react(now, self.0, |delay, event| {
            out.push((delay, Box::new(Boxed(event))));
        });
    }
}

struct Entry {
    key: Reverse<(u64, u64)>,
    event: Box<dyn DynEvent>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Runs `config` with boxed, dynamically dispatched events.
pub fn run_mmc_boxed(config: &MmcConfig, streams: &RngStreams) -> MmcResult {
    let mut system = MmcSystem::new(config, streams);
    let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(64);
    let mut out: Vec<(SimDuration, Box<dyn DynEvent>)> = Vec::with_capacity(4);
    let mut sequence = 0u64;
    system.first_events(|delay, event| out.push((delay, Box::new(Boxed(event)))));
    let mut now = SimTime::ZERO;
    let mut events = 0u64;
    loop {
        for (delay, event) in out.drain(..) {
            heap.push(Entry {
                key: Reverse(((now + delay).as_micros(), sequence)),
                event,
            });
            sequence += 1;
        }
        let Some(entry) = heap.pop() else { break };
        now = SimTime::from_micros(entry.key.0.0);
        entry.event.fire(&mut system, now, &mut out);
        events += 1;
    }
    MmcResult {
        stats: system.stats(),
        events,
        end_secs: now.as_secs_f64(),
    }
}
