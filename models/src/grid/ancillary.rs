//! Ancillary-service prices (ERCOT day-ahead clearing prices of REGUP,
//! REGDN, RRS, NSPIN and ECRS), in $/MW per hour: a fitted generator per
//! service and a replay of the shipped hourly file.
//!
//! For each service, hourly, with local (Central) month m and hour h:
//!
//! ```text
//! x_k = φ x_{k−1} + √(1−φ²) ε_k                       (x stationary N(0,1))
//! p_k = max(0, exp(level[m][h] + Q(x_k)) − 1)          ($/MW per hour)
//! ```
//!
//! `level` is the mean of ln(p + 1) by month and hour, Q the quantile
//! function of the residuals ln(p + 1) − level (knots at the normal scores
//! −3.875 … 3.875), φ the lag-1 autocorrelation of the residuals' normal
//! scores. Each service draws from its own stream `grid/ancillary/<SERVICE>`;
//! an hourly value holds over the horizon's intervals inside that hour.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use chrono_tz::America::Chicago;
use hcp_engine::rng::{RngStreams, StreamId};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::load::{NodeSeries, WIDE_TIME_COLUMN, load_node};
use super::price::KNOTS;
use crate::data::{DataError, GapRepair, Location, Table};
use crate::series::{Horizon, RegularSeries};

/// The services of the shipped file, in the order the tape holds them.
pub const SERVICES: [&str; 5] = ["REGUP", "REGDN", "RRS", "NSPIN", "ECRS"];

const ANCILLARY_TOML: &str = include_str!("../../params/grid_ancillary.toml");
const HOUR_US: u64 = 3_600_000_000;

/// Parameters of every ancillary-service generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AncillaryParams {
    /// Parameters by service name (`REGUP`, `REGDN`, `RRS`, `NSPIN`, `ECRS`).
    pub services: BTreeMap<String, ServiceParams>,
}

/// One service's fitted parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Mean of ln(price + 1) by local month (Jan…Dec) and hour (0–23),
    /// price in $/MW per hour.
    pub level: [[f64; 24]; 12],
    /// Residual quantiles of ln(price + 1) at normal scores −3.875, −3.625, …, 3.875.
    pub residual: [f64; KNOTS],
    /// Lag-1 autocorrelation (per hour) of the residuals' normal scores.
    pub phi: f64,
}

impl ServiceParams {
    /// The residual quantile at normal score `x` (linear between knots,
    /// flat beyond the outer knots).
    pub fn residual_at(&self, x: f64) -> f64 {
        super::price::knot_quantile(&self.residual, x)
    }

    /// The same parameters rounded as shipped: levels and residuals to four
    /// decimals (ln units), φ to four decimals.
    #[must_use]
    pub fn rounded(&self) -> ServiceParams {
        let r = |v: f64| (v * 1e4).round() / 1e4;
        let mut out = self.clone();
        out.level.iter_mut().flatten().for_each(|v| *v = r(*v));
        out.residual.iter_mut().for_each(|v| *v = r(*v));
        out.phi = r(out.phi);
        out
    }
}

impl AncillaryParams {
    /// Parses a TOML parameter block.
    ///
    /// # Errors
    /// Invalid TOML or fields that do not match.
    pub fn from_toml(text: &str) -> Result<AncillaryParams, toml::de::Error> {
        toml::from_str(text)
    }
}

impl Default for AncillaryParams {
    /// The fit on `data/ercot_dam_as_mcpc_2022-2025_hourly_wide.csv`.
    fn default() -> Self {
        AncillaryParams::from_toml(ANCILLARY_TOML)
            .unwrap_or_else(|e| panic!("grid_ancillary.toml: {e}"))
    }
}

/// One service's price series on the tape.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePrices {
    /// The service (`REGUP`, …).
    pub service: String,
    /// Prices, $/MW per hour, at the horizon step.
    pub price: RegularSeries,
}

/// Local (month, hour) bucket `month·24 + hour` of each whole hour of the horizon.
pub fn hour_calendar(horizon: &Horizon) -> Vec<u16> {
    let hours = horizon.length.as_micros().div_ceil(HOUR_US);
    (0..hours)
        .map(|k| {
            let t = hcp_engine::time::SimTime::from_micros(k * HOUR_US);
            let local = horizon
                .epoch
                .to_utc(t)
                .unwrap_or_default()
                .with_timezone(&Chicago);
            #[allow(clippy::cast_possible_truncation)]
            let bucket = (local.month0() * 24 + local.hour()) as u16;
            bucket
        })
        .collect()
}

/// Hourly prices of one service over `calendar` (from [`hour_calendar`]),
/// drawn from stream `grid/ancillary/<service>`.
pub fn hourly(
    service: &str,
    params: &ServiceParams,
    calendar: &[u16],
    streams: &RngStreams,
) -> Vec<f64> {
    let mut rng = streams.stream(StreamId::named(&format!("grid/ancillary/{service}")));
    let phi = params.phi.clamp(-0.9999, 0.9999);
    let scale = (1.0 - phi * phi).sqrt();
    let mut x: f64 = StandardNormal.sample(&mut rng);
    let mut out = Vec::with_capacity(calendar.len());
    for (k, &bucket) in calendar.iter().enumerate() {
        if k > 0 {
            let e: f64 = StandardNormal.sample(&mut rng);
            x = phi * x + scale * e;
        }
        let level = params.level[usize::from(bucket / 24)][usize::from(bucket % 24)];
        out.push((level + params.residual_at(x)).exp_m1().max(0.0));
    }
    out
}

/// Holds hourly values over the horizon's intervals (the hour containing
/// each interval's start).
fn hold(hourly: &[f64], horizon: &Horizon) -> RegularSeries {
    let values = (0..horizon.intervals())
        .map(|i| {
            let k = usize::try_from(horizon.time_of(i).as_micros() / HOUR_US).unwrap_or(0);
            hourly.get(k).copied().unwrap_or(0.0)
        })
        .collect();
    RegularSeries::new(hcp_engine::time::SimTime::ZERO, horizon.step, values)
}

/// Generates every service of `params` (in [`SERVICES`] order, then any
/// other service alphabetically) over the horizon.
pub fn generate(
    params: &AncillaryParams,
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<ServicePrices> {
    let calendar = hour_calendar(horizon);
    let mut names: Vec<&str> = SERVICES
        .iter()
        .copied()
        .filter(|s| params.services.contains_key(*s))
        .collect();
    names.extend(
        params
            .services
            .keys()
            .map(String::as_str)
            .filter(|s| !SERVICES.contains(s)),
    );
    names
        .into_iter()
        .map(|service| ServicePrices {
            service: service.to_owned(),
            price: hold(
                &hourly(service, &params.services[service], &calendar, streams),
                horizon,
            ),
        })
        .collect()
}

/// Reads one service column of a wide hourly file (`datetime_col`, hour
/// ending, Central prevailing time). Leading empty cells (a service that
/// starts later, like ECRS in June 2023) are skipped; an empty cell after
/// the first value is an error naming its line.
///
/// # Errors
/// Missing column, an all-empty column, bad stamps, gaps, duplicates,
/// unsorted rows or non-numeric cells (with file, line and column).
pub fn load_service(table: &Table, service: &str) -> Result<NodeSeries, DataError> {
    let cells = table.optional_f64_column(service)?;
    let first = cells
        .iter()
        .position(Option::is_some)
        .ok_or_else(|| table.error(Location::Column(service.to_owned()), "the column is empty"))?;
    if first == 0 {
        return load_node(table, service, GapRepair::Reject);
    }
    let stamps = table.text_column(WIDE_TIME_COLUMN)?;
    let mut csv = format!("{WIDE_TIME_COLUMN},{service}\n");
    for (stamp, cell) in stamps.iter().zip(&cells).skip(first) {
        let value = cell.map(|v| v.to_string()).unwrap_or_default();
        csv.push_str(stamp);
        csv.push(',');
        csv.push_str(&value);
        csv.push('\n');
    }
    let tail = Table::from_csv_bytes(table.path(), csv.as_bytes())?;
    let mut series = load_node(&tail, service, GapRepair::Reject).map_err(|e| shift(e, first))?;
    for segment in &mut series.segments {
        segment.repairs.iter_mut().for_each(|r| r.line += first);
    }
    Ok(series)
}

/// Moves an error's line number down by `rows` skipped rows.
fn shift(error: DataError, rows: usize) -> DataError {
    match error {
        DataError::Invalid {
            path,
            location,
            problem,
        } => {
            let location = match location {
                Location::Cell { line, column } => Location::Cell {
                    line: line + rows,
                    column,
                },
                Location::Line(line) => Location::Line(line + rows),
                Location::RowCell { row, column } => Location::RowCell {
                    row: row + rows,
                    column,
                },
                Location::Row(row) => Location::Row(row + rows),
                other => other,
            };
            DataError::Invalid {
                path,
                location,
                problem,
            }
        }
        other @ DataError::Io { .. } => other,
    }
}

/// Replays `services` of a wide hourly file onto the horizon.
///
/// # Errors
/// As [`load_service`], or a horizon interval the file does not cover.
pub fn replay(
    table: &Table,
    services: &[&str],
    horizon: &Horizon,
) -> Result<Vec<ServicePrices>, DataError> {
    services
        .iter()
        .map(|&service| {
            let series = load_service(table, service)?;
            let price = super::load::replay(&series, horizon)
                .map_err(|e| table.error(Location::Column(service.to_owned()), e))?;
            Ok(ServicePrices {
                service: service.to_owned(),
                price,
            })
        })
        .collect()
}
