//! The customer base: one contract per customer, drawn deterministically
//! from the catalogue in [`CustomerParams`].
//!
//! Customer `k` (numbered P1 first, then P2, P3, P4) draws only from stream
//! `demand/customers` index `k`, so adding customers of a class never
//! changes an earlier customer's contract. Prices are USD per million
//! tokens (P1, P2) or per GPU-hour (P3, P4).

use hcp_engine::rng::{RngStreams, StreamId};
use rand::RngExt;
use serde::Serialize;

use super::params::{CreditBand, CustomerParams, RequestParams, WorkloadClass};

/// Family of the customer streams.
pub const CUSTOMER_STREAM: &str = "demand/customers";

/// One customer and its contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    /// Customer number, 0-based, also its index in the tape.
    pub id: u16,
    /// Display name, e.g. `P1-007`.
    pub name: String,
    /// Workload class.
    pub class: WorkloadClass,
    /// What runs: model and precision (P1, P2) or a job description.
    pub workload: String,
    /// Service-level terms.
    pub sla: Sla,
    /// Price.
    pub price: Price,
    /// SLA credit bands (empty for P3, P4).
    pub credits: Vec<CreditBand>,
    /// P1 only: index of the request service in [`RequestParams::services`].
    pub service: Option<u8>,
    /// P1 only: mean request rate before daily/weekly shape, requests/s.
    pub base_rate_per_s: f64,
}

/// Service-level terms of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Sla {
    /// P1: p99 latency target per request batch and monthly attainment.
    Latency {
        /// p99 latency target, ms.
        p99_ms: u32,
        /// Share of batches within target, %.
        attainment_pct: f64,
    },
    /// P2: every job done within this many hours of submission.
    Deadline {
        /// Hours after submission.
        hours: f64,
    },
    /// P3: the job checkpoints every this many minutes.
    Checkpoint {
        /// Minutes between checkpoints.
        minutes: u32,
    },
    /// P4: none.
    BestEffort,
}

/// Price of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Price {
    /// USD per million input and output tokens.
    PerMillionTokens {
        /// Input (context) tokens.
        input: f64,
        /// Output (generated) tokens.
        output: f64,
    },
    /// USD per GPU-hour.
    PerGpuHour(f64),
}

fn pick<'a, T>(rng: &mut impl RngExt, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}

/// Draws the customer base.
pub fn customers(
    params: &CustomerParams,
    requests: &RequestParams,
    streams: &RngStreams,
) -> Vec<Customer> {
    let classes = [
        WorkloadClass::P1,
        WorkloadClass::P2,
        WorkloadClass::P3,
        WorkloadClass::P4,
    ];
    let family = StreamId::named(CUSTOMER_STREAM);
    let mut out = Vec::new();
    let mut id: u16 = 0;
    for (class, &count) in classes.iter().zip(&params.count) {
        for n in 0..count {
            let mut rng = streams.stream(family.index(u64::from(id)));
            let f = 1.0 + params.price_spread * (2.0 * rng.random::<f64>() - 1.0);
            let mut customer = Customer {
                id,
                name: format!("{class:?}-{:03}", n + 1),
                class: *class,
                workload: String::new(),
                sla: Sla::BestEffort,
                price: Price::PerGpuHour(0.0),
                credits: Vec::new(),
                service: None,
                base_rate_per_s: 0.0,
            };
            match class {
                WorkloadClass::P1 | WorkloadClass::P2 => {
                    let offerings = if *class == WorkloadClass::P1 {
                        &params.p1_offerings
                    } else {
                        &params.p2_offerings
                    };
                    if let Some(o) = pick(&mut rng, offerings) {
                        customer.workload = format!("{} {}", o.model, o.precision);
                        customer.price = Price::PerMillionTokens {
                            input: o.input_usd_per_mtok * f,
                            output: o.output_usd_per_mtok * f,
                        };
                    }
                    if *class == WorkloadClass::P1 {
                        customer.sla = Sla::Latency {
                            p99_ms: pick(&mut rng, &params.p1_latency_p99_ms)
                                .copied()
                                .unwrap_or(50),
                            attainment_pct: pick(&mut rng, &params.p1_attainment_pct)
                                .copied()
                                .unwrap_or(99.0),
                        };
                        customer.credits.clone_from(&params.p1_credits);
                        if !requests.services.is_empty() {
                            let s = rng.random_range(0..requests.services.len());
                            let z: f64 = rand_distr::Distribution::sample(
                                &rand_distr::StandardNormal,
                                &mut rng,
                            );
                            let sd = requests.base_rate_log_sd;
                            customer.service = u8::try_from(s).ok();
                            customer.base_rate_per_s = requests.services[s].stream.mean_rate_per_s
                                * (sd * z - 0.5 * sd * sd).exp();
                        }
                    } else {
                        customer.sla = Sla::Deadline {
                            hours: pick(&mut rng, &params.p2_deadline_hours)
                                .copied()
                                .unwrap_or(24.0),
                        };
                        customer.credits.clone_from(&params.p2_credits);
                    }
                }
                WorkloadClass::P3 => {
                    let [lo, hi] = params.p3_usd_per_gpu_hour;
                    "training".clone_into(&mut customer.workload);
                    customer.price = Price::PerGpuHour(lo + (hi - lo) * rng.random::<f64>());
                    customer.sla = Sla::Checkpoint {
                        minutes: pick(&mut rng, &params.p3_checkpoint_minutes)
                            .copied()
                            .unwrap_or(60),
                    };
                }
                WorkloadClass::P4 => {
                    let [lo, hi] = params.p4_usd_per_gpu_hour;
                    "interruptible batch".clone_into(&mut customer.workload);
                    customer.price = Price::PerGpuHour(lo + (hi - lo) * rng.random::<f64>());
                }
            }
            out.push(customer);
            id = id.saturating_add(1);
        }
    }
    out
}
