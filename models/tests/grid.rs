//! Grid module: replay of the real ERCOT files, shipped parameters equal
//! to the fit, generator determinism and speed, bad input, validation.
#![allow(clippy::many_single_char_names, clippy::cast_possible_wrap)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use hcp_engine::rng::RngStreams;
use hcp_models::data::{GapRepair, Table, default_data_dir};
use hcp_models::describe::Summary;
use hcp_models::grid::calibrate::{NodeCalibrationOptions, calibrate_node, fit_ercot};
use hcp_models::grid::load::{Layout, load_node, replay};
use hcp_models::grid::{GridParams, generate_prices};
use hcp_models::series::Horizon;

fn data(name: &str) -> PathBuf {
    default_data_dir().join(name)
}

fn table(text: &str) -> Table {
    Table::from_csv_bytes(Path::new("user.csv"), text.as_bytes()).unwrap()
}

#[test]
fn winter_storm_uri_replays_exactly() {
    let t = Table::read(&data("ercot_rtm_spp_hub_lz_2021-02_15min.csv")).unwrap();
    let west = load_node(&t, "HB_WEST", GapRepair::Reject).unwrap();
    assert_eq!(west.layout, Layout::RtmLong);
    assert_eq!(west.segments.len(), 1);
    let values: Vec<f64> = west.values().collect();
    assert_eq!(values.len(), 28 * 96);
    let s = Summary::of(&values);
    assert!((s.max - 9310.49).abs() < 1e-9, "{}", s.max);
    assert!((s.mean - 1531.18).abs() < 0.005, "{}", s.mean);
    // First interval: 1 Feb 2021 00:00 CST = 06:00 UTC.
    assert_eq!(
        west.segments[0].start,
        Utc.with_ymd_and_hms(2021, 2, 1, 6, 0, 0).unwrap()
    );
    // Replay onto a 5-minute horizon holds each 15-minute value three times.
    let h = Horizon::days(west.segments[0].start, 28, 5);
    let tape = replay(&west, &h).unwrap();
    assert_eq!(tape.len(), 3 * values.len());
    assert_eq!(tape.values()[3 * 1000 + 2], values[1000]);
    assert!((tape.mean() - s.mean).abs() < 1e-6);
}

#[test]
fn wide_januaries_are_four_segments_and_long_load_zones_use_lz_rows() {
    let t = Table::read(&data("ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv")).unwrap();
    let north = load_node(&t, "HB_NORTH", GapRepair::Reject).unwrap();
    assert_eq!(north.segments.len(), 4);
    assert!(north.segments.iter().all(|s| s.values.len() == 31 * 96));
    assert_eq!(
        north.segments[3].start,
        Utc.with_ymd_and_hms(2025, 1, 1, 6, 0, 0).unwrap()
    );
    let t = Table::read(&data("ercot_rtm_spp_hub_lz_2019-02_15min.csv")).unwrap();
    let lz = load_node(&t, "LZ_WEST", GapRepair::Reject).unwrap();
    assert_eq!(lz.values().count(), 28 * 96);
}

#[test]
fn day_ahead_layouts_convert_central_time_and_report_the_collapsed_hour() {
    let t = Table::read(&data("ercot_dam_spp_hub_lz_2021_hourly.csv")).unwrap();
    let west = load_node(&t, "HB_WEST", GapRepair::Reject).unwrap();
    assert_eq!(west.values().count(), 8760);
    assert_eq!(
        west.segments[0].start,
        Utc.with_ymd_and_hms(2021, 1, 1, 6, 0, 0).unwrap()
    );
    let t = Table::read(&data("ercot_dam_spp_hub_lz_2022-2025_hourly_wide.csv")).unwrap();
    let north = load_node(&t, "HB_NORTH", GapRepair::Reject).unwrap();
    assert_eq!(north.segments.len(), 1);
    // Three fall-backs (2022–2024) collapsed upstream, each held and reported.
    let repairs: Vec<_> = north.repairs().collect();
    assert_eq!(repairs.len(), 3, "{repairs:?}");
    assert_eq!(
        repairs[0].from,
        Utc.with_ymd_and_hms(2022, 11, 6, 7, 0, 0).unwrap()
    );
    let t = Table::read(&data("ercot_dam_as_mcpc_2022-2025_hourly_wide.csv")).unwrap();
    let regup = load_node(&t, "REGUP", GapRepair::Reject).unwrap();
    assert_eq!(
        regup.repairs().count(),
        0,
        "the AS file repeats the fall-back hour"
    );
}

#[test]
fn unknown_nodes_gaps_duplicates_unsorted_and_units_are_rejected() {
    let t = Table::read(&data("ercot_dam_spp_hub_lz_2021_hourly.csv")).unwrap();
    let e = load_node(&t, "HB_NOPE", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown node 'HB_NOPE' (available: HB_BUSAVG, HB_HOUSTON"),
        "{e}"
    );
    let head = "datetime_col,HB_X\n";
    let gap = table(&format!(
        "{head}2024-01-01 00:00:00,10\n2024-01-01 00:15:00,11\n2024-01-01 01:00:00,12\n"
    ));
    let e = load_node(&gap, "HB_X", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("user.csv: line 4, column 'datetime_col': 2 interval(s) missing"),
        "{e}"
    );
    let filled = load_node(&gap, "HB_X", GapRepair::ForwardFill { max_missing: 2 }).unwrap();
    assert_eq!(
        filled.segments[0].values,
        vec![10.0, 11.0, 11.0, 11.0, 12.0]
    );
    assert_eq!(filled.repairs().count(), 1);
    let dup = table(&format!(
        "{head}2024-01-01 00:00:00,10\n2024-01-01 00:15:00,11\n2024-01-01 00:15:00,12\n"
    ));
    let e = load_node(&dup, "HB_X", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 4, column 'datetime_col'"), "{e}");
    let unsorted = table(&format!(
        "{head}2024-01-01 00:15:00,10\n2024-01-01 00:30:00,11\n2024-01-01 00:00:00,12\n"
    ));
    let e = load_node(&unsorted, "HB_X", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 4") && e.contains("sorted"), "{e}");
    let kwh = table(&format!(
        "{head}2024-01-01 00:00:00,0.021\n2024-01-01 00:15:00,0.025\n"
    ));
    let e = load_node(&kwh, "HB_X", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(e.contains("look like $/kWh"), "{e}");
    let declared = table(
        "datetime_col,HB_X,Unit\n2024-01-01 00:00:00,21,$/kWh\n2024-01-01 00:15:00,25,$/kWh\n",
    );
    let e = load_node(&declared, "HB_X", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2, column 'Unit': prices must be in $/MWh"),
        "{e}"
    );
    // A long file whose node rows are interleaved reports the file's own line.
    let long = "Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price\n\
                01/01/2021,01:00,N,A,10\n01/01/2021,01:00,N,B,11\n01/01/2021,03:00,N,A,12\n01/01/2021,03:00,N,B,13\n";
    let e = load_node(&table(long), "B", GapRepair::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 5, column 'Hour Ending': 1 interval(s) missing"),
        "{e}"
    );
}

#[test]
fn shipped_parameters_parse_and_equal_the_fit() {
    let shipped = GridParams::default();
    assert!(shipped.nodes.contains_key("ND_MISO"));
    assert_eq!(shipped.markets["north_dakota"].cap, 3500.0);
    let fitted = fit_ercot(&default_data_dir()).unwrap().rounded();
    for (name, node) in &fitted.nodes {
        assert_eq!(&shipped.nodes[name], node, "{name}");
    }
    assert_eq!(shipped.markets["ercot"], fitted.markets["ercot"]);
    assert_eq!(fitted.nodes.len(), 15);
}

#[test]
fn generation_is_deterministic_and_nodes_do_not_disturb_each_other() {
    let params = GridParams::default();
    let h = Horizon::days(Utc.with_ymd_and_hms(2025, 6, 1, 5, 0, 0).unwrap(), 14, 5);
    let streams = RngStreams::new(42, 3);
    let a = generate_prices(&params, &["HB_WEST", "ND_MISO"], &h, &streams).unwrap();
    let b = generate_prices(&params, &["HB_WEST", "ND_MISO"], &h, &streams).unwrap();
    assert_eq!(a, b);
    let c = generate_prices(&params, &["HB_NORTH", "LZ_SOUTH", "HB_WEST"], &h, &streams).unwrap();
    assert_eq!(a[0].price, c[2].price, "adding nodes changed HB_WEST");
    let other = generate_prices(&params, &["HB_WEST"], &h, &RngStreams::new(42, 4)).unwrap();
    assert_ne!(a[0].price, other[0].price);
    let e = generate_prices(&params, &["NOPE"], &h, &streams)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no price parameters for node 'NOPE'"), "{e}");
    for p in &a {
        let s = Summary::of(p.price.values());
        assert!(s.max <= params.markets[&params.nodes[&p.node].market].cap);
    }
}

#[test]
fn calibrating_a_user_file_recovers_a_generators_parameters() {
    // Generate six Januaries of HB_NORTH (each its own replication: the
    // slow factor sets a month's level), write them in the wide layout, fit
    // them back: the shape's January level and the persistence return.
    let params = GridParams::default();
    let mut text = String::from("datetime_col,HB_NORTH\n");
    for year in 2019..2025 {
        let start = Utc.with_ymd_and_hms(year, 1, 1, 6, 0, 0).unwrap();
        let h = Horizon::days(start, 31, 15);
        let replication = u64::try_from(year).unwrap();
        let p =
            generate_prices(&params, &["HB_NORTH"], &h, &RngStreams::new(1, replication)).unwrap();
        for (i, v) in p[0].price.values().iter().enumerate() {
            let local = (start + chrono::TimeDelta::minutes(15 * i as i64))
                .with_timezone(&chrono_tz::America::Chicago);
            writeln!(text, "{},{v}", local.format("%Y-%m-%d %H:%M:%S")).unwrap();
        }
    }
    let dir = std::env::temp_dir().join(format!("hcp-grid-calibrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("north.csv");
    std::fs::write(&path, text).unwrap();
    let fitted = calibrate_node(&path, &NodeCalibrationOptions::ercot("HB_NORTH")).unwrap();
    let truth = &params.nodes["HB_NORTH"];
    let jan = |p: &hcp_models::grid::NodeParams| p.shape[0].iter().sum::<f64>() / 24.0;
    assert!(
        (jan(&fitted) / jan(truth) - 1.0).abs() < 0.1,
        "{} vs {}",
        jan(&fitted),
        jan(truth)
    );
    assert!(
        (fitted.phi - truth.phi).abs() < 0.05,
        "{} vs {}",
        fitted.phi,
        truth.phi
    );
    // Other months come from the prior.
    assert_eq!(fitted.shape[6], truth.shape[6]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_validation_check_passes() {
    let checks = hcp_models::grid::validation::checks(&default_data_dir()).unwrap();
    assert!(checks.len() >= 7 * 12 + 3);
    let failing: Vec<String> = checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{}:{}", c.group, c.name))
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
}

#[test]
fn a_year_at_five_minutes_for_three_nodes_is_quick() {
    // Generation time is measured in release by `grid_regenerate`'s timing
    // test; here the debug build must still stay well under a second.
    let params = GridParams::default();
    let h = Horizon::days(Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(), 365, 5);
    let prices = generate_prices(
        &params,
        &["HB_WEST", "LZ_NORTH", "ND_MISO"],
        &h,
        &RngStreams::new(9, 0),
    )
    .unwrap();
    assert!(prices.iter().all(|p| p.price.len() == 105_120));
    let nd = Summary::of(prices[2].price.values());
    let west = Summary::of(prices[0].price.values());
    assert!(
        nd.mean < west.mean,
        "North Dakota is cheaper: {} vs {}",
        nd.mean,
        west.mean
    );
    assert!(nd.max <= 3500.0);
    let tape =
        hcp_models::grid::generate(&params, &["ND_MISO"], &h, &RngStreams::new(9, 0)).unwrap();
    assert_eq!(tape.price("ND_MISO"), Some(&prices[2].price));
    assert_eq!(tape.price("HB_WEST"), None);
}

#[test]
fn a_mixture_of_blips_and_sustained_episodes_is_recovered() {
    use hcp_models::grid::fit::EpisodeMixture;
    use rand::RngExt;
    // 2,000 episodes: 70 % single intervals, 30 % geometric with mean 5.
    let streams = RngStreams::new(7, 0);
    let mut rng = streams.stream(hcp_engine::rng::StreamId::named("test/episodes"));
    let lengths: Vec<f64> = (0..2_000)
        .map(|_| {
            if rng.random::<f64>() < 0.3 {
                let mut l = 1.0;
                while rng.random::<f64>() >= 0.2 {
                    l += 1.0;
                }
                l
            } else {
                1.0
            }
        })
        .collect();
    let fit = EpisodeMixture::fit(&lengths);
    assert!((fit.blip - 1.0).abs() < 0.05, "{fit:?}");
    assert!((fit.sustained_share - 0.3).abs() < 0.04, "{fit:?}");
    assert!((fit.sustained - 5.0).abs() < 0.5, "{fit:?}");
    // Too few episodes: one geometric law with their mean.
    let few = EpisodeMixture::fit(&[1.0, 3.0, 2.0]);
    assert_eq!(few.sustained_share, 0.0);
    assert!((few.blip - 2.0).abs() < 1e-12);
}

#[test]
fn two_factors_are_recovered_from_their_autocorrelations() {
    use hcp_models::grid::fit::{Factors, fit_factors};
    let truth = Factors {
        phi: 0.9,
        phi_slow: 0.995,
        slow_share: 0.4,
    };
    let observed: Vec<(usize, f64)> = [1usize, 4, 16, 96]
        .iter()
        .map(|&lag| (lag, truth.correlation(lag as f64)))
        .collect();
    let fit = fit_factors(&observed);
    for &(lag, r) in &observed {
        assert!(
            (fit.correlation(lag as f64) - r).abs() < 0.01,
            "lag {lag}: {fit:?}"
        );
    }
    assert!((fit.slow_share - 0.4).abs() < 0.05, "{fit:?}");
    // One factor at the fast coefficient forgets the day-scale correlation.
    assert!(observed[3].1 - 0.9f64.powi(96) > 0.2);
}

#[test]
fn a_nodes_spike_sigma_is_its_loading_on_the_reference() {
    use hcp_models::grid::fit::spike_loading;
    let reference = [1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN];
    let node: Vec<f64> = reference.iter().map(|r| 2.0 * r + 1.0).collect();
    let sd = hcp_models::describe::std_dev(&reference[..5]);
    let loading = spike_loading(&node, &reference).unwrap();
    assert!((loading - 2.0 * sd).abs() < 1e-9, "{loading}");
    // A node that moves against the hub loads nothing; too few pairs: none.
    let against: Vec<f64> = reference.iter().map(|r| -r).collect();
    assert_eq!(spike_loading(&against, &reference), Some(0.0));
    assert_eq!(spike_loading(&[1.0, 2.0], &[1.0, 2.0]), None);
}

#[test]
fn the_slow_factor_and_sustained_spikes_make_prices_persist() {
    use hcp_models::grid::persistence::{episode_lengths, rank_autocorrelation};
    let mut shipped = GridParams::default();
    shipped.nodes.get_mut("HB_NORTH").unwrap().slow_share = 0.5;
    let mut one_factor = shipped.clone();
    one_factor.nodes.get_mut("HB_NORTH").unwrap().slow_share = 0.0;
    let market = one_factor.markets.get_mut("ercot").unwrap();
    market.sustained_share = 0.0;
    let h = Horizon::days(Utc.with_ymd_and_hms(2024, 1, 1, 6, 0, 0).unwrap(), 31, 15);
    let (mut day_lag, mut long) = ([0.0; 2], [0usize; 2]);
    for (k, params) in [&shipped, &one_factor].into_iter().enumerate() {
        for r in 0..20 {
            let p = generate_prices(params, &["HB_NORTH"], &h, &RngStreams::new(3, r)).unwrap();
            let v = p[0].price.values();
            day_lag[k] += rank_autocorrelation(v, 96) / 20.0;
            long[k] += episode_lengths(v, 300.0)
                .iter()
                .filter(|&&l| l >= 3)
                .count();
        }
    }
    assert!(day_lag[0] > day_lag[1] + 0.1, "{day_lag:?}");
    assert!(long[0] > long[1], "{long:?}");
}
