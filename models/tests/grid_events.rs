//! Grid events and ancillary-service prices: fit round trip, validation,
//! determinism, event statistics and replay errors.

use hcp_models::data::default_data_dir;
use hcp_models::grid::ancillary::AncillaryParams;
use hcp_models::grid::ancillary_fit::{AncillaryCalibrationOptions, calibrate, ANCILLARY_FILE};

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
