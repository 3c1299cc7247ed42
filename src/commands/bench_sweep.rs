//! `hcp bench sweep`: policy-replications per second of a sweep and its
//! parallel efficiency — the same replications run on one thread and on
//! `--threads`, with no files written, in one process.

use std::time::Duration;

use anyhow::{Result, ensure};
use clap::Args;
use hcp_models::twin::{NoSink, RunKey, RunResult};
use hcp_scenarios::sweep::{ReplicationRuns, SweepOutput, SweepRun, run_sweep};
use serde::Serialize;

use super::bench::timed;
use crate::memory::{format_mib, peak_rss_bytes};

/// Options of `hcp bench sweep`.
#[derive(Debug, Args)]
pub struct SweepBenchArgs {
    /// A built-in scenario name or a scenario TOML file.
    #[arg(long, default_value = "reference")]
    scenario: String,
    /// Replications per timed sweep.
    #[arg(long, default_value_t = 4)]
    replications: u32,
    /// Threads of the parallel sweep (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The figures of `hcp bench sweep --json` (stable field names).
#[derive(Debug, Serialize)]
struct SweepReport {
    scenario: String,
    simulated_days: f64,
    policies: usize,
    replications: u32,
    policy_replications: u64,
    threads: usize,
    /// Wall time on one thread, seconds.
    wall_s_one_thread: f64,
    /// Wall time on `threads` threads, seconds.
    wall_s: f64,
    policy_replications_per_s: f64,
    /// Policy-replications per 10 minutes at `threads` threads.
    policy_replications_per_10_min: f64,
    /// Speed-up on `threads` threads ÷ `threads`.
    parallel_efficiency: f64,
    /// Seconds of one thread per policy-replication.
    s_per_policy_replication: f64,
    identical_results: bool,
    peak_rss_bytes: Option<u64>,
}

/// Keeps nothing: the benchmark times the simulation alone.
struct Discard;

impl SweepOutput<NoSink> for Discard {
    type Error = anyhow::Error;

    fn sink(&self, _key: &RunKey) -> NoSink {
        NoSink
    }

    fn run_done(&self, _key: &RunKey, _result: &RunResult, _sink: NoSink) -> Result<()> {
        Ok(())
    }

    fn replication_done(&self, _runs: &ReplicationRuns) -> Result<()> {
        Ok(())
    }
}

/// Runs the benchmark.
pub fn run(args: &SweepBenchArgs) -> Result<()> {
    ensure!(args.replications > 0, "--replications must be at least 1");
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    ensure!(threads > 0, "--threads must be at least 1");
    let loaded = super::sweep::load(Some(&args.scenario))?;
    let scenario = &loaded.scenario;
    let setup = loaded.prepare()?;
    let replications: Vec<u64> = (0..u64::from(args.replications)).collect();
    let sweep = |threads| SweepRun {
        setup: &setup,
        scenario: &scenario.name,
        policies: &scenario.policies,
        forecaster: &scenario.forecaster,
        seed: args.seed,
        replications: &replications,
        threads,
        oracle: true,
        stop: None,
    };
    let (one, serial) = timed(|| run_sweep(&sweep(1), &Discard));
    let (wall, parallel) = timed(|| run_sweep(&sweep(threads), &Discard));
    let identical = serial? == parallel?;
    let runs = u64::from(args.replications) * scenario.policies.len() as u64;
    let secs = |d: Duration| d.as_secs_f64();
    let report = SweepReport {
        scenario: scenario.name.clone(),
        simulated_days: setup.world().horizon().length.as_secs_f64() / 86_400.0,
        policies: scenario.policies.len(),
        replications: args.replications,
        policy_replications: runs,
        threads,
        wall_s_one_thread: secs(one),
        wall_s: secs(wall),
        policy_replications_per_s: runs as f64 / secs(wall),
        policy_replications_per_10_min: 600.0 * runs as f64 / secs(wall),
        parallel_efficiency: secs(one) / secs(wall) / threads as f64,
        s_per_policy_replication: secs(one) / runs as f64,
        identical_results: identical,
        peak_rss_bytes: peak_rss_bytes(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Sweep of {} ({} days): {} policies × {} replications = {} policy-replications",
        report.scenario,
        report.simulated_days,
        report.policies,
        report.replications,
        report.policy_replications
    );
    println!(
        "  1 thread   {:>8.2} s   {:>6.2} s per policy-replication",
        report.wall_s_one_thread, report.s_per_policy_replication
    );
    println!(
        "  {} threads {:>8.2} s   {:>6.2} policy-replications/s = {:.0} per 10 min, parallel efficiency {:.1} %",
        report.threads,
        report.wall_s,
        report.policy_replications_per_s,
        report.policy_replications_per_10_min,
        100.0 * report.parallel_efficiency
    );
    println!(
        "  identical results at 1 and {} threads: {}; peak RSS {}",
        report.threads,
        report.identical_results,
        format_mib(report.peak_rss_bytes)
    );
    Ok(())
}
