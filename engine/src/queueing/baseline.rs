//! The plain-heap baseline the engine is benchmarked against.
//!
//! The same [`MmcSystem`] logic, driven by the simplest correct event loop:
//! a `BinaryHeap<Reverse<(time, sequence, event)>>`, with no ranks, no
//! cancellation, no observers and no run control. The engine must be at least
//! as fast as this loop (design.md §5). Because every event of the M/M/c
//! model has the same rank, both loops fire events in the same order and
//! produce bit-identical statistics — which the tests check.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::rng::RngStreams;
use crate::time::SimTime;

use super::mmc::{MmcConfig, MmcEvent, MmcResult, MmcSystem};

/// Runs `config` on a plain binary-heap loop with the streams of `streams`.
pub fn run_mmc_baseline(config: &MmcConfig, streams: &RngStreams) -> MmcResult {
    let mut system = MmcSystem::new(config, streams);
    let mut heap: BinaryHeap<Reverse<(u64, u64, MmcEvent)>> = BinaryHeap::with_capacity(64);
    let mut sequence = 0u64;
    system.first_events(|delay, event| {
        heap.push(Reverse((delay.as_micros(), sequence, event)));
        sequence += 1;
    });
    let mut now = SimTime::ZERO;
    let mut events = 0u64;
    while let Some(Reverse((time, _, event))) = heap.pop() {
        now = SimTime::from_micros(time);
        system.react(now, event, |delay, event| {
            heap.push(Reverse(((now + delay).as_micros(), sequence, event)));
            sequence += 1;
        });
        events += 1;
    }
    MmcResult {
        stats: system.stats(),
        events,
        end_secs: now.as_secs_f64(),
    }
}
