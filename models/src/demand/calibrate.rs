//! Fitting demand parameters to traces: a P1 request stream from a request
//! trace ([`calibrate_requests`]), the daily shape from gateway QPS samples
//! and the P2–P4 job classes from a GPU pod list.
//!
//! Burstiness is fitted by matching the expected sample index of dispersion
//! of per-window counts (windows of 1, 10 and 60 s, over the trace's own
//! span) of the batched Cox model in `demand/requests.rs` to the trace's, on a
//! log scale: the batch mean follows from the 1-second value in closed form,
//! σ and τ from a deterministic grid search refined twice. Token counts are
//! stored as empirical quantile tables; the daily shape as 24 mean-one
//! hourly factors.

use std::path::Path;

use crate::data::DataError;

use super::params::{BurstParams, JobClassParams, RequestStreamParams, SizeShare, WorkloadClass};
use super::quantiles::{QuantileTable, round_to};
use super::requests::{expected_sample_iod, window_variance};
pub use super::traces::RequestTraceOptions;
use super::traces::{PodList, QpsTrace, RequestTrace, read_pods, read_request_trace};

/// Windows (seconds) whose index of dispersion the burst fit matches.
pub const FIT_WINDOWS_S: [f64; 3] = [1.0, 10.0, 60.0];

/// UTC offset of the Alibaba GenAI QPS trace's clock, hours: its Unix
/// stamps are read as Beijing time (UTC+8), which puts its busy hours at
/// 09:00–19:00 with a lunch dip at 13:00.
pub const QPS_UTC_OFFSET_HOURS: i64 = 8;

pub use super::traces::P2_MAX_RUNTIME_S;

/// Fits a P1 request stream on a user's request trace.
///
/// # Errors
/// The file cannot be read (see [`read_request_trace`]) or spans less than
/// two minutes.
pub fn calibrate_requests(
    path: &Path,
    options: &RequestTraceOptions,
) -> Result<RequestStreamParams, DataError> {
    let trace = read_request_trace(path, options)?;
    if trace.span_s() < 120.0 {
        return Err(DataError::file(
            path,
            "the trace spans less than two minutes: too short to fit burstiness",
        ));
    }
    Ok(fit_request_stream(&trace))
}

/// Fits a request stream on a loaded trace (span ≥ 120 s).
pub fn fit_request_stream(trace: &RequestTrace) -> RequestStreamParams {
    let span = trace.span_s();
    let rate = trace.offsets_s.len() as f64 / span;
    let daily_shape = (span >= 86_400.0).then(|| {
        let hours: Vec<f64> = trace
            .offsets_s
            .iter()
            .map(|s| trace_hour(trace, *s))
            .collect();
        let exposure = exposure_by_hour(trace_hour(trace, 0.0), span);
        shape_from(
            &hours.iter().map(|&h| (h, 1.0)).collect::<Vec<_>>(),
            &exposure,
        )
    });
    RequestStreamParams {
        mean_rate_per_s: round_to(rate, 4),
        daily_shape,
        burst: fit_burst(&trace.offsets_s),
        context_tokens: trace
            .context_tokens
            .as_deref()
            .and_then(|v| QuantileTable::fit(v, 1)),
        generated_tokens: trace
            .generated_tokens
            .as_deref()
            .and_then(|v| QuantileTable::fit(v, 1)),
    }
}

fn trace_hour(trace: &RequestTrace, offset_s: f64) -> f64 {
    let t = trace.start.and_utc().timestamp() as f64 + offset_s;
    t.rem_euclid(86_400.0) / 3600.0
}

/// Sample index of dispersion of counts in the ⌊span/w⌋ whole windows of
/// `w` seconds after the first arrival.
pub fn sample_iod(offsets_s: &[f64], w: f64) -> f64 {
    let span = offsets_s.last().copied().unwrap_or(0.0);
    let n = (span / w).floor() as usize;
    let mut counts = vec![0.0; n];
    for &t in offsets_s {
        if let Some(c) = counts.get_mut((t / w) as usize) {
            *c += 1.0;
        }
    }
    crate::describe::index_of_dispersion(&counts)
}

/// Fits the burst model to arrival offsets (seconds, sorted, span ≥ 120 s).
pub fn fit_burst(offsets_s: &[f64]) -> BurstParams {
    let span = offsets_s.last().copied().unwrap_or(0.0);
    let rate = offsets_s.len() as f64 / span;
    let target: Vec<f64> = FIT_WINDOWS_S
        .iter()
        .map(|&w| sample_iod(offsets_s, w))
        .collect();
    let evaluate = |sigma: f64, tau_s: f64| -> (f64, BurstParams) {
        let unit = BurstParams {
            batch_mean: 1.0,
            sigma,
            tau_s,
        };
        let n = (span / FIT_WINDOWS_S[0]).floor();
        let cox = n / (n - 1.0) * rate * (window_variance(&unit, 1.0) - window_variance(&unit, n));
        let batch_mean = f64::midpoint(target[0] - cox, 1.0).max(1.0);
        let b = BurstParams { batch_mean, ..unit };
        let loss = FIT_WINDOWS_S
            .iter()
            .zip(&target)
            .map(|(&w, &t)| (expected_sample_iod(&b, rate, w, span).ln() - t.ln()).powi(2))
            .sum();
        (loss, b)
    };
    let (mut ls, mut lt) = ((0.02f64).ln(), (1.0f64).ln());
    let (mut hs, mut ht) = ((3.0f64).ln(), (3_600.0f64).ln());
    let mut best = evaluate(0.5, 60.0);
    for _ in 0..3 {
        const G: usize = 40;
        let (ds, dt) = ((hs - ls) / G as f64, (ht - lt) / G as f64);
        let (mut bi, mut bj) = (0, 0);
        for i in 0..=G {
            for j in 0..=G {
                let e = evaluate((ls + ds * i as f64).exp(), (lt + dt * j as f64).exp());
                if e.0 < best.0 {
                    best = e;
                    (bi, bj) = (i, j);
                }
            }
        }
        let (cs, ct) = (ls + ds * bi as f64, lt + dt * bj as f64);
        (ls, hs, lt, ht) = (cs - 2.0 * ds, cs + 2.0 * ds, ct - 2.0 * dt, ct + 2.0 * dt);
    }
    let b = best.1;
    BurstParams {
        batch_mean: round_to(b.batch_mean, 3),
        sigma: round_to(b.sigma, 3),
        tau_s: round_to(b.tau_s, 1),
    }
}

/// Seconds of a span of `span` seconds starting at hour-of-day `start_hour`
/// falling in each hour of the day.
fn exposure_by_hour(start_hour: f64, span: f64) -> [f64; 24] {
    let mut exposure = [0.0; 24];
    let mut t = 0.0;
    while t < span {
        let h = (start_hour + t / 3600.0).rem_euclid(24.0);
        let to_boundary = (h.floor() + 1.0 - h) * 3600.0;
        let d = to_boundary.max(1e-9).min(span - t);
        exposure[(h as usize) % 24] += d;
        t += d;
    }
    exposure
}

/// Mean-one hourly factors from (hour, weight) samples and each hour's
/// exposure; hours seen for under half an hour are interpolated from their
/// nearest covered neighbours (circularly).
fn shape_from(samples: &[(f64, f64)], exposure: &[f64; 24]) -> Vec<f64> {
    let mut sum = [0.0; 24];
    for &(h, v) in samples {
        sum[(h as usize) % 24] += v;
    }
    let covered: Vec<bool> = exposure.iter().map(|&e| e >= 1_800.0).collect();
    let raw: Vec<Option<f64>> = (0..24)
        .map(|h| covered[h].then(|| sum[h] / exposure[h]))
        .collect();
    let filled: Vec<f64> = (0..24)
        .map(|h| {
            raw[h].unwrap_or_else(|| {
                let prev = (1..24).find_map(|k| raw[(h + 24 - k) % 24].map(|v| (k, v)));
                let next = (1..24).find_map(|k| raw[(h + k) % 24].map(|v| (k, v)));
                match (prev, next) {
                    (Some((kp, vp)), Some((kn, vn))) => {
                        vp + (vn - vp) * kp as f64 / (kp + kn) as f64
                    }
                    _ => 1.0,
                }
            })
        })
        .collect();
    let mean = filled.iter().sum::<f64>() / 24.0;
    filled.iter().map(|v| round_to(v / mean, 4)).collect()
}

/// The daily shape of a QPS trace: system QPS (the sum over containers of
/// each window) by local hour (`utc_offset_hours`), mean one.
pub fn fit_daily_shape(trace: &QpsTrace, utc_offset_hours: i64) -> Vec<f64> {
    let first = trace.stamps_s.first().copied().unwrap_or(0.0);
    let span = trace.stamps_s.last().copied().unwrap_or(0.0) - first;
    let hour = |t: f64| (t + utc_offset_hours as f64 * 3600.0).rem_euclid(86_400.0) / 3600.0;
    let samples: Vec<(f64, f64)> = trace
        .stamps_s
        .iter()
        .zip(&trace.values)
        .map(|(&t, &v)| (hour(t), v))
        .collect();
    shape_from(&samples, &exposure_by_hour(hour(first), span))
}

/// The P2, P3 and P4 job classes of a pod list: shares, sizes and runtimes;
/// `h100_only` gives each class's H100 constraint probability (configured,
/// not fitted).
pub fn fit_job_classes(pods: &PodList, h100_only: [f64; 3]) -> Vec<JobClassParams> {
    let total = pods.pods.len() as f64;
    [WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4]
        .iter()
        .zip(h100_only)
        .filter_map(|(&class, h100)| {
            let members: Vec<&super::traces::Pod> =
                pods.pods.iter().filter(|p| p.class() == class).collect();
            let runtimes: Vec<f64> = members.iter().map(|p| p.runtime_s).collect();
            let runtime_s = QuantileTable::fit(&runtimes, 1)?;
            let mut sizes: Vec<SizeShare> = Vec::new();
            for p in &members {
                let milli = u16::try_from(p.gpu_milli).unwrap_or(u16::MAX);
                match sizes.iter_mut().find(|s| s.gpu_milli == milli) {
                    Some(s) => s.share += 1.0,
                    None => sizes.push(SizeShare {
                        gpu_milli: milli,
                        share: 1.0,
                    }),
                }
            }
            sizes.sort_by_key(|s| s.gpu_milli);
            for s in &mut sizes {
                s.share = round_to(s.share / members.len() as f64, 5);
            }
            Some(JobClassParams {
                class,
                share: round_to(members.len() as f64 / total, 4),
                h100_only: h100,
                sizes,
                runtime_s,
            })
        })
        .collect()
}

/// Reads a pod list and fits the job classes (see [`fit_job_classes`]).
///
/// # Errors
/// As [`read_pods`].
pub fn calibrate_jobs(path: &Path, h100_only: [f64; 3]) -> Result<Vec<JobClassParams>, DataError> {
    Ok(fit_job_classes(&read_pods(path)?, h100_only))
}
