//! Reading daily files (one row per UTC day, a date column and numeric
//! columns), with the checks every market loader applies: dates sorted,
//! unique and without gaps (unless a forward fill is asked for), and every
//! value positive.

use std::path::Path;

use chrono::NaiveDate;

use crate::data::{DataError, GapRepair, Repair, Table, regularize};

/// Date format of the date column.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Daily columns read from a file, one value per day from `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Daily {
    /// First day.
    pub start: NaiveDate,
    /// The requested columns, in request order, each one value per day.
    pub columns: Vec<Vec<f64>>,
    /// Days filled by a forward fill.
    pub repairs: Vec<Repair>,
}

impl Daily {
    /// Number of days.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// Whether no day was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads `columns` of a daily file, keyed by `date_column` (YYYY-MM-DD, UTC days).
///
/// # Errors
/// A missing column, a cell that is not a positive finite number, dates
/// unsorted, repeated or missing (unless `repair` fills them); each error
/// names the file, line and column.
pub fn read_daily(
    path: &Path,
    date_column: &str,
    columns: &[&str],
    repair: GapRepair,
) -> Result<Daily, DataError> {
    let table = Table::read(path)?;
    let dates = table.date_column(date_column, DATE_FORMAT)?;
    let times: Vec<_> = dates
        .iter()
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .collect();
    let mut out = Vec::with_capacity(columns.len());
    let mut repairs = Vec::new();
    for name in columns {
        let values = table.f64_column(name)?;
        if let Some(row) = values.iter().position(|v| *v <= 0.0) {
            return Err(table.error(
                table.cell(row, name),
                format!("{} is not positive", values[row]),
            ));
        }
        let regular = regularize(
            &table,
            date_column,
            &times,
            &values,
            chrono::TimeDelta::days(1),
            repair,
        )?;
        repairs = regular.repairs;
        out.push(regular.values);
    }
    Ok(Daily {
        start: dates[0],
        columns: out,
        repairs,
    })
}
