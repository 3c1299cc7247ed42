//! `hcp bench …`: speed and memory figures, with the command that reproduces them.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use clap::{Args, Subcommand};
use hcp_engine::hold::{HoldBaseline, HoldEngine};
use hcp_engine::queueing::{
    MmcConfig, MmcQueue, MmcResult, run_mmc, run_mmc_baseline, run_mmc_boxed,
};
use hcp_engine::rng::RngStreams;
use serde::Serialize;

use crate::memory::{format_mib, peak_rss_bytes};

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Events per second of the engine on the M/M/c model, next to a plain
    /// `BinaryHeap` loop and a boxed-`dyn`-event loop running the same model
    /// in the same process.
    Engine(EngineArgs),
    /// Wall time and memory of generating the world tape (market, grid,
    /// demand) for the reference fleet, by part and in all.
    Tape(super::bench_tape::TapeArgs),
    /// Wall time, events and peak memory of one simulated year of the twin
    /// for the reference fleet and at the designed scale.
    Twin(super::bench_twin::TwinArgs),
    /// Policy-replications per second of a sweep of the reference year, on
    /// one thread and on every core, and the parallel efficiency.
    Sweep(super::bench_sweep::SweepBenchArgs),
    /// The device layer at fleet scale on loopback: a full telemetry poll
    /// of 10,000 and 38,000 virtual miners, a curtail fan-out, and asic-rs
    /// on a sample for comparison.
    Fleet(super::bench_fleet::FleetBenchArgs),
    /// The live bridge's control loop on the reference fleet served on
    /// loopback: decision time, epoch start to last acknowledged command,
    /// memory through the run.
    Bridge(super::bench_bridge::BridgeBenchArgs),
    /// The desktop viewer headless on a sweep's dataset (software
    /// renderer): time to the first frame with data, frame times while a
    /// year plays at full speed.
    View(super::bench_view::ViewBenchArgs),
}

/// Options of `hcp bench engine`.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Customers per run (two events each).
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    /// Servers c (μ = 1, λ = 0.9·c).
    #[arg(long, default_value_t = 8)]
    servers: u32,
    /// Timed runs of each loop; the median is reported.
    #[arg(long, default_value_t = 9)]
    repeats: usize,
    /// Master seed of the RNG streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pending-set sizes of the hold-model benchmark (comma-separated; none to skip).
    #[arg(long, value_delimiter = ',', default_values_t = [1_000u32, 100_000, 1_000_000])]
    hold_pending: Vec<u32>,
    /// Events timed per hold-model run.
    #[arg(long, default_value_t = 2_000_000)]
    hold_events: u64,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The figures of `hcp bench engine --json` (stable field names).
#[derive(Debug, Serialize)]
struct EngineReport {
    customers: u64,
    events: u64,
    servers: u32,
    utilisation: f64,
    repeats: usize,
    events_per_sec: f64,
    baseline_events_per_sec: f64,
    ratio: f64,
    boxed_dyn_events_per_sec: f64,
    engine_wall_s: f64,
    baseline_wall_s: f64,
    boxed_dyn_wall_s: f64,
    /// Peak RSS of the process after the M/M/c runs.
    peak_rss_bytes: Option<u64>,
    /// Peak RSS after the hold-model runs too (their largest heap dominates).
    hold_peak_rss_bytes: Option<u64>,
    identical_results: bool,
    mean_wait_s: f64,
    erlang_c_mean_wait_s: f64,
    hold: Vec<HoldReport>,
}

/// One pending-set size of the hold-model benchmark.
#[derive(Debug, Serialize)]
struct HoldReport {
    pending: u32,
    events: u64,
    events_per_sec: f64,
    baseline_events_per_sec: f64,
    ratio: f64,
    identical_results: bool,
}

/// Runs a benchmark command.
pub fn run(cmd: &BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Engine(args) => engine(args),
        BenchCommand::Tape(args) => super::bench_tape::run(args),
        BenchCommand::Twin(args) => super::bench_twin::run(args),
        BenchCommand::Sweep(args) => super::bench_sweep::run(args),
        BenchCommand::Fleet(args) => super::bench_fleet::run(args),
        BenchCommand::Bridge(args) => super::bench_bridge::run(args),
        BenchCommand::View(args) => super::bench_view::run(args),
    }
}

fn engine(args: &EngineArgs) -> Result<()> {
    ensure!(args.customers > 0, "--customers must be at least 1");
    ensure!(args.servers > 0, "--servers must be at least 1");
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    ensure!(args.hold_events > 0, "--hold-events must be at least 1");
    ensure!(
        args.hold_pending.iter().all(|&n| n > 0),
        "--hold-pending sizes must be at least 1"
    );
    let config = MmcConfig::mmc(args.servers, 0.9, args.customers, 0);
    let streams = RngStreams::new(args.seed, 0);
    let reference = MmcQueue::new(config.arrival_rate, 1.0, config.servers)?;

    // One untimed run of each warms caches and the allocator.
    let engine_result = run_mmc(&config, &streams);
    let baseline_result = run_mmc_baseline(&config, &streams);
    let boxed_result = run_mmc_boxed(&config, &streams);
    let identical =
        same_bits(&engine_result, &baseline_result) && same_bits(&engine_result, &boxed_result);

    let mut engine_times = Vec::with_capacity(args.repeats);
    let mut baseline_times = Vec::with_capacity(args.repeats);
    let mut boxed_times = Vec::with_capacity(args.repeats);
    for i in 0..args.repeats {
        // Rotate which loop goes first so none always runs on a warmer machine.
        for k in 0..3 {
            match (i + k) % 3 {
                0 => engine_times.push(time(|| run_mmc(&config, &streams))),
                1 => baseline_times.push(time(|| run_mmc_baseline(&config, &streams))),
                _ => boxed_times.push(time(|| run_mmc_boxed(&config, &streams))),
            }
        }
    }
    let engine_wall = median(&mut engine_times);
    let baseline_wall = median(&mut baseline_times);
    let boxed_wall = median(&mut boxed_times);
    // Peak memory of the M/M/c runs, before the hold model fills large heaps.
    let mmc_peak_rss = peak_rss_bytes();
    let hold = args
        .hold_pending
        .iter()
        .map(|&pending| hold_benchmark(pending, args, &streams))
        .collect();
    let events = engine_result.events;
    let report = EngineReport {
        customers: args.customers,
        events,
        servers: args.servers,
        utilisation: config.utilisation(),
        repeats: args.repeats,
        events_per_sec: events as f64 / engine_wall.as_secs_f64(),
        baseline_events_per_sec: baseline_result.events as f64 / baseline_wall.as_secs_f64(),
        ratio: baseline_wall.as_secs_f64() / engine_wall.as_secs_f64(),
        boxed_dyn_events_per_sec: boxed_result.events as f64 / boxed_wall.as_secs_f64(),
        engine_wall_s: engine_wall.as_secs_f64(),
        baseline_wall_s: baseline_wall.as_secs_f64(),
        boxed_dyn_wall_s: boxed_wall.as_secs_f64(),
        peak_rss_bytes: mmc_peak_rss,
        hold_peak_rss_bytes: if args.hold_pending.is_empty() {
            None
        } else {
            peak_rss_bytes()
        },
        identical_results: identical,
        mean_wait_s: engine_result.stats.mean_wait,
        erlang_c_mean_wait_s: reference.mean_wait(),
        hold,
    };

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_engine(&report);
    }
    Ok(())
}

fn print_engine(r: &EngineReport) {
    println!(
        "M/M/c benchmark: c = {}, μ = 1, λ = {:.1} (ρ = {:.2}), {} customers, {} events, median of {} runs",
        r.servers,
        r.utilisation * f64::from(r.servers),
        r.utilisation,
        r.customers,
        r.events,
        r.repeats
    );
    println!();
    println!("{:<28} {:>14} {:>12}", "loop", "events/s", "wall");
    println!(
        "{:<28} {:>12.2} M {:>9.1} ms",
        "hcp-engine",
        r.events_per_sec / 1e6,
        r.engine_wall_s * 1e3
    );
    println!(
        "{:<28} {:>12.2} M {:>9.1} ms",
        "BinaryHeap<Reverse<(t,seq,e)>>",
        r.baseline_events_per_sec / 1e6,
        r.baseline_wall_s * 1e3
    );
    println!(
        "{:<28} {:>12.2} M {:>9.1} ms",
        "boxed dyn events",
        r.boxed_dyn_events_per_sec / 1e6,
        r.boxed_dyn_wall_s * 1e3
    );
    println!();
    println!("ratio (engine / baseline)    {:.3}", r.ratio);
    println!(
        "peak RSS (M/M/c runs)        {}",
        format_mib(r.peak_rss_bytes)
    );
    println!(
        "identical results            {}",
        if r.identical_results { "yes" } else { "NO" }
    );
    println!(
        "mean wait W_q                {:.4} s (Erlang C: {:.4} s)",
        r.mean_wait_s, r.erlang_c_mean_wait_s
    );
    if r.hold.is_empty() {
        return;
    }
    println!();
    println!("Pending-set scale: hold model, events timed per run as below, median of 3 runs");
    println!(
        "peak RSS with the largest heap: {}",
        format_mib(r.hold_peak_rss_bytes)
    );
    println!();
    println!(
        "{:>10} {:>10} {:>14} {:>14} {:>7} {:>10}",
        "pending", "events", "engine ev/s", "heap ev/s", "ratio", "identical"
    );
    for h in &r.hold {
        println!(
            "{:>10} {:>10} {:>12.2} M {:>12.2} M {:>7.3} {:>10}",
            h.pending,
            h.events,
            h.events_per_sec / 1e6,
            h.baseline_events_per_sec / 1e6,
            h.ratio,
            if h.identical_results { "yes" } else { "NO" }
        );
    }
}

/// Hold model with `pending` events: engine against plain heap, filling
/// untimed, `hold_events` events timed, median of three alternating runs.
fn hold_benchmark(pending: u32, args: &EngineArgs, streams: &RngStreams) -> HoldReport {
    let repeats = 3;
    let mut engine_times = Vec::with_capacity(repeats);
    let mut baseline_times = Vec::with_capacity(repeats);
    let mut identical = true;
    for i in 0..repeats {
        let mut engine = HoldEngine::new(pending, streams);
        let mut baseline = HoldBaseline::new(pending, streams);
        let mut run_engine = || timed(|| engine.run(args.hold_events));
        let mut run_baseline = || timed(|| baseline.run(args.hold_events));
        let ((engine_time, a), (baseline_time, b)) = if i % 2 == 0 {
            let e = run_engine();
            (e, run_baseline())
        } else {
            let b = run_baseline();
            (run_engine(), b)
        };
        engine_times.push(engine_time);
        baseline_times.push(baseline_time);
        identical &= a == b;
    }
    let engine_wall = median(&mut engine_times);
    let baseline_wall = median(&mut baseline_times);
    HoldReport {
        pending,
        events: args.hold_events,
        events_per_sec: args.hold_events as f64 / engine_wall.as_secs_f64(),
        baseline_events_per_sec: args.hold_events as f64 / baseline_wall.as_secs_f64(),
        ratio: baseline_wall.as_secs_f64() / engine_wall.as_secs_f64(),
        identical_results: identical,
    }
}

/// Runs `f`, returning its wall time and its result.
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let result = f();
    (start.elapsed(), result)
}

/// Wall time of one M/M/c run (its result is kept from being optimised away).
fn time(f: impl FnOnce() -> MmcResult) -> Duration {
    let (elapsed, result) = timed(f);
    std::hint::black_box(result);
    elapsed
}

pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2
    }
}

/// Whether two runs produced bit-identical statistics.
fn same_bits(a: &MmcResult, b: &MmcResult) -> bool {
    a.events == b.events
        && a.end_secs.to_bits() == b.end_secs.to_bits()
        && a.stats.mean_wait.to_bits() == b.stats.mean_wait.to_bits()
        && a.stats.mean_queue_length.to_bits() == b.stats.mean_queue_length.to_bits()
        && a.stats.wait_p99.to_bits() == b.stats.wait_p99.to_bits()
}
