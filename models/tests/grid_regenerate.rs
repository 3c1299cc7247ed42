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
