//! P2–P4 job arrivals: per class a Poisson process whose rate follows a
//! daily shape, with GPU sizes and runtimes drawn from the class's
//! distributions (fitted on the Alibaba GPU pod list) and runtimes scaled
//! so that the jobs offer the configured fraction of the fleet.
//!
//! Class k draws only from stream `demand/jobs/P<k>`. In each horizon step
//! the number of arrivals is Poisson(jobs_per_day · load_scale · share ·
//! step/86,400 s · D(UTC hour)); arrival instants are uniform within the
//! step. Work is GPU-seconds at H100 speed: GPUs × runtime × duration scale.
//! A record is 24 bytes.

use hcp_engine::rng::{RngStreams, StreamId};
use hcp_engine::time::SimTime;
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use serde::Serialize;

use super::customers::{Customer, Sla};
use super::params::{GpuModel, JobClassParams, JobParams, WorkloadClass};
use crate::series::Horizon;

/// Customer id of jobs whose class has no customer.
pub const NO_CUSTOMER: u16 = u16::MAX;

/// What a job's `limit_s` is: the SLA of the customer who owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobLimit {
    /// No time limit (no owner, or an SLA without one).
    None,
    /// Finish within `limit_s` of arrival (P2 batch deadlines).
    Deadline,
    /// Checkpoint every `limit_s` (P3 training).
    Checkpoint,
}

/// One job arrival (24 bytes: a year of the reference fleet holds about
/// 4.4 million, shared by a replication's runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobArrival {
    /// Submission instant.
    pub arrival: SimTime,
    /// Work, GPU-seconds at H100 speed (duration = work / GPUs).
    pub work_gpu_s: f32,
    /// Seconds of the job's time limit, as `limit` says.
    pub limit_s: u32,
    /// Customer id ([`NO_CUSTOMER`] when the class has none).
    pub customer: u16,
    /// GPUs requested, milli-GPUs.
    pub gpu_milli: u16,
    /// Workload class (P2, P3 or P4).
    pub class: WorkloadClass,
    /// GPU model the job must run on, if any.
    pub gpu: Option<GpuModel>,
    /// Which time limit `limit_s` holds.
    pub limit: JobLimit,
}

impl JobArrival {
    /// The deadline, seconds after arrival (0 when the job has none).
    pub fn deadline_s(&self) -> u32 {
        if self.limit == JobLimit::Deadline {
            self.limit_s
        } else {
            0
        }
    }

    /// The checkpoint interval, seconds (0 when the job has none).
    pub fn checkpoint_s(&self) -> u32 {
        if self.limit == JobLimit::Checkpoint {
            self.limit_s
        } else {
            0
        }
    }

    /// GPUs requested (fractional for shared GPUs).
    pub fn gpus(&self) -> f64 {
        f64::from(self.gpu_milli) / 1000.0
    }

    /// Run time on the requested GPUs at reference speed, seconds.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.work_gpu_s) / self.gpus()
    }
}

/// The stream name of a class, e.g. `demand/jobs/P2`.
pub fn job_stream(class: WorkloadClass) -> String {
    format!("demand/jobs/{class:?}")
}

/// A 32-bit draw as a uniform number in [0, 1).
fn unit(bits: u64) -> f64 {
    bits as f64 / 4_294_967_296.0
}

/// All job arrivals over the horizon, sorted by arrival.
pub fn jobs(
    params: &JobParams,
    customers: &[Customer],
    fleet_gpus: u32,
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<JobArrival> {
    let mut generator = JobGenerator::new(params, customers, fleet_gpus, horizon, streams);
    // Room for the expected count plus six standard deviations, so that
    // the list is not copied to grow.
    let expected = generator.expected_jobs();
    let mut out = Vec::with_capacity((expected + 6.0 * expected.sqrt()) as usize + 64);
    while generator.next_interval(&mut out) {}
    out
}

/// Job arrivals produced one market interval at a time, so that a twin can
/// pull them as it goes instead of holding a year of jobs in memory. The
/// sequence is exactly the one [`jobs`] returns.
pub struct JobGenerator {
    p2_min_slack: f64,
    classes: Vec<ClassSampler>,
    scale: f64,
    step_s: f64,
    step_us: u64,
    start_hour: f64,
    next: u64,
    intervals: u64,
    /// Where each class's run of the open interval ends in `out`.
    run_ends: Vec<usize>,
    /// The interval's jobs in merge order (scratch, reused).
    merged: Vec<JobArrival>,
}

impl JobGenerator {
    /// A generator over `horizon` for a fleet of `fleet_gpus` GPUs. It owns
    /// what it needs, so a twin can hold it for the whole run.
    pub fn new(
        params: &JobParams,
        customers: &[Customer],
        fleet_gpus: u32,
        horizon: &Horizon,
        streams: &RngStreams,
    ) -> Self {
        let step_s = horizon.step.as_secs_f64();
        JobGenerator {
            p2_min_slack: params.p2_min_slack,
            classes: params
                .classes
                .iter()
                .map(|c| ClassSampler::new(params, c, customers, step_s, streams))
                .collect(),
            scale: params.duration_scale(fleet_gpus),
            step_s,
            step_us: horizon.step.as_micros(),
            start_hour: horizon.epoch.start().timestamp().rem_euclid(86_400) as f64 / 3600.0,
            next: 0,
            intervals: horizon.intervals() as u64,
            run_ends: Vec::new(),
            merged: Vec::new(),
        }
    }

    /// Expected number of arrivals over the whole horizon (all classes,
    /// with the daily shape).
    pub fn expected_jobs(&self) -> f64 {
        (0..self.intervals)
            .map(|i| {
                let hour = self.hour(i);
                self.classes
                    .iter()
                    .map(|c| c.mean_by_hour[hour])
                    .sum::<f64>()
            })
            .sum()
    }

    /// UTC hour of day of interval `i`.
    fn hour(&self, i: u64) -> usize {
        ((self.start_hour + i as f64 * self.step_s / 3600.0) as usize) % 24
    }

    /// Appends the next interval's arrivals to `out`, sorted by arrival
    /// (ties by class); `false` once the horizon is exhausted.
    pub fn next_interval(&mut self, out: &mut Vec<JobArrival>) -> bool {
        if self.next >= self.intervals {
            return false;
        }
        let i = self.next;
        self.next += 1;
        let hour = self.hour(i);
        let first = out.len();
        self.run_ends.clear();
        for class in &mut self.classes {
            class.interval(
                self.p2_min_slack,
                hour,
                self.step_us * i,
                self.step_us,
                self.scale,
                out,
            );
            self.run_ends.push(out.len());
        }
        // The interval's few dozen jobs, by arrival (ties by class).
        let interval = &mut out[first..];
        if !merge_runs(interval, first, &self.run_ends, &mut self.merged) {
            interval.sort_unstable_by_key(order);
        }
        true
    }
}

/// The order of an interval's jobs: by arrival, ties by class.
fn order(job: &JobArrival) -> (SimTime, WorkloadClass) {
    (job.arrival, job.class)
}

/// Sorts `jobs` (which start at `first` in their vector and are made of
/// runs, each in [`order`], ending at `run_ends`) by merging the runs
/// through `scratch`. When every key is distinct the sorted order is unique,
/// so the merge gives exactly what a sort gives; it returns `false` and
/// leaves `jobs` untouched when two keys are equal (a sort then decides, as
/// it always did).
fn merge_runs(
    jobs: &mut [JobArrival],
    first: usize,
    run_ends: &[usize],
    scratch: &mut Vec<JobArrival>,
) -> bool {
    // (next position, end) per run; at most four classes are merged.
    let mut heads = [(0, 0); 4];
    if run_ends.len() > heads.len() {
        return false;
    }
    let mut start = 0;
    for (head, &end) in heads.iter_mut().zip(run_ends) {
        *head = (start, end - first);
        start = end - first;
    }
    // The order as one integer: arrival µs above the class byte.
    let key = |job: &JobArrival| (job.arrival.as_micros() << 8) | job.class as u64;
    if jobs.iter().any(|j| j.arrival.as_micros() >= 1 << 56) {
        return false;
    }
    let head_key = |&(at, end): &(usize, usize)| if at < end { key(&jobs[at]) } else { u64::MAX };
    scratch.clear();
    let mut last = None;
    for _ in 0..jobs.len() {
        let mut pick = 0;
        let mut best = head_key(&heads[0]);
        for (r, head) in heads.iter().enumerate().skip(1) {
            let k = head_key(head);
            if k < best {
                (pick, best) = (r, k);
            }
        }
        if best == u64::MAX || last.is_some_and(|l| l >= best) {
            return false;
        }
        last = Some(best);
        scratch.push(jobs[heads[pick].0]);
        heads[pick].0 += 1;
    }
    jobs.copy_from_slice(scratch);
    true
}

/// The sampling state of one class: its stream, owners and size table.
struct ClassSampler {
    class: JobClassParams,
    rng: hcp_engine::rng::StreamRng,
    /// Customers of the class: id and SLA.
    owners: Vec<(u16, Sla)>,
    /// Cumulative size shares as 32-bit thresholds.
    size_thresholds: Vec<u64>,
    /// Arrival-count distribution by hour of day (`None`: no arrivals).
    counts: Vec<Option<Poisson<f64>>>,
    /// Mean arrivals per step by hour of day.
    mean_by_hour: Vec<f64>,
    draws: Vec<u64>,
}

impl ClassSampler {
    fn new(
        params: &JobParams,
        class: &JobClassParams,
        customers: &[Customer],
        step_s: f64,
        streams: &RngStreams,
    ) -> Self {
        let per_step = params.jobs_per_day * params.load_scale * class.share * step_s / 86_400.0;
        let total: f64 = class.sizes.iter().map(|s| s.share).sum();
        let mut cumulative = 0.0;
        let size_thresholds = class
            .sizes
            .iter()
            .map(|s| {
                cumulative += s.share / total;
                (cumulative * 4_294_967_296.0) as u64
            })
            .collect();
        let mean_by_hour: Vec<f64> = (0..24)
            .map(|h| per_step * params.daily_shape.get(h).copied().unwrap_or(1.0))
            .collect();
        ClassSampler {
            class: class.clone(),
            rng: streams.stream(StreamId::named(&job_stream(class.class))),
            owners: customers
                .iter()
                .filter(|c| c.class == class.class)
                .map(|c| (c.id, c.sla))
                .collect(),
            size_thresholds,
            counts: mean_by_hour.iter().map(|&m| Poisson::new(m).ok()).collect(),
            mean_by_hour,
            draws: Vec::new(),
        }
    }

    fn interval(
        &mut self,
        p2_min_slack: f64,
        hour: usize,
        base: u64,
        step_us: u64,
        scale: f64,
        out: &mut Vec<JobArrival>,
    ) {
        let count = match &self.counts[hour] {
            Some(d) => d.sample(&mut self.rng) as usize,
            None => 0,
        };
        // One 64-bit draw per job: high half = instant in the step, low
        // half = size; a second: runtime (32 bits), customer, H100 (16 each).
        self.draws.clear();
        self.draws
            .extend((0..count).map(|_| self.rng.random::<u64>()));
        self.draws.sort_unstable();
        let class = &self.class;
        for &draw in &self.draws {
            let offset = ((draw >> 32) * step_us) >> 32;
            let k = self
                .size_thresholds
                .partition_point(|&t| t <= draw & 0xFFFF_FFFF)
                .min(class.sizes.len().saturating_sub(1));
            let gpu_milli = class.sizes.get(k).map_or(1000, |s| s.gpu_milli);
            let second = self.rng.random::<u64>();
            let duration = class.runtime_s.sample(unit(second >> 32)) * scale;
            let owner = (!self.owners.is_empty()).then(|| {
                self.owners[(((second >> 16) & 0xFFFF) as usize * self.owners.len()) >> 16]
            });
            let h100 = unit((second & 0xFFFF) << 16) < class.h100_only;
            let (limit, limit_s) = match owner.map(|(_, sla)| sla) {
                Some(Sla::Deadline { hours }) => (
                    JobLimit::Deadline,
                    (hours * 3600.0)
                        .max(p2_min_slack * duration)
                        .min(f64::from(u32::MAX)) as u32,
                ),
                Some(Sla::Checkpoint { minutes }) => {
                    (JobLimit::Checkpoint, (f64::from(minutes) * 60.0) as u32)
                }
                _ => (JobLimit::None, 0),
            };
            out.push(JobArrival {
                arrival: SimTime::from_micros(base + offset),
                work_gpu_s: (duration * f64::from(gpu_milli) / 1000.0) as f32,
                limit_s,
                customer: owner.map_or(NO_CUSTOMER, |(id, _)| id),
                gpu_milli,
                class: class.class,
                gpu: h100.then_some(GpuModel::H100),
                limit,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use hcp_engine::rng::RngStreams;

    use super::*;
    use crate::demand::DemandParams;

    fn job(arrival_us: u64, class: WorkloadClass, gpu_milli: u16) -> JobArrival {
        JobArrival {
            arrival: SimTime::from_micros(arrival_us),
            work_gpu_s: 1.0,
            limit_s: 0,
            customer: NO_CUSTOMER,
            gpu_milli,
            class,
            gpu: None,
            limit: JobLimit::None,
        }
    }

    /// Every interval of 60 days of the reference demand, ordered by merging
    /// the classes' runs, equals the same jobs ordered by a sort.
    #[test]
    fn merged_intervals_equal_sorted_intervals() {
        let params = DemandParams::default();
        let horizon = Horizon::days(Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap(), 60, 5);
        let streams = RngStreams::new(7, 0);
        let customers = crate::demand::generate_without_jobs(&params, &horizon, &streams).customers;
        let mut generator = crate::demand::job_generator(&params, &customers, &horizon, &streams);
        let (mut merged, mut runs) = (Vec::new(), Vec::new());
        let mut intervals = 0;
        while generator.next_interval(&mut merged) {
            let start = runs.len();
            runs.extend_from_slice(&merged[start..]);
            // The same interval as the classes produced it: re-split by class
            // (each class's run keeps its own order), then sort.
            runs[start..].sort_by_key(|j| j.class);
            runs[start..].sort_unstable_by_key(order);
            intervals += 1;
        }
        assert_eq!(intervals, 60 * 288);
        assert!(merged.len() > 100_000, "{}", merged.len());
        assert_eq!(merged, runs);
    }

    #[test]
    fn merging_gives_the_sort_and_declines_equal_keys() {
        let (p2, p3, p4) = (WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4);
        let mut jobs = vec![
            job(10, p2, 1),
            job(40, p2, 2),
            job(5, p3, 3),
            job(40, p3, 4),
            job(41, p3, 5),
            job(1, p4, 6),
        ];
        let mut want = jobs.clone();
        want.sort_unstable_by_key(order);
        let mut scratch = Vec::new();
        assert!(merge_runs(&mut jobs, 100, &[102, 105, 106], &mut scratch));
        assert_eq!(jobs, want);
        let sizes: Vec<u16> = jobs.iter().map(|j| j.gpu_milli).collect();
        assert_eq!(sizes, [6, 3, 1, 2, 4, 5]);
        // Two P2 jobs at the same instant: the merge declines, jobs untouched.
        let mut tied = vec![job(10, p2, 1), job(10, p2, 2), job(5, p3, 3)];
        let before = tied.clone();
        assert!(!merge_runs(&mut tied, 0, &[2, 3], &mut scratch));
        assert_eq!(tied, before);
        // A run out of order is declined too.
        let mut unsorted = vec![job(10, p2, 1), job(5, p2, 2)];
        assert!(!merge_runs(&mut unsorted, 0, &[2], &mut scratch));
    }
}
