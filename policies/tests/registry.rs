//! The registry: every name builds, round-trips through TOML, rejects
//! unknown names and fields with the valid choices.

use hcp_policies::breakeven::BreakevenParams;
use hcp_policies::seed_threshold::SeedThresholdParams;
use hcp_policies::{ForecasterConfig, PolicyConfig};

#[test]
fn every_policy_builds_under_its_name_and_round_trips_through_toml() {
    let names: Vec<&str> = PolicyConfig::defaults()
        .iter()
        .map(PolicyConfig::name)
        .collect();
    assert_eq!(
        names,
        [
            "mining-only",
            "ai-first",
            "seed-threshold",
            "breakeven",
            "mpc",
            "mpc-clairvoyant"
        ]
    );
    for config in PolicyConfig::defaults() {
        assert_eq!(config.build().name(), config.name());
        assert_eq!(PolicyConfig::by_name(config.name()).unwrap(), config);
        let text = toml::to_string(&config).unwrap();
        assert!(
            text.contains(&format!("kind = \"{}\"", config.name())),
            "{text}"
        );
        let back: PolicyConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config);
    }
}

#[test]
fn parameters_come_from_toml_and_default_when_left_out() {
    let config: PolicyConfig =
        toml::from_str("kind = \"seed-threshold\"\nthreshold = 0.25").unwrap();
    assert_eq!(
        config,
        PolicyConfig::SeedThreshold(SeedThresholdParams {
            threshold: 0.25,
            check_interval_minutes: 15,
        })
    );
    let config: PolicyConfig =
        toml::from_str("kind = \"breakeven\"\nmin_dwell_minutes = 60").unwrap();
    let PolicyConfig::Breakeven(p) = config else {
        panic!("not breakeven: {config:?}");
    };
    assert_eq!(p.min_dwell_minutes, 60);
    assert_eq!(p.hysteresis, BreakevenParams::default().hysteresis);
}

#[test]
fn unknown_names_and_fields_are_refused_with_the_valid_choices() {
    let err = PolicyConfig::by_name("hodl").unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown policy `hodl`: expected one of mining-only, ai-first, seed-threshold, breakeven, mpc, mpc-clairvoyant"
    );
    let err = ForecasterConfig::by_name("oracle").unwrap_err().to_string();
    assert!(
        err.contains("persistence, seasonal-naive, autoregressive"),
        "{err}"
    );
    let err = toml::from_str::<PolicyConfig>("kind = \"hodl\"")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mining-only") && err.contains("breakeven"),
        "{err}"
    );
    let err = toml::from_str::<PolicyConfig>("kind = \"breakeven\"\nhysterisis = 0.1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hysterisis") && err.contains("hysteresis"),
        "{err}"
    );
}

#[test]
fn every_forecaster_builds_and_round_trips_through_toml() {
    for config in ForecasterConfig::defaults() {
        assert_eq!(config.build().name(), config.name());
        assert_eq!(ForecasterConfig::by_name(config.name()).unwrap(), config);
        let text = toml::to_string(&config).unwrap();
        let back: ForecasterConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config);
    }
}
