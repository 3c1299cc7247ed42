//! ASIC plant models: catalog, power-target curve, firmware latencies,
//! reliability, mining economics and the `hcp validate` checks.

use hcp_engine::rng::{RngStreams, StreamId};
use hcp_engine::time::SimDuration;
use hcp_models::describe::quantile;
use hcp_models::plant::asic::{AsicCatalog, DEFAULT_TOML, SpecError};
use hcp_models::plant::asic_validation::checks;
use hcp_models::plant::firmware::FirmwareSpec;
use hcp_models::plant::mining::{
    DEFAULT_POOL_FEE, breakeven_usd_per_mwh, btc_mined, energy_cost_usd, mining_revenue_usd,
};
use rand::RngExt;

const DRAWS: usize = 100_000;

fn seconds(draws: impl Iterator<Item = SimDuration>) -> Vec<f64> {
    let mut v: Vec<f64> = draws.map(SimDuration::as_secs_f64).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[test]
fn catalog_parses_with_the_spec_sheet_figures() {
    let c = AsicCatalog::default();
    let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["S21", "S19 XP", "M60S", "S21 Pro", "S21 XP"]);
    let s21 = c.model("S21").unwrap();
    assert_eq!((s21.hashrate_th, s21.power_w), (200.0, 3500.0));
    assert!((s21.efficiency_j_per_th() - 17.5).abs() < 1e-12);
    assert!((c.model("S19 XP").unwrap().efficiency_j_per_th() - 21.5).abs() < 1e-12);
    assert!((c.model("M60S").unwrap().efficiency_j_per_th() - 18.5).abs() < 1e-12);
    for m in &c.models {
        assert!(m.source.starts_with("https://"), "{} has no URL", m.name);
        // The power-target window is 55 %..115 % of stock.
        assert!(
            (m.min_power_w / m.power_w - 0.55).abs() < 1e-9,
            "{}",
            m.name
        );
        assert!(
            (m.max_power_w / m.power_w - 1.15).abs() < 1e-9,
            "{}",
            m.name
        );
    }
    assert!(!c.firmware("stock").unwrap().supports_power_target);
    assert!(c.firmware("luxos").unwrap().supports_power_target);
    assert_eq!(c.firmware("luxos").unwrap().standby_w, 25.0);
    assert_eq!(AsicCatalog::from_toml(DEFAULT_TOML).unwrap(), c);
}

#[test]
fn unknown_names_list_the_known_ones() {
    let c = AsicCatalog::default();
    let e = c.model("S99").unwrap_err();
    assert!(matches!(
        &e,
        SpecError::Unknown {
            kind: "ASIC model",
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "unknown ASIC model 'S99'; known: S21, S19 XP, M60S, S21 Pro, S21 XP"
    );
    let e = c.firmware("braiins").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown firmware 'braiins'; known: stock, luxos"
    );
}

#[test]
fn bad_catalogs_are_rejected_with_the_key_and_problem() {
    let unknown_key =
        DEFAULT_TOML.replacen("maker = \"Bitmain\"", "maker = \"Bitmain\"\nfan_rpm = 3", 1);
    let e = AsicCatalog::from_toml(&unknown_key)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fan_rpm") && e.contains("line"), "{e}");
    let negative = DEFAULT_TOML.replacen("power_w = 3500.0", "power_w = -3500.0", 1);
    let e = AsicCatalog::from_toml(&negative).unwrap_err().to_string();
    assert!(
        e.contains("'S21'") && e.contains("power_w must be positive"),
        "{e}"
    );
    let twice = DEFAULT_TOML.replacen("name = \"S19 XP\"", "name = \"S21\"", 1);
    let e = AsicCatalog::from_toml(&twice).unwrap_err().to_string();
    assert!(e.contains("'S21' is listed twice"), "{e}");
    let slow = DEFAULT_TOML.replacen("curtail_p99_s = 4.5", "curtail_p99_s = 7.0", 1);
    let e = AsicCatalog::from_toml(&slow).unwrap_err().to_string();
    assert!(e.contains("'luxos'") && e.contains("curtail_max_s"), "{e}");
    let wrong_type = DEFAULT_TOML.replacen(
        "annual_failure_rate = 0.10",
        "annual_failure_rate = \"10%\"",
        1,
    );
    assert!(AsicCatalog::from_toml(&wrong_type).is_err());
}

#[test]
fn curve_is_monotone_and_stock_at_stock_power() {
    for m in &AsicCatalog::default().models {
        assert!((m.hashrate_th_at(m.power_w) - m.hashrate_th).abs() < 1e-9);
        assert!((m.efficiency_j_per_th_at(m.power_w) - m.efficiency_j_per_th()).abs() < 1e-12);
        let mut last_h = 0.0;
        let mut last_e = 0.0;
        for i in 0..=100 {
            let p = m.min_power_w + (m.max_power_w - m.min_power_w) * f64::from(i) / 100.0;
            let (h, e) = (m.hashrate_th_at(p), m.efficiency_j_per_th_at(p));
            assert!(h > last_h && e > last_e, "{} at {p} W", m.name);
            (last_h, last_e) = (h, e);
        }
        // At the lowest target the S21 runs at 17.5·0.55^(1−β) ≈ 13.9 J/TH.
        if m.name == "S21" {
            let e = m.efficiency_j_per_th_at(m.min_power_w);
            assert!((e - 17.5 * 0.55_f64.powf(1.0 - m.curve_exponent)).abs() < 1e-9);
            assert!((13.5..14.5).contains(&e), "{e}");
        }
    }
}

#[test]
fn power_targets_are_clamped() {
    let c = AsicCatalog::default();
    let s21 = c.model("S21").unwrap();
    assert_eq!(s21.clamp_power_w(100.0), s21.min_power_w);
    assert_eq!(s21.clamp_power_w(1e6), s21.max_power_w);
    assert_eq!(s21.clamp_power_w(3000.0), 3000.0);
    assert_eq!(s21.hashrate_th_at(0.0), s21.hashrate_th_at(s21.min_power_w));
    assert_eq!(
        s21.hashrate_th_at(9_999.0),
        s21.hashrate_th_at(s21.max_power_w)
    );
}

fn latency_quantiles_match(f: &FirmwareSpec, stream: &str) {
    let streams = RngStreams::new(42, 0);
    let mut rng = streams.stream(StreamId::named(stream));
    let curtail = seconds((0..DRAWS).map(|_| f.curtail_latency(&mut rng)));
    let resume = seconds((0..DRAWS).map(|_| f.resume_latency(&mut rng)));
    for (v, median, p99, max) in [
        (
            &curtail,
            f.curtail_median_s,
            f.curtail_p99_s,
            f.max_curtail_latency(),
        ),
        (
            &resume,
            f.resume_median_s,
            f.resume_p99_s,
            f.max_resume_latency(),
        ),
    ] {
        assert!(
            v[0] > 0.0 && v[DRAWS - 1] <= max.as_secs_f64(),
            "{} within bounds",
            f.name
        );
        let (m, q) = (quantile(v, 0.5), quantile(v, 0.99));
        assert!(
            (m / median - 1.0).abs() < 0.02,
            "{} median {m} vs {median}",
            f.name
        );
        assert!((q / p99 - 1.0).abs() < 0.03, "{} p99 {q} vs {p99}", f.name);
    }
}

#[test]
fn latencies_follow_their_median_and_p99_and_stay_within_bounds() {
    let c = AsicCatalog::default();
    latency_quantiles_match(c.firmware("stock").unwrap(), "asic/test/stock");
    latency_quantiles_match(c.firmware("luxos").unwrap(), "asic/test/luxos");
}

#[test]
fn luxos_curtails_under_5_s_and_resumes_under_10_s() {
    let lux = AsicCatalog::default().firmware("luxos").unwrap().clone();
    let mut rng = RngStreams::new(7, 3).stream(StreamId::named("asic/firmware/luxos"));
    let curtail = seconds((0..DRAWS).map(|_| lux.curtail_latency(&mut rng)));
    let resume = seconds((0..DRAWS).map(|_| lux.resume_latency(&mut rng)));
    assert!(quantile(&curtail, 0.99) < 5.0);
    assert!(quantile(&resume, 0.99) < 10.0);
    assert!(curtail[DRAWS - 1] <= 5.0 && resume[DRAWS - 1] <= 10.0);
    // The stock firmware takes minutes to resume.
    let stock = AsicCatalog::default().firmware("stock").unwrap().clone();
    let r = seconds((0..1_000).map(|_| stock.resume_latency(&mut rng)));
    assert!(quantile(&r, 0.5) > 120.0);
}

#[test]
fn draws_are_deterministic_and_only_touch_their_own_stream() {
    let c = AsicCatalog::default();
    let lux = c.firmware("luxos").unwrap();
    let streams = RngStreams::new(2024, 1);
    let draw = |n: usize| {
        let mut rng = streams.stream(StreamId::named("asic/firmware/luxos"));
        (0..n)
            .map(|_| lux.curtail_latency(&mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(1_000), draw(1_000));
    // Drawing repairs on the reliability stream leaves another stream's draws unchanged.
    let other = || {
        let mut rng = streams.stream(StreamId::named("asic/other"));
        (0..100).map(|_| rng.random::<u64>()).collect::<Vec<_>>()
    };
    let before = other();
    let mut rel = streams.stream(StreamId::named("asic/reliability/S21"));
    let repairs: Vec<_> = (0..1_000)
        .map(|_| c.reliability.repair_time(&mut rel))
        .collect();
    assert_eq!(other(), before);
    assert!(repairs.iter().all(|r| !r.is_zero()));
    // Another replication gives other draws.
    let mut rng = RngStreams::new(2024, 2).stream(StreamId::named("asic/firmware/luxos"));
    let other_rep: Vec<_> = (0..1_000).map(|_| lux.curtail_latency(&mut rng)).collect();
    assert_ne!(other_rep, draw(1_000));
}

#[test]
fn repair_times_follow_the_log_normal() {
    let r = AsicCatalog::default().reliability;
    let mut rng = RngStreams::new(1, 0).stream(StreamId::named("asic/reliability/test"));
    let hours: Vec<f64> = {
        let mut v: Vec<f64> = (0..DRAWS)
            .map(|_| r.repair_time(&mut rng).as_hours_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    assert!((quantile(&hours, 0.5) / r.repair_median_hours - 1.0).abs() < 0.02);
    let mean = hours.iter().sum::<f64>() / hours.len() as f64;
    assert!((mean / r.mean_repair_hours() - 1.0).abs() < 0.03, "{mean}");
    // 10 % a year: a 10,000-unit cohort sees about 2.7 failures a day.
    let per_day = 10_000.0 * r.failure_rate_per_s() * 86_400.0;
    assert!((per_day - 1_000.0 / 365.0).abs() < 1e-9);
}

#[test]
fn revenue_equals_energy_cost_at_breakeven() {
    let c = AsicCatalog::default();
    for m in &c.models {
        for p in [m.min_power_w, m.power_w, m.max_power_w] {
            let (h, e) = (m.hashrate_th_at(p), m.efficiency_j_per_th_at(p));
            let price = breakeven_usd_per_mwh(e, 0.05, DEFAULT_POOL_FEE, 1.1);
            let revenue = mining_revenue_usd(h, 300.0, 0.05, DEFAULT_POOL_FEE);
            let cost = energy_cost_usd(p, 300.0, price, 1.1);
            assert!((revenue / cost - 1.0).abs() < 1e-12, "{} at {p} W", m.name);
        }
    }
    // Worked example: S21 at $50/PH/day, 2.5 % fee, PUE 1: $116.07/MWh.
    let b = breakeven_usd_per_mwh(17.5, 0.05, DEFAULT_POOL_FEE, 1.0);
    assert!((b - 116.071_428_571).abs() < 1e-6, "{b}");
    let btc = btc_mined(200.0, 86_400.0, 0.05, 100_000.0, DEFAULT_POOL_FEE);
    assert!((btc * 100_000.0 - 9.75).abs() < 1e-9);
}

#[test]
fn all_checks_pass() {
    let all = checks();
    assert_eq!(all.len(), 10);
    for c in &all {
        assert_eq!(c.group, "plant");
        assert!(c.source.contains("https://"), "{} has no URL", c.name);
        assert!(
            c.pass,
            "{}: {} vs {} (±{})",
            c.name, c.value, c.reference, c.tolerance
        );
    }
}

#[test]
fn a_wrong_curve_exponent_fails_the_curve_check() {
    let mut c = AsicCatalog::default();
    for m in &mut c.models {
        m.curve_exponent = 1.0;
    }
    let all = hcp_models::plant::asic_validation::checks_for(&c);
    let curve = all.iter().find(|c| c.name.contains("1905W")).unwrap();
    assert!(!curve.pass, "{}", curve.value);
}
