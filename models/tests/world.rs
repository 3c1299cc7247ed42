//! The world tape: the reference year, determinism, common random numbers
//! under replay, the Winter Storm Uri replay, and bad configurations.

use chrono::{TimeZone, Utc};
use std::path::Path;

use hcp_engine::rng::RngStreams;
use hcp_models::data::{GapRepair, default_data_dir};
use hcp_models::world::{BtcReplay, PriceReplay, World, WorldConfig};

fn reference() -> World {
    World::prepare(WorldConfig::default(), &default_data_dir()).unwrap()
}

#[test]
fn the_reference_year_has_every_series_on_one_grid() {
    let world = reference();
    let tape = world.tape(&RngStreams::new(1, 0));
    let n = 365 * 288;
    assert_eq!(tape.horizon.intervals(), n);
    assert_eq!(tape.market.btc_usd.len(), n);
    assert_eq!(tape.market.hashprice_usd_per_ph_day.len(), n);
    assert_eq!(tape.grid.prices.len(), 3);
    for node in ["HB_NORTH", "HB_SOUTH", "ND_MISO"] {
        assert_eq!(
            tape.grid
                .price(node)
                .map(hcp_models::series::RegularSeries::len),
            Some(n),
            "{node}"
        );
    }
    // Late-2025 start: hashprice near $38/PH/day, BTC at $91,000.
    let hp0 = tape.market.hashprice_usd_per_ph_day.values()[0];
    assert!((36.0..40.0).contains(&hp0), "{hp0}");
    assert!((tape.market.btc_usd.values()[0] - 91_000.0).abs() < 1e-6);
    // About 144 blocks a day, ≥ 10,000 workloads a day.
    let blocks_per_day = tape.market.blocks.len() as f64 / 365.0;
    assert!((120.0..170.0).contains(&blocks_per_day), "{blocks_per_day}");
    assert!(
        tape.demand.jobs.len() >= 365 * 10_000,
        "{}",
        tape.demand.jobs.len()
    );
    assert!(tape.demand.p1.len() >= 10);
    let footprint = tape.footprint();
    assert!(footprint.grid_bytes == 3 * n * 8);
    assert!(footprint.total_bytes() < 400 << 20, "{footprint:?}");
}

#[test]
fn same_seed_same_tape_other_replication_other_tape() {
    let world = reference();
    let a = world.tape(&RngStreams::new(42, 3));
    let b = world.tape(&RngStreams::new(42, 3));
    assert_eq!(a, b);
    let c = world.tape(&RngStreams::new(42, 4));
    assert_ne!(a.market.btc_usd, c.market.btc_usd);
    assert_ne!(a.grid.prices, c.grid.prices);
    assert_ne!(a.demand.jobs, c.demand.jobs);
}

#[test]
fn replaying_one_process_leaves_every_other_draw_unchanged() {
    let mut config = WorldConfig {
        start: Utc.with_ymd_and_hms(2024, 1, 1, 6, 0, 0).unwrap(),
        days: 31,
        step_minutes: 15,
        ..WorldConfig::default()
    };
    let generated = World::prepare(config.clone(), &default_data_dir())
        .unwrap()
        .tape(&RngStreams::new(7, 0));
    config.replay.prices.push(PriceReplay {
        node: "HB_NORTH".into(),
        file: "ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv".into(),
        repair: GapRepair::Reject,
    });
    let replayed = World::prepare(config, &default_data_dir())
        .unwrap()
        .tape(&RngStreams::new(7, 0));
    assert_ne!(
        generated.grid.price("HB_NORTH"),
        replayed.grid.price("HB_NORTH")
    );
    assert_eq!(
        generated.grid.price("HB_SOUTH"),
        replayed.grid.price("HB_SOUTH")
    );
    assert_eq!(
        generated.grid.price("ND_MISO"),
        replayed.grid.price("ND_MISO")
    );
    assert_eq!(generated.market, replayed.market);
    assert_eq!(generated.demand, replayed.demand);
    // The January 2024 cold snap is in the replay: HB_NORTH topped $1,000/MWh.
    let north = replayed.grid.price("HB_NORTH").unwrap();
    assert!(north.values().iter().copied().fold(f64::MIN, f64::max) > 1_000.0);
}

#[test]
fn winter_storm_uri_replays_exactly() {
    // February 2021 in Central time starts at 06:00 UTC.
    let config = WorldConfig {
        start: Utc.with_ymd_and_hms(2021, 2, 1, 6, 0, 0).unwrap(),
        days: 28,
        step_minutes: 15,
        price_nodes: vec!["HB_WEST".into()],
        replay: hcp_models::world::ReplayConfig {
            prices: vec![PriceReplay {
                node: "HB_WEST".into(),
                file: "ercot_rtm_spp_hub_lz_2021-02_15min.csv".into(),
                repair: GapRepair::Reject,
            }],
            btc: Some(BtcReplay {
                file: "btc_price_daily_2016-2026.csv".into(),
                date_column: "date".into(),
                price_column: "PriceUSD".into(),
                repair: GapRepair::Reject,
            }),
        },
        ..WorldConfig::default()
    };
    let tape = World::prepare(config, &default_data_dir())
        .unwrap()
        .tape(&RngStreams::new(1, 0));
    let west = tape.grid.price("HB_WEST").unwrap();
    assert_eq!(west.len(), 28 * 96);
    let max = west.values().iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(max, 9_310.49);
    assert!((west.mean() - 1_531.18).abs() < 0.01, "{}", west.mean());
    // BTC was about $33,000–58,000 that month (Coin Metrics).
    let btc = tape.market.btc_usd.values();
    assert!(btc.iter().all(|p| (30_000.0..60_000.0).contains(p)));
}

#[test]
fn bad_configurations_name_the_key_and_the_problem() {
    let prepare = |config: WorldConfig| {
        World::prepare(config, &default_data_dir())
            .unwrap_err()
            .to_string()
    };
    let message = prepare(WorldConfig {
        step_minutes: 7,
        ..WorldConfig::default()
    });
    assert_eq!(
        message,
        "world.step_minutes: 7 minutes does not divide a day"
    );
    let message = prepare(WorldConfig {
        price_nodes: vec!["HB_NOWHERE".into()],
        ..WorldConfig::default()
    });
    assert!(
        message.starts_with("world.price_nodes: no price parameters for node 'HB_NOWHERE'"),
        "{message}"
    );
    let mut config = WorldConfig::default();
    config.replay.prices.push(PriceReplay {
        node: "HB_WEST".into(),
        file: "ercot_rtm_spp_hub_lz_2021-02_15min.csv".into(),
        repair: GapRepair::Reject,
    });
    let message = prepare(config);
    assert!(
        message.contains("world.replay.prices[0].node: 'HB_WEST' is not one of price_nodes"),
        "{message}"
    );
    // A replay that does not cover the horizon says which instant is missing.
    let mut config = WorldConfig {
        price_nodes: vec!["HB_WEST".into()],
        ..WorldConfig::default()
    };
    config.replay.prices.push(PriceReplay {
        node: "HB_WEST".into(),
        file: "ercot_rtm_spp_hub_lz_2021-02_15min.csv".into(),
        repair: GapRepair::Reject,
    });
    let message = prepare(config);
    assert!(message.contains("is not covered by the file"), "{message}");
    // Unknown keys are refused by the TOML reader.
    let err = toml::from_str::<WorldConfig>("days = 30\nstep_minute = 5\n").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `step_minute`"),
        "{err}"
    );
}

#[test]
fn lazy_job_generator_yields_exactly_the_tape_jobs() {
    let config = WorldConfig {
        days: 3,
        ..WorldConfig::default()
    };
    let world = World::prepare(config, Path::new(".")).unwrap();
    let streams = RngStreams::new(11, 2);
    let full = world.tape(&streams);
    let lazy = world.tape_without_jobs(&streams);
    assert!(lazy.demand.jobs.is_empty());
    let mut generator = world.job_generator(&lazy, &streams);
    let mut jobs = Vec::new();
    let mut intervals = 0;
    while generator.next_interval(&mut jobs) {
        intervals += 1;
    }
    assert_eq!(intervals, 3 * 288);
    assert!(jobs.len() > 30_000, "{} jobs in 3 days", jobs.len());
    assert_eq!(jobs, full.demand.jobs);
    assert_eq!(lazy.demand.customers, full.demand.customers);
    assert_eq!(lazy.demand.p1, full.demand.p1);
}
