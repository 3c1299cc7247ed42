//! Regenerates the shipped ERCOT parameters and prints the validation table
//! (both ignored by default: `cargo test --release -p hcp-models --test
//! grid_regenerate -- --ignored --nocapture`).

use hcp_models::data::default_data_dir;
use hcp_models::grid::calibrate::fit_ercot;

#[test]
#[ignore = "writes models/params/grid_ercot.toml"]
fn write_ercot_params() {
    let params = fit_ercot(&default_data_dir()).unwrap().rounded();
    let text = toml::to_string(&params).unwrap();
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/params/grid_ercot.toml"),
        text,
    )
    .unwrap();
}

#[test]
#[ignore = "prints the validation table"]
fn print_checks() {
    let checks = hcp_models::grid::validation::checks(&default_data_dir()).unwrap();
    for c in &checks {
        println!(
            "{:<28} {:<32} {:>12.5} {:>12.5} {:>8} {}",
            c.group,
            c.name,
            c.value,
            c.reference,
            c.tolerance,
            if c.pass { "ok" } else { "FAIL" }
        );
    }
}

#[test]
#[ignore = "timing; run in release"]
#[allow(clippy::disallowed_methods)] // wall-clock timing of the generator, never a result
fn time_one_year_three_nodes() {
    use chrono::TimeZone;
    let params = hcp_models::grid::GridParams::default();
    let h = hcp_models::series::Horizon::days(
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(),
        365,
        5,
    );
    let streams = hcp_engine::rng::RngStreams::new(1, 0);
    let t0 = std::time::Instant::now();
    for _ in 0..10 {
        let p = hcp_models::grid::generate_prices(
            &params,
            &["HB_WEST", "LZ_NORTH", "ND_MISO"],
            &h,
            &streams,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
    }
    println!("one year, 5-min, 3 nodes: {:?} per tape", t0.elapsed() / 10);
}
