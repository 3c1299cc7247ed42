//! Turning timestamped rows into a regular series (one value per fixed
//! step), rejecting unsorted rows, duplicates, misaligned stamps and gaps —
//! or filling gaps when the caller asked for it explicitly.

use chrono::{DateTime, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::DataError;
use super::table::Table;

/// What to do with missing intervals in a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GapRepair {
    /// A missing interval is an error (the default).
    #[default]
    Reject,
    /// Repeat the last value over at most `max_missing` consecutive missing
    /// intervals; every fill is reported as a [`Repair`].
    ForwardFill {
        /// The longest run of missing intervals that may be filled.
        max_missing: usize,
    },
}

/// One repair made to a series, so callers can log it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repair {
    /// First filled interval (UTC).
    pub from: DateTime<Utc>,
    /// Number of intervals filled.
    pub intervals: usize,
    /// The 1-based line (CSV) or row (Parquet) after the gap.
    pub line: usize,
}

/// A regular series read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularData {
    /// Start of the first interval (UTC).
    pub start: DateTime<Utc>,
    /// Interval length.
    pub step: TimeDelta,
    /// One value per interval.
    pub values: Vec<f64>,
    /// Intervals that were filled (empty unless [`GapRepair::ForwardFill`]).
    pub repairs: Vec<Repair>,
}

impl RegularData {
    /// Start of interval `i` (UTC).
    pub fn time_of(&self, i: usize) -> DateTime<Utc> {
        self.start + self.step * i32::try_from(i).unwrap_or(i32::MAX)
    }
}

/// Builds a regular series from rows stamped `times` (UTC, one per value,
/// in file order) at the given `step`.
///
/// # Errors
/// Rows out of order, a timestamp repeated, a timestamp off the step grid,
/// or a gap (unless `repair` allows filling it); each error names the line
/// and `time_column`.
///
/// # Panics
/// If `times` and `values` differ in length or are empty (a caller's bug:
/// a [`Table`] always has rows and one stamp per value).
pub fn regularize(
    table: &Table,
    time_column: &str,
    times: &[DateTime<Utc>],
    values: &[f64],
    step: TimeDelta,
    repair: GapRepair,
) -> Result<RegularData, DataError> {
    assert_eq!(times.len(), values.len(), "one timestamp per value");
    if step <= TimeDelta::zero() {
        return Err(table.error(
            crate::data::Location::File,
            "the series' step must be positive",
        ));
    }
    let start = times[0];
    let mut out = Vec::with_capacity(values.len());
    let mut repairs = Vec::new();
    out.push(values[0]);
    for i in 1..times.len() {
        let (previous, current) = (times[i - 1], times[i]);
        let delta = current - previous;
        if delta < TimeDelta::zero() {
            return Err(table.error(
                table.cell(i, time_column),
                format!(
                    "{current} comes before the previous row's {previous}: rows must be sorted by time"
                ),
            ));
        }
        if delta.is_zero() {
            return Err(table.error(
                table.cell(i, time_column),
                format!(
                    "{current} appears twice (also on {} {})",
                    table.position_word(),
                    table.line_of(i - 1)
                ),
            ));
        }
        let steps = delta.num_seconds() / step.num_seconds();
        if delta.num_seconds() % step.num_seconds() != 0 {
            return Err(table.error(
                table.cell(i, time_column),
                format!(
                    "{current} is not on the series' {}-second grid (previous row {previous})",
                    step.num_seconds()
                ),
            ));
        }
        let missing = usize::try_from(steps - 1).unwrap_or(usize::MAX);
        if missing > 0 {
            match repair {
                GapRepair::ForwardFill { max_missing } if missing <= max_missing => {
                    let fill = *out.last().unwrap_or(&values[i - 1]);
                    out.extend(std::iter::repeat_n(fill, missing));
                    repairs.push(Repair {
                        from: previous + step,
                        intervals: missing,
                        line: table.line_of(i),
                    });
                }
                _ => {
                    return Err(table.error(
                        table.cell(i, time_column),
                        format!(
                            "{missing} interval(s) missing between {previous} and {current} \
                             (allow a forward fill explicitly to repair gaps)"
                        ),
                    ));
                }
            }
        }
        out.push(values[i]);
    }
    Ok(RegularData {
        start,
        step,
        values: out,
        repairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn setup(stamps: &[&str]) -> (Table, Vec<DateTime<Utc>>, Vec<f64>) {
        let rows: Vec<String> = stamps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s},{i}\n"))
            .collect();
        let text = format!("t,v\n{}", rows.concat());
        let table = Table::from_csv_bytes(Path::new("s.csv"), text.as_bytes()).unwrap();
        let times = table
            .datetime_column("t", &["%Y-%m-%d %H:%M"])
            .unwrap()
            .into_iter()
            .map(|t| t.and_utc())
            .collect();
        let values = table.f64_column("v").unwrap();
        (table, times, values)
    }

    const STEP: TimeDelta = TimeDelta::minutes(15);

    #[test]
    fn regular_rows_pass_through() {
        let (t, times, values) =
            setup(&["2024-01-01 00:00", "2024-01-01 00:15", "2024-01-01 00:30"]);
        let data = regularize(&t, "t", &times, &values, STEP, GapRepair::Reject).unwrap();
        assert_eq!(data.values, vec![0.0, 1.0, 2.0]);
        assert_eq!(data.time_of(2).to_string(), "2024-01-01 00:30:00 UTC");
    }

    #[test]
    fn gaps_are_rejected_unless_filled_explicitly() {
        let (t, times, values) = setup(&["2024-01-01 00:00", "2024-01-01 00:45"]);
        let err = regularize(&t, "t", &times, &values, STEP, GapRepair::Reject).unwrap_err();
        assert!(
            err.to_string()
                .contains("s.csv: line 3, column 't': 2 interval(s) missing"),
            "{err}"
        );
        let fill = GapRepair::ForwardFill { max_missing: 2 };
        let data = regularize(&t, "t", &times, &values, STEP, fill).unwrap();
        assert_eq!(data.values, vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(data.repairs.len(), 1);
        assert_eq!(data.repairs[0].intervals, 2);
        let too_short = GapRepair::ForwardFill { max_missing: 1 };
        assert!(regularize(&t, "t", &times, &values, STEP, too_short).is_err());
    }

    #[test]
    fn duplicates_unsorted_and_misaligned_rows_are_rejected() {
        let (t, times, values) = setup(&["2024-01-01 00:00", "2024-01-01 00:00"]);
        let err = regularize(&t, "t", &times, &values, STEP, GapRepair::Reject).unwrap_err();
        assert!(
            err.to_string().contains("appears twice (also on line 2)"),
            "{err}"
        );
        let (t, times, values) = setup(&["2024-01-01 00:15", "2024-01-01 00:00"]);
        let err = regularize(&t, "t", &times, &values, STEP, GapRepair::Reject).unwrap_err();
        assert!(err.to_string().contains("must be sorted"), "{err}");
        let (t, times, values) = setup(&["2024-01-01 00:00", "2024-01-01 00:20"]);
        let err = regularize(&t, "t", &times, &values, STEP, GapRepair::Reject).unwrap_err();
        assert!(
            err.to_string()
                .contains("not on the series' 900-second grid"),
            "{err}"
        );
    }
}
