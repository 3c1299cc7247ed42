//! Sim-to-live parity, the product's proof: one policy over the same tape,
//! once in the twin and once through `hcp bridge` against the virtual
//! fleet at accelerated time, makes the same decisions at every epoch; and
//! the bridge's audit log, replayed through a fresh policy, reproduces
//! them.
//!
//! The plant is two LuxOS cohorts (S21 and S19 XP) at one Texas site whose
//! cap does not bind; the tape is the twin's generated world (HB_NORTH
//! prices, BTC and network hashrate) written out as CSV and replayed by the
//! bridge's feeds. `HCP_PARITY_DAYS` (default 1) sets the length; a week is
//! `HCP_PARITY_DAYS=7 cargo test --release --test parity`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hcp_contract::{Action, Observation, Persistence, Policy, Subscriptions};
use hcp_engine::rng::RngStreams;
use hcp_fleet::FleetOptions;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{MemorySink, TwinSetup, run};
use hcp_models::world::WorldConfig;
use hcp_policies::PolicyConfig;

type Log = Arc<Mutex<Vec<(Observation, Vec<Action>)>>>;

struct Recorder {
    inner: Box<dyn Policy>,
    log: Log,
}

impl Policy for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn subscriptions(&self) -> Subscriptions {
        self.inner.subscriptions()
    }
    fn decide(&mut self, observation: &Observation, actions: &mut Vec<Action>) {
        self.inner.decide(observation, actions);
        self.log
            .lock()
            .unwrap()
            .push((observation.clone(), actions.clone()));
    }
}

const PLANT: &str = r#"
pool_fee = 0.02
[[sites]]
name = "Texas North"
node = "HB_NORTH"
cap_mw = 0.5
cooling = "immersion"
grid_events = false
asics = [
  { model = "S21", count = 24, firmware = "luxos" },
  { model = "S19 XP", count = 16, firmware = "luxos" },
]
gpus = []
"#;

fn days() -> u32 {
    std::env::var("HCP_PARITY_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(1)
}

#[test]
fn the_bridge_against_the_virtual_fleet_decides_as_the_twin_does() {
    let days = days();
    let plant: PlantConfig = toml::from_str(PLANT).unwrap();
    let world = WorldConfig {
        days,
        price_nodes: vec!["HB_NORTH".into()],
        ..WorldConfig::default()
    };
    let setup = TwinSetup::prepare(world, plant.clone(), Path::new(".")).unwrap();
    let policy = PolicyConfig::by_name("breakeven").unwrap();

    // 1. The twin.
    let log = Log::default();
    let streams = RngStreams::new(11, 0);
    let tape = setup.tape(&streams);
    let recorder = Recorder {
        inner: policy.build(),
        log: Arc::clone(&log),
    };
    let (twin, _) = run(
        &setup,
        tape,
        &streams,
        Box::new(recorder),
        Box::new(Persistence::default()),
        MemorySink::default(),
    );
    let twin_log = log.lock().unwrap().clone();
    assert_eq!(
        twin_log.len() as u64,
        u64::from(days) * 288,
        "the twin decides every 5-minute interval"
    );
    let switching: usize = twin_log
        .iter()
        .filter(|(_, a)| {
            a.iter()
                .any(|x| matches!(x, Action::Asic { on, .. } if *on < 40))
        })
        .count();
    assert!(
        switching > 0,
        "the tape never made breakeven curtail: a parity of nothing"
    );

    let dir = run_bridge(&plant, &twin_log, days);
    // 4. Decision by decision.
    let lines = hcp_bridge::audit::read(&dir.join("audit")).unwrap();
    let bridge_log: Vec<(u64, Vec<Action>)> = lines
        .iter()
        .filter_map(|l| match &l.event {
            hcp_bridge::audit::Event::Decision { epoch, actions, .. } => {
                Some((*epoch, actions.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(bridge_log.len(), twin_log.len());
    let mut differ = Vec::new();
    for (k, ((epoch, live), (_, sim))) in bridge_log.iter().zip(&twin_log).enumerate() {
        assert_eq!(*epoch, k as u64);
        if live != sim {
            differ.push(k);
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} epochs differ, first {:?}: bridge {:?} twin {:?}",
        differ.len(),
        twin_log.len(),
        differ.first(),
        bridge_log[differ[0]].1,
        twin_log[differ[0]].1
    );

    // 5. Energy and mining revenue from what the bridge observed, against
    // the twin's own ledger.
    let (energy_mwh, revenue, cost) = observed_economics(&lines, &twin_log);
    let twin_energy = twin.ledger.energy_mwh_total;
    let twin_profit = twin.ledger.profit_usd;
    let bridge_profit = revenue - cost;
    eprintln!(
        "parity over {days} day(s): energy {energy_mwh:.4} MWh (twin {twin_energy:.4}), profit ${bridge_profit:.2} (twin ${twin_profit:.2}), decisions {} identical",
        twin_log.len()
    );
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-9);
    assert!(
        rel(energy_mwh, twin_energy) < 0.025,
        "energy {energy_mwh} vs twin {twin_energy}"
    );
    assert!(
        (bridge_profit - twin_profit).abs() < 0.03 * twin_profit.abs().max(revenue * 0.1),
        "profit {bridge_profit} vs twin {twin_profit}"
    );

    // 6. The live log replays to the same decisions.
    let report = hcp_bridge::replay::replay(&dir.join("audit")).unwrap();
    assert!(report.identical(), "{report:?}");
    assert_eq!(report.decisions, twin_log.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Steps 2 and 3: the tape written out for the bridge's feeds, then the
/// bridge against the virtual fleet; the folder of its audit log.
fn run_bridge(
    plant: &PlantConfig,
    twin_log: &[(Observation, Vec<Action>)],
    days: u32,
) -> std::path::PathBuf {
    // 2. The tape as the bridge's feeds read it.
    let dir = std::env::temp_dir().join(format!("hcp-parity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("time,price,hashprice\n");
    for (o, _) in twin_log {
        let _ = writeln!(
            csv,
            "{},{},{}",
            o.utc.to_rfc3339(),
            o.sites[0].price_usd_per_mwh.unwrap(),
            o.market.hashprice_usd_per_th_day.unwrap()
        );
    }
    std::fs::write(dir.join("tape.csv"), csv).unwrap();

    // 3. The virtual fleet and the bridge, at 2,000× wall time (an interval
    // every 0.15 s).
    let speed = 2000.0;
    let options = FleetOptions {
        scale: 1.0,
        speed,
        seed: 5,
        web: false,
        first_address: 3_000,
        ..FleetOptions::default()
    };
    let plan = hcp_fleet::plan(plant, &options).unwrap();
    let mut config: toml::Table = toml::from_str(
        &hcp_fleet::bridge_config::bridge_config(plant, &options, &plan, "kind = \"breakeven\"")
            .unwrap(),
    )
    .unwrap();
    let start = twin_log[0].0.utc.to_rfc3339();
    let replay = |column: &str| {
        toml::Value::Table(toml::from_str(&format!("source = \"replay\"\nfile = \"tape.csv\"\ntime_column = \"time\"\nvalue_column = \"{column}\"\nmax_age_s = 600")).unwrap())
    };
    config.insert(
        "start".into(),
        toml::Value::Datetime(start.parse().unwrap()),
    );
    config.insert("speed".into(), speed.into());
    config.insert(
        "audit".into(),
        toml::Value::Table(toml::from_str("dir = \"audit\"\ndurable = false").unwrap()),
    );
    config.insert(
        "telemetry".into(),
        toml::Value::Table(toml::from_str("timeout_ms = 500\nstale_after_s = 3000").unwrap()),
    );
    let market = config.get_mut("market").unwrap().as_table_mut().unwrap();
    market.insert("hashprice_usd_per_th_day".into(), replay("hashprice"));
    let site = &mut config["sites"].as_array_mut().unwrap()[0];
    site.as_table_mut()
        .unwrap()
        .insert("price".into(), replay("price"));
    site.as_table_mut()
        .unwrap()
        .insert("allow_arming".into(), true.into());
    let text = toml::to_string(&config).unwrap();
    std::fs::write(dir.join("bridge.toml"), &text).unwrap();
    let loaded = hcp_bridge::config::load(&dir.join("bridge.toml")).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let summary = runtime.block_on(async {
        let fleet = hcp_fleet::start(plant, &options).await.unwrap();
        let bridge = hcp_bridge::control::Bridge::start(&loaded, &["all".into()])
            .await
            .unwrap();
        let epochs = u64::from(days) * 288;
        let summary = bridge
            .run(
                hcp_bridge::control::RunFor {
                    epochs: Some(epochs),
                },
                std::future::pending(),
            )
            .await;
        fleet.shutdown().await;
        summary
    });
    eprintln!("bridge run: {summary:?}");
    assert_eq!(summary.epochs, u64::from(days) * 288);
    assert_eq!(summary.overruns, 0, "{summary:?}");
    assert_eq!(summary.commands_failed, 0, "{summary:?}");

    dir
}

/// Energy (MWh), mining revenue and energy cost (USD) of the bridge's run,
/// from the power and hashrate its observations show, at the tape's prices.
fn observed_economics(
    lines: &[hcp_bridge::audit::Line],
    twin_log: &[(Observation, Vec<Action>)],
) -> (f64, f64, f64) {
    let interval_h = 5.0 / 60.0;
    let (mut energy_mwh, mut cost, mut revenue) = (0.0, 0.0, 0.0);
    let observations: Vec<&Observation> = lines
        .iter()
        .filter_map(|l| match &l.event {
            hcp_bridge::audit::Event::Observation { observation, .. } => Some(observation.as_ref()),
            _ => None,
        })
        .collect();
    // The power observed at epoch k+1 is what ran during interval k; the
    // last interval is taken at the power its epoch began with.
    let ran = observations.iter().skip(1).chain(observations.last());
    for (k, o) in ran.enumerate().map(|(k, o)| (k + 1, o)) {
        let (prev, _) = &twin_log[k - 1];
        let price = prev.sites[0].price_usd_per_mwh.unwrap();
        let hashprice = prev.market.hashprice_usd_per_th_day.unwrap();
        energy_mwh += o.sites[0].last_power_mw * interval_h;
        cost += o.sites[0].last_power_mw * interval_h * price;
        let th: f64 = o
            .asic_cohorts
            .iter()
            .map(|c| f64::from(c.on) * c.hashrate_th)
            .sum();
        revenue += th * hashprice * (1.0 - 0.02) * interval_h / 24.0;
    }
    (energy_mwh, revenue, cost)
}
