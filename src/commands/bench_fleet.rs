//! `hcp bench fleet`: the device layer at fleet scale on loopback. A
//! virtual fleet of the reference scenario runs in a child process
//! (`hcp fleet serve`); this process is the bridge side and times one full
//! telemetry poll of N miners, a curtail fan-out and a resume fan-out to
//! the LuxOS miners, and — for comparison — `asic-rs`' `get_data` on a
//! sample, at the same concurrency. Peak RSS is this process's alone.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use hcp_devices::FailureKind;
use hcp_devices::fanout::fan_out;
use hcp_devices::miner::{Firmware, MinerDriver, driver};
use hcp_devices::retry::RetryPolicy;
use hcp_fleet::FleetPlan;
use serde::Serialize;

use crate::memory::{format_mib, peak_rss_bytes};

/// Options of `hcp bench fleet`.
#[derive(Debug, Args)]
pub struct FleetBenchArgs {
    /// Fleet sizes to poll (the reference fleet is 38,000).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 38_000])]
    miners: Vec<usize>,
    /// LuxOS miners to curtail and resume (from the largest fleet).
    #[arg(long, default_value_t = 10_000)]
    curtail: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 1_024)]
    concurrency: usize,
    /// Per-call timeout, ms.
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// Miners read with asic-rs' get_data, for comparison (0 skips).
    #[arg(long, default_value_t = 500)]
    asic_rs_sample: usize,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// One timed fan-out (stable field names).
#[derive(Debug, Serialize)]
struct Run {
    what: String,
    devices: usize,
    concurrency: usize,
    wall_s: f64,
    per_s: f64,
    ok: usize,
    failed: BTreeMap<FailureKind, usize>,
    /// Peak RSS of the bridge side after the run.
    peak_rss_bytes: Option<u64>,
}

/// The figures of `hcp bench fleet --json`.
#[derive(Debug, Serialize)]
struct FleetReport {
    runs: Vec<Run>,
    /// asic-rs get_data calls per second at the same concurrency.
    asic_rs_get_data_per_s: Option<f64>,
    /// The lean poll's rate over asic-rs' on the same fleet.
    lean_over_asic_rs: Option<f64>,
    peak_rss_bytes: Option<u64>,
}

struct FleetChild(Child);

impl Drop for FleetChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Miners per fleet process: one socket each, well under the usual
/// open-file limit of 20,000.
const MINERS_PER_PROCESS: usize = 15_000;

/// Starts `hcp fleet serve` at `scale`, over as many processes as the
/// open-file limit needs, and returns them with the whole plan.
fn serve(scale: f64, miners: usize) -> Result<(Vec<FleetChild>, FleetPlan)> {
    let shards = miners.div_ceil(MINERS_PER_PROCESS).max(1);
    let mut children = Vec::new();
    let mut plan = FleetPlan { miners: Vec::new() };
    for i in 0..shards {
        let (child, part) = serve_shard(scale, i, shards)?;
        children.push(child);
        plan.miners.extend(part.miners);
    }
    Ok((children, plan))
}

fn serve_shard(scale: f64, shard: usize, shards: usize) -> Result<(FleetChild, FleetPlan)> {
    let inventory = std::env::temp_dir().join(format!(
        "hcp-bench-fleet-{}-{shard}.json",
        std::process::id()
    ));
    let exe = std::env::current_exe().context("locating the hcp binary")?;
    let mut child = Command::new(exe)
        .args([
            "fleet",
            "serve",
            "reference",
            "--no-web",
            "--json",
            "--for",
            "1800",
            "--scale",
        ])
        .arg(scale.to_string())
        .arg("--inventory")
        .arg(&inventory)
        .arg("--shard")
        .arg(format!("{shard}/{shards}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting hcp fleet serve")?;
    let stdout = child.stdout.take().context("the fleet's stdout")?;
    let child = FleetChild(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .context("waiting for the fleet")?;
    if line.trim().is_empty() {
        bail!("hcp fleet serve stopped before serving (see its message above)");
    }
    let plan: FleetPlan = serde_json::from_slice(
        &std::fs::read(&inventory).context("reading the fleet's inventory")?,
    )?;
    let _ = std::fs::remove_file(&inventory);
    Ok((child, plan))
}

async fn timed<T, F, Fut>(what: &str, n: usize, concurrency: usize, call: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = hcp_devices::DeviceResult<T>>,
{
    let started = Instant::now();
    let outcomes = fan_out(
        n,
        concurrency,
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        },
        call,
    )
    .await;
    let wall_s = started.elapsed().as_secs_f64();
    let mut failed = BTreeMap::new();
    for o in &outcomes {
        if let Err(e) = &o.result {
            *failed.entry(e.kind()).or_insert(0) += 1;
        }
    }
    let ok = outcomes.len() - failed.values().sum::<usize>();
    Run {
        what: what.to_owned(),
        devices: n,
        concurrency,
        wall_s,
        per_s: n as f64 / wall_s,
        ok,
        failed,
        peak_rss_bytes: peak_rss_bytes(),
    }
}

/// Runs `hcp bench fleet`.
///
/// # Errors
/// The fleet cannot be started or read.
pub fn run(args: &FleetBenchArgs) -> Result<()> {
    super::fleet::raise_open_files(args.concurrency as u64 * 4 + 4_096)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut runs = Vec::new();
    let mut asic_rs_rate = None;
    let mut lean_rate = None;
    let mut sizes = args.miners.clone();
    sizes.sort_unstable();
    for (k, &n) in sizes.iter().enumerate() {
        let scale = n as f64 / 38_000.0;
        let (children, plan) = serve(scale, n)?;
        let drivers: Vec<Box<dyn MinerDriver>> = plan
            .miners
            .iter()
            .map(|m| driver(m.address, m.protocol, None))
            .collect();
        eprintln!("polling {} virtual miners …", drivers.len());
        let poll = runtime.block_on(timed("poll", drivers.len(), args.concurrency, |i| {
            drivers[i].read(timeout)
        }));
        lean_rate = Some(poll.per_s);
        runs.push(poll);
        let last = k + 1 == sizes.len();
        if last {
            let lux: Vec<&Box<dyn MinerDriver>> = plan
                .miners
                .iter()
                .zip(&drivers)
                .filter(|(m, _)| m.protocol == Firmware::LuxOs)
                .map(|(_, d)| d)
                .take(args.curtail)
                .collect();
            eprintln!("curtailing {} LuxOS miners …", lux.len());
            runs.push(runtime.block_on(timed(
                "curtail (opens sessions)",
                lux.len(),
                args.concurrency,
                |i| lux[i].curtail(timeout),
            )));
            runs.push(runtime.block_on(timed(
                "resume (sessions reused)",
                lux.len(),
                args.concurrency,
                |i| lux[i].resume(timeout),
            )));
            if args.asic_rs_sample > 0 {
                let sample: Vec<std::net::IpAddr> = plan
                    .miners
                    .iter()
                    .filter(|m| m.protocol == Firmware::LuxOs)
                    .take(args.asic_rs_sample)
                    .map(|m| m.address.ip())
                    .collect();
                eprintln!("asic-rs get_data on {} LuxOS miners …", sample.len());
                let (read, wall) = runtime.block_on(asic_rs_poll(&sample, args.concurrency));
                asic_rs_rate = Some(read as f64 / wall);
            }
        }
        drop(children);
    }
    let report = FleetReport {
        lean_over_asic_rs: lean_rate.zip(asic_rs_rate).map(|(l, a)| l / a),
        asic_rs_get_data_per_s: asic_rs_rate,
        runs,
        peak_rss_bytes: peak_rss_bytes(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for r in &report.runs {
            println!(
                "{:<26} {:>6} devices  {:>7.2} s  {:>8.0}/s  ok {:>6}  failed {:?}  rss {}",
                r.what,
                r.devices,
                r.wall_s,
                r.per_s,
                r.ok,
                r.failed,
                format_mib(r.peak_rss_bytes)
            );
        }
        if let Some(a) = report.asic_rs_get_data_per_s {
            println!(
                "asic-rs get_data: {a:.0}/s; the lean poll is {:.1}× that",
                report.lean_over_asic_rs.unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}

/// Identifies each miner with asic-rs (untimed: discovery happens once),
/// then reads them all with `get_data`, at most `concurrency` at once; the
/// number read with a hashrate and the wall time of the reads.
async fn asic_rs_poll(ips: &[std::net::IpAddr], concurrency: usize) -> (usize, f64) {
    use futures::StreamExt;
    let factory = asic_rs::MinerFactory::new();
    let factory = &factory;
    let miners: Vec<Box<dyn asic_rs::core::traits::miner::Miner>> =
        futures::stream::iter(ips.iter().copied())
            .map(|ip| async move { factory.get_miner(ip).await.ok().flatten() })
            .buffer_unordered(concurrency.max(1))
            .filter_map(std::future::ready)
            .collect()
            .await;
    let started = Instant::now();
    let read = futures::stream::iter(miners.iter())
        .map(|m| async move { m.get_data().await.hashrate.is_some() })
        .buffer_unordered(concurrency.max(1))
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    (read, started.elapsed().as_secs_f64())
}
