//! Customer demand for the operator's GPUs: the customer base and its
//! contracts, P1 real-time request-rate streams, and P2 batch, P3 training
//! and P4 interruptible job arrivals — generated from calibrated parameters
//! or replayed from traces into the same tape types.
//!
//! Units: request rates in requests per second, job work in GPU-seconds at
//! H100 speed, GPU requests in milli-GPUs, prices in USD. Streams:
//! `demand/customers` (index = customer id), `demand/p1` (index = customer
//! id), `demand/jobs/P2`, `demand/jobs/P3`, `demand/jobs/P4`.

// Float-to-integer casts here are of values bounded and non-negative by
// construction (floors of non-negative times into bucket indices, Poisson
// counts, f32/u32 storage of clamped values); formula code keeps the
// single-letter names of the equations in the docs.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::many_single_char_names,
    clippy::similar_names
)]

pub mod calibrate;
mod customers;
mod jobs;
mod params;
mod quantiles;
pub mod replay;
mod requests;
pub mod traces;
pub mod validation;

pub use customers::{CUSTOMER_STREAM, Customer, Price, Sla, customers};
pub use jobs::{JobArrival, JobGenerator, JobLimit, NO_CUSTOMER, job_stream, jobs};
pub use params::{
    BUILT_IN, BurstParams, CreditBand, CustomerParams, DemandParams, FleetParams, GpuModel,
    GpuPool, InferenceOffering, JobClassParams, JobParams, RequestParams, RequestStreamParams,
    ServiceParams, SizeShare, WorkloadClass,
};
pub use quantiles::{KNOTS, QUANTILE_PROBS, QuantileTable};
pub use requests::{
    P1_STREAM, P1Stream, RateSeries, expected_sample_iod, fine_counts, hours_of_week,
    index_of_dispersion, p1_streams, window_variance,
};

use hcp_engine::rng::RngStreams;
use serde::Serialize;

use crate::series::Horizon;

/// The demand part of the world tape for one (seed, replication).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandTape {
    /// Every customer, indexed by id.
    pub customers: Vec<Customer>,
    /// One rate tape per P1 customer, in customer order.
    pub p1: Vec<P1Stream>,
    /// P2–P4 job arrivals sorted by arrival.
    pub jobs: Vec<JobArrival>,
}

impl DemandTape {
    /// Approximate heap memory of the tape, bytes.
    pub fn heap_bytes(&self) -> usize {
        self.customers.len() * std::mem::size_of::<Customer>()
            + self
                .p1
                .iter()
                .map(|s| s.rate.values.len() * std::mem::size_of::<f32>())
                .sum::<usize>()
            + self.jobs.len() * std::mem::size_of::<JobArrival>()
    }
}

/// Generates the whole demand tape.
pub fn generate(params: &DemandParams, horizon: &Horizon, streams: &RngStreams) -> DemandTape {
    let mut tape = generate_without_jobs(params, horizon, streams);
    tape.jobs = jobs(
        &params.jobs,
        &tape.customers,
        params.fleet.gpus(),
        horizon,
        streams,
    );
    tape
}

/// The demand tape without its job list (`jobs` empty): customers and P1
/// rates only. A twin pulls the jobs interval by interval from
/// [`job_generator`] instead, which yields exactly the list [`generate`]
/// holds without keeping a year of jobs in memory.
pub fn generate_without_jobs(
    params: &DemandParams,
    horizon: &Horizon,
    streams: &RngStreams,
) -> DemandTape {
    let customers = customers(&params.customers, &params.requests, streams);
    let p1 = p1_streams(&params.requests, &customers, horizon, streams);
    DemandTape {
        customers,
        p1,
        jobs: Vec::new(),
    }
}

/// The job arrivals of [`generate`], one interval at a time.
pub fn job_generator(
    params: &DemandParams,
    customers: &[Customer],
    horizon: &Horizon,
    streams: &RngStreams,
) -> JobGenerator {
    JobGenerator::new(
        &params.jobs,
        customers,
        params.fleet.gpus(),
        horizon,
        streams,
    )
}
