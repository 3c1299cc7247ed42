//! [`JobSource`]: where a run reads its replication's P2–P4 job arrivals,
//! one market interval at a time. Either the tape carries the job list —
//! a sweep generates it once per replication and every policy (and the
//! oracle) reads it, instead of each drawing the same jobs again — or the
//! world's job generator draws them on the way, holding one interval in
//! memory. Both give the same jobs in the same order (the generator's
//! sequence is the list's, see [`crate::demand::JobGenerator`]).

use hcp_engine::rng::RngStreams;

use super::setup::TwinSetup;
use crate::demand::{JobArrival, JobGenerator};
use crate::world::WorldTape;

/// A run's cursor over its replication's job arrivals.
pub(crate) enum JobSource {
    /// Drawn interval by interval.
    Generated(JobGenerator),
    /// Read from the tape's job list.
    Tape {
        /// Index of the next job in `tape.demand.jobs`.
        next: usize,
        /// Index of the next interval.
        interval: u64,
    },
}

impl JobSource {
    /// Reads the tape's job list when it has one, else draws the jobs.
    pub(crate) fn new(setup: &TwinSetup, tape: &WorldTape, streams: &RngStreams) -> JobSource {
        if tape.demand.jobs.is_empty() {
            JobSource::Generated(setup.world().job_generator(tape, streams))
        } else {
            JobSource::Tape {
                next: 0,
                interval: 0,
            }
        }
    }

    /// Appends the next interval's arrivals to `out`, sorted by arrival
    /// (ties by class); `false` once the horizon is exhausted.
    pub(crate) fn next_interval(&mut self, tape: &WorldTape, out: &mut Vec<JobArrival>) -> bool {
        match self {
            JobSource::Generated(generator) => generator.next_interval(out),
            JobSource::Tape { next, interval } => {
                let horizon = &tape.horizon;
                if *interval >= horizon.intervals() as u64 {
                    return false;
                }
                *interval += 1;
                let end = horizon.step.as_micros() * *interval;
                let rest = &tape.demand.jobs[*next..];
                // A linear scan: an interval holds a few dozen jobs, and a
                // binary search over the rest of the year misses the cache.
                let n = rest
                    .iter()
                    .position(|job| job.arrival.as_micros() >= end)
                    .unwrap_or(rest.len());
                out.extend_from_slice(&rest[..n]);
                *next += n;
                true
            }
        }
    }
}
