//! `hcp bench twin`: wall time, events and peak memory of one simulated
//! year of the twin — the reference fleet and the designed scale — driven
//! by the fixed test policy on one core.
//!
//! Each scenario runs in its own child process, so that its peak resident
//! set size is its own.

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use hcp_contract::Persistence;
use hcp_engine::rng::RngStreams;
use hcp_models::data::default_data_dir;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{FixedPolicy, NoSink, TwinSetup, run as run_twin};
use hcp_models::world::WorldConfig;
use serde::{Deserialize, Serialize};
use std::process::Command;

use super::bench::{median, timed};
use crate::memory::{format_mib, peak_rss_bytes};

/// Which fleet to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TwinScenario {
    /// The reference fleet: 3 sites, 225 MW, 1,152 GPUs, 38,000 ASICs,
    /// 12,000 jobs a day.
    Reference,
    /// The designed scale: 10 sites, 1 GW, 50,000 GPUs, 250,000 ASICs,
    /// 100,000 jobs a day.
    DesignScale,
    /// Both, each in its own process.
    All,
}

/// Options of `hcp bench twin`.
#[derive(Debug, Args)]
pub struct TwinArgs {
    /// The fleet.
    #[arg(long, value_enum, default_value_t = TwinScenario::All)]
    scenario: TwinScenario,
    /// Simulated days.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Market interval, minutes.
    #[arg(long, default_value_t = 5)]
    step_minutes: u32,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The figures of one scenario (stable field names).
#[derive(Debug, Serialize, Deserialize)]
struct TwinReport {
    scenario: TwinScenario,
    simulated_days: u32,
    intervals: u64,
    sites: usize,
    gpus: u64,
    asics: u64,
    cap_mw: f64,
    jobs: u64,
    repeats: usize,
    /// Median wall time of generating the tape (without jobs), seconds.
    tape_s: f64,
    /// Median wall time of the twin run (jobs generated on the way), seconds.
    twin_s: f64,
    /// `tape_s + twin_s`.
    wall_s: f64,
    events: u64,
    events_per_s: f64,
    peak_rss_bytes: Option<u64>,
    profit_usd: f64,
}

fn setup(scenario: TwinScenario, days: u32, step_minutes: u32) -> Result<TwinSetup> {
    let mut world = WorldConfig {
        days,
        step_minutes,
        ..WorldConfig::default()
    };
    let plant = match scenario {
        TwinScenario::DesignScale => {
            world.demand.jobs.jobs_per_day = 100_000.0;
            PlantConfig::design_scale()
        }
        _ => PlantConfig::default(),
    };
    Ok(TwinSetup::prepare(world, plant, &default_data_dir())?)
}

fn measure(args: &TwinArgs, scenario: TwinScenario) -> Result<TwinReport> {
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    let setup = setup(scenario, args.days, args.step_minutes)?;
    let streams = RngStreams::new(args.seed, 0);
    let (mut tape_t, mut twin_t) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..args.repeats {
        let (d, tape) = timed(|| setup.tape(&streams));
        tape_t.push(d);
        let (d, (result, _)) = timed(|| {
            run_twin(
                &setup,
                tape,
                &streams,
                Box::new(FixedPolicy::default()),
                Box::new(Persistence::default()),
                NoSink,
            )
        });
        twin_t.push(d);
        last = Some(result);
    }
    let Some(result) = last else { bail!("no run") };
    let plant = setup.plant();
    let tape_s = median(&mut tape_t).as_secs_f64();
    let twin_s = median(&mut twin_t).as_secs_f64();
    Ok(TwinReport {
        scenario,
        simulated_days: args.days,
        intervals: result.intervals,
        sites: plant.sites.len(),
        gpus: plant
            .sites
            .iter()
            .flat_map(|s| &s.gpus)
            .map(|p| u64::from(p.count))
            .sum(),
        asics: plant
            .sites
            .iter()
            .flat_map(|s| &s.asics)
            .map(|a| u64::from(a.count))
            .sum(),
        cap_mw: plant.sites.iter().map(|s| s.cap_mw).sum(),
        jobs: result.jobs.iter().map(|j| j.arrived).sum(),
        repeats: args.repeats,
        tape_s,
        twin_s,
        wall_s: tape_s + twin_s,
        events: result.events,
        events_per_s: result.events as f64 / twin_s,
        peak_rss_bytes: peak_rss_bytes(),
        profit_usd: result.ledger.profit_usd,
    })
}

/// Runs one scenario in a child process and reads its JSON report.
fn in_child(args: &TwinArgs, scenario: TwinScenario) -> Result<TwinReport> {
    let exe = std::env::current_exe().context("locating the hcp binary")?;
    let name = match scenario {
        TwinScenario::Reference => "reference",
        TwinScenario::DesignScale => "design-scale",
        TwinScenario::All => "all",
    };
    let output = Command::new(exe)
        .args(["bench", "twin", "--json", "--scenario", name])
        .args(["--days", &args.days.to_string()])
        .args(["--step-minutes", &args.step_minutes.to_string()])
        .args(["--repeats", &args.repeats.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .output()
        .context("running the benchmark in a child process")?;
    if !output.status.success() {
        bail!(
            "the {name} benchmark failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let reports: Vec<TwinReport> = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("reading the {name} benchmark's report"))?;
    reports
        .into_iter()
        .next()
        .with_context(|| format!("the {name} benchmark printed no report"))
}

/// Runs the benchmark.
pub fn run(args: &TwinArgs) -> Result<()> {
    let reports = match args.scenario {
        TwinScenario::All => vec![
            in_child(args, TwinScenario::Reference)?,
            in_child(args, TwinScenario::DesignScale)?,
        ],
        one => vec![measure(args, one)?],
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    println!(
        "Twin: {} simulated days at {} min, fixed policy, median of {} runs, one thread",
        args.days, args.step_minutes, args.repeats
    );
    println!(
        "{:<13} {:>6} {:>8} {:>8} {:>10} {:>8} {:>8} {:>8} {:>11} {:>12} {:>10}",
        "scenario",
        "sites",
        "GPUs",
        "ASICs",
        "jobs",
        "tape s",
        "twin s",
        "wall s",
        "events",
        "events/s",
        "peak RSS"
    );
    for r in &reports {
        println!(
            "{:<13} {:>6} {:>8} {:>8} {:>10} {:>8.2} {:>8.2} {:>8.2} {:>11} {:>12.0} {:>10}",
            match r.scenario {
                TwinScenario::Reference => "reference",
                TwinScenario::DesignScale => "design-scale",
                TwinScenario::All => "all",
            },
            r.sites,
            r.gpus,
            r.asics,
            r.jobs,
            r.tape_s,
            r.twin_s,
            r.wall_s,
            r.events,
            r.events_per_s,
            format_mib(r.peak_rss_bytes)
        );
    }
    Ok(())
}
