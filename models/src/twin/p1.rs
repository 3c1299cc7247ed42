//! P1 real-time inference as a fluid of requests: per served model and
//! request service (token profile), the interval's request rate from the
//! tape meets the GPUs the plant gives P1, and the validated serving model
//! (`plant::serving`) turns rate and slots into requests served, requests
//! dropped and the p99 wait that customers' SLAs are judged on.
//!
//! P1 GPUs are pooled across sites and GPU models in H100 equivalents (a
//! GPU counts its spec's `job_speed`) and split between the groups in
//! proportion to what each needs at the target utilisation.

use crate::demand::{Customer, DemandParams, Sla, WorkloadClass};
use crate::plant::{GpuCatalog, ServingOutcome, ServingPool, TokenMoments, serve};
use crate::world::WorldTape;

/// Requests of one model with one token profile.
#[derive(Debug, Clone)]
pub(crate) struct P1Group {
    pub(crate) model: String,
    /// Index of the request service (token profile).
    pub(crate) service: u8,
    /// Customers and their index into the tape's P1 streams.
    pub(crate) members: Vec<(u16, usize)>,
    pub(crate) mean_input_tokens: f64,
    pub(crate) mean_output_tokens: f64,
    pub(crate) service_scv: f64,
    pub(crate) gpus_per_replica: f64,
    pub(crate) concurrency_per_replica: f64,
    /// Per-sequence decode rate ÷ mean output tokens, requests/s per slot.
    pub(crate) slot_rate: f64,
}

/// The model a contract serves (`"Llama-3.1-8B FP8"` → `Llama-3.1-8B`).
pub(crate) fn served_model(customer: &Customer) -> &str {
    customer.workload.split(' ').next().unwrap_or("")
}

/// The P1 groups of a tape's customers. Customers whose model has no
/// H100 inference spec are left out and reported by name.
pub(crate) fn groups(
    tape: &WorldTape,
    demand: &DemandParams,
    gpu: &GpuCatalog,
) -> Result<Vec<P1Group>, String> {
    let mut groups: Vec<P1Group> = Vec::new();
    for (index, stream) in tape.demand.p1.iter().enumerate() {
        let Some(customer) = tape.demand.customers.get(usize::from(stream.customer)) else {
            continue;
        };
        if customer.class != WorkloadClass::P1 {
            continue;
        }
        let Some((service_index, service)) = customer.service.and_then(|s| {
            demand
                .requests
                .services
                .get(usize::from(s))
                .map(|service| (s, service))
        }) else {
            continue;
        };
        let model = served_model(customer);
        if let Some(g) = groups
            .iter_mut()
            .find(|g| g.model == model && g.service == service_index)
        {
            g.members.push((customer.id, index));
            continue;
        }
        let spec = gpu
            .inference(model, "H100")
            .map_err(|e| format!("customer {}: {e}", customer.name))?;
        let mean_in = service
            .stream
            .context_tokens
            .as_ref()
            .map_or(0.0, |t| TokenMoments::of(t).mean);
        let (mean_out, scv) = service
            .stream
            .generated_tokens
            .as_ref()
            .map_or((1.0, 1.0), |t| {
                let m = TokenMoments::of(t);
                (m.mean, m.scv)
            });
        let per_sequence = spec.output_tokens_per_s_per_gpu * f64::from(spec.gpus_per_replica)
            / f64::from(spec.concurrency_per_replica.max(1));
        groups.push(P1Group {
            model: model.to_owned(),
            service: service_index,
            members: vec![(customer.id, index)],
            mean_input_tokens: mean_in,
            mean_output_tokens: mean_out.max(1.0),
            service_scv: scv,
            gpus_per_replica: f64::from(spec.gpus_per_replica.max(1)),
            concurrency_per_replica: f64::from(spec.concurrency_per_replica.max(1)),
            slot_rate: per_sequence / mean_out.max(1.0),
        });
    }
    Ok(groups)
}

impl P1Group {
    /// Requests per second of the group in interval `i`.
    pub(crate) fn rate(&self, tape: &WorldTape, i: usize) -> f64 {
        self.members
            .iter()
            .map(|&(_, k)| {
                tape.demand.p1[k]
                    .rate
                    .values
                    .get(i)
                    .map_or(0.0, |&r| f64::from(r))
            })
            .sum()
    }

    /// H100-equivalent GPUs kept busy by `rate`.
    pub(crate) fn gpus_busy(&self, rate: f64) -> f64 {
        rate / self.slot_rate * self.gpus_per_replica / self.concurrency_per_replica
    }

    /// H100-equivalent GPUs that serve `rate` by the square-root staffing
    /// rule: slots = a + β√a for an offered load of a = rate ÷ slot rate.
    pub(crate) fn gpus_needed(&self, rate: f64, beta: f64) -> f64 {
        let a = rate / self.slot_rate;
        if a <= 0.0 {
            return 0.0;
        }
        (a + beta * a.sqrt()) * self.gpus_per_replica / self.concurrency_per_replica
    }

    /// Serves `rate` on `gpus` H100-equivalent GPUs.
    pub(crate) fn serve(&self, rate: f64, gpus: f64) -> ServingOutcome {
        let replicas = gpus / self.gpus_per_replica;
        let slots = (replicas * self.concurrency_per_replica).floor();
        let pool = ServingPool {
            slots: slots.min(f64::from(u32::MAX)) as u32,
            slot_service_rate_per_s: self.slot_rate,
            service_scv: self.service_scv,
        };
        serve(&pool, rate)
    }
}

/// Whether an interval's outcome meets a customer's latency target.
pub(crate) fn meets(customer: &Customer, outcome: &ServingOutcome, rate: f64) -> bool {
    let target = match customer.sla {
        Sla::Latency { p99_ms, .. } => f64::from(p99_ms),
        _ => f64::INFINITY,
    };
    outcome.p99_wait_ms <= target && outcome.dropped_per_s <= 1e-9 * rate.max(1.0)
}
