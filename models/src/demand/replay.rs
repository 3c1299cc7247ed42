//! Replays of real traces into the generator's tape types: a request trace
//! (e.g. the Azure LLM inference trace) as one P1 customer's rate tape, and
//! a GPU pod list (the Alibaba layout) as job arrivals.
//!
//! Request replay: the trace's first request is put at the horizon start;
//! each horizon step's rate is its request count divided by the step
//! (requests per second); past the trace's end the rate is zero, or the
//! trace repeats with period = its span when looped. Pod replay: arrival =
//! (creation − first creation) × `time_scale`; work = GPUs × runtime ×
//! `duration_scale` (GPU-seconds); the class follows the calibration's rule
//! (best-effort → P4, runtime ≤ 1 h → P2, else P3); customers of the class
//! take the pods in turn.

use hcp_engine::time::SimTime;

use super::customers::{Customer, Sla};
use super::jobs::{JobArrival, JobLimit, NO_CUSTOMER};
use super::params::WorkloadClass;
use super::requests::{P1Stream, RateSeries};
use super::traces::{PodList, RequestTrace};
use crate::series::Horizon;

/// A request trace as the rate tape of customer `customer`.
pub fn replay_requests(
    trace: &RequestTrace,
    horizon: &Horizon,
    customer: u16,
    looped: bool,
) -> P1Stream {
    let step_s = horizon.step.as_secs_f64();
    let n = horizon.intervals();
    let span = trace.span_s();
    let mut counts = vec![0u32; n];
    let horizon_s = n as f64 * step_s;
    let mut shift = 0.0;
    loop {
        for &t in &trace.offsets_s {
            let at = t + shift;
            if at < horizon_s
                && let Some(c) = counts.get_mut((at / step_s) as usize)
            {
                *c += 1;
            }
        }
        // A period of the trace's span plus one mean inter-arrival gap.
        shift += span + span / trace.offsets_s.len() as f64;
        if !looped || shift >= horizon_s || span <= 0.0 {
            break;
        }
    }
    P1Stream {
        customer,
        rate: RateSeries {
            start: SimTime::ZERO,
            step: horizon.step,
            values: counts
                .iter()
                .map(|&c| (f64::from(c) / step_s) as f32)
                .collect(),
        },
    }
}

/// A pod list as job arrivals over the horizon (later ones are dropped).
pub fn replay_pods(
    pods: &PodList,
    horizon: &Horizon,
    customers: &[Customer],
    time_scale: f64,
    duration_scale: f64,
) -> Vec<JobArrival> {
    let first = pods.pods.first().map_or(0.0, |p| p.creation_s);
    let end_us = horizon.end().as_micros();
    let mut turn = [0usize; 3];
    let owners: Vec<Vec<&Customer>> = [WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4]
        .iter()
        .map(|k| customers.iter().filter(|c| c.class == *k).collect())
        .collect();
    let mut out = Vec::with_capacity(pods.pods.len());
    for pod in &pods.pods {
        let at_us = ((pod.creation_s - first) * time_scale * 1e6).round();
        if !(0.0..end_us as f64).contains(&at_us) {
            continue;
        }
        let class = pod.class();
        let k = class as usize - 2;
        let owner = (!owners[k].is_empty()).then(|| owners[k][turn[k] % owners[k].len()]);
        turn[k] += 1;
        let duration = pod.runtime_s * duration_scale;
        let (limit, limit_s) = match owner.map(|c| c.sla) {
            Some(Sla::Deadline { hours }) => (
                JobLimit::Deadline,
                (hours * 3600.0).max(duration).min(f64::from(u32::MAX)) as u32,
            ),
            Some(Sla::Checkpoint { minutes }) => {
                (JobLimit::Checkpoint, (f64::from(minutes) * 60.0) as u32)
            }
            _ => (JobLimit::None, 0),
        };
        out.push(JobArrival {
            arrival: SimTime::from_micros(at_us as u64),
            work_gpu_s: (duration * f64::from(pod.gpu_milli) / 1000.0) as f32,
            limit_s,
            limit,
            customer: owner.map_or(NO_CUSTOMER, |c| c.id),
            gpu_milli: u16::try_from(pod.gpu_milli).unwrap_or(u16::MAX),
            class,
            gpu: None,
        });
    }
    out
}
