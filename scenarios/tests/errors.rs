//! Bad scenario files: each error names the file, the key path and the
//! problem; partial files keep the reference's other values; the hash is
//! stable and follows the values.

use std::path::{Path, PathBuf};

use hcp_models::data::default_data_dir;
use hcp_scenarios::{Scenario, ScenarioError, load};

/// A scenario file written to a fresh folder under the target directory.
fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hcp-scenarios-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The error of loading (and, if loading succeeds, preparing) a file.
fn error_of(name: &str, text: &str) -> (PathBuf, String) {
    let path = write(name, text);
    let message = match load(&path) {
        Err(e) => e.to_string(),
        Ok(loaded) => loaded
            .prepare()
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"))
            .to_string(),
    };
    (path, message)
}

fn assert_names(message: &str, path: &Path, parts: &[&str]) {
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    for part in parts {
        assert!(message.contains(part), "'{part}' missing from: {message}");
    }
}

#[test]
fn a_partial_file_keeps_the_reference_values() {
    let path = write(
        "partial.toml",
        "name = \"cheap-btc\"\n[world.market.start]\nbtc_usd = 50000.0\n",
    );
    let loaded = load(&path).unwrap();
    let reference = Scenario::default();
    assert_eq!(loaded.scenario.world.market.start.btc_usd, 50_000.0);
    assert_eq!(
        loaded.scenario.world.market.start.difficulty,
        reference.world.market.start.difficulty
    );
    assert_eq!(loaded.scenario.plant, reference.plant);
    assert_eq!(loaded.base_dir, path.parent().unwrap());
    assert_eq!(loaded.source, path.display().to_string());
}

#[test]
fn toml_syntax_errors_give_line_and_column() {
    let (path, message) = error_of("syntax.toml", "name = \"x\"\n[world]\ndays = = 3\n");
    assert_names(&message, &path, &["line 3, column", "TOML syntax error"]);
}

#[test]
fn unknown_keys_give_their_path() {
    let (path, message) = error_of(
        "unknown.toml",
        "[plant.rental]\noccupancy = 0.5\nfees = 0.1\n",
    );
    assert_names(&message, &path, &["plant.rental", "unknown field `fees`"]);
    let (path, message) = error_of("unknown_top.toml", "replications = 4\n");
    assert_names(&message, &path, &["unknown field `replications`"]);
}

#[test]
fn wrong_types_and_negative_counts_give_their_path() {
    let (path, message) = error_of("type.toml", "[world]\ndays = \"many\"\n");
    assert_names(&message, &path, &["world.days", "invalid type"]);
    let site = "[[plant.sites]]\nname = \"A\"\nnode = \"HB_WEST\"\ncap_mw = 10.0\n";
    let (path, message) = error_of(
        "negative.toml",
        &format!("{site}asics = [{{ model = \"S21\", count = -5 }}]\n"),
    );
    assert_names(&message, &path, &["plant.sites[0].asics[0].count", "-5"]);
}

#[test]
fn an_impossible_pue_is_refused_with_its_site() {
    let site = "[[plant.sites]]\nname = \"A\"\nnode = \"HB_WEST\"\ncap_mw = 10.0\n";
    let (path, message) = error_of("pue.toml", &format!("{site}pue = 0.9\n"));
    assert_names(&message, &path, &["plant.sites[0].pue", "0.9"]);
}

#[test]
fn an_unknown_node_is_refused_with_its_site() {
    let site = "[[plant.sites]]\nname = \"A\"\nnode = \"HB_NOWHERE\"\ncap_mw = 10.0\n";
    let (path, message) = error_of("node.toml", site);
    assert_names(
        &message,
        &path,
        &["plant.sites[0].node", "HB_NOWHERE", "HB_NORTH"],
    );
}

#[test]
fn a_missing_replay_file_is_named() {
    let (path, message) = error_of(
        "missing.toml",
        "[[world.replay.prices]]\nnode = \"HB_NORTH\"\nfile = \"no_such_prices.csv\"\n",
    );
    assert_names(&message, &path, &["world.replay", "no_such_prices.csv"]);
}

#[test]
fn a_replay_that_does_not_cover_the_horizon_is_refused() {
    // The file starts at Central midnight (06:00 UTC): a UTC-midnight start
    // is six hours too early.
    let file = default_data_dir().join("ercot_rtm_spp_hub_lz_2021-02_15min.csv");
    let text = format!(
        "[world]\nstart = 2021-02-01T00:00:00Z\ndays = 28\nstep_minutes = 15\n\
         [[world.replay.prices]]\nnode = \"HB_NORTH\"\nfile = {:?}\n",
        file.display().to_string()
    );
    let (path, message) = error_of("uncovered.toml", &text);
    assert_names(
        &message,
        &path,
        &[
            "world.replay.prices[0]",
            "ercot_rtm_spp_hub_lz_2021-02_15min.csv",
        ],
    );
}

#[test]
fn relative_replay_paths_resolve_against_the_scenario_folder() {
    let dir = std::env::temp_dir().join(format!("hcp-scenarios-rel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = "ercot_rtm_spp_hub_lz_2021-02_15min.csv";
    std::fs::copy(default_data_dir().join(name), dir.join(name)).unwrap();
    let path = dir.join("uri.toml");
    std::fs::write(
        &path,
        format!(
            "[world]\nstart = \"2021-02-01T06:00:00Z\"\ndays = 2\nstep_minutes = 15\n\
             [[world.replay.prices]]\nnode = \"HB_SOUTH\"\nfile = \"{name}\"\n"
        ),
    )
    .unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.base_dir, dir);
    loaded.prepare().unwrap();
}

#[test]
fn an_unreadable_file_is_named() {
    let path = std::env::temp_dir().join("hcp-scenarios-no-such-file.toml");
    let e = load(&path).unwrap_err();
    assert!(matches!(e, ScenarioError::Read { .. }));
    assert!(
        e.to_string().starts_with(&path.display().to_string()),
        "{e}"
    );
}

#[test]
fn the_hash_is_stable_and_follows_the_values() {
    let a = load(&write("hash_a.toml", "[sweep]\nseed = 7\n")).unwrap();
    let again = load(&write(
        "hash_b.toml",
        "# a comment\n[sweep]\nseed   =   7\n",
    ))
    .unwrap();
    let other = load(&write("hash_c.toml", "[sweep]\nseed = 8\n")).unwrap();
    assert_eq!(a.hash.len(), 16);
    assert!(a.hash.chars().all(|c| c.is_ascii_hexdigit()));
    // Formatting and comments do not matter; values do.
    assert_eq!(a.hash, again.hash);
    assert_ne!(a.hash, other.hash);
    // The canonical text round-trips to the same scenario.
    let canonical = a.canonical_toml().unwrap();
    let round: Scenario = toml::from_str(&canonical).unwrap();
    assert_eq!(round, a.scenario);
    // A file that spells out a default value hashes like one that omits it.
    let explicit = load(&write(
        "hash_d.toml",
        "[sweep]\nseed = 7\nreplications = 12\n",
    ))
    .unwrap();
    assert_eq!(explicit.hash, a.hash);
}

#[test]
fn a_start_without_a_time_says_how_to_write_one() {
    let (path, message) = error_of("date.toml", "[world]\nstart = 2021-02-01\n");
    assert_names(&message, &path, &["world.start", "2021-02-01T06:00:00Z"]);
    let path = write("datetime.toml", "[world]\nstart = 2021-02-01T06:00:00Z\n");
    let loaded = load(&path).unwrap();
    assert_eq!(
        loaded.scenario.world.start.to_rfc3339(),
        "2021-02-01T06:00:00+00:00"
    );
}

// Regressions found by the fuzz test (tests/fuzz_inputs.rs).

#[test]
fn a_file_that_is_not_utf8_gives_the_line_and_column_of_the_bad_byte() {
    let path = write(
        "latin1.toml",
        "name = \"x\"\n[world]\ndays = 3 # caf\u{e9}\n",
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.iter().position(|&b| b == 0xc3).unwrap();
    bytes.splice(at..at + 2, [0xe9]);
    std::fs::write(&path, bytes).unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert_names(
        &message,
        &path,
        &["line 3, column 15", "not UTF-8 text (byte 0xe9)"],
    );
}

#[test]
fn non_finite_numbers_are_refused_with_their_key() {
    let (path, message) = error_of(
        "nan.toml",
        "[world.demand.jobs]\nload_scale = 1.0\nclasses = [{ class = \"P2\", share = nan, h100_only = 0.0, sizes = [], runtime_s = [] }]\n",
    );
    assert_names(
        &message,
        &path,
        &[
            "world.demand.jobs.classes[0].share",
            "NaN is not a finite number",
        ],
    );
    let (path, message) = error_of("inf.toml", "[plant.rental]\nfee = -inf\n");
    assert_names(
        &message,
        &path,
        &["plant.rental.fee", "-inf is not a finite number"],
    );
}

#[test]
fn absurd_horizons_and_job_rates_are_refused_at_preparation() {
    let (path, message) = error_of("days.toml", "[world]\ndays = 4294967295\n");
    assert_names(
        &message,
        &path,
        &["world.days", "beyond the longest horizon, 200000 days"],
    );
    let (path, message) = error_of("jobs.toml", "[world.demand.jobs]\nload_scale = 1e9\n");
    assert_names(
        &message,
        &path,
        &[
            "world.demand.jobs.load_scale",
            "beyond the most a run can play",
        ],
    );
}

#[test]
fn a_replay_error_names_the_replay_key_and_the_series_file() {
    let dir = write("replay.toml", "").parent().unwrap().to_path_buf();
    std::fs::write(dir.join("bad_btc.csv"), "date,PriceUSD\n2021-02-01,abc\n").unwrap();
    let (path, message) = error_of(
        "replay.toml",
        "[world]\nstart = 2021-02-01T00:00:00Z\ndays = 1\n[world.replay.btc]\nfile = \"bad_btc.csv\"\n",
    );
    assert_names(
        &message,
        &path,
        &[
            "world.replay.btc: ",
            "bad_btc.csv: line 2, column 'PriceUSD': 'abc' is not a finite number",
        ],
    );
}

#[test]
fn markets_chains_and_job_classes_the_fuzz_test_broke_are_refused_with_their_keys() {
    // A floor above the cap made the price generator's clamp panic.
    let (path, message) = error_of("floor.toml", "[world.grid.markets.ercot]\nfloor = 6000.0\n");
    assert_names(
        &message,
        &path,
        &[
            "grid.markets.ercot.floor",
            "must be below the offer cap (5000 $/MWh)",
        ],
    );
    // A hashrate that finds a block every 10⁻¹⁷ s mined without bound.
    let (path, message) = error_of("chain.toml", "[world.market.start]\nhashrate_ehs = 1e30\n");
    assert_names(
        &message,
        &path,
        &["world.market", "start.hashrate_ehs", "block every"],
    );
    // Three copies of the job classes triple the arrivals past the limit
    // that one copy stays under.
    let jobs = hcp_models::demand::DemandParams::default().jobs;
    let per_day = 4e6;
    assert!(per_day * jobs.classes.iter().map(|c| c.share).sum::<f64>() < 1e7);
    let mut tripled = jobs.clone();
    tripled.jobs_per_day = per_day;
    tripled.classes = [jobs.classes.clone(), jobs.classes.clone(), jobs.classes].concat();
    let mut doc = toml::Table::new();
    let mut world = toml::Table::new();
    let mut demand = toml::Table::new();
    demand.insert("jobs".into(), toml::Value::try_from(&tripled).unwrap());
    world.insert("demand".into(), toml::Value::Table(demand));
    doc.insert("world".into(), toml::Value::Table(world));
    let (path, message) = error_of("classes.toml", &toml::to_string(&doc).unwrap());
    assert_names(
        &message,
        &path,
        &[
            "world.demand.jobs.load_scale",
            "the classes' shares",
            "beyond the most a run can play",
        ],
    );
}

#[test]
fn price_persistence_parameters_out_of_range_are_refused_with_their_keys() {
    let (path, message) = error_of(
        "sustained.toml",
        "[world.grid.markets.ercot]\nsustained_share = 1.5\n",
    );
    assert_names(
        &message,
        &path,
        &[
            "grid.markets.ercot.sustained_share",
            "must be a share between 0 and 1, not 1.5",
        ],
    );
    let (path, message) = error_of(
        "slow.toml",
        "[world.grid.nodes.HB_NORTH]\nslow_share = -0.2\n",
    );
    assert_names(
        &message,
        &path,
        &["grid.nodes.HB_NORTH.slow_share", "between 0 and 1"],
    );
    let (path, message) = error_of(
        "length.toml",
        "[world.grid.markets.ercot]\nsustained_intervals = 0.5\n",
    );
    assert_names(
        &message,
        &path,
        &[
            "grid.markets.ercot.sustained_intervals",
            "at least one interval",
        ],
    );
}
