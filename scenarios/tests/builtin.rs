//! The built-in scenarios: each loads and prepares, and each says what its
//! header promises (real Uri prices, a crossed halving, a $25/PH/day
//! hashprice, the design-scale plant).

use hcp_engine::rng::RngStreams;
use hcp_models::market::hashprice::usd_per_ph_day;
use hcp_models::market::subsidy_btc;
use hcp_models::plant::PlantConfig;
use hcp_scenarios::{Scenario, builtin, builtin_names};

#[test]
fn every_builtin_loads_and_prepares() {
    assert_eq!(builtin_names().len(), 6);
    for name in builtin_names() {
        let loaded = builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.source, format!("builtin:{name}"));
        assert_eq!(&loaded.scenario.name, name);
        assert!(!loaded.scenario.description.is_empty(), "{name}");
        let setup = loaded.prepare().unwrap_or_else(|e| panic!("{name}: {e}"));
        let nodes: Vec<&str> = loaded
            .scenario
            .plant
            .sites
            .iter()
            .map(|s| s.node.as_str())
            .collect();
        assert_eq!(
            setup.world().config().price_nodes.len(),
            nodes.len(),
            "{name}"
        );
    }
}

#[test]
fn reference_is_the_default_scenario() {
    let loaded = builtin("reference").unwrap();
    assert_eq!(loaded.scenario, Scenario::default());
    assert_eq!(loaded.scenario.sweep.replications, 12);
    assert_eq!(loaded.scenario.sweep.detail_replications, 2);
    assert_eq!(loaded.scenario.policies.len(), 6);
}

#[test]
fn uri_replays_the_real_february_2021_prices() {
    let loaded = builtin("ercot-2021-uri").unwrap();
    let world = &loaded.scenario.world;
    assert_eq!(world.days, 28);
    assert_eq!(world.step_minutes, 15);
    let setup = loaded.prepare().unwrap();
    let tape = setup.tape(&RngStreams::new(1, 0));
    let series = |node: &str| {
        tape.grid
            .prices
            .iter()
            .find(|p| p.node == node)
            .unwrap_or_else(|| panic!("{node} on the tape"))
    };
    let north = &series("HB_NORTH").price;
    let max = north.values().iter().copied().fold(f64::MIN, f64::max);
    // The file's HB_NORTH maximum (awk over the CSV).
    assert_eq!(max, 9315.45);
    // 28 days of 15-minute intervals, no gap filled.
    assert_eq!(north.values().len(), 28 * 96);
    // The first interval is 2021-02-01 hour 1, interval 1 at HB_NORTH.
    assert_eq!(north.values()[0], 20.12);
    // Replays use no random draws: another replication has the same prices.
    let other = setup.tape(&RngStreams::new(1, 5));
    let other_north = other
        .grid
        .prices
        .iter()
        .find(|p| p.node == "HB_NORTH")
        .unwrap();
    assert_eq!(other_north.price.values(), north.values());
    // The BTC path is Coin Metrics', geometrically interpolated between UTC
    // midnights: 06:00 UTC is a quarter of the way from 2021-02-01 to 02-02.
    let (feb1, feb2): (f64, f64) = (33_570.271_846_873_2, 35_596.148_909_409_7);
    let expected = feb1 * (feb2 / feb1).powf(0.25);
    let btc = tape.market.btc_usd.values();
    assert!(
        (btc[0] / expected - 1.0).abs() < 1e-9,
        "{} vs {expected}",
        btc[0]
    );
}

#[test]
fn halving_is_crossed_mid_run() {
    let start = builtin("halving").unwrap().scenario.world;
    let height = start.market.start.height;
    assert_eq!(subsidy_btc(height), 3.125);
    let blocks_by_end = height + 144 * u64::from(start.days);
    assert_eq!(subsidy_btc(blocks_by_end), 1.5625);
    let days_to_halving = (1_050_000 - height) as f64 / 144.0;
    assert!(
        (90.0..110.0).contains(&days_to_halving),
        "{days_to_halving}"
    );
}

#[test]
fn bear_market_hashprice_is_about_25_usd_per_ph_day() {
    let market = builtin("bear-market").unwrap().scenario.world.market;
    let s = &market.start;
    let subsidy = subsidy_btc(s.height);
    let hashprice = usd_per_ph_day(s.difficulty, subsidy, subsidy * s.fee_share, s.btc_usd);
    assert!((24.0..26.0).contains(&hashprice), "{hashprice}");
    assert!(market.btc.regimes.iter().all(|r| r.drift_per_day < 0.0));
    // Only the drifts changed: the fitted transition matrix stays.
    assert_eq!(
        market.btc.transition,
        Scenario::default().world.market.btc.transition
    );
}

#[test]
fn ai_boom_demands_well_above_capacity() {
    let demand = builtin("ai-boom").unwrap().scenario.world.demand;
    let reference = Scenario::default().world.demand;
    assert!(demand.jobs.load_scale * demand.jobs.load_fraction > 1.0);
    assert_eq!(demand.customers.count[0], 3 * reference.customers.count[0]);
    assert_eq!(demand.customers.count[1..], reference.customers.count[1..]);
}

#[test]
fn design_scale_is_the_design_scale_plant() {
    let scenario = builtin("design-scale").unwrap().scenario;
    assert_eq!(scenario.plant, PlantConfig::design_scale());
    assert_eq!(scenario.world.demand.jobs.jobs_per_day, 100_000.0);
    assert!(!scenario.sweep.intervals_output);
    assert!(scenario.sweep.replications < 16);
}

#[test]
fn unknown_builtin_lists_the_valid_names() {
    let e = builtin("uri").unwrap_err().to_string();
    for name in builtin_names() {
        assert!(e.contains(name), "{e}");
    }
    assert!(e.contains("'uri'"), "{e}");
}
