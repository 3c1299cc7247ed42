//! Replay loaders for ERCOT settlement-point price files: the long real-time
//! (15-minute) and day-ahead (hourly) layouts ERCOT publishes, and the wide
//! layouts (one column per node, a `datetime_col` stamp). Prices are $/MWh.
//!
//! Every stamp is Central prevailing time (America/Chicago) and becomes UTC
//! here. Long files mark the second pass of the fall-back hour with
//! `Repeated Hour Flag = Y`; wide files repeat the stamp, and the first of
//! two equal stamps is the earlier (daylight) hour. A wide hourly file whose
//! fall-back hour was collapsed into one row holds that row over both hours
//! and reports the fill as a [`Repair`]. Long files keep, for a load zone
//! that appears as both `LZ` and `LZEW` (energy-weighted), the `LZ` rows.
//! A jump of more than [`SEGMENT_BREAK_DAYS`] days starts a new segment
//! (e.g. the four Januaries of the wide real-time file); smaller gaps,
//! duplicates and unsorted rows are errors unless a repair was asked for.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::America::Chicago;
use serde::{Deserialize, Serialize};

use crate::data::{DataError, GapRepair, Location, RegularData, Repair, Table, regularize};

/// A gap longer than this many days separates two segments of one file.
pub const SEGMENT_BREAK_DAYS: i64 = 7;

/// The largest price magnitude a replay accepts, $/MWh (ERCOT's cap is
/// $5,000 since 2023; a value beyond this is a unit or file error, and it
/// would overflow the books).
pub const MAX_ABS_PRICE: f64 = 1e6;

/// The time column of the wide layouts.
pub const WIDE_TIME_COLUMN: &str = "datetime_col";

/// The file layouts the loaders understand (detected from the headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// ERCOT real-time long layout: `Delivery Date`, `Delivery Hour` (1–24),
    /// `Delivery Interval` (1–4), `Repeated Hour Flag`, `Settlement Point Name`,
    /// `Settlement Point Type`, `Settlement Point Price`.
    RtmLong,
    /// ERCOT day-ahead long layout: `Delivery Date`, `Hour Ending` (`HH:00`),
    /// `Repeated Hour Flag`, `Settlement Point`, `Settlement Point Price`.
    DamLong,
    /// One column per node (or service) and a `datetime_col` stamp: the
    /// interval start for 15-minute files, the hour ending for hourly files.
    Wide,
}

impl Layout {
    /// Detects the layout from a table's headers.
    ///
    /// # Errors
    /// The headers match no supported layout.
    pub fn detect(table: &Table) -> Result<Layout, DataError> {
        if table.has_column("Delivery Interval") && table.has_column("Settlement Point Name") {
            Ok(Layout::RtmLong)
        } else if table.has_column("Hour Ending") && table.has_column("Settlement Point") {
            Ok(Layout::DamLong)
        } else if table.has_column(WIDE_TIME_COLUMN) {
            Ok(Layout::Wide)
        } else {
            Err(table.error(
                Location::File,
                format!(
                    "unknown layout (columns: {}): expected ERCOT's long real-time or day-ahead \
                     columns, or a '{WIDE_TIME_COLUMN}' column with one column per node",
                    table.headers().join(", ")
                ),
            ))
        }
    }
}

/// One node's prices from a file: contiguous segments in UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSeries {
    /// The node (settlement point) name.
    pub node: String,
    /// The file's layout.
    pub layout: Layout,
    /// Contiguous runs of values ($/MWh), in time order.
    pub segments: Vec<RegularData>,
}

impl NodeSeries {
    /// All values of all segments, in order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.segments.iter().flat_map(|s| s.values.iter().copied())
    }

    /// Every repair made while loading.
    pub fn repairs(&self) -> impl Iterator<Item = &Repair> {
        self.segments.iter().flat_map(|s| s.repairs.iter())
    }

    /// The segments' common step.
    pub fn step(&self) -> TimeDelta {
        self.segments.first().map_or(TimeDelta::zero(), |s| s.step)
    }
}

/// Reads one node of a price file in any supported layout.
///
/// # Errors
/// Unreadable file, unknown layout, unknown node (the message lists the
/// nodes), bad stamps, gaps/duplicates/unsorted rows (unless `repair`
/// allows a fill), or values that do not look like $/MWh.
pub fn load_node(table: &Table, node: &str, repair: GapRepair) -> Result<NodeSeries, DataError> {
    let layout = Layout::detect(table)?;
    let rows = match layout {
        Layout::RtmLong => long_rows(table, node, "Settlement Point Name", true)?,
        Layout::DamLong => long_rows(table, node, "Settlement Point", false)?,
        Layout::Wide => (0..table.len()).collect(),
    };
    let (time_col, times, values, step) = match layout {
        Layout::RtmLong => {
            let (times, step) = long_rtm_times(table, &rows)?;
            let prices = table.f64_column("Settlement Point Price")?;
            let values = rows.iter().map(|&r| prices[r]).collect();
            ("Delivery Date", times, values, step)
        }
        Layout::DamLong => {
            let times = long_dam_times(table, &rows)?;
            let prices = table.f64_column("Settlement Point Price")?;
            let values = rows.iter().map(|&r| prices[r]).collect();
            ("Hour Ending", times, values, TimeDelta::hours(1))
        }
        Layout::Wide => {
            let (times, step) = wide_times(table)?;
            if !table.has_column(node) {
                return Err(unknown_node(table, node, &wide_nodes(table)));
            }
            (WIDE_TIME_COLUMN, times, table.f64_column(node)?, step)
        }
    };
    let segments = segments(table, time_col, &rows, &times, &values, step, repair)?;
    let series = NodeSeries {
        node: node.to_owned(),
        layout,
        segments,
    };
    check_units(table, node, &series)?;
    Ok(series)
}

/// The node names a table holds (any layout), sorted.
///
/// # Errors
/// Unknown layout or missing columns.
pub fn nodes(table: &Table) -> Result<Vec<String>, DataError> {
    Ok(match Layout::detect(table)? {
        Layout::RtmLong => distinct(&table.text_column("Settlement Point Name")?),
        Layout::DamLong => distinct(&table.text_column("Settlement Point")?),
        Layout::Wide => wide_nodes(table),
    })
}

fn distinct(cells: &[String]) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = cells.iter().collect();
    set.into_iter().cloned().collect()
}

fn wide_nodes(table: &Table) -> Vec<String> {
    table
        .headers()
        .iter()
        .filter(|h| *h != WIDE_TIME_COLUMN)
        .cloned()
        .collect()
}

fn unknown_node(table: &Table, node: &str, available: &[String]) -> DataError {
    table.error(
        Location::File,
        format!(
            "unknown node '{node}' (available: {})",
            available.join(", ")
        ),
    )
}

/// The 0-based rows of `node` in a long file (LZ rows only for load zones
/// that also appear as LZEW).
fn long_rows(
    table: &Table,
    node: &str,
    name_col: &str,
    typed: bool,
) -> Result<Vec<usize>, DataError> {
    let names = table.text_column(name_col)?;
    let point_types = if typed {
        Some(table.text_column("Settlement Point Type")?)
    } else {
        None
    };
    let rows: Vec<usize> = (0..names.len())
        .filter(|&r| names[r] == node && point_types.as_ref().is_none_or(|t| t[r] != "LZEW"))
        .collect();
    if rows.is_empty() {
        return Err(unknown_node(table, node, &distinct(&names)));
    }
    Ok(rows)
}

fn flags(table: &Table, rows: &[usize]) -> Result<Vec<bool>, DataError> {
    let cells = table.text_column("Repeated Hour Flag")?;
    rows.iter()
        .map(|&r| match cells[r].as_str() {
            "Y" | "y" => Ok(true),
            "N" | "n" | "" => Ok(false),
            other => Err(table.error(
                table.cell(r, "Repeated Hour Flag"),
                format!("'{other}' is not Y or N"),
            )),
        })
        .collect()
}

fn long_rtm_times(
    table: &Table,
    rows: &[usize],
) -> Result<(Vec<DateTime<Utc>>, TimeDelta), DataError> {
    let dates = table.date_column("Delivery Date", "%m/%d/%Y")?;
    let hours = table.f64_column("Delivery Hour")?;
    let intervals = table.f64_column("Delivery Interval")?;
    let repeated = flags(table, rows)?;
    let mut times = Vec::with_capacity(rows.len());
    for (k, &r) in rows.iter().enumerate() {
        let (h, i) = (hours[r], intervals[r]);
        if !(1.0..=24.0).contains(&h) || h.fract() != 0.0 {
            return Err(table.error(
                table.cell(r, "Delivery Hour"),
                format!("{h} is not an hour 1–24"),
            ));
        }
        if !(1.0..=4.0).contains(&i) || i.fract() != 0.0 {
            return Err(table.error(
                table.cell(r, "Delivery Interval"),
                format!("{i} is not an interval 1–4"),
            ));
        }
        #[allow(clippy::cast_possible_truncation)]
        let minutes = (h as i64 - 1) * 60 + (i as i64 - 1) * 15;
        let local = midnight(dates[r]) + TimeDelta::minutes(minutes);
        times.push(to_utc(table, r, "Delivery Hour", local, repeated[k])?);
    }
    Ok((times, TimeDelta::minutes(15)))
}

fn long_dam_times(table: &Table, rows: &[usize]) -> Result<Vec<DateTime<Utc>>, DataError> {
    let dates = table.date_column("Delivery Date", "%m/%d/%Y")?;
    let ending = table.text_column("Hour Ending")?;
    let repeated = flags(table, rows)?;
    let mut times = Vec::with_capacity(rows.len());
    for (k, &r) in rows.iter().enumerate() {
        let hour = ending[r]
            .strip_suffix(":00")
            .and_then(|h| h.parse::<i64>().ok())
            .filter(|h| (1..=24).contains(h))
            .ok_or_else(|| {
                table.error(
                    table.cell(r, "Hour Ending"),
                    format!("'{}' is not an hour ending 01:00–24:00", ending[r]),
                )
            })?;
        let local = midnight(dates[r]) + TimeDelta::hours(hour - 1);
        times.push(to_utc(table, r, "Hour Ending", local, repeated[k])?);
    }
    Ok(times)
}

/// Wide stamps → UTC interval starts; a repeated local stamp is the later
/// hour; the step is the smallest non-zero difference of the file.
fn wide_times(table: &Table) -> Result<(Vec<DateTime<Utc>>, TimeDelta), DataError> {
    let stamps =
        table.datetime_column(WIDE_TIME_COLUMN, &["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"])?;
    let step = stamps
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > TimeDelta::zero())
        .min()
        .ok_or_else(|| table.error(Location::File, "fewer than two distinct time stamps"))?;
    let (shift, step) = if step == TimeDelta::hours(1) {
        (TimeDelta::hours(1), step)
    } else if step == TimeDelta::minutes(15) || step == TimeDelta::minutes(5) {
        (TimeDelta::zero(), step)
    } else {
        return Err(table.error(
            table.cell(1, WIDE_TIME_COLUMN),
            format!(
                "the smallest step is {} minutes; expected 5, 15 or 60",
                step.num_minutes()
            ),
        ));
    };
    let mut times = Vec::with_capacity(stamps.len());
    for (r, stamp) in stamps.iter().enumerate() {
        let repeated = r > 0 && stamps[r - 1] == *stamp && !(r > 1 && stamps[r - 2] == *stamp);
        times.push(to_utc(
            table,
            r,
            WIDE_TIME_COLUMN,
            *stamp - shift,
            repeated,
        )?);
    }
    Ok((times, step))
}

fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Central prevailing time → UTC; `later` picks the standard-time pass of
/// an ambiguous fall-back stamp.
fn to_utc(
    table: &Table,
    row: usize,
    column: &str,
    local: NaiveDateTime,
    later: bool,
) -> Result<DateTime<Utc>, DataError> {
    match Chicago.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.to_utc()),
        LocalResult::Ambiguous(early, late) => Ok(if later { late } else { early }.to_utc()),
        LocalResult::None => Err(table.error(
            table.cell(row, column),
            format!("{local} does not exist in Central time (spring-forward hour)"),
        )),
    }
}

/// Splits rows into contiguous segments and regularizes each, with line
/// numbers of the original file. A gap of exactly one interval right after
/// an ambiguous fall-back stamp that appears once is a collapsed hour: it is
/// held and reported.
#[allow(clippy::too_many_arguments)]
fn segments(
    table: &Table,
    time_col: &str,
    rows: &[usize],
    times: &[DateTime<Utc>],
    values: &[f64],
    step: TimeDelta,
    repair: GapRepair,
) -> Result<Vec<RegularData>, DataError> {
    let mut out: Vec<RegularData> = Vec::new();
    let mut start = 0;
    let mut join_previous = false;
    for k in 1..=times.len() {
        let cut = k == times.len() || {
            let delta = times[k] - times[k - 1];
            let collapsed = delta == step * 2 && is_fall_back(times[k - 1]);
            let new_segment = delta > TimeDelta::days(SEGMENT_BREAK_DAYS);
            collapsed || new_segment
        };
        if !cut {
            continue;
        }
        let mut part = regularize(
            table,
            time_col,
            &times[start..k],
            &values[start..k],
            step,
            repair,
        )
        .map_err(|e| remap(e, table, &rows[start..k]))?;
        for r in &mut part.repairs {
            r.line = table.line_of(rows[start + line_index(table, r.line)]);
        }
        match out.last_mut() {
            Some(previous) if join_previous => {
                let held = previous.values.last().copied().unwrap_or(f64::NAN);
                previous.repairs.push(Repair {
                    from: part.start - step,
                    intervals: 1,
                    line: table.line_of(rows[start]),
                });
                previous.values.push(held);
                previous.values.extend(part.values);
                previous.repairs.extend(part.repairs);
            }
            _ => out.push(part),
        }
        if k < times.len() {
            join_previous = times[k] - times[k - 1] == step * 2 && is_fall_back(times[k - 1]);
        }
        start = k;
    }
    Ok(out)
}

/// Whether `t` is the first (daylight) pass of a fall-back hour.
fn is_fall_back(t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&Chicago).naive_local();
    matches!(Chicago.from_local_datetime(&local), LocalResult::Ambiguous(early, _) if early.to_utc() == t)
}

fn line_index(table: &Table, line: usize) -> usize {
    line.saturating_sub(table.line_of(0))
}

/// Maps an error about the `k`-th selected row to the file's own line.
fn remap(error: DataError, table: &Table, rows: &[usize]) -> DataError {
    match error {
        DataError::Invalid {
            path,
            location: Location::Cell { line, column },
            problem,
        } => {
            let k = line_index(table, line).min(rows.len().saturating_sub(1));
            let problem = match problem.find(" (also on line ") {
                Some(i) if k > 0 => format!(
                    "{} (also on line {})",
                    &problem[..i],
                    table.line_of(rows[k - 1])
                ),
                _ => problem,
            };
            DataError::Invalid {
                path,
                location: Location::Cell {
                    line: table.line_of(rows[k]),
                    column,
                },
                problem,
            }
        }
        other => other,
    }
}

/// Rejects series that look like $/kWh (median below 1 and max below 10)
/// or whose file declares another unit.
fn check_units(table: &Table, node: &str, series: &NodeSeries) -> Result<(), DataError> {
    for unit_col in ["Unit", "Price Unit", "unit"] {
        if table.has_column(unit_col) {
            for (r, unit) in table.text_column(unit_col)?.iter().enumerate() {
                if unit.replace(' ', "") != "$/MWh" {
                    return Err(table.error(
                        table.cell(r, unit_col),
                        format!("prices must be in $/MWh, the file says '{unit}'"),
                    ));
                }
            }
        }
    }
    if let Some((k, v)) = series
        .values()
        .enumerate()
        .find(|(_, v)| v.abs() > MAX_ABS_PRICE)
    {
        return Err(table.error(
            Location::Column(node.to_owned()),
            format!(
                "value {} of the series is {v} $/MWh, beyond ±{MAX_ABS_PRICE} $/MWh",
                k + 1
            ),
        ));
    }
    let mut values: Vec<f64> = series.values().collect();
    values.sort_by(f64::total_cmp);
    let median = crate::describe::quantile_sorted(&values, 0.5);
    let max = values.last().copied().unwrap_or(0.0);
    if median.abs() < 1.0 && max < 10.0 {
        return Err(table.error(
            Location::Column(node.to_owned()),
            format!(
                "the prices look like $/kWh, not $/MWh (median {median:.4}, max {max:.4}); \
                 convert them to $/MWh"
            ),
        ));
    }
    Ok(())
}

/// Replays a loaded node onto a horizon's grid: each file value is held
/// over the horizon intervals that start inside it (hourly values over
/// their 5- or 15-minute sub-intervals), aligned by UTC time.
///
/// # Errors
/// The horizon step is not a divisor of the file step, or an interval of
/// the horizon falls outside every segment (the message names the first).
pub fn replay(
    series: &NodeSeries,
    horizon: &crate::series::Horizon,
) -> Result<crate::series::RegularSeries, String> {
    let step_us = i64::try_from(horizon.step.as_micros()).map_err(|e| e.to_string())?;
    let file_us = series.step().num_microseconds().unwrap_or(0);
    if step_us <= 0 || file_us % step_us != 0 {
        return Err(format!(
            "the horizon step ({} s) must divide the file step ({} s)",
            step_us / 1_000_000,
            file_us / 1_000_000
        ));
    }
    let mut values = Vec::with_capacity(horizon.intervals());
    for i in 0..horizon.intervals() {
        let t = horizon
            .epoch
            .to_utc(horizon.time_of(i))
            .map_err(|e| e.to_string())?;
        let value = series.segments.iter().find_map(|s| {
            let offset = (t - s.start).num_microseconds()?;
            let k = usize::try_from(offset.div_euclid(file_us)).ok()?;
            (offset >= 0).then(|| s.values.get(k).copied()).flatten()
        });
        values.push(
            value.ok_or_else(|| {
                format!("{t} is not covered by the file for node {}", series.node)
            })?,
        );
    }
    Ok(crate::series::RegularSeries::new(
        hcp_engine::time::SimTime::ZERO,
        horizon.step,
        values,
    ))
}
