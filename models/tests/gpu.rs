//! The GPU plant: catalog, power, switching quantiles, serving model against
//! a request-level simulation, determinism and bad input.

use hcp_engine::rng::{RngStreams, StreamId};
use hcp_engine::time::SimDuration;
use hcp_models::describe::quantile;
use hcp_models::plant::gpu::{BUILT_IN, GpuCatalog, GpuSpecError};
use hcp_models::plant::gpu_validation::{
    CHECKED_SERVICE, KNEE_TOLERANCE, SWITCH_P50_MS, SWITCH_P99_MS, checks, serving_comparison,
    sla_knee_comparison,
};
use hcp_models::plant::serving::{RHO_MAX, ServingPool, TokenMoments, serve};
use hcp_models::plant::switching::{ACTIVATE, switch_energy_j};

#[test]
fn built_in_catalog_parses_with_every_offering() {
    let catalog = GpuCatalog::default();
    let names: Vec<&str> = catalog.gpus.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["H100", "A100", "L40S"]);
    for model in ["Llama-3.1-8B", "Llama-3.1-70B", "Llama-3.1-405B"] {
        let s = catalog.inference(model, "H100").unwrap();
        assert!(s.output_tokens_per_s_per_gpu > 0.0, "{model}");
    }
    assert_eq!(
        catalog
            .inference("Llama-3.1-8B", "H100")
            .unwrap()
            .output_tokens_per_s_per_gpu,
        3_400.0
    );
    // Meta's Llama 3 run: 419 × 58.7 % GPU interruptions over 16,384 GPUs × 54 days.
    let rate = 419.0 * 0.587 / (16_384.0 * 54.0) * 365.0;
    assert!((catalog.reliability.annual_failure_rate - rate).abs() < 0.001);
}

#[test]
fn unknown_names_list_the_known_ones() {
    let catalog = GpuCatalog::default();
    let err = catalog.gpu("B200").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown GPU \"B200\"; known: H100, A100, L40S"
    );
    let err = catalog
        .inference("Llama-3.1-405B", "L40S")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown inference model \"Llama-3.1-405B on L40S\""),
        "{err}"
    );
    assert!(err.contains("Llama-3.1-8B on H100"), "{err}");
    assert!(matches!(
        catalog.inference("Llama-3.1-8B", "V100"),
        Err(GpuSpecError::Unknown { kind: "GPU", .. })
    ));
}

#[test]
fn bad_catalogs_are_refused_with_the_field() {
    let unknown_key = BUILT_IN.replacen("memory_gb = 80.0", "memory_gb = 80.0\nhbm = 3", 1);
    let err = GpuCatalog::from_toml(&unknown_key).unwrap_err().to_string();
    assert!(
        err.contains("unknown field `hbm`") && err.contains("line 15, column 1"),
        "{err}"
    );
    let negative = BUILT_IN.replacen("tdp_w = 400.0", "tdp_w = -400.0", 1);
    let err = GpuCatalog::from_toml(&negative).unwrap_err().to_string();
    assert!(
        err.contains("GPU \"A100\" tdp_w") && err.contains("not positive"),
        "{err}"
    );
    let orphan = BUILT_IN.replacen("gpu = \"L40S\"", "gpu = \"V100\"", 1);
    let err = GpuCatalog::from_toml(&orphan).unwrap_err().to_string();
    assert!(err.contains("unknown GPU \"V100\""), "{err}");
}

#[test]
fn power_rises_with_utilisation_and_matches_the_dgx_figure() {
    let catalog = GpuCatalog::default();
    for gpu in &catalog.gpus {
        let mut last = gpu.off_power_per_gpu_w();
        for step in 0..=20 {
            let p = gpu.power_per_gpu_w(f64::from(step) / 20.0);
            assert!(p > last, "{}: {p} ≤ {last}", gpu.name);
            last = p;
        }
        assert!(gpu.off_power_per_gpu_w() < 10.0);
    }
    // DGX H100: 10.2 kW at full load, not 8 × 700 W.
    let h100 = catalog.gpu("H100").unwrap();
    assert!((h100.server_power_w(1.0) - 10_200.0).abs() < 1.0);
    assert!((h100.max_power_per_gpu_w() - 1_275.0).abs() < 1e-9);
}

#[test]
fn switching_quantiles_match_the_reference_within_five_percent() {
    let params = GpuCatalog::default().switching;
    let mut rng = RngStreams::new(11, 0).stream(StreamId::named("gpu/switch"));
    let totals: Vec<f64> = (0..200_000)
        .map(|_| params.sample(&mut rng, true).total.as_secs_f64() * 1e3)
        .collect();
    let (p50, p99) = (quantile(&totals, 0.5), quantile(&totals, 0.99));
    assert!(
        (p50 - SWITCH_P50_MS).abs() < 0.05 * SWITCH_P50_MS,
        "p50 {p50}"
    );
    assert!(
        (p99 - SWITCH_P99_MS).abs() < 0.05 * SWITCH_P99_MS,
        "p99 {p99}"
    );
}

#[test]
fn cold_loads_lie_in_five_to_twelve_seconds() {
    let params = GpuCatalog::default().switching;
    let mut rng = RngStreams::new(11, 0).stream(StreamId::named("gpu/switch"));
    let (lo, hi) = (SimDuration::from_secs(5), SimDuration::from_secs(12));
    let mut below_six = 0;
    for _ in 0..20_000 {
        let s = params.sample(&mut rng, false);
        let load = s.phases[ACTIVATE];
        assert!(load >= lo && load <= hi, "{load}");
        assert!(s.total > load && s.total <= params.max_total(false));
        below_six += usize::from(load < SimDuration::from_secs(6));
    }
    // Uniform on [5, 12] s: a seventh of the loads are under 6 s.
    assert!(
        (below_six as f64 / 20_000.0 - 1.0 / 7.0).abs() < 0.01,
        "{below_six}"
    );
}

#[test]
fn sampling_is_deterministic_per_stream() {
    let params = GpuCatalog::default().switching;
    let streams = RngStreams::new(5, 2);
    let id = StreamId::named("gpu/switch").index(17);
    let draw =
        |rng: &mut _| -> Vec<_> { (0..100).map(|i| params.sample(rng, i % 3 != 0)).collect() };
    let a = draw(&mut streams.stream(id));
    let b = draw(&mut streams.stream(id));
    assert_eq!(a, b);
    let other = draw(&mut streams.stream(StreamId::named("gpu/switch").index(18)));
    assert_ne!(a, other);
}

#[test]
fn switch_energy_uses_half_load_power() {
    let catalog = GpuCatalog::default();
    let h100 = catalog.gpu("H100").unwrap();
    let j = switch_energy_j(h100, SimDuration::from_millis(500));
    assert!((j - 0.5 * h100.power_per_gpu_w(0.5)).abs() < 1e-9);
}

#[test]
fn serving_approximation_matches_the_request_level_run() {
    let cases = serving_comparison(CHECKED_SERVICE, 1_000_000, &RngStreams::new(2024, 0));
    assert_eq!(cases.len(), 9);
    let positive = cases.iter().filter(|c| c.simulation_ms > 100.0).count();
    assert!(positive >= 5, "{cases:?}");
    for c in &cases {
        assert!(c.within_tolerance(), "{c:?}");
    }
}

#[test]
fn serving_approximation_is_conservative_for_heavy_tailed_code_requests() {
    for c in serving_comparison("code", 500_000, &RngStreams::new(7, 0)) {
        if c.simulation_ms > 0.0 {
            let ratio = c.approximation_ms / c.simulation_ms;
            assert!((0.75..2.5).contains(&ratio), "{c:?}");
        } else {
            assert_eq!(c.approximation_ms, 0.0, "{c:?}");
        }
    }
}

#[test]
fn serve_is_instant_far_from_saturation_and_sheds_in_overload() {
    let catalog = GpuCatalog::default();
    let spec = catalog.inference("Llama-3.1-8B", "H100").unwrap();
    let tokens = TokenMoments {
        mean: 170.0,
        scv: 0.6,
    };
    let pool = ServingPool::new(spec, 6_250, tokens); // 50,000 GPUs' worth of slots
    assert_eq!(pool.slots, 400_000);
    let light = serve(&pool, 0.5 * pool.capacity_per_s());
    assert_eq!((light.p99_wait_ms, light.dropped_per_s), (0.0, 0.0));
    let near = serve(&pool, 0.999 * RHO_MAX * pool.capacity_per_s());
    assert!(near.p99_wait_ms.is_finite() && near.p99_wait_ms >= 0.0);
    let over = serve(&pool, 1.5 * pool.capacity_per_s());
    assert!(over.p99_wait_ms.is_infinite() && over.dropped_per_s > 0.0);
}

#[test]
fn every_check_passes() {
    let all = checks();
    assert!(all.len() >= 15, "{}", all.len());
    for c in &all {
        assert_eq!(c.group, "plant");
        assert!(c.pass, "{c:?}");
    }
}

#[test]
fn sla_knee_of_the_approximation_matches_the_run() {
    // Chat traffic: the highest load meeting a 50 ms p99 wait agrees.
    for case in sla_knee_comparison("conv", &[16, 64, 256], 300_000, &RngStreams::new(3, 0)) {
        assert!(
            (case.approximation - case.simulation).abs() <= KNEE_TOLERANCE,
            "{case:?}"
        );
        assert!(
            case.simulation > 0.45 && case.simulation < RHO_MAX,
            "{case:?}"
        );
    }
    // Heavy-tailed code traffic: the approximation is conservative, by at
    // most six points of utilisation.
    for case in sla_knee_comparison("code", &[16, 64, 256], 300_000, &RngStreams::new(3, 0)) {
        let gap = case.simulation - case.approximation;
        assert!((0.0..0.06).contains(&gap), "{case:?}");
    }
}
