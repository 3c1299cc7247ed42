//! Validation of the GPU plant for `hcp validate` (group `plant`): switching
//! quantiles against the reference totals, cold-start range, inference and
//! server-power figures against their public sources, and the P1 serving
//! approximation ([`super::serving::serve`]) against a request-level M/G/c
//! simulation on the engine ([`simulate_p99_wait_ms`]).
//!
//! The request-level run: Poisson arrivals (stream
//! `gpu/serving_sim/arrivals`), one FCFS queue in front of `slots` slots,
//! service times drawn from the demand model's output-token quantiles
//! (stream `gpu/serving_sim/service`) divided by the per-sequence decode
//! rate; waits recorded after a warm-up, in microseconds, and their p99
//! read from the engine's latency histogram. Units: milliseconds for waits
//! and switches, watts, tokens per second.

use std::collections::VecDeque;

use hcp_engine::queue::Event;
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use hcp_engine::simulation::{Model, Scheduler, Simulation};
use hcp_engine::stats::LatencyHistogram;
use hcp_engine::time::{SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::gpu::GpuCatalog;
use super::serving::{ServingPool, TokenMoments, serve};
use crate::check::Check;
use crate::demand::{DemandParams, QuantileTable};

/// Stream of the request-level run's inter-arrival gaps.
pub const SIM_ARRIVALS: StreamId = StreamId::named("gpu/serving_sim/arrivals");
/// Stream of the request-level run's token counts.
pub const SIM_SERVICE: StreamId = StreamId::named("gpu/serving_sim/service");
/// Stream of the switching draws the checks use.
pub const SWITCH_CHECK: StreamId = StreamId::named("gpu/switch_check");

/// Reference total switch time when pre-warmed: median, ms.
pub const SWITCH_P50_MS: f64 = 442.0;
/// Reference total switch time when pre-warmed: 99th percentile, ms.
pub const SWITCH_P99_MS: f64 = 681.0;

/// Relative tolerance of the serving approximation's p99 against the
/// request-level run (see docs/models/gpu.md, "Serving model").
pub const SERVING_TOLERANCE: f64 = 0.20;
/// Waits shorter than this are compared absolutely (a p99 of zero or a few
/// milliseconds has no meaningful relative error), ms.
pub const SERVING_ABSOLUTE_MS: f64 = 50.0;

const GROUP: &str = "plant";
const SOURCE_DESIGN: &str = "HCP Twin product brief §2: reference switching latencies p50 ≈ 442 ms, p99 ≈ 681 ms; cold start 5–12 s";
const SOURCE_VLLM: &str = "https://blog.vllm.ai/2024/09/05/perf-update.html";
const SOURCE_DGX_H100: &str =
    "https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html";
const SOURCE_DGX_A100: &str =
    "https://images.nvidia.com/aem-dam/Solutions/Data-Center/nvidia-dgx-a100-datasheet.pdf";

/// The events of the request-level run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestEvent {
    Arrival,
    Departure,
}

impl Event for RequestEvent {}

/// An M/G/c station whose service times come from a token table.
struct RequestLevelPool {
    slots: u32,
    busy: u32,
    /// Arrival time of each waiting request and whether it is measured.
    waiting: VecDeque<(SimTime, bool)>,
    tokens: QuantileTable,
    decode_tokens_per_s: f64,
    mean_gap_s: f64,
    arrivals: StreamRng,
    service: StreamRng,
    remaining: u64,
    warmup: u64,
    arrived: u64,
    waits: LatencyHistogram,
}

impl RequestLevelPool {
    fn service_time(&mut self) -> SimDuration {
        let tokens = self.tokens.sample(self.service.random::<f64>());
        SimDuration::from_secs_f64(tokens / self.decode_tokens_per_s)
    }

    fn next_arrival(&mut self, s: &mut Scheduler<RequestEvent>) {
        if self.remaining > 0 {
            self.remaining -= 1;
            let gap: f64 = Exp1.sample(&mut self.arrivals);
            s.schedule_in(
                SimDuration::from_secs_f64(gap * self.mean_gap_s),
                RequestEvent::Arrival,
            );
        }
    }
}

impl Model for RequestLevelPool {
    type Event = RequestEvent;

    fn start(&mut self, s: &mut Scheduler<RequestEvent>) {
        self.next_arrival(s);
    }

    fn handle(&mut self, event: RequestEvent, s: &mut Scheduler<RequestEvent>) {
        match event {
            RequestEvent::Arrival => {
                self.arrived += 1;
                let measured = self.arrived > self.warmup;
                if self.busy < self.slots {
                    self.busy += 1;
                    if measured {
                        self.waits.record(SimDuration::ZERO);
                    }
                    let d = self.service_time();
                    s.schedule_in(d, RequestEvent::Departure);
                } else {
                    self.waiting.push_back((s.now(), measured));
                }
                self.next_arrival(s);
            }
            RequestEvent::Departure => {
                if let Some((arrived, measured)) = self.waiting.pop_front() {
                    if measured {
                        self.waits.record(s.now().saturating_since(arrived));
                    }
                    let d = self.service_time();
                    s.schedule_in(d, RequestEvent::Departure);
                } else {
                    self.busy -= 1;
                }
            }
        }
    }
}

/// The 99th percentile of the wait for a slot, ms, in a request-level run
/// of `requests` Poisson arrivals at `arrival_rate_per_s` to `slots` slots,
/// each request generating a token count drawn from `tokens` at
/// `decode_tokens_per_s`; the first `warmup` requests are not measured.
pub fn simulate_p99_wait_ms(
    slots: u32,
    arrival_rate_per_s: f64,
    tokens: &QuantileTable,
    decode_tokens_per_s: f64,
    requests: u64,
    warmup: u64,
    streams: &RngStreams,
) -> f64 {
    let pool = RequestLevelPool {
        slots,
        busy: 0,
        waiting: VecDeque::with_capacity(1024),
        tokens: tokens.clone(),
        decode_tokens_per_s,
        mean_gap_s: 1.0 / arrival_rate_per_s,
        arrivals: streams.stream(SIM_ARRIVALS),
        service: streams.stream(SIM_SERVICE),
        remaining: requests,
        warmup,
        arrived: 0,
        waits: LatencyHistogram::new(),
    };
    let mut sim = Simulation::new(pool);
    sim.run();
    sim.model().waits.quantile(0.99).as_secs_f64() * 1_000.0
}

/// One point of the serving comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServingCase {
    /// Slots of the pool.
    pub slots: u32,
    /// Offered utilisation ρ.
    pub utilisation: f64,
    /// p99 wait of [`serve`], ms.
    pub approximation_ms: f64,
    /// p99 wait of the request-level run, ms.
    pub simulation_ms: f64,
}

impl ServingCase {
    /// Whether the approximation is within [`SERVING_TOLERANCE`] of the run,
    /// or within [`SERVING_ABSOLUTE_MS`] when the run's wait is that short.
    pub fn within_tolerance(&self) -> bool {
        let err = (self.approximation_ms - self.simulation_ms).abs();
        err <= SERVING_ABSOLUTE_MS || err <= SERVING_TOLERANCE * self.simulation_ms
    }
}

/// The output-token table of the demand model's P1 service `service` and the
/// decode rate of Llama-3.1-8B on an H100: the pool the comparison runs.
fn reference_pool_inputs(service: &str) -> Option<(QuantileTable, f64)> {
    let demand = DemandParams::default();
    let tokens = demand
        .requests
        .services
        .iter()
        .find(|s| s.name == service)?
        .stream
        .generated_tokens
        .clone()?;
    let spec = GpuCatalog::default()
        .inference("Llama-3.1-8B", "H100")
        .ok()?
        .sequence_tokens_per_s();
    Some((tokens, spec))
}

/// The approximation against the request-level run at utilisations
/// 0.7, 0.85, 0.95 and 16, 64, 256 slots (`requests` arrivals each, a tenth
/// of them warm-up), with the output tokens of the demand model's P1 service
/// `service` (`code`, `conv`), on the streams of `streams`. Empty if the
/// demand model has no such service.
pub fn serving_comparison(service: &str, requests: u64, streams: &RngStreams) -> Vec<ServingCase> {
    let Some((tokens, decode)) = reference_pool_inputs(service) else {
        return Vec::new();
    };
    let moments = TokenMoments::of(&tokens);
    let mut cases = Vec::with_capacity(9);
    for slots in [16u32, 64, 256] {
        for utilisation in [0.7, 0.85, 0.95] {
            let pool = ServingPool {
                slots,
                slot_service_rate_per_s: decode / moments.mean,
                service_scv: moments.scv,
            };
            let lambda = utilisation * pool.capacity_per_s();
            cases.push(ServingCase {
                slots,
                utilisation,
                approximation_ms: serve(&pool, lambda).p99_wait_ms,
                simulation_ms: simulate_p99_wait_ms(
                    slots,
                    lambda,
                    &tokens,
                    decode,
                    requests,
                    requests / 10,
                    streams,
                ),
            });
        }
    }
    cases
}

/// Every check of the GPU plant (group `plant`).
pub fn checks() -> Vec<Check> {
    let catalog = GpuCatalog::default();
    let streams = RngStreams::new(2024, 0);
    let mut out = switching_checks(&catalog, &streams);
    if let Ok(s) = catalog.inference("Llama-3.1-8B", "H100") {
        out.push(Check::relative(
            GROUP,
            "llama_8b_h100_output_tokens_per_s",
            s.output_tokens_per_s_per_gpu,
            3_400.0,
            0.05,
            "tok/s",
            SOURCE_VLLM,
        ));
    }
    for (gpu, reference, source) in [
        ("H100", 10_200.0, SOURCE_DGX_H100),
        ("A100", 6_500.0, SOURCE_DGX_A100),
    ] {
        if let Ok(spec) = catalog.gpu(gpu) {
            out.push(Check::relative(
                GROUP,
                &format!("{}_server_power_full_load_w", gpu.to_lowercase()),
                spec.server_power_w(1.0),
                reference,
                0.02,
                "W",
                source,
            ));
        }
    }
    for case in serving_comparison(CHECKED_SERVICE, 1_000_000, &streams) {
        out.push(serving_check(CHECKED_SERVICE, &case));
    }
    out
}

/// The P1 service whose output tokens the serving checks use: chat
/// traffic (`conv`). The heavy-tailed `code` service is outside the
/// approximation's tolerance at moderate load (docs/models/gpu.md).
pub const CHECKED_SERVICE: &str = "conv";

fn serving_check(service: &str, case: &ServingCase) -> Check {
    let name = format!(
        "serving_{service}_p99_wait_c{}_rho{:.2}",
        case.slots, case.utilisation
    );
    let source = "request-level M/G/c run on the engine (gpu/serving_sim), output-token table of models/params/demand.toml";
    if case.simulation_ms < SERVING_ABSOLUTE_MS {
        Check::absolute(
            GROUP,
            &name,
            case.approximation_ms,
            case.simulation_ms,
            SERVING_ABSOLUTE_MS,
            "ms",
            source,
        )
    } else {
        Check::relative(
            GROUP,
            &name,
            case.approximation_ms,
            case.simulation_ms,
            SERVING_TOLERANCE,
            "ms",
            source,
        )
    }
}

/// Quantiles of 200,000 pre-warmed switches and the extremes of 200,000
/// cold loads.
fn switching_checks(catalog: &GpuCatalog, streams: &RngStreams) -> Vec<Check> {
    const N: usize = 200_000;
    let params = &catalog.switching;
    let mut rng = streams.stream(SWITCH_CHECK);
    let mut totals: Vec<f64> = (0..N)
        .map(|_| params.sample(&mut rng, true).total.as_secs_f64() * 1_000.0)
        .collect();
    totals.sort_unstable_by(f64::total_cmp);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..N {
        let load = params.sample(&mut rng, false).phases[super::switching::ACTIVATE];
        let ms = load.as_secs_f64() * 1_000.0;
        lo = lo.min(ms);
        hi = hi.max(ms);
    }
    let q = |p| crate::describe::quantile_sorted(&totals, p);
    vec![
        Check::relative(
            GROUP,
            "switch_total_p50_ms",
            q(0.50),
            SWITCH_P50_MS,
            0.05,
            "ms",
            SOURCE_DESIGN,
        ),
        Check::relative(
            GROUP,
            "switch_total_p99_ms",
            q(0.99),
            SWITCH_P99_MS,
            0.05,
            "ms",
            SOURCE_DESIGN,
        ),
        Check::absolute(
            GROUP,
            "cold_load_min_ms",
            lo,
            5_000.0,
            50.0,
            "ms",
            SOURCE_DESIGN,
        ),
        Check::absolute(
            GROUP,
            "cold_load_max_ms",
            hi,
            12_000.0,
            50.0,
            "ms",
            SOURCE_DESIGN,
        ),
    ]
}
