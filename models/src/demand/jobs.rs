//! P2–P4 job arrivals: per class a Poisson process whose rate follows a
//! daily shape, with GPU sizes and runtimes drawn from the class's
//! distributions (fitted on the Alibaba GPU pod list) and runtimes scaled
//! so that the jobs offer the configured fraction of the fleet.
//!
//! Class k draws only from stream `demand/jobs/P<k>`. In each horizon step
//! the number of arrivals is Poisson(jobs_per_day · load_scale · share ·
//! step/86,400 s · D(UTC hour)); arrival instants are uniform within the
//! step. Work is GPU-seconds at H100 speed: GPUs × runtime × duration scale.
//! A record is 32 bytes.

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

/// One job arrival.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobArrival {
    /// Submission instant.
    pub arrival: SimTime,
    /// Work, GPU-seconds at H100 speed (duration = work / GPUs).
    pub work_gpu_s: f32,
    /// P2: deadline, seconds after arrival (0 for other classes).
    pub deadline_s: u32,
    /// P3: checkpoint interval, seconds (0 for other classes).
    pub checkpoint_s: u32,
    /// Customer id ([`NO_CUSTOMER`] when the class has none).
    pub customer: u16,
    /// GPUs requested, milli-GPUs.
    pub gpu_milli: u16,
    /// Workload class (P2, P3 or P4).
    pub class: WorkloadClass,
    /// GPU model the job must run on, if any.
    pub gpu: Option<GpuModel>,
}

impl JobArrival {
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

/// All job arrivals over the horizon, sorted by arrival (ties by class).
pub fn jobs(
    params: &JobParams,
    customers: &[Customer],
    fleet_gpus: u32,
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<JobArrival> {
    let scale = params.duration_scale(fleet_gpus);
    let mut per_class: Vec<Vec<JobArrival>> = params
        .classes
        .iter()
        .map(|c| class_jobs(params, c, customers, scale, horizon, streams))
        .collect();
    merge(&mut per_class)
}

fn class_jobs(
    params: &JobParams,
    class: &JobClassParams,
    customers: &[Customer],
    scale: f64,
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<JobArrival> {
    let mut rng = streams.stream(StreamId::named(&job_stream(class.class)));
    let owners: Vec<&Customer> = customers.iter().filter(|c| c.class == class.class).collect();
    let step_us = horizon.step.as_micros();
    let step_s = horizon.step.as_secs_f64();
    let per_step = params.jobs_per_day * params.load_scale * class.share * step_s / 86_400.0;
    let total_share: f64 = class.sizes.iter().map(|s| s.share).sum();
    let n = horizon.intervals();
    let mut out = Vec::with_capacity((per_step * n as f64 * 1.01) as usize + 16);
    let mut offsets: Vec<u64> = Vec::new();
    let start_hour = horizon.epoch.start().timestamp().rem_euclid(86_400) as f64 / 3600.0;
    for i in 0..n {
        let hour = ((start_hour + i as f64 * step_s / 3600.0) as usize) % 24;
        let mean = per_step * params.daily_shape.get(hour).copied().unwrap_or(1.0);
        let count = match Poisson::new(mean) {
            Ok(d) => d.sample(&mut rng) as usize,
            Err(_) => 0,
        };
        offsets.clear();
        offsets.extend((0..count).map(|_| rng.random_range(0..step_us)));
        offsets.sort_unstable();
        let base = step_us * i as u64;
        for &offset in &offsets {
            let mut pick = rng.random::<f64>() * total_share;
            let mut gpu_milli = class.sizes.last().map_or(1000, |s| s.gpu_milli);
            for s in &class.sizes {
                if pick < s.share {
                    gpu_milli = s.gpu_milli;
                    break;
                }
                pick -= s.share;
            }
            let duration = class.runtime_s.sample(rng.random::<f64>()) * scale;
            let owner = (!owners.is_empty()).then(|| owners[rng.random_range(0..owners.len())]);
            let h100 = rng.random::<f64>() < class.h100_only;
            let (deadline_s, checkpoint_s) = match owner.map(|c| c.sla) {
                Some(Sla::Deadline { hours }) => {
                    ((hours * 3600.0).max(params.p2_min_slack * duration), 0.0)
                }
                Some(Sla::Checkpoint { minutes }) => (0.0, f64::from(minutes) * 60.0),
                _ => (0.0, 0.0),
            };
            out.push(JobArrival {
                arrival: SimTime::from_micros(base + offset),
                work_gpu_s: (duration * f64::from(gpu_milli) / 1000.0) as f32,
                deadline_s: deadline_s.min(f64::from(u32::MAX)) as u32,
                checkpoint_s: checkpoint_s as u32,
                customer: owner.map_or(NO_CUSTOMER, |c| c.id),
                gpu_milli,
                class: class.class,
                gpu: h100.then_some(GpuModel::H100),
            });
        }
    }
    out
}

/// Merges per-class lists, each sorted by arrival, into one sorted list.
fn merge(lists: &mut [Vec<JobArrival>]) -> Vec<JobArrival> {
    let total = lists.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut heads = vec![0usize; lists.len()];
    loop {
        let mut best: Option<usize> = None;
        for (k, list) in lists.iter().enumerate() {
            if let Some(job) = list.get(heads[k])
                && best.is_none_or(|b| job.arrival < lists[b][heads[b]].arrival)
            {
                best = Some(k);
            }
        }
        let Some(k) = best else { break };
        out.push(lists[k][heads[k]]);
        heads[k] += 1;
    }
    out
}
