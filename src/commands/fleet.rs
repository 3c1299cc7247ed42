//! `hcp fleet serve`: a virtual fleet of a scenario's miners on loopback,
//! each on its own 127.x.y.z address speaking its cohort's firmware, until
//! interrupted (or for `--for` seconds). The inventory (address, cohort,
//! protocol of every miner) is written to `--inventory` for clients.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hcp_devices::miner::Firmware;
use hcp_fleet::{FleetOptions, FleetPlan};
use serde::Serialize;

/// What to do with a virtual fleet.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Serve a scenario's miners on loopback (127.64.1.1 onward, port 4028;
    /// stock Antminer and Braiins OS web interfaces on port 80).
    Serve(ServeArgs),
}

/// Options of `hcp fleet serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A built-in scenario name or a scenario file (default: reference).
    scenario: Option<String>,
    /// Share of each cohort to serve (1 = the scenario's fleet).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Fleet seconds per wall second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Seed of the miners' random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Do not serve the web interfaces on port 80.
    #[arg(long)]
    no_web: bool,
    /// A protocol for a twin firmware or cohort id, e.g. `luxos=braiins_os`
    /// (protocols: antminer_stock, luxos, braiins_os, whatsminer).
    #[arg(long, value_name = "FIRMWARE_OR_COHORT=PROTOCOL")]
    protocol: Vec<String>,
    /// Share of miners given a random fault (no answer, slow, refused,
    /// malformed, impossible readings, reboot mid-command, auth failure).
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    /// Serve only shard I of N of the fleet (`I/N`, contiguous ranges), to
    /// spread a large fleet over processes.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Where to write the inventory (JSON).
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Where to write a bridge configuration for the served fleet (sites,
    /// cohorts with their curves, every miner's address; pushed feeds).
    #[arg(long, value_name = "PATH")]
    bridge_config: Option<PathBuf>,
    /// The policy the bridge configuration names.
    #[arg(long, default_value = "breakeven")]
    policy: String,
    /// Stop after this many wall seconds.
    #[arg(long = "for", value_name = "SECONDS")]
    for_s: Option<f64>,
    /// Print one JSON object (the fleet's summary) on stdout once serving.
    #[arg(long)]
    json: bool,
}

/// What `hcp fleet serve --json` prints once every miner listens.
#[derive(Debug, Serialize)]
struct Serving<'a> {
    scenario: &'a str,
    miners: usize,
    by_protocol: BTreeMap<Firmware, usize>,
    first_address: Option<String>,
    last_address: Option<String>,
    speed: f64,
    inventory: Option<String>,
}

/// Runs `hcp fleet …`.
///
/// # Errors
/// A bad scenario or option; an address that cannot be bound.
pub fn run(cmd: &FleetCommand) -> Result<()> {
    match cmd {
        FleetCommand::Serve(args) => serve(args),
    }
}

/// Parses `--protocol` values.
pub(crate) fn protocols(values: &[String]) -> Result<BTreeMap<String, Firmware>> {
    let mut out = BTreeMap::new();
    for v in values {
        let Some((key, name)) = v.split_once('=') else {
            bail!("--protocol {v}: expected FIRMWARE_OR_COHORT=PROTOCOL");
        };
        let firmware = [Firmware::AntminerStock, Firmware::LuxOs, Firmware::BraiinsOs, Firmware::Whatsminer]
            .into_iter()
            .find(|f| f.name() == name.trim())
            .with_context(|| format!("--protocol {v}: unknown protocol '{name}' (antminer_stock, luxos, braiins_os, whatsminer)"))?;
        out.insert(key.trim().to_owned(), firmware);
    }
    Ok(out)
}

fn shard(value: Option<&str>) -> Result<(usize, usize)> {
    let Some(v) = value else { return Ok((0, 1)) };
    let parsed = v.split_once('/').and_then(|(i, n)| {
        Some((
            i.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => bail!("--shard {v}: expected I/N with 0 ≤ I < N"),
    }
}

/// Raises the open-file limit to `needed` (as far as allowed).
pub(crate) fn raise_open_files(needed: u64) -> Result<()> {
    let (soft, hard) = rlimit::Resource::NOFILE
        .get()
        .context("reading the open-file limit")?;
    if soft >= needed {
        return Ok(());
    }
    if rlimit::Resource::NOFILE
        .set(needed, needed.max(hard))
        .is_ok()
    {
        return Ok(());
    }
    let raised = rlimit::increase_nofile_limit(needed).context("raising the open-file limit")?;
    if raised < needed {
        bail!(
            "the fleet needs about {needed} open files; the limit is {raised} (raise it with `ulimit -n`, or serve a smaller --scale)"
        );
    }
    Ok(())
}

fn serve(args: &ServeArgs) -> Result<()> {
    let loaded = super::sweep::load(args.scenario.as_deref())?;
    let options = FleetOptions {
        scale: args.scale,
        speed: args.speed,
        seed: args.seed,
        web: !args.no_web,
        protocols: protocols(&args.protocol)?,
        random_fault_share: args.faults,
        shard: shard(args.shard.as_deref())?,
        ..FleetOptions::default()
    };
    if !(args.scale.is_finite() && args.scale > 0.0) {
        bail!("--scale must be a positive number, got {}", args.scale);
    }
    let plan = hcp_fleet::plan(&loaded.scenario.plant, &options)?;
    let sockets = plan.miners.len() as u64 * if options.web { 2 } else { 1 };
    raise_open_files(sockets + 4_096)?;
    if let Some(path) = &args.inventory {
        write_inventory(path, &plan)?;
    }
    if let Some(path) = &args.bridge_config {
        let policy = hcp_policies::PolicyConfig::by_name(&args.policy)?;
        if let Some(reason) = policy.undeployable_reason() {
            bail!("--policy {}: {reason}", policy.name());
        }
        let text = hcp_fleet::bridge_config::bridge_config(
            &loaded.scenario.plant,
            &options,
            &plan,
            &format!("kind = \"{}\"", policy.name()),
        )
        .map_err(anyhow::Error::msg)?;
        let tmp = path.with_extension("toml.partial");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let fleet = hcp_fleet::start(&loaded.scenario.plant, &options).await?;
        let mut by_protocol = BTreeMap::new();
        for m in &fleet.plan.miners {
            *by_protocol.entry(m.protocol).or_insert(0) += 1;
        }
        let summary = Serving {
            scenario: &loaded.source,
            miners: fleet.plan.miners.len(),
            by_protocol,
            first_address: fleet.plan.miners.first().map(|m| m.address.to_string()),
            last_address: fleet.plan.miners.last().map(|m| m.address.to_string()),
            speed: fleet.clock.speed(),
            inventory: args.inventory.as_ref().map(|p| p.display().to_string()),
        };
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            eprintln!(
                "serving {} virtual miners ({} … {}) at {}× wall time; Ctrl-C stops",
                summary.miners,
                summary.first_address.as_deref().unwrap_or("-"),
                summary.last_address.as_deref().unwrap_or("-"),
                summary.speed
            );
        }
        match args.for_s {
            Some(s) if s.is_finite() && s >= 0.0 => {
                tokio::time::sleep(Duration::from_secs_f64(s)).await;
            }
            _ => {
                tokio::signal::ctrl_c()
                    .await
                    .context("waiting for Ctrl-C")?;
            }
        }
        fleet.shutdown().await;
        anyhow::Ok(())
    })
}

/// Writes the plan as JSON, atomically (a temporary file, then a rename).
fn write_inventory(path: &std::path::Path, plan: &FleetPlan) -> Result<()> {
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, serde_json::to_vec(plan)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
