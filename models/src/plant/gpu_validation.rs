//! Validation of the GPU plant for `hcp validate` (group `plant`): switching
//! quantiles against the reference totals, cold-start range, inference and
//! server-power figures against their public sources, and the P1 serving
//! approximation ([`super::serving::serve`]) against the request-level run
//! ([`super::serving_sim`]): its p99 wait at several loads and pool sizes,
//! and the highest load at which the p99 wait meets a 50 ms SLA. Units:
//! milliseconds for waits and switches, watts, tokens per second.

use hcp_engine::rng::{RngStreams, StreamId};

use super::gpu::GpuCatalog;
use super::serving::{RHO_MAX, ServingPool, TokenMoments, serve};
use super::serving_sim::simulate_p99_wait_ms;
use crate::check::Check;
use crate::demand::{DemandParams, QuantileTable};

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
const SOURCE_DESIGN: &str = "reference GPU switching measurements: p50 ≈ 442 ms, p99 ≈ 681 ms pre-warmed; cold start 5–12 s (docs/models/gpu.md)";
const SOURCE_VLLM: &str = "https://blog.vllm.ai/2024/09/05/perf-update.html";
const SOURCE_SIM: &str = "request-level M/G/c run on the engine (gpu/serving_sim), output-token tables of models/params/demand.toml";
const SOURCE_DGX_H100: &str =
    "https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html";
const SOURCE_DGX_A100: &str =
    "https://images.nvidia.com/aem-dam/Solutions/Data-Center/nvidia-dgx-a100-datasheet.pdf";

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

/// The P1 latency target the SLA knee is read at, ms (the tightest p99 of
/// the demand catalogue).
pub const SLA_MS: f64 = 50.0;
/// Allowed difference between the approximation's and the run's SLA knee,
/// in utilisation.
pub const KNEE_TOLERANCE: f64 = 0.02;

/// The highest utilisation at which a pool meets the [`SLA_MS`] p99 wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KneeCase {
    /// Slots of the pool.
    pub slots: u32,
    /// The knee of [`serve`].
    pub approximation: f64,
    /// The knee of the request-level run.
    pub simulation: f64,
}

/// The highest ρ in [0.3, [`RHO_MAX`]) with `p99_ms(ρ)` ≤ `sla_ms`, by
/// `steps` bisections (the p99 wait does not fall as ρ rises).
fn knee(sla_ms: f64, steps: u32, mut p99_ms: impl FnMut(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (0.3, RHO_MAX);
    for _ in 0..steps {
        let mid = f64::midpoint(lo, hi);
        if p99_ms(mid) <= sla_ms {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f64::midpoint(lo, hi)
}

/// The SLA knee of the approximation and of the request-level run (seven
/// bisections of `requests` requests each, a tenth of them warm-up) for
/// pools of each of `slots`, with the output tokens of the demand model's
/// P1 service `service`. Empty if the demand model has no such service.
pub fn sla_knee_comparison(
    service: &str,
    slots: &[u32],
    requests: u64,
    streams: &RngStreams,
) -> Vec<KneeCase> {
    let Some((tokens, decode)) = reference_pool_inputs(service) else {
        return Vec::new();
    };
    let moments = TokenMoments::of(&tokens);
    slots
        .iter()
        .map(|&slots| {
            let pool = ServingPool {
                slots,
                slot_service_rate_per_s: decode / moments.mean,
                service_scv: moments.scv,
            };
            let rate = |rho: f64| rho * pool.capacity_per_s();
            KneeCase {
                slots,
                approximation: knee(SLA_MS, 40, |rho| serve(&pool, rate(rho)).p99_wait_ms),
                simulation: knee(SLA_MS, 7, |rho| {
                    let (n, warmup) = (requests, requests / 10);
                    simulate_p99_wait_ms(slots, rate(rho), &tokens, decode, n, warmup, streams)
                }),
            }
        })
        .collect()
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
    for case in sla_knee_comparison(CHECKED_SERVICE, &[16, 64, 256], 300_000, &streams) {
        out.push(Check::absolute(
            GROUP,
            &format!(
                "serving_{CHECKED_SERVICE}_sla50_knee_utilisation_c{}",
                case.slots
            ),
            case.approximation,
            case.simulation,
            KNEE_TOLERANCE,
            "share",
            SOURCE_SIM,
        ));
    }
    out
}

/// The P1 service whose output tokens the serving checks use: chat
/// traffic (`conv`). For the heavy-tailed `code` service the approximation
/// is conservative beyond these tolerances at moderate load
/// (docs/models/gpu.md).
pub const CHECKED_SERVICE: &str = "conv";

fn serving_check(service: &str, case: &ServingCase) -> Check {
    let name = format!(
        "serving_{service}_p99_wait_c{}_rho{:.2}",
        case.slots, case.utilisation
    );
    if case.simulation_ms < SERVING_ABSOLUTE_MS {
        Check::absolute(
            GROUP,
            &name,
            case.approximation_ms,
            case.simulation_ms,
            SERVING_ABSOLUTE_MS,
            "ms",
            SOURCE_SIM,
        )
    } else {
        Check::relative(
            GROUP,
            &name,
            case.approximation_ms,
            case.simulation_ms,
            SERVING_TOLERANCE,
            "ms",
            SOURCE_SIM,
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
