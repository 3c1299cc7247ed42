//! `hcp bench tape`: how long one replication's world tape takes to
//! generate for the reference fleet, by part, and how much memory it holds.

use std::time::Duration;

use anyhow::{Result, ensure};
use clap::Args;
use hcp_engine::rng::RngStreams;
use hcp_models::data::default_data_dir;
use hcp_models::world::{TapeFootprint, World, WorldConfig};
use hcp_models::{demand, grid, market};
use serde::Serialize;

use super::bench::{median, timed};
use crate::memory::{format_mib, peak_rss_bytes};

/// Options of `hcp bench tape`.
#[derive(Debug, Args)]
pub struct TapeArgs {
    /// Horizon, days.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Market interval, minutes.
    #[arg(long, default_value_t = 5)]
    step_minutes: u32,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 9)]
    repeats: usize,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The figures of `hcp bench tape --json` (stable field names).
#[derive(Debug, Serialize)]
struct TapeReport {
    days: u32,
    step_minutes: u32,
    intervals: usize,
    price_nodes: usize,
    blocks: usize,
    p1_streams: usize,
    jobs: usize,
    repeats: usize,
    /// Median wall time of the whole tape, milliseconds.
    tape_ms: f64,
    market_ms: f64,
    grid_ms: f64,
    demand_ms: f64,
    footprint: TapeFootprint,
    tape_bytes: usize,
    peak_rss_bytes: Option<u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs the benchmark.
pub fn run(args: &TapeArgs) -> Result<()> {
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    let config = WorldConfig {
        days: args.days,
        step_minutes: args.step_minutes,
        ..WorldConfig::default()
    };
    let world = World::prepare(config, &default_data_dir())?;
    let horizon = *world.horizon();
    let config = world.config();
    let nodes: Vec<&str> = config.price_nodes.iter().map(String::as_str).collect();
    let streams = RngStreams::new(args.seed, 0);

    // One untimed run warms caches and the allocator, and gives the counts.
    let tape = world.tape(&streams);
    let (mut whole, mut market_t, mut grid_t, mut demand_t) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.repeats {
        whole.push(timed(|| std::hint::black_box(world.tape(&streams))).0);
        market_t.push(
            timed(|| std::hint::black_box(market::generate(&config.market, &horizon, &streams))).0,
        );
        grid_t.push(
            timed(|| {
                std::hint::black_box(grid::generate(&config.grid, &nodes, &horizon, &streams))
            })
            .0,
        );
        demand_t.push(
            timed(|| std::hint::black_box(demand::generate(&config.demand, &horizon, &streams))).0,
        );
    }
    let footprint = tape.footprint();
    let report = TapeReport {
        days: args.days,
        step_minutes: args.step_minutes,
        intervals: horizon.intervals(),
        price_nodes: nodes.len(),
        blocks: tape.market.blocks.len(),
        p1_streams: tape.demand.p1.len(),
        jobs: tape.demand.jobs.len(),
        repeats: args.repeats,
        tape_ms: ms(median(&mut whole)),
        market_ms: ms(median(&mut market_t)),
        grid_ms: ms(median(&mut grid_t)),
        demand_ms: ms(median(&mut demand_t)),
        footprint,
        tape_bytes: footprint.total_bytes(),
        peak_rss_bytes: peak_rss_bytes(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mib = |b: usize| b as f64 / (1u64 << 20) as f64;
    println!(
        "World tape: {} days at {} min = {} intervals, {} price nodes, {} blocks, {} P1 streams, {} jobs",
        report.days,
        report.step_minutes,
        report.intervals,
        report.price_nodes,
        report.blocks,
        report.p1_streams,
        report.jobs
    );
    println!("median of {} runs:", report.repeats);
    println!(
        "  whole tape  {:>9.1} ms   {:>7.1} MiB",
        report.tape_ms,
        mib(report.tape_bytes)
    );
    println!(
        "  market      {:>9.1} ms   {:>7.1} MiB",
        report.market_ms,
        mib(footprint.market_bytes)
    );
    println!(
        "  grid        {:>9.1} ms   {:>7.1} MiB",
        report.grid_ms,
        mib(footprint.grid_bytes)
    );
    println!(
        "  demand      {:>9.1} ms   {:>7.1} MiB",
        report.demand_ms,
        mib(footprint.demand_bytes)
    );
    println!("peak RSS {}", format_mib(report.peak_rss_bytes));
    Ok(())
}
