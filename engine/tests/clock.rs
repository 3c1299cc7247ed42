//! The clock seam: a run paced by a clock handles the same events in the
//! same order as an unpaced one, and the clock is asked for every event's
//! time, in order, before the event is handled.

use hcp_engine::prelude::*;

/// Ticks every 90 s and counts them; stops after 40.
struct Ticker {
    ticks: u32,
    seen: Vec<SimTime>,
}

#[derive(Clone, Copy, Debug)]
struct Tick;
impl Event for Tick {}

impl Model for Ticker {
    type Event = Tick;
    fn start(&mut self, s: &mut Scheduler<Tick>) {
        s.schedule_in(SimDuration::from_secs(90), Tick);
    }
    fn handle(&mut self, _: Tick, s: &mut Scheduler<Tick>) {
        self.ticks += 1;
        self.seen.push(s.now());
        if self.ticks == 40 {
            s.stop();
        } else {
            s.schedule_in(SimDuration::from_secs(90), Tick);
        }
    }
}

/// Records every deadline; says it is late by 1 s at every fifth.
#[derive(Default)]
struct Recorder {
    deadlines: Vec<SimTime>,
}

impl Clock for Recorder {
    fn synchronize(&mut self, deadline: SimTime) -> SyncStatus {
        self.deadlines.push(deadline);
        if self.deadlines.len().is_multiple_of(5) {
            SyncStatus::OutOfSync(SimDuration::from_secs(1))
        } else {
            SyncStatus::Synchronized
        }
    }
}

fn ticker() -> Simulation<Ticker> {
    Simulation::new(Ticker {
        ticks: 0,
        seen: Vec::new(),
    })
}

#[test]
fn a_paced_run_handles_the_same_events_and_asks_the_clock_first() {
    let horizon = SimTime::ZERO + SimDuration::from_minutes(30);
    let mut plain = ticker();
    assert_eq!(plain.run_until(horizon), RunOutcome::ReachedHorizon);
    let mut paced = ticker();
    let mut clock = Recorder::default();
    let (outcome, behind) = paced.run_until_with_clock(horizon, &mut clock);
    assert_eq!(outcome, RunOutcome::ReachedHorizon);
    // 30 minutes hold 20 ticks at 90 s.
    assert_eq!(paced.model().seen, plain.model().seen);
    assert_eq!(paced.model().ticks, 20);
    assert_eq!(paced.now(), horizon);
    // Every tick's time, then the horizon itself.
    let mut expected = plain.model().seen.clone();
    expected.push(horizon);
    assert_eq!(clock.deadlines, expected);
    assert_eq!(behind, SimDuration::from_secs(1));
    // A stop inside a paced run stops it, as it does a plain one.
    let (outcome, _) = paced.run_until_with_clock(SimTime::MAX, &mut NoClock);
    assert_eq!(outcome, RunOutcome::Stopped);
    assert_eq!(paced.model().ticks, 40);
}
