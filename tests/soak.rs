//! Fault soak: the bridge against the virtual fleet for many control steps
//! with faults injected all the while — miners that do not answer, answer
//! slowly, refuse connections, send malformed JSON or impossible readings,
//! reboot mid-command or refuse logins — price-feed outages, and bridge
//! restarts (one segment runs disarmed). Checked: the fleet's true power
//! (sampled from the virtual miners' physics) never averages over a cap in
//! any interval, no command reaches a site that is not armed, every miner
//! whose telemetry failed shows in the audit log, and once the faults stop
//! the bridge recovers by itself (no miner stale or quarantined, no safe
//! state).
//!
//! `HCP_SOAK_STEPS` (default 400) sets the control steps; the full soak is
//! `HCP_SOAK_STEPS=10000 HCP_SOAK_SPEED=6000 cargo test --release --test soak -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hcp_bridge::audit::Event;
use hcp_bridge::control::{Bridge, RunFor};
use hcp_fleet::FleetOptions;
use hcp_fleet::faults::Fault;
use hcp_models::plant::PlantConfig;

const PLANT: &str = r#"
pool_fee = 0.02
[[sites]]
name = "Texas North"
node = "HB_NORTH"
cap_mw = 0.085
cooling = "immersion"
grid_events = false
asics = [{ model = "S21", count = 24, firmware = "luxos" }]
gpus = []
[[sites]]
name = "Texas South"
node = "HB_SOUTH"
cap_mw = 0.1
cooling = "immersion"
grid_events = false
asics = [{ model = "S19 XP", count = 16, firmware = "luxos" }]
gpus = []
"#;

/// Tape seconds per wall second (`HCP_SOAK_SPEED`, default 3,000: an
/// interval every 0.1 s).
fn speed() -> f64 {
    std::env::var("HCP_SOAK_SPEED")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(3000.0)
}
const INTERVAL_S: f64 = 300.0;

fn steps() -> u64 {
    std::env::var("HCP_SOAK_STEPS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(400)
}

/// A small deterministic generator for the fault schedule.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// The real HB_NORTH and HB_SOUTH prices from 2022-01-01, with outages:
/// the last two of every ten hours have no rows.
fn write_tape(path: &std::path::Path, steps: u64) {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv");
    let mut reader = csv::Reader::from_path(file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (t, north, south) = (col("datetime_col"), col("HB_NORTH"), col("HB_SOUTH"));
    let mut out = String::from("time,north,south\n");
    let quarters = steps * 5 / 15 + 8;
    for (k, row) in reader
        .records()
        .take(usize::try_from(quarters).unwrap())
        .enumerate()
    {
        let row = row.unwrap();
        let hour = k / 4;
        if hour % 10 >= 8 {
            continue; // a feed outage: 2 hours without prices
        }
        let _ = writeln!(out, "{},{},{}", &row[t], &row[north], &row[south]);
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn the_bridge_rides_out_faults_outages_and_restarts() {
    let steps = steps();
    let plant: PlantConfig = toml::from_str(PLANT).unwrap();
    let dir = std::env::temp_dir().join(format!("hcp-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    write_tape(&dir.join("tape.csv"), steps);

    let (options, plan, base) = soak_config(&plant);
    let (over_cap, worst_share, injected) = run_soak(&plant, &options, &base, &dir, steps);
    // The audit log: every step, every fault, no command to a disarmed site.
    let lines = hcp_bridge::audit::read(&dir.join("audit")).unwrap();
    let observations = lines
        .iter()
        .filter(|l| matches!(l.event, Event::Observation { .. }))
        .count() as u64;
    let south: BTreeSet<String> = plan
        .miners
        .iter()
        .filter(|m| m.cohort.starts_with("Texas South"))
        .map(|m| m.address.to_string())
        .collect();
    let sent_south = lines.iter().filter(|l| matches!(&l.event, Event::Command { device, sent: true, .. } if south.contains(device))).count();
    let faulted: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| match &l.event {
            Event::Fault { fault, .. } => Some(fault.device.clone()),
            _ => None,
        })
        .collect();
    let read_faults: BTreeSet<&String> = injected
        .iter()
        .filter(|(_, f)| {
            matches!(
                f,
                Fault::NoAnswer
                    | Fault::Slow { .. }
                    | Fault::Refused
                    | Fault::Malformed
                    | Fault::Impossible
            )
        })
        .map(|(a, _)| a)
        .collect();
    let missing: Vec<&&String> = read_faults
        .iter()
        .filter(|a| !faulted.contains(**a))
        .collect();
    let kinds = tally(&lines, |e| match e {
        Event::Fault { fault, .. } => Some(fault.kind.clone()),
        _ => None,
    });
    let safe_states = lines
        .iter()
        .filter(|l| matches!(l.event, Event::SafeState { .. }))
        .count();
    let clips = tally(&lines, |e| match e {
        Event::Clip { clip, .. } => Some(clip.reason.clone()),
        _ => None,
    });
    eprintln!(
        "soak: {observations} control steps, {} faults injected on {} miners, fault records by kind {kinds:?}, {safe_states} safe-state epochs, clips {clips:?}, intervals over a cap {over_cap} (worst interval at {:.1} % of its cap), commands to the disarmed site {sent_south}",
        injected.len(),
        read_faults.len(),
        worst_share * 100.0
    );
    // An epoch that overruns its wall time is skipped (and logged as an
    // `overrun` fault); at most 1 % may be.
    assert!(
        observations * 100 >= steps / 4 * 4 * 99,
        "{observations} of {steps} steps ran"
    );
    assert_eq!(over_cap, 0, "an interval averaged over its cap");
    assert_eq!(
        sent_south, 0,
        "commands reached a site that was never armed"
    );
    assert!(
        missing.is_empty(),
        "faults not in the audit log: {missing:?}"
    );
    assert!(
        safe_states > 0,
        "the feed outages sent no site to its safe state"
    );

    // Recovery: the last observations of the quiet stretch.
    let last: Vec<&hcp_contract::Observation> = lines
        .iter()
        .rev()
        .filter_map(|l| match &l.event {
            Event::Observation { observation, .. } => Some(observation.as_ref()),
            _ => None,
        })
        .take(3)
        .collect();
    for o in &last {
        let unresponsive: u32 = o.asic_cohorts.iter().map(|c| c.unresponsive).sum();
        assert_eq!(
            unresponsive, 0,
            "still unresponsive at epoch {}",
            o.interval
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

type Miners = Vec<Arc<hcp_fleet::virtual_miner::VirtualMiner>>;

/// The fleet's true power, sampled every 5 ms (15 s of fleet time): the
/// intervals whose average is over a site's cap, and the worst average as
/// a share of its cap.
async fn sample_power(miners: Miners, site_of: Vec<usize>, stop: Arc<AtomicBool>) -> (u32, f64) {
    let caps = [0.085, 0.1];
    let mut sums: BTreeMap<(usize, u64), (f64, u32)> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        let mut mw = [0.0_f64; 2];
        let mut now = 0.0;
        for (i, m) in miners.iter().enumerate() {
            now = m.now();
            mw[site_of[i]] += m.with_physics(|p| p.snapshot(now).power_w) * 1.05 / 1e6;
        }
        // Fleet time runs from the fleet's start, the bridge's
        // intervals from its own: close enough for averages.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let interval = (now / INTERVAL_S) as u64;
        for (s, site_mw) in mw.iter().enumerate() {
            let e = sums.entry((s, interval)).or_default();
            e.0 += site_mw;
            e.1 += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut over = 0_u32;
    let mut worst = 0.0_f64;
    for ((s, k), (sum, n)) in &sums {
        let avg = sum / f64::from(*n);
        worst = worst.max(avg / caps[*s]);
        if avg > caps[*s] * (1.0 + 1e-9) {
            over += 1;
            eprintln!("over cap: site {s} interval {k} average {avg:.4} MW");
        }
    }
    (over, worst)
}

/// Faults on two miners at a time, each held for three intervals, then
/// cleared; none while `quiet`. Returns every fault set.
async fn inject_faults(
    miners: Miners,
    stop: Arc<AtomicBool>,
    quiet: Arc<AtomicBool>,
) -> Vec<(usize, Fault)> {
    let mut rng = Lcg(42);
    let mut injected: Vec<(usize, Fault)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if quiet.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let chosen: Vec<(usize, Fault)> = (0..2)
            .map(|_| {
                let i = usize::try_from(rng.next() % miners.len() as u64).unwrap();
                let f = match rng.next() % 7 {
                    0 => Fault::NoAnswer,
                    1 => Fault::Slow { delay_ms: 200 },
                    2 => Fault::Refused,
                    3 => Fault::Malformed,
                    4 => Fault::Impossible,
                    5 => Fault::RebootMidCommand,
                    _ => Fault::AuthFailure,
                };
                (i, f)
            })
            .collect();
        for &(i, f) in &chosen {
            miners[i].fault().set(f);
        }
        tokio::time::sleep(Duration::from_secs_f64(3.0 * INTERVAL_S / speed())).await;
        for &(i, _) in &chosen {
            miners[i].fault().set(Fault::None);
        }
        injected.extend(chosen);
        tokio::time::sleep(Duration::from_secs_f64(INTERVAL_S / speed())).await;
    }
    injected
}

/// The bridge configuration of the soak: the fleet's sites and miners,
/// replayed prices with outages, a fixed hashprice, tight timeouts.
fn soak_config(
    plant: &PlantConfig,
) -> (FleetOptions, hcp_fleet::inventory::FleetPlan, toml::Table) {
    let options = FleetOptions {
        speed: speed(),
        seed: 9,
        web: false,
        first_address: 4_000,
        ..FleetOptions::default()
    };
    let plan = hcp_fleet::plan(plant, &options).unwrap();
    let text =
        hcp_fleet::bridge_config::bridge_config(plant, &options, &plan, "kind = \"breakeven\"")
            .unwrap();
    let mut base: toml::Table = toml::from_str(&text).unwrap();
    let replay = |column: &str| {
        toml::Value::Table(toml::from_str(&format!("source = \"replay\"\nfile = \"tape.csv\"\ntime_column = \"time\"\ntimezone = \"America/Chicago\"\nvalue_column = \"{column}\"\nmax_age_s = 1200")).unwrap())
    };
    base.insert("speed".into(), speed().into());
    base.insert(
        "audit".into(),
        toml::Value::Table(
            toml::from_str("dir = \"audit\"\ndurable = false\nrotate_bytes = 1048576").unwrap(),
        ),
    );
    base.insert(
        "telemetry".into(),
        toml::Value::Table(toml::from_str("timeout_ms = 25\nstale_after_s = 600").unwrap()),
    );
    base.insert("safety".into(), toml::Value::Table(toml::from_str("command_attempts = 2\nretry_base_ms = 5\nquarantine_after_failures = 3\nquarantine_s = 1200\nverify_within_s = 900\nmax_stale_share = 0.25").unwrap()));
    base["market"].as_table_mut().unwrap().insert(
        "hashprice_usd_per_th_day".into(),
        toml::Value::Table(toml::from_str("source = \"fixed\"\nvalue = 0.05").unwrap()),
    );
    for (site, column) in base["sites"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(["north", "south"])
    {
        let site = site.as_table_mut().unwrap();
        site.insert("price".into(), replay(column));
        site.insert("allow_arming".into(), true.into());
        site.insert(
            "safe_state".into(),
            if column == "north" {
                "curtail_miners"
            } else {
                "hold"
            }
            .into(),
        );
    }

    (options, plan, base)
}

/// The fleet, its true-power sampler and fault injector, and four runs
/// of the bridge (restarts; the second disarmed).
fn run_soak(
    plant: &PlantConfig,
    options: &FleetOptions,
    base: &toml::Table,
    dir: &std::path::Path,
    steps: u64,
) -> (u32, f64, Vec<(String, Fault)>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fleet = hcp_fleet::start(plant, options).await.unwrap();
        let miners = fleet.miners.clone();
        let addresses: Vec<String> = fleet
            .plan
            .miners
            .iter()
            .map(|m| m.address.to_string())
            .collect();
        let site_of: Vec<usize> = fleet
            .plan
            .miners
            .iter()
            .map(|m| usize::from(m.cohort.starts_with("Texas South")))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let quiet = Arc::new(AtomicBool::new(false));

        let sampler = tokio::spawn(sample_power(
            miners.clone(),
            site_of.clone(),
            Arc::clone(&stop),
        ));

        let injector = tokio::spawn(inject_faults(
            miners.clone(),
            Arc::clone(&stop),
            Arc::clone(&quiet),
        ));

        // Four runs of the bridge, each a restart; the second disarmed.
        // 2022-01-01 00:00 Central time, the tape's first row.
        let origin = chrono::DateTime::parse_from_rfc3339("2022-01-01T06:00:00Z")
            .unwrap()
            .to_utc();
        let segment = steps / 4;
        for run in 0..4_u64 {
            let mut config = base.clone();
            config.insert(
                "start".into(),
                toml::Value::Datetime(
                    (origin
                        + chrono::TimeDelta::seconds(i64::try_from(run * segment * 300).unwrap()))
                    .to_rfc3339()
                    .parse()
                    .unwrap(),
                ),
            );
            std::fs::write(dir.join("bridge.toml"), toml::to_string(&config).unwrap()).unwrap();
            let loaded = hcp_bridge::config::load(&dir.join("bridge.toml")).unwrap();
            let arm: Vec<String> = if run == 1 {
                Vec::new()
            } else {
                vec!["Texas North".into()]
            };
            if run == 3 {
                // The last run's second half has no faults: time to recover.
                let quiet = Arc::clone(&quiet);
                let wait = Duration::from_secs_f64(segment as f64 / 2.0 * INTERVAL_S / speed());
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    quiet.store(true, Ordering::Relaxed);
                });
            }
            let bridge = Bridge::start(&loaded, &arm).await.unwrap();
            let summary = bridge
                .run(
                    RunFor {
                        epochs: Some(segment),
                    },
                    std::future::pending(),
                )
                .await;
            eprintln!("soak run {run}: {summary:?}");
            if run == 1 {
                assert_eq!(summary.commands_sent, 0, "a disarmed bridge sent commands");
            }
        }
        stop.store(true, Ordering::Relaxed);
        let injected = injector.await.unwrap();
        let (over, worst) = sampler.await.unwrap();
        fleet.shutdown().await;
        (
            over,
            worst,
            injected
                .into_iter()
                .map(|(i, f)| (addresses[i].clone(), f))
                .collect::<Vec<_>>(),
        )
    })
}

/// How many events of each key `key` picks out.
fn tally(
    lines: &[hcp_bridge::audit::Line],
    key: impl Fn(&Event) -> Option<String>,
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for k in lines.iter().filter_map(|l| key(&l.event)) {
        *counts.entry(k).or_default() += 1;
    }
    counts
}
