//! `hcp bench bridge`: the live bridge's control loop on the reference
//! fleet, served by the virtual fleet on loopback in this process. The
//! price swings between $20 and $400/MWh every half hour, so `breakeven`
//! curtails and resumes whole cohorts; every stock miner speaks LuxOS so
//! every command goes over port 4028. Measured: the decision (observation,
//! policy, envelope) per epoch, the time from an epoch's start to its last
//! command acknowledged, and the process's resident memory through the run
//! (it should stay flat).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use hcp_bridge::control::{Bridge, RunFor};
use hcp_devices::miner::Firmware;
use hcp_fleet::FleetOptions;
use serde::Serialize;

/// Options of `hcp bench bridge`.
#[derive(Debug, Args)]
pub struct BridgeBenchArgs {
    /// Share of the reference fleet to serve (0.25: 9,500 miners; one
    /// process holds at most about 18,000 sockets).
    #[arg(long, default_value_t = 0.25)]
    scale: f64,
    /// Control steps (5-minute epochs).
    #[arg(long, default_value_t = 120)]
    epochs: u64,
    /// Tape seconds per wall second (150: an epoch every 2 s).
    #[arg(long, default_value_t = 150.0)]
    speed: f64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// What `hcp bench bridge --json` prints (stable field names).
#[derive(Debug, Serialize)]
struct Report {
    miners: usize,
    epochs: u64,
    speed: f64,
    decisions: u64,
    commands_sent: u64,
    commands_failed: u64,
    overruns: u64,
    /// Observation build + policy + envelope, ms: p50, p99, max.
    decide_ms: [f64; 3],
    /// Epoch start to the last command acknowledged (epochs with
    /// commands), ms: p50, p99, max.
    actuate_ms: [f64; 3],
    /// Resident memory, MiB: median of the first and of the last quarter.
    rss_mib_first_quarter: f64,
    rss_mib_last_quarter: f64,
}

fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs `hcp bench bridge`.
///
/// # Errors
/// The fleet cannot bind, or the bridge cannot start.
pub fn run(args: &BridgeBenchArgs) -> Result<()> {
    if !(args.scale.is_finite() && args.scale > 0.0) || args.epochs < 8 {
        bail!("--scale must be positive and --epochs at least 8");
    }
    let loaded = super::sweep::load(Some("reference"))?;
    let plant = &loaded.scenario.plant;
    let mut protocols = BTreeMap::new();
    protocols.insert("stock".to_owned(), Firmware::LuxOs);
    let options = FleetOptions {
        scale: args.scale,
        speed: args.speed,
        web: false,
        protocols,
        ..FleetOptions::default()
    };
    let plan = hcp_fleet::plan(plant, &options)?;
    super::fleet::raise_open_files(plan.miners.len() as u64 + 8_192)?;
    let dir = std::env::temp_dir().join(format!("hcp-bench-bridge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    write_config(args, plant, &options, &plan, &dir)?;
    let config = hcp_bridge::config::load(&dir.join("bridge.toml"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (summary, rss) = runtime.block_on(async {
        let fleet = hcp_fleet::start(plant, &options).await?;
        let bridge = Bridge::start(&config, &["all".into()]).await?;
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = std::sync::Arc::clone(&sampling);
        let sampler = tokio::spawn(async move {
            let mut samples = Vec::new();
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(b) = crate::memory::rss_bytes() {
                    samples.push(b as f64 / (1024.0 * 1024.0));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            samples
        });
        let summary = bridge
            .run(
                RunFor {
                    epochs: Some(args.epochs),
                },
                std::future::pending(),
            )
            .await;
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let rss = sampler.await.unwrap_or_default();
        fleet.shutdown().await;
        anyhow::Ok((summary, rss))
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    let q = rss.len() / 4;
    let report = Report {
        miners: plan.miners.len(),
        epochs: summary.epochs,
        speed: args.speed,
        decisions: summary.decisions,
        commands_sent: summary.commands_sent,
        commands_failed: summary.commands_failed,
        overruns: summary.overruns,
        decide_ms: summary.decide_ms,
        actuate_ms: summary.actuate_ms,
        rss_mib_first_quarter: median(&mut rss[..q.max(1).min(rss.len())].to_vec()),
        rss_mib_last_quarter: median(&mut rss[rss.len().saturating_sub(q.max(1))..].to_vec()),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} miners, {} epochs at {}x: decision p50 {:.2} ms, p99 {:.2} ms; epoch start to last ack p50 {:.0} ms, p99 {:.0} ms; {} commands ({} failed, {} overruns); RSS {:.0} MiB → {:.0} MiB",
            report.miners,
            report.epochs,
            report.speed,
            report.decide_ms[0],
            report.decide_ms[1],
            report.actuate_ms[0],
            report.actuate_ms[1],
            report.commands_sent,
            report.commands_failed,
            report.overruns,
            report.rss_mib_first_quarter,
            report.rss_mib_last_quarter
        );
    }
    Ok(())
}

/// Writes the bench's tape (the price swings every half hour) and bridge
/// configuration into `dir`.
fn write_config(
    args: &BridgeBenchArgs,
    plant: &hcp_models::plant::PlantConfig,
    options: &FleetOptions,
    plan: &hcp_fleet::FleetPlan,
    dir: &std::path::Path,
) -> Result<()> {
    let start = chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")?.to_utc();
    let mut tape = String::from("time,price\n");
    for k in 0..=args.epochs {
        let price = if (k / 6) % 2 == 0 { 20.0 } else { 400.0 };
        let at = start + chrono::TimeDelta::seconds(i64::try_from(k * 300)?);
        let _ = writeln!(tape, "{},{price}", at.to_rfc3339());
    }
    std::fs::write(dir.join("tape.csv"), tape)?;
    let text =
        hcp_fleet::bridge_config::bridge_config(plant, options, plan, "kind = \"breakeven\"")
            .map_err(anyhow::Error::msg)?;
    let mut config: toml::Table = toml::from_str(&text)?;
    let table = |t: &str| -> Result<toml::Value> { Ok(toml::Value::Table(toml::from_str(t)?)) };
    config.insert(
        "start".into(),
        toml::Value::Datetime(start.to_rfc3339().parse()?),
    );
    config.insert("speed".into(), args.speed.into());
    config.insert("audit".into(), table("dir = \"audit\"\ndurable = false")?);
    config.insert("telemetry".into(), table("concurrency = 1024")?);
    if let Some(market) = config.get_mut("market").and_then(toml::Value::as_table_mut) {
        market.insert(
            "hashprice_usd_per_th_day".into(),
            table("source = \"fixed\"\nvalue = 0.05")?,
        );
    }
    let price = table(
        "source = \"replay\"\nfile = \"tape.csv\"\ntime_column = \"time\"\nvalue_column = \"price\"\nmax_age_s = 600",
    )?;
    if let Some(sites) = config.get_mut("sites").and_then(toml::Value::as_array_mut) {
        for site in sites.iter_mut().filter_map(toml::Value::as_table_mut) {
            site.insert("price".into(), price.clone());
            site.insert("allow_arming".into(), true.into());
        }
    }
    std::fs::write(dir.join("bridge.toml"), toml::to_string(&config)?)?;
    Ok(())
}
