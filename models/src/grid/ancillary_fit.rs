//! Calibration and validation of the ancillary-service generators
//! ([`super::ancillary`]) on an hourly wide file of clearing prices
//! ($/MW per hour): the fit of `level`, `residual` and φ per service, and
//! the `hcp validate` checks (mean, std, p50, p99 and lag-1
//! autocorrelation of the generator against the file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use hcp_engine::rng::RngStreams;
use statrs::distribution::{ContinuousCDF, Normal};

use super::ancillary::{
    AncillaryParams, SERVICES, ServiceParams, hour_calendar, hourly, load_service,
};
use super::fit::local_bucket;
use super::price::{KNOT_FIRST, KNOT_STEP, KNOTS};
use crate::check::Check;
use crate::data::{DataError, RegularData, Table};
use crate::describe::{Summary, autocorrelation, mean, quantile_sorted};
use crate::series::Horizon;

/// The shipped file the defaults are fitted on.
pub const ANCILLARY_FILE: &str = "ercot_dam_as_mcpc_2022-2025_hourly_wide.csv";
/// Seed of the validation runs.
pub const SEED: u64 = 20_220_101;
/// Simulated copies of the file's span per service in validation.
pub const REPLICATIONS: u64 = 12;
/// Relative tolerance of mean, std and p50.
pub const MOMENT_TOLERANCE: f64 = 0.15;
/// Relative tolerance of p99 (heavy upper tail, see docs/models/grid.md).
pub const P99_TOLERANCE: f64 = 0.2;
/// Absolute tolerance of the lag-1 autocorrelation.
pub const LAG1_TOLERANCE: f64 = 0.05;

/// What to fit: the file and the service columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AncillaryCalibrationOptions {
    /// Service columns to fit (each from its first non-empty hour).
    pub services: Vec<String>,
}

impl Default for AncillaryCalibrationOptions {
    /// The five ERCOT services.
    fn default() -> Self {
        AncillaryCalibrationOptions {
            services: SERVICES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// Fits every requested service of a wide hourly file.
///
/// # Errors
/// Unreadable file, missing column, bad stamps, gaps, duplicates, unsorted
/// rows or non-numeric cells (with file, line and column).
pub fn calibrate(
    path: &Path,
    options: &AncillaryCalibrationOptions,
) -> Result<AncillaryParams, DataError> {
    let table = Table::read(path)?;
    let mut services = BTreeMap::new();
    for service in &options.services {
        let series = load_service(&table, service)?;
        if series.step() != TimeDelta::hours(1) {
            return Err(DataError::file(
                path,
                format!(
                    "ancillary prices must be hourly; the file's step is {} minutes",
                    series.step().num_minutes()
                ),
            ));
        }
        services.insert(service.clone(), fit_service(&series.segments));
    }
    Ok(AncillaryParams { services })
}

/// Fits one service on contiguous hourly segments.
pub fn fit_service(segments: &[RegularData]) -> ServiceParams {
    let logs: Vec<Vec<f64>> = segments
        .iter()
        .map(|s| s.values.iter().map(|v| v.max(0.0).ln_1p()).collect())
        .collect();
    let buckets: Vec<Vec<(usize, usize)>> = segments
        .iter()
        .map(|s| {
            (0..s.values.len())
                .map(|i| {
                    let (m, _, h) = local_bucket(s.time_of(i));
                    (m, h)
                })
                .collect()
        })
        .collect();
    let (mut sum, mut count) = ([[0.0; 24]; 12], [[0.0; 24]; 12]);
    for (ys, bs) in logs.iter().zip(&buckets) {
        for (y, &(m, h)) in ys.iter().zip(bs) {
            sum[m][h] += y;
            count[m][h] += 1.0;
        }
    }
    let mut level = [[0.0; 24]; 12];
    for h in 0..24 {
        let (hour_sum, hour_count) =
            (0..12).fold((0.0, 0.0), |(s, c), m| (s + sum[m][h], c + count[m][h]));
        for m in 0..12 {
            level[m][h] = if count[m][h] > 0.0 {
                sum[m][h] / count[m][h]
            } else if hour_count > 0.0 {
                hour_sum / hour_count
            } else {
                0.0
            };
        }
    }
    let residuals: Vec<Vec<f64>> = logs
        .iter()
        .zip(&buckets)
        .map(|(ys, bs)| {
            ys.iter()
                .zip(bs)
                .map(|(y, &(m, h))| y - level[m][h])
                .collect()
        })
        .collect();
    let mut sorted: Vec<f64> = residuals.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let normal = Normal::standard();
    let mut residual = [0.0; KNOTS];
    for (k, r) in residual.iter_mut().enumerate() {
        *r = quantile_sorted(&sorted, normal.cdf(KNOT_FIRST + KNOT_STEP * k as f64));
    }
    let n = sorted.len() as f64;
    let score = |r: f64| {
        let rank = sorted.partition_point(|v| *v < r) as f64;
        let ties = sorted.partition_point(|v| *v <= r) as f64 - rank;
        normal.inverse_cdf((rank + ties / 2.0 + 0.5).min(n - 0.5) / n)
    };
    let (mut weighted, mut weight) = (0.0, 0.0);
    for rs in &residuals {
        if rs.len() > 2 {
            let scores: Vec<f64> = rs.iter().map(|&r| score(r)).collect();
            weighted += autocorrelation(&scores, 1) * rs.len() as f64;
            weight += rs.len() as f64;
        }
    }
    ServiceParams {
        level,
        residual,
        phi: if weight > 0.0 { weighted / weight } else { 0.0 },
    }
}

/// Statistics compared for one service.
fn stats(segments: &[Vec<f64>]) -> (Summary, f64) {
    let values: Vec<f64> = segments.iter().flatten().copied().collect();
    let lag1 = mean(
        &segments
            .iter()
            .map(|s| autocorrelation(s, 1))
            .collect::<Vec<_>>(),
    );
    (Summary::of(&values), lag1)
}

/// The `hcp validate` checks of the ancillary generators: for each service,
/// [`REPLICATIONS`] simulations of the file's own span (same calendar)
/// against the file.
///
/// # Errors
/// The shipped file cannot be read or is malformed.
pub fn ancillary_checks(data_dir: &Path) -> Result<Vec<Check>, DataError> {
    let path: PathBuf = data_dir.join(ANCILLARY_FILE);
    let table = Table::read(&path)?;
    let params = AncillaryParams::default();
    let mut out = Vec::new();
    for service in SERVICES {
        let Some(service_params) = params.services.get(service) else {
            continue;
        };
        let real = load_service(&table, service)?;
        let real_runs: Vec<Vec<f64>> = real.segments.iter().map(|s| s.values.clone()).collect();
        let mut sim_runs = Vec::new();
        for segment in &real.segments {
            let hours = u64::try_from(segment.values.len()).unwrap_or(0);
            let horizon = Horizon {
                epoch: hcp_engine::calendar::Epoch::new(segment.start),
                length: hcp_engine::time::SimDuration::from_hours(hours),
                step: hcp_engine::time::SimDuration::from_hours(1),
            };
            let calendar = hour_calendar(&horizon);
            for r in 0..REPLICATIONS {
                let streams = RngStreams::new(SEED, r);
                sim_runs.push(hourly(service, service_params, &calendar, &streams));
            }
        }
        let (sim, sim_lag1) = stats(&sim_runs);
        let (file, file_lag1) = stats(&real_runs);
        let group = format!("grid/ancillary/{service}");
        let unit = "$/MW-h";
        for (name, value, reference, tolerance) in [
            ("mean", sim.mean, file.mean, MOMENT_TOLERANCE),
            ("std", sim.std, file.std, MOMENT_TOLERANCE),
            ("p50", sim.p50, file.p50, MOMENT_TOLERANCE),
            ("p99", sim.p99, file.p99, P99_TOLERANCE),
        ] {
            out.push(Check::relative(
                &group,
                name,
                value,
                reference,
                tolerance,
                unit,
                ANCILLARY_FILE,
            ));
        }
        out.push(Check::absolute(
            &group,
            "lag1_autocorrelation",
            sim_lag1,
            file_lag1,
            LAG1_TOLERANCE,
            "1",
            ANCILLARY_FILE,
        ));
    }
    Ok(out)
}
