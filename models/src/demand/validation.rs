//! `hcp validate` checks of the demand model against the real traces in
//! `data/`: P1 daily profile, burstiness and token counts per service; job
//! sizes, runtimes, arrivals per day and offered load.
//!
//! Every check simulates with fixed seeds and long enough that the
//! simulation's own sampling error is well inside the tolerance
//! (docs/models/demand.md gives each tolerance's reasoning).

use std::path::Path;

use chrono::{TimeZone, Utc};
use hcp_engine::rng::{RngStreams, StreamId};
use rand::RngExt;

use super::calibrate::{QPS_UTC_OFFSET_HOURS, fit_daily_shape, sample_iod};
use super::params::{DemandParams, RequestStreamParams};
use super::quantiles::QuantileTable;
use super::requests::fine_counts;
use super::traces::{RequestTraceOptions, read_pods, read_qps, read_request_trace};
use crate::check::Check;
use crate::data::DataError;
use crate::describe::{Summary, mean, pearson, quantile, std_dev};
use crate::series::Horizon;

/// Seed of every validation run.
pub const VALIDATION_SEED: u64 = 20_231_116;

/// Hour-long blocks simulated per service for the burstiness checks.
pub const BURST_BLOCKS: usize = 200;

/// Token draws per service and column for the token checks.
pub const TOKEN_DRAWS: usize = 200_000;

/// Days of job arrivals simulated for the job checks.
pub const JOB_DAYS: u64 = 60;

/// All demand checks with the built-in parameters.
///
/// # Errors
/// A trace in `data_dir` is missing or malformed.
pub fn checks(data_dir: &Path) -> Result<Vec<Check>, DataError> {
    let params = DemandParams::default();
    let mut out = Vec::new();
    daily_profile(&params, data_dir, &mut out)?;
    for (i, service) in params.requests.services.iter().enumerate() {
        let file = format!("azure_llm_inference_2023_{}.csv", service.name);
        service_checks(
            &service.stream,
            &service.name,
            i as u64,
            &data_dir.join(&file),
            &file,
            &mut out,
        )?;
    }
    job_checks(&params, data_dir, &mut out)?;
    Ok(out)
}

fn daily_profile(params: &DemandParams, dir: &Path, out: &mut Vec<Check>) -> Result<(), DataError> {
    let file = "alibaba_genai_v2026_qps.csv";
    let reference = fit_daily_shape(&read_qps(&dir.join(file))?, QPS_UTC_OFFSET_HOURS);
    let start = Utc
        .with_ymd_and_hms(2025, 1, 6, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let horizon = Horizon::days(start, 28, 5);
    let streams = RngStreams::new(VALIDATION_SEED, 0);
    let tape = super::generate(params, &horizon, &streams);
    let how = super::hours_of_week(&horizon, &params.requests.time_zone);
    let total: Vec<f64> = (0..horizon.intervals())
        .map(|i| tape.p1.iter().map(|s| f64::from(s.rate.values[i])).sum())
        .collect();
    let profile = crate::describe::profile(&total, 24, |i| usize::from(how[i]) % 24);
    out.push(Check::absolute(
        "demand/p1",
        "hour_of_day_profile_correlation",
        pearson(&profile, &reference),
        1.0,
        0.05,
        "1",
        file,
    ));
    Ok(())
}

fn service_checks(
    stream: &RequestStreamParams,
    name: &str,
    index: u64,
    path: &Path,
    file: &str,
    out: &mut Vec<Check>,
) -> Result<(), DataError> {
    let trace = read_request_trace(path, &RequestTraceOptions::azure())?;
    let group = format!("demand/p1/{name}");
    let span = trace.span_s().floor() as usize;
    let mut rng = RngStreams::new(VALIDATION_SEED, 0)
        .stream(StreamId::named("demand/validation/burst").index(index));
    let mut stats = [Vec::new(), Vec::new(), Vec::new()];
    let mut offsets = Vec::new();
    for _ in 0..BURST_BLOCKS {
        let counts = fine_counts(&stream.burst, stream.mean_rate_per_s, span, &mut rng);
        // Per-second counts as arrival offsets at each second's midpoint.
        offsets.clear();
        for (s, &c) in counts.iter().enumerate() {
            offsets.extend(std::iter::repeat_n(s as f64 + 0.5, c as usize));
        }
        offsets.push(span as f64);
        stats[0].push(sample_iod(&offsets, 1.0));
        stats[1].push(sample_iod(&offsets, 10.0));
        stats[2].push(cv_per_minute(&offsets));
    }
    let real = [
        sample_iod(&trace.offsets_s, 1.0),
        sample_iod(&trace.offsets_s, 10.0),
        cv_per_minute(&trace.offsets_s),
    ];
    for ((label, sim), reference) in ["iod_1s", "iod_10s", "cv_per_minute"]
        .iter()
        .zip(&stats)
        .zip(real)
    {
        out.push(Check::relative(
            &group,
            label,
            mean(sim),
            reference,
            0.20,
            "1",
            file,
        ));
    }
    for (column, table, real) in [
        (
            "context_tokens",
            &stream.context_tokens,
            &trace.context_tokens,
        ),
        (
            "generated_tokens",
            &stream.generated_tokens,
            &trace.generated_tokens,
        ),
    ] {
        let (Some(table), Some(real)) = (table, real) else {
            continue;
        };
        token_checks(&group, column, table, real, file, &mut rng, out);
    }
    Ok(())
}

fn cv_per_minute(offsets: &[f64]) -> f64 {
    let span = offsets.last().copied().unwrap_or(0.0);
    let mut counts = vec![0.0; (span / 60.0).floor() as usize];
    for &t in offsets {
        if let Some(c) = counts.get_mut((t / 60.0) as usize) {
            *c += 1.0;
        }
    }
    std_dev(&counts) / mean(&counts)
}

fn token_checks(
    group: &str,
    column: &str,
    table: &QuantileTable,
    real: &[f64],
    file: &str,
    rng: &mut impl RngExt,
    out: &mut Vec<Check>,
) {
    let sim: Vec<f64> = (0..TOKEN_DRAWS)
        .map(|_| table.sample(rng.random::<f64>()))
        .collect();
    let (s, r) = (Summary::of(&sim), Summary::of(real));
    for (stat, v, reference) in [
        ("mean", s.mean, r.mean),
        ("p50", s.p50, r.p50),
        ("p99", s.p99, r.p99),
    ] {
        out.push(Check::relative(
            group,
            &format!("{column}_{stat}"),
            v,
            reference,
            0.05,
            "tokens",
            file,
        ));
    }
}

fn job_checks(params: &DemandParams, dir: &Path, out: &mut Vec<Check>) -> Result<(), DataError> {
    let file = "alibaba_gpu_v2023_openb_pod_list_default.csv";
    let pods = read_pods(&dir.join(file))?;
    let start = Utc
        .with_ymd_and_hms(2025, 1, 6, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let horizon = Horizon::days(start, JOB_DAYS, 5);
    let streams = RngStreams::new(VALIDATION_SEED, 0);
    let customers = super::customers(&params.customers, &params.requests, &streams);
    let gpus = params.fleet.gpus();
    let jobs = super::jobs(&params.jobs, &customers, gpus, &horizon, &streams);
    let scale = params.jobs.duration_scale(gpus);
    let group = "demand/jobs";
    let per_day = jobs.len() as f64 / JOB_DAYS as f64;
    out.push(Check::relative(
        group,
        "arrivals_per_day",
        per_day,
        params.jobs.jobs_per_day * params.jobs.load_scale,
        0.02,
        "jobs/day",
        "configured jobs_per_day",
    ));
    let minimum = Check::absolute(
        group,
        "arrivals_per_day_at_least_10000",
        per_day,
        10_000.0,
        f64::INFINITY,
        "jobs/day",
        "required minimum",
    );
    out.push(Check {
        pass: per_day >= 10_000.0,
        tolerance: 0.0,
        ..minimum
    });
    let work: f64 = jobs.iter().map(|j| f64::from(j.work_gpu_s)).sum();
    let load = work / (f64::from(gpus) * horizon.length.as_secs_f64());
    out.push(Check::relative(
        group,
        "offered_load_fraction",
        load,
        params.jobs.load_fraction * params.jobs.load_scale,
        0.05,
        "share of capacity",
        "configured load_fraction",
    ));
    let runtime: Vec<f64> = jobs.iter().map(|j| j.duration_s() / scale).collect();
    let real_runtime: Vec<f64> = pods.pods.iter().map(|p| p.runtime_s).collect();
    // The pooled p99 falls between two P3 knots (92nd and 93rd
    // percentiles) that linear interpolation joins: 15 % there, 5 % elsewhere.
    for (stat, q, tolerance) in [
        ("runtime_p50", 0.5, 0.05),
        ("runtime_p90", 0.9, 0.05),
        ("runtime_p99", 0.99, 0.15),
    ] {
        out.push(Check::relative(
            group,
            stat,
            quantile(&runtime, q),
            quantile(&real_runtime, q),
            tolerance,
            "s (unscaled)",
            file,
        ));
    }
    let size: Vec<f64> = jobs.iter().map(super::JobArrival::gpus).collect();
    let real_size: Vec<f64> = pods
        .pods
        .iter()
        .map(|p| f64::from(p.gpu_milli) / 1000.0)
        .collect();
    out.push(Check::relative(
        group,
        "gpus_mean",
        mean(&size),
        mean(&real_size),
        0.05,
        "GPUs",
        file,
    ));
    for (stat, q) in [("gpus_p10", 0.1), ("gpus_p50", 0.5), ("gpus_p99", 0.99)] {
        out.push(Check::relative(
            group,
            stat,
            quantile(&size, q),
            quantile(&real_size, q),
            0.05,
            "GPUs",
            file,
        ));
    }
    Ok(())
}
