//! Grid events and ancillary-service prices: fit round trip, validation,
//! determinism, event statistics and the emergency coupling to prices.
#![allow(clippy::many_single_char_names, clippy::cast_possible_truncation)]

use hcp_models::data::default_data_dir;
use hcp_models::grid::ancillary::AncillaryParams;
use hcp_models::grid::ancillary_fit::{ANCILLARY_FILE, AncillaryCalibrationOptions, calibrate};

#[test]
fn shipped_ancillary_fit_is_the_fit_of_the_file() {
    let fitted = calibrate(
        &default_data_dir().join(ANCILLARY_FILE),
        &AncillaryCalibrationOptions::default(),
    )
    .unwrap();
    let rounded = AncillaryParams {
        services: fitted
            .services
            .iter()
            .map(|(k, v)| (k.clone(), v.rounded()))
            .collect(),
    };
    if std::env::var_os("HCP_WRITE_PARAMS").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/params/grid_ancillary.toml"),
            toml::to_string(&rounded).unwrap(),
        )
        .unwrap();
    }
    assert_eq!(AncillaryParams::default(), rounded);
}

use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};
use hcp_engine::rng::RngStreams;
use hcp_models::grid::ancillary_fit::ancillary_checks;
use hcp_models::grid::events::{self, EventParams, GridEventKind};
use hcp_models::grid::{GridParams, generate_with};
use hcp_models::series::Horizon;

fn years(start_year: i32, n: u64) -> Horizon {
    let start = Utc
        .with_ymd_and_hms(start_year, 1, 1, 6, 0, 0)
        .single()
        .unwrap();
    Horizon::days(start, 365 * n, 15)
}

#[test]
fn ancillary_checks_cover_every_service_against_the_file() {
    let checks = ancillary_checks(&default_data_dir()).unwrap();
    assert_eq!(checks.len(), 25);
    for c in &checks {
        println!(
            "{} {} {:.4} {:.4} {}",
            c.group, c.name, c.value, c.reference, c.pass
        );
        assert!(c.value.is_finite() && c.reference.is_finite());
    }
    // References are the file's own statistics (REGUP mean over 2022-01 – 2025-04).
    let table = hcp_models::data::Table::read(&default_data_dir().join(ANCILLARY_FILE)).unwrap();
    let regup = table.f64_column("REGUP").unwrap();
    let mean = regup.iter().sum::<f64>() / regup.len() as f64;
    assert!(
        (checks[0].reference - mean).abs() < 0.05,
        "{} vs {mean}",
        checks[0].reference
    );
    // The median is reproduced within 40 % for every service.
    for c in checks.iter().filter(|c| c.name == "p50") {
        assert!((c.value / c.reference - 1.0).abs() < 0.4, "{c:?}");
    }
}

#[test]
fn tape_is_deterministic_and_streams_are_independent() {
    let params = GridParams::default();
    let ev = EventParams::default();
    let anc = AncillaryParams::default();
    let h = years(2024, 1);
    let a = generate_with(&params, &ev, &anc, &["HB_WEST"], &h, &RngStreams::new(7, 0)).unwrap();
    let b = generate_with(&params, &ev, &anc, &["HB_WEST"], &h, &RngStreams::new(7, 0)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.ancillary.len(), 5);
    assert_eq!(a.ancillary[0].price.len(), h.intervals());
    // Adding a node changes neither events nor ancillary prices.
    let c = generate_with(
        &params,
        &ev,
        &anc,
        &["HB_WEST", "HB_NORTH"],
        &h,
        &RngStreams::new(7, 0),
    )
    .unwrap();
    assert_eq!(a.events, c.events);
    assert_eq!(a.ancillary, c.ancillary);
    // Changing the ERS-10 rate leaves every other kind untouched.
    let mut more = ev.clone();
    more.ers_10.rate_per_month = [3.0; 12];
    let d = generate_with(
        &params,
        &more,
        &anc,
        &["HB_WEST"],
        &h,
        &RngStreams::new(7, 0),
    )
    .unwrap();
    let other = |t: &hcp_models::grid::GridTape| {
        t.events
            .iter()
            .filter(|e| e.kind != GridEventKind::Ers10)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(other(&a), other(&d));
    assert!(
        d.events
            .iter()
            .filter(|e| e.kind == GridEventKind::Ers10)
            .count()
            > 20
    );
    let e = generate_with(&params, &ev, &anc, &["HB_WEST"], &h, &RngStreams::new(8, 0)).unwrap();
    assert_ne!(a.ancillary, e.ancillary);
}

#[test]
fn ers_counts_are_poisson_and_durations_follow_parameters() {
    let mut p = EventParams::default().ers_30;
    p.rate_per_month = [2.0; 12];
    let n_years = 50;
    let h = years(2001, n_years);
    let ev = events::ers(GridEventKind::Ers30, &p, &h, &RngStreams::new(1, 0));
    // Expected count: 2 per (30.44-day) month over 365·50 days.
    let expected = 2.0 * 365.0 * n_years as f64 / 30.44;
    let sd = expected.sqrt();
    assert!(
        (ev.len() as f64 - expected).abs() < 4.0 * sd,
        "{} vs {expected}",
        ev.len()
    );
    // Per-month counts: index of dispersion ≈ 1 (Poisson).
    let mut counts = std::collections::BTreeMap::new();
    for e in &ev {
        let t = h.epoch.to_utc(e.start).unwrap();
        *counts.entry((t.year(), t.month())).or_insert(0.0) += 1.0;
    }
    let mut all: Vec<f64> = Vec::new();
    for y in 2001..2051 {
        for m in 1..=12 {
            all.push(*counts.get(&(y, m)).unwrap_or(&0.0));
        }
    }
    let d = hcp_models::describe::index_of_dispersion(&all[..all.len() - 1]);
    assert!((d - 1.0).abs() < 0.2, "dispersion {d}");
    // Median duration ≈ parameter; none beyond the cap; notice exact.
    let mut minutes: Vec<f64> = ev.iter().map(|e| e.duration.as_secs_f64() / 60.0).collect();
    minutes.sort_by(f64::total_cmp);
    let median = minutes[minutes.len() / 2];
    assert!(
        (median / p.duration_median_minutes - 1.0).abs() < 0.08,
        "{median}"
    );
    assert!(minutes.last().unwrap() <= &p.max_minutes);
    assert!(ev.iter().all(
        |e| e.start.as_micros() - e.notice_at.as_micros() == 30 * 60_000_000
            || e.notice_at.as_micros() == 0
    ));
}

#[test]
fn four_cp_has_one_weekday_afternoon_peak_per_summer_month() {
    let p = EventParams::default().four_cp;
    let n_years = 40;
    let h = years(2001, n_years);
    let ev = events::four_cp(&p, &h, &RngStreams::new(3, 0));
    let mut peaks = std::collections::BTreeMap::new();
    for e in &ev {
        assert_eq!(e.kind, GridEventKind::FourCp);
        let Some(peak) = e.realised_peak else {
            continue;
        };
        assert!(peak >= e.start && peak < e.end());
        let local = h
            .epoch
            .to_utc(peak)
            .unwrap()
            .with_timezone(&chrono_tz::America::Chicago);
        let minute = local.hour() * 60 + local.minute();
        assert!(
            (900..1050).contains(&minute) && minute.is_multiple_of(15),
            "{local}"
        );
        assert!(
            !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
            "{local}"
        );
        *peaks.entry((local.year(), local.month())).or_insert(0) += 1;
    }
    for y in 2001..2001 + n_years as i32 {
        for m in 6..=9 {
            assert_eq!(peaks.get(&(y, m)), Some(&1), "{y}-{m}");
        }
    }
    assert_eq!(peaks.len(), 4 * n_years as usize);
    // Alert days per month: Poisson(alert_days − 1) + 1.
    let mean = ev.len() as f64 / (4 * n_years) as f64;
    let sd = ((p.alert_days - 1.0) / (4 * n_years) as f64).sqrt();
    assert!((mean - p.alert_days).abs() < 4.0 * sd, "{mean}");
}

#[test]
fn emergency_requests_start_at_price_spikes() {
    let params = GridParams::default();
    let ev = EventParams::default();
    let h = years(2023, 4);
    let streams = RngStreams::new(11, 0);
    let tape = generate_with(
        &params,
        &ev,
        &AncillaryParams::default(),
        &["HB_NORTH"],
        &h,
        &streams,
    )
    .unwrap();
    let price = tape.price("HB_NORTH").unwrap();
    let emergencies: Vec<_> = tape
        .events
        .iter()
        .filter(|e| e.kind == GridEventKind::Emergency)
        .collect();
    assert!(!emergencies.is_empty());
    for e in &emergencies {
        assert!(price.at(e.start).unwrap() >= ev.emergency.threshold);
    }
    let none = events::generate(&ev, &h, &streams, None);
    assert!(none.iter().all(|e| e.kind != GridEventKind::Emergency));
}
