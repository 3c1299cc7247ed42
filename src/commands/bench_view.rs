//! `hcp bench view`: the viewer headless on a sweep's dataset with the
//! pinned software renderer (Mesa's llvmpipe): the time to the first
//! frame that shows a run, and frame times while a year plays at full
//! speed (`hcp_viz::bench`), with the process's resident memory.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use serde::Serialize;

/// Options of `hcp bench view`.
#[derive(Debug, Args)]
pub struct ViewBenchArgs {
    /// A sweep's output folder (default `out`, what `hcp sweep` writes).
    dir: Option<PathBuf>,
    /// At most this many frames per way of playing.
    #[arg(long, default_value_t = 400)]
    frames: usize,
    /// Window size, points (one pixel per point).
    #[arg(long, default_value_t = 1400.0)]
    width: f32,
    /// Window height, points.
    #[arg(long, default_value_t = 950.0)]
    height: f32,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    #[serde(flatten)]
    bench: hcp_viz::bench::ViewBench,
    rss_before_mib: f64,
    rss_after_mib: f64,
}

/// Runs the benchmark.
pub fn run(args: &ViewBenchArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("out"));
    let mib = |b: Option<u64>| b.map_or(f64::NAN, |b| b as f64 / 1_048_576.0);
    let before = mib(crate::memory::rss_bytes());
    eprintln!(
        "bench view: {} ({}×{})",
        dir.display(),
        args.width,
        args.height
    );
    let bench = hcp_viz::bench::run(&dir, [args.width, args.height], &[14.0, 0.0], args.frames)
        .map_err(|e| anyhow!("bench view: {e}"))?;
    let report = Report {
        bench,
        rss_before_mib: before,
        rss_after_mib: mib(crate::memory::rss_bytes()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let b = &report.bench;
    println!(
        "{} — {} ({} rows shown), renderer {}",
        b.dataset, b.run, b.rows_shown, b.adapter
    );
    println!("first frame with data: {:.2} s", b.first_frame_s);
    for p in &b.play {
        println!(
            "{}: {} frames, frame p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (egui p50 {:.1} / p99 {:.1} ms, render+readback p50 {:.1} / p99 {:.1} ms)",
            p.case,
            p.frames,
            p.frame_p50_ms,
            p.frame_p99_ms,
            p.frame_max_ms,
            p.cpu_p50_ms,
            p.cpu_p99_ms,
            p.render_p50_ms,
            p.render_p99_ms
        );
    }
    println!(
        "resident memory {:.0} → {:.0} MiB",
        report.rss_before_mib, report.rss_after_mib
    );
    Ok(())
}
