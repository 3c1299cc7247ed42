//! [`JobTimeline`]: the run's job arrivals and completions, kept in order by
//! the twin itself instead of one engine event per job. A year of the
//! reference fleet starts about 4.4 million jobs; pushing and popping each
//! arrival and each completion through the engine's heap was an eighth of a
//! run.
//!
//! The order is exactly the engine's: by time, then completions (rank of
//! [`TwinEvent::JobDone`]) before arrivals (rank of [`TwinEvent::Arrival`]);
//! completions at one instant in the order their jobs started (the order
//! their events would have been scheduled), arrivals in list order. The
//! engine holds only *wake-ups*: payload-free `JobDone`/`Arrival` events at
//! or before the timeline's next entry. A wake-up handles the entries in
//! place for as long as each would be the engine's very next event
//! ([`Scheduler::advance_to`]), and leaves a wake-up for the first that is
//! not.
//!
//! Completions of later intervals wait in a calendar (one list per
//! interval, in start order) and are sorted into the open interval's list
//! when it opens. A preempted job's completion is left where it is and
//! dropped when it comes up.

use hcp_engine::queue::{Event, Rank};
use hcp_engine::simulation::Scheduler;
use hcp_engine::time::SimTime;

use super::model::TwinEvent;
use crate::demand::JobArrival;

/// A running job's end: (time, start number, slab id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Completion {
    pub(crate) end: SimTime,
    /// The start's generation: starts are numbered in order.
    pub(crate) generation: u64,
    pub(crate) id: u32,
}

/// The next entry of the timeline.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JobEvent {
    Done(Completion),
    Arrival(JobArrival),
}

/// Arrivals and completions in the engine's order.
#[derive(Debug, Default)]
pub(crate) struct JobTimeline {
    /// Completions by the interval they fall in, in start order.
    later: Vec<Vec<Completion>>,
    /// Emptied calendar lists, kept for their capacity (at most [`NEAR`]).
    spare: Vec<Vec<Completion>>,
    /// Index of the open interval.
    interval: usize,
    /// Completions of the open interval, latest first.
    due: Vec<Completion>,
    /// End of the open interval, µs.
    interval_end_us: u64,
    /// Interval length, µs.
    step_us: u64,
    /// The open interval's arrivals, in order, and the next one's index.
    pub(crate) arrivals: Vec<JobArrival>,
    next_arrival: usize,
    /// (time, rank) of the wake-ups in the engine's queue, latest first.
    wakes: Vec<(SimTime, Rank)>,
}

/// Intervals ahead whose calendar lists reuse emptied ones (an hour at
/// five-minute intervals).
const NEAR: usize = 12;

const DONE: Rank = 4;
const ARRIVAL: Rank = 5;

impl JobTimeline {
    /// An empty timeline over `intervals` intervals of `step_us` µs.
    pub(crate) fn new(intervals: usize, step_us: u64) -> JobTimeline {
        debug_assert_eq!(TwinEvent::JobDone.rank(), DONE);
        debug_assert_eq!(TwinEvent::Arrival.rank(), ARRIVAL);
        JobTimeline {
            later: (0..=intervals).map(|_| Vec::new()).collect(),
            step_us: step_us.max(1),
            interval_end_us: step_us.max(1),
            ..JobTimeline::default()
        }
    }

    /// Opens interval `interval`: its completions (of jobs still running,
    /// as `runs` tells) become due; its arrivals are to be appended to
    /// [`arrivals`](Self::arrivals), which this empties.
    pub(crate) fn open(&mut self, interval: usize, runs: impl Fn(&Completion) -> bool) {
        self.interval = interval;
        self.interval_end_us = (interval as u64 + 1) * self.step_us;
        self.arrivals.clear();
        self.next_arrival = 0;
        debug_assert!(
            self.due.iter().all(|c| !runs(c)),
            "a completion outlived its interval"
        );
        self.due.clear();
        let Some(list) = self.later.get_mut(interval) else {
            return;
        };
        let mut list = std::mem::take(list);
        self.due.extend(list.drain(..).filter(|c| runs(c)));
        // Latest first; (end, start number) as one integer (start numbers
        // are distinct, so the order is total).
        self.due.sort_unstable_by_key(|c| {
            std::cmp::Reverse((u128::from(c.end.as_micros()) << 64) | u128::from(c.generation))
        });
        if list.capacity() > 0 && self.spare.len() < NEAR {
            self.spare.push(list);
        }
    }

    /// Records that job `id` (start `generation`) ends at `end`; returns
    /// whether it ends in the open interval.
    pub(crate) fn add(&mut self, end: SimTime, generation: u64, id: u32) -> bool {
        let done = Completion {
            end,
            generation,
            id,
        };
        if end.as_micros() < self.interval_end_us {
            // Latest first; a new start numbers above every entry, so it goes
            // after (fires after) those ending when it does.
            let at = self.due.partition_point(|c| c.end > end);
            self.due.insert(at, done);
            return true;
        }
        let bucket = (end.as_micros() / self.step_us) as usize;
        if let Some(list) = self.later.get_mut(bucket) {
            // The next hour's lists fill fastest: they reuse emptied ones.
            // Lists further out hold a few long jobs each and grow their own,
            // so that memory follows the completions filed, not the lists.
            if list.capacity() == 0
                && bucket <= self.interval + NEAR
                && let Some(spare) = self.spare.pop()
            {
                *list = spare;
            }
            list.push(done);
        }
        false
    }

    /// The next entry and its (time, rank), dropping completions of jobs
    /// that no longer run (as `runs` tells).
    pub(crate) fn peek(
        &mut self,
        runs: impl Fn(&Completion) -> bool,
    ) -> Option<(SimTime, Rank, JobEvent)> {
        while let Some(c) = self.due.last() {
            if runs(c) {
                break;
            }
            self.due.pop();
        }
        let done = self.due.last().copied();
        let arrival = self.arrivals.get(self.next_arrival).copied();
        match (done, arrival) {
            (Some(c), Some(a)) if a.arrival < c.end => {
                Some((a.arrival, ARRIVAL, JobEvent::Arrival(a)))
            }
            (Some(c), _) => Some((c.end, DONE, JobEvent::Done(c))),
            (None, Some(a)) => Some((a.arrival, ARRIVAL, JobEvent::Arrival(a))),
            (None, None) => None,
        }
    }

    /// Consumes the entry [`peek`](Self::peek) returned.
    pub(crate) fn pop(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Done(_) => {
                self.due.pop();
            }
            JobEvent::Arrival(_) => self.next_arrival += 1,
        }
    }

    /// A wake-up event at (`time`, `rank`) fired: it was the earliest.
    pub(crate) fn woke(&mut self, time: SimTime, rank: Rank) {
        let fired = self.wakes.pop();
        debug_assert_eq!(fired, Some((time, rank)), "wake-ups fire in order");
    }

    /// Makes sure a wake-up is pending at or before the next entry.
    pub(crate) fn ensure_wake(
        &mut self,
        runs: impl Fn(&Completion) -> bool,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let Some((time, rank, _)) = self.peek(runs) else {
            return;
        };
        let time = time.max(s.now());
        if self.wakes.last().is_some_and(|&w| w <= (time, rank)) {
            return;
        }
        self.wakes.push((time, rank));
        let event = if rank == DONE {
            TwinEvent::JobDone
        } else {
            TwinEvent::Arrival
        };
        s.schedule_at(time, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::{JobLimit, WorkloadClass};

    const STEP_US: u64 = 300_000_000;

    fn at(us: u64) -> SimTime {
        SimTime::from_micros(us)
    }

    fn arrival(us: u64) -> JobArrival {
        JobArrival {
            arrival: at(us),
            work_gpu_s: 1.0,
            limit_s: 0,
            customer: 0,
            gpu_milli: 1000,
            class: WorkloadClass::P3,
            gpu: None,
            limit: JobLimit::None,
        }
    }

    /// (time µs, rank, start number or arrival index) of everything left.
    fn drain(
        t: &mut JobTimeline,
        runs: impl Fn(&Completion) -> bool + Copy,
    ) -> Vec<(u64, Rank, u64)> {
        let mut out = Vec::new();
        let mut index = 0;
        while let Some((time, rank, event)) = t.peek(runs) {
            t.pop(&event);
            match event {
                JobEvent::Done(c) => {
                    assert_eq!(time, c.end);
                    out.push((time.as_micros(), rank, c.generation));
                }
                JobEvent::Arrival(a) => {
                    assert_eq!(time, a.arrival);
                    out.push((time.as_micros(), rank, index));
                    index += 1;
                }
            }
        }
        out
    }

    #[test]
    fn entries_come_in_the_engines_order() {
        let mut t = JobTimeline::new(4, STEP_US);
        t.open(0, |_| true);
        // Starts numbered 0..: ends out of order, two pairs at one instant,
        // one in the next interval and one past the horizon.
        let ends = [90, 40, 90, 10, STEP_US + 5, 40, 10 * STEP_US];
        for (g, &end) in ends.iter().enumerate() {
            let now_interval = t.add(at(end), g as u64, g as u32);
            assert_eq!(now_interval, end < STEP_US, "end {end}");
        }
        // Arrivals tie with completions at 40 and 90: completions first.
        t.arrivals
            .extend([arrival(5), arrival(40), arrival(90), arrival(200)]);
        let got = drain(&mut t, |_| true);
        let mut want: Vec<(u64, Rank, u64)> = ends
            .iter()
            .enumerate()
            .filter(|&(_, &end)| end < STEP_US)
            .map(|(g, &end)| (end, DONE, g as u64))
            .chain(
                [5, 40, 90, 200]
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| (a, ARRIVAL, i as u64)),
            )
            .collect();
        want.sort_unstable();
        assert_eq!(got, want);
        // The next interval brings the completion that falls in it.
        t.open(1, |_| true);
        assert_eq!(drain(&mut t, |_| true), vec![(STEP_US + 5, DONE, 4)]);
    }

    #[test]
    fn completions_of_stopped_jobs_are_dropped() {
        let mut t = JobTimeline::new(3, STEP_US);
        t.open(0, |_| true);
        for g in 0..6_u64 {
            t.add(at(STEP_US + 10 * g), g, g as u32);
        }
        t.add(at(20), 6, 6);
        t.add(at(30), 7, 7);
        // Odd starts were preempted.
        let running = |c: &Completion| c.generation.is_multiple_of(2);
        assert_eq!(drain(&mut t, running), vec![(20, DONE, 6)]);
        t.open(1, running);
        let got: Vec<u64> = drain(&mut t, running).iter().map(|e| e.2).collect();
        assert_eq!(got, vec![0, 2, 4]);
    }

    #[test]
    fn completions_hours_ahead_come_back_in_their_interval() {
        // Ends spread over hours, filed from many intervals, some past the
        // horizon (dropped).
        let intervals = 40;
        let mut t = JobTimeline::new(intervals, STEP_US);
        let mut want: Vec<Vec<u64>> = vec![Vec::new(); intervals + 1];
        let mut generation = 0;
        for i in 0..intervals {
            t.open(i, |_| true);
            let got: Vec<u64> = drain(&mut t, |_| true).iter().map(|e| e.0).collect();
            assert_eq!(got, want[i], "interval {i}");
            for k in 1..4_u64 {
                let end = (i as u64 + k * 7) * STEP_US + (generation * 37) % STEP_US;
                t.add(at(end), generation, generation as u32);
                if let Some(list) = want.get_mut((end / STEP_US) as usize) {
                    list.push(end);
                    list.sort_unstable();
                }
                generation += 1;
            }
        }
    }
}
