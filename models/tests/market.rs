//! Market processes: parameters, fits, generators, chain rules, replays,
//! validation and bad input.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hcp_engine::rng::{RngStreams, StreamId};
use hcp_models::data::{GapRepair, default_data_dir};
use hcp_models::describe::index_of_dispersion;
use hcp_models::market::calibrate::{
    BtcCalibrationOptions, NetworkCalibrationOptions, calibrate_btc, calibrate_network,
};
use hcp_models::market::chain::{Block, Chain, ChainLog, Retarget, TARGET_SPACING_S};
use hcp_models::market::hashprice::usd_per_ph_day;
use hcp_models::market::params::DEFAULT_TOML;
use hcp_models::market::replay::{self, PriceReplayOptions};
use hcp_models::market::{MarketParams, generate, generate_btc_price, subsidy_btc, validation};
use hcp_models::series::Horizon;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn data(file: &str) -> PathBuf {
    default_data_dir().join(file)
}

#[test]
fn shipped_parameters_parse_and_unknown_fields_are_rejected() {
    let params = MarketParams::from_toml(DEFAULT_TOML).unwrap();
    assert_eq!(params, MarketParams::default());
    assert_eq!(params.gpu.len(), 3);
    let typo = DEFAULT_TOML.replace(
        "reversion_per_day = 0.0034933",
        "reversion_per_dy = 0.0034933",
    );
    let err = MarketParams::from_toml(&typo).unwrap_err().to_string();
    assert!(err.contains("unknown field `reversion_per_dy`"), "{err}");
    let bad = DEFAULT_TOML.replace("dof = 5.0", "dof = 1.5");
    assert!(
        MarketParams::from_toml(&bad)
            .unwrap_err()
            .to_string()
            .contains("dof must be above 2")
    );
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn embedded_btc_parameters_are_the_fit_on_the_shipped_prices() {
    let fit = calibrate_btc(
        &data("btc_price_daily_2016-2026.csv"),
        &BtcCalibrationOptions::default(),
    )
    .unwrap();
    let shipped = MarketParams::default().btc;
    assert_eq!(fit.dof, shipped.dof);
    for (f, s) in fit.regimes.iter().zip(&shipped.regimes) {
        assert!(
            close(s.drift_per_day, f.drift_per_day, 1e-4),
            "{f:?} vs {s:?}"
        );
        assert!(
            close(s.scale_per_day, f.scale_per_day, 1e-4),
            "{f:?} vs {s:?}"
        );
    }
    for (f, s) in fit
        .transition
        .iter()
        .flatten()
        .zip(shipped.transition.iter().flatten())
    {
        assert!((f - s).abs() < 2e-6, "{f} vs {s}");
    }
}

#[test]
fn embedded_network_parameters_are_the_fit_on_coin_metrics() {
    let fit = calibrate_network(
        &data("btc_coinmetrics_daily_2016-2020.csv"),
        &NetworkCalibrationOptions::default(),
    )
    .unwrap();
    let p = MarketParams::default();
    assert!(close(
        p.hashrate.reversion_per_day,
        fit.hashrate.reversion_per_day,
        1e-4
    ));
    assert!(close(
        p.hashrate.efficiency_trend_per_day,
        fit.hashrate.efficiency_trend_per_day,
        1e-4
    ));
    assert!(close(
        p.hashrate.volatility_per_sqrt_day,
        fit.hashrate.volatility_per_sqrt_day,
        1e-4
    ));
    assert!(close(
        p.fees.persistence_per_day,
        fit.fees.persistence_per_day,
        1e-4
    ));
    assert!(close(
        p.fees.volatility_per_day,
        fit.fees.volatility_per_day,
        1e-4
    ));
    // 2016–2020 fees were about 3 % of the subsidy (geometric mean).
    assert!(
        (0.02..0.05).contains(&fit.fees.long_run_share),
        "{:?}",
        fit.fees
    );
}

#[test]
fn every_validation_check_passes() {
    let checks = validation::checks(&default_data_dir()).unwrap();
    for c in &checks {
        println!(
            "{:<18} {:<40} {:>12.5} {:>12.5} ±{} {}",
            c.group, c.name, c.value, c.reference, c.tolerance, c.pass
        );
    }
    assert!(checks.len() >= 15);
    let failed: Vec<_> = checks.iter().filter(|c| !c.pass).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn default_start_gives_a_hashprice_near_38_dollars() {
    let s = MarketParams::default().start;
    assert_eq!(subsidy_btc(s.height + 1), 3.125);
    let hp = usd_per_ph_day(s.difficulty, 3.125, 3.125 * s.fee_share, s.btc_usd);
    assert!((36.0..=40.0).contains(&hp), "{hp}");
    // Closed form: 1e15·86400/(152e12·2^32)·3.125·1.01·91000 = 38.016…
    assert!((hp - 38.016).abs() < 0.01, "{hp}");
}

#[test]
#[allow(clippy::many_single_char_names)]
fn same_seed_same_tape_and_streams_are_independent() {
    let params = MarketParams::default();
    let h = Horizon::days(start(), 30, 5);
    let a = generate(&params, &h, &RngStreams::new(7, 0));
    let b = generate(&params, &h, &RngStreams::new(7, 0));
    assert_eq!(a, b);
    let c = generate(&params, &h, &RngStreams::new(7, 1));
    assert_ne!(a.btc_usd, c.btc_usd);
    // Dropping a GPU model or changing another's parameters leaves every other draw as it was.
    let mut fewer = params.clone();
    fewer.gpu.remove(1);
    fewer.gpu[1].volatility_per_sqrt_day = 0.05;
    let d = generate(&fewer, &h, &RngStreams::new(7, 0));
    assert_eq!(a.btc_usd, d.btc_usd);
    assert_eq!(a.blocks, d.blocks);
    assert_eq!(a.gpu_rental[0], d.gpu_rental[0]);
    assert_ne!(
        a.gpu_rental[2].usd_per_gpu_hour,
        d.gpu_rental[1].usd_per_gpu_hour
    );
    // The price alone equals the price inside the tape.
    assert_eq!(
        generate_btc_price(&params.btc, 91_000.0, &h, &RngStreams::new(7, 0)),
        a.btc_usd
    );
}

#[test]
fn one_year_tape_has_a_year_of_blocks_and_consistent_series() {
    let params = MarketParams::default();
    let h = Horizon::days(start(), 365, 5);
    let tape = generate(&params, &h, &RngStreams::new(1, 0));
    assert_eq!(tape.btc_usd.len(), 105_120);
    assert_eq!(tape.hashprice_usd_per_ph_day.len(), 105_120);
    let first = tape.hashprice_usd_per_ph_day.values()[0];
    assert!((first - 38.016).abs() < 0.01, "{first}");
    assert!((tape.hashprice_usd_per_th_day.values()[0] * 1_000.0 - first).abs() < 1e-9);
    // Blocks: sorted, consecutive heights from the start height, ≈ 52,560 a year.
    let n = tape.blocks.len();
    assert!((48_000..60_000).contains(&n), "{n}");
    assert_eq!(tape.blocks[0].height, params.start.height + 1);
    assert!(
        tape.blocks
            .windows(2)
            .all(|w| w[1].height == w[0].height + 1 && w[1].time >= w[0].time)
    );
    // Retargets at every multiple of 2,016, and the difficulty series follows them.
    assert!(tape.retargets.iter().all(|r| r.height % 2_016 == 0));
    assert_eq!(
        tape.retargets.len() as u64,
        (params.start.height + n as u64) / 2_016 - params.start.height / 2_016
    );
    let last = tape.retargets.last().unwrap();
    let i = tape.difficulty.index_of(last.time).unwrap() + 1;
    assert_eq!(tape.difficulty.values()[i], last.new_difficulty);
    assert!(
        tape.gpu_rental
            .iter()
            .all(|g| g.usd_per_gpu_hour.values().iter().all(|v| *v > 0.0))
    );
}

fn rng(name: &str) -> hcp_engine::rng::StreamRng {
    RngStreams::new(3, 0).stream(StreamId::named(name))
}

/// Mines at a constant hashrate for `seconds` from a chain whose epoch starts at time zero.
fn mine_constant(
    tip: u64,
    difficulty: f64,
    hashrate: f64,
    seconds: f64,
) -> (Vec<Block>, Vec<Retarget>) {
    let mut r = rng("test/blocks");
    let mut chain = Chain::new(tip, difficulty, 0.0, &mut r);
    let mut log = ChainLog::default();
    let mut t = 0.0;
    while t < seconds {
        chain.mine(t, t + 300.0, hashrate, 0.0, &mut r, &mut log);
        t += 300.0;
    }
    (log.blocks, log.retargets)
}

#[test]
fn a_tenfold_hashrate_jump_raises_difficulty_only_fourfold() {
    let d = 100e12;
    let equilibrium = d * 4_294_967_296.0 / TARGET_SPACING_S;
    let (_, retargets) = mine_constant(2_016 * 400, d, 10.0 * equilibrium, 2.5 * 86_400.0);
    let r = retargets[0];
    assert_eq!(r.height, 2_016 * 401);
    assert!(r.clamped);
    assert!(r.timespan_s < 2_016.0 * 600.0 / 8.0, "{r:?}");
    assert_eq!(r.new_difficulty, 4.0 * d);
    // A tenfold drop lowers it only fourfold.
    let (_, retargets) = mine_constant(2_016 * 400, d, equilibrium / 10.0, 150.0 * 86_400.0);
    assert_eq!(retargets[0].new_difficulty, d / 4.0);
}

#[test]
fn halvings_happen_at_their_heights() {
    assert_eq!(subsidy_btc(0), 50.0);
    assert_eq!(subsidy_btc(839_999), 6.25);
    assert_eq!(subsidy_btc(840_000), 3.125);
    assert_eq!(subsidy_btc(1_049_999), 3.125);
    assert_eq!(subsidy_btc(1_050_000), 1.5625);
    assert_eq!(subsidy_btc(64 * 210_000), 0.0);
    let d = 150e12;
    let (blocks, _) = mine_constant(1_049_990, d, d * 4_294_967_296.0 / 600.0, 86_400.0);
    for b in &blocks {
        assert_eq!(
            b.subsidy_btc,
            if b.height < 1_050_000 { 3.125 } else { 1.5625 }
        );
    }
    assert!(blocks.iter().any(|b| b.height == 1_050_000));
}

#[test]
fn block_counts_are_poisson_at_rate_h_over_d_times_2_32() {
    let d = 150e12;
    let hashrate = 1.2e21; // λ = H/(D·2³²) = 1.8626e-3 /s, 6.705 blocks an hour
    let lambda = hashrate / (d * 4_294_967_296.0);
    let hours: u32 = 250; // 1,676 blocks expected: well within the first epoch
    let (blocks, retargets) = mine_constant(2_016 * 400, d, hashrate, f64::from(hours) * 3_600.0);
    assert!(retargets.is_empty());
    let mut counts = vec![0.0; hours as usize];
    for b in &blocks {
        counts[(b.time.as_micros() / 3_600_000_000) as usize] += 1.0;
    }
    let expected = lambda * 3_600.0;
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let se = (expected / counts.len() as f64).sqrt();
    assert!(
        (mean - expected).abs() < 3.0 * se,
        "mean {mean} vs {expected}"
    );
    // Poisson: variance = mean (dispersion SE ≈ √(2/250) ≈ 0.09).
    let dispersion = index_of_dispersion(&counts);
    assert!((dispersion - 1.0).abs() < 0.25, "{dispersion}");
}

#[test]
fn block_time_returns_to_600_s_after_retargets_at_constant_hashrate() {
    let d = 150e12;
    let hashrate = 2.0 * d * 4_294_967_296.0 / 600.0; // blocks every 300 s at first
    let (blocks, retargets) = mine_constant(2_016 * 400, d, hashrate, 200.0 * 86_400.0);
    assert!(retargets.len() >= 12);
    assert!(
        (retargets[0].new_difficulty / d - 2.0).abs() < 0.1,
        "{:?}",
        retargets[0]
    );
    // Over the last 10 epochs the mean block time is 600 s · 2016/2015 (the
    // protocol's off-by-one), within the sampling error of ~20,000 blocks (0.7 %).
    let tail: Vec<&Block> = blocks.iter().filter(|b| b.height >= 2_016 * 402).collect();
    let span = (tail.last().unwrap().time.as_micros() - tail[0].time.as_micros()) as f64 / 1e6;
    let mean = span / (tail.len() - 1) as f64;
    assert!(
        (mean / (600.0 * 2_016.0 / 2_015.0) - 1.0).abs() < 0.02,
        "{mean}"
    );
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("hcp-market-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn prices_csv(rows: &[(&str, &str)]) -> String {
    let lines: Vec<String> = rows.iter().map(|(d, p)| format!("{d},{p}")).collect();
    format!("date,PriceUSD\n{}\n", lines.join("\n"))
}

fn btc_error(path: &Path) -> String {
    calibrate_btc(path, &BtcCalibrationOptions::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_price_files_are_rejected_with_file_line_column_and_problem() {
    let gap = write(
        "gap.csv",
        &prices_csv(&[
            ("2024-01-01", "100"),
            ("2024-01-02", "101"),
            ("2024-01-05", "99"),
        ]),
    );
    let e = btc_error(&gap);
    assert!(
        e.contains("gap.csv: line 4, column 'date': 2 interval(s) missing"),
        "{e}"
    );
    let dup = write(
        "dup.csv",
        &prices_csv(&[("2024-01-01", "100"), ("2024-01-01", "101")]),
    );
    let e = btc_error(&dup);
    assert!(
        e.contains("dup.csv: line 3, column 'date'") && e.contains("appears twice"),
        "{e}"
    );
    let unsorted = write(
        "unsorted.csv",
        &prices_csv(&[("2024-01-02", "100"), ("2024-01-01", "101")]),
    );
    let e = btc_error(&unsorted);
    assert!(
        e.contains("unsorted.csv: line 3, column 'date'") && e.contains("must be sorted"),
        "{e}"
    );
    let negative = write(
        "negative.csv",
        &prices_csv(&[("2024-01-01", "100"), ("2024-01-02", "-3")]),
    );
    let e = btc_error(&negative);
    assert!(
        e.contains("negative.csv: line 3, column 'PriceUSD': -3 is not positive"),
        "{e}"
    );
    let cents = write(
        "cents.csv",
        &prices_csv(&[("2024-01-01", "\"1,000.5\""), ("2024-01-02", "7")]),
    );
    let e = btc_error(&cents);
    assert!(
        e.contains("cents.csv: line 2, column 'PriceUSD': '1,000.5' is not a finite number"),
        "{e}"
    );
    let options = BtcCalibrationOptions {
        price_column: "Close".into(),
        ..BtcCalibrationOptions::default()
    };
    let e = calibrate_btc(&negative, &options).unwrap_err().to_string();
    assert!(
        e.contains("negative.csv: there is no column 'Close' (columns: date, PriceUSD)"),
        "{e}"
    );
    let short = write(
        "short.csv",
        &prices_csv(&[("2024-01-01", "100"), ("2024-01-02", "101")]),
    );
    assert!(btc_error(&short).contains("at least 100 days"));
}

#[test]
fn price_replay_interpolates_the_real_file_and_refuses_uncovered_horizons() {
    let h = Horizon::days(start(), 2, 60);
    let series = replay::btc_price(
        &data("btc_price_daily_2016-2026.csv"),
        &PriceReplayOptions::default(),
        &h,
    )
    .unwrap();
    // 2025-12-01 = 86,504.637; 2025-12-02 at midnight is the next row.
    assert!((series.values()[0] - 86_504.636_815_6).abs() < 1e-6);
    let noon = series.values()[12];
    let p2 = series.values()[24];
    assert!(
        (noon - (86_504.636_815_6 * p2).sqrt()).abs() < 1e-6,
        "{noon}"
    );
    let late = Horizon::days(
        DateTime::parse_from_rfc3339("2026-06-20T00:00:00Z")
            .unwrap()
            .to_utc(),
        30,
        60,
    );
    let e = replay::btc_price(
        &data("btc_price_daily_2016-2026.csv"),
        &PriceReplayOptions::default(),
        &late,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("does not contain the horizon"),
        "{e}"
    );
    // The Coin Metrics network file replays as the formula over its own columns.
    let h = Horizon::days(
        DateTime::parse_from_rfc3339("2020-05-12T00:00:00Z")
            .unwrap()
            .to_utc(),
        3,
        5,
    );
    let net = replay::network(
        &data("btc_coinmetrics_daily_2016-2020.csv"),
        &h,
        GapRepair::Reject,
    )
    .unwrap();
    assert_eq!(net.hashprice_usd_per_ph_day.len(), 864);
    let v = net.hashprice_usd_per_ph_day.values()[0];
    let expected = usd_per_ph_day(
        net.difficulty.values()[0],
        6.25,
        6.25 * net.fee_share.values()[0],
        net.btc_usd.values()[0],
    );
    assert!((v / expected - 1.0).abs() < 0.01, "{v} vs {expected}");
}
