//! Reading Parquet files into a [`Table`] through the arrow reader.
//!
//! String columns become text, integer and float columns numbers (nulls
//! are empty cells), timestamp and date columns naive date-times: a
//! timestamp stored with a time zone is an instant and is read in UTC.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::error::{DataError, Location};
use super::table::{Column, Table};

/// Reads a Parquet file.
pub(crate) fn read(path: &Path) -> Result<Table, DataError> {
    let invalid = |problem: String| DataError::file(path, problem);
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| invalid(format!("not a valid Parquet file: {e}")))?;
    let schema = Arc::clone(builder.schema());
    let reader = builder
        .build()
        .map_err(|e| invalid(format!("not a valid Parquet file: {e}")))?;
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut columns: Vec<Column> = schema
        .fields()
        .iter()
        .map(|f| empty_column(f.name(), f.data_type(), path))
        .collect::<Result<_, _>>()?;
    for batch in reader {
        let batch = batch.map_err(|e| invalid(format!("cannot decode a row group: {e}")))?;
        for (column, array) in columns.iter_mut().zip(batch.columns()) {
            append(column, array.as_ref());
        }
    }
    Table::from_parquet_columns(path, headers, columns)
}

fn empty_column(name: &str, data_type: &DataType, path: &Path) -> Result<Column, DataError> {
    Ok(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Column::Text(Vec::new()),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => Column::Float(Vec::new()),
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            Column::Timestamp(Vec::new())
        }
        other => {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                location: Location::Column(name.to_owned()),
                problem: format!(
                    "the column's type {other} is not supported (use text, numbers, dates or timestamps)"
                ),
            });
        }
    })
}

fn append(column: &mut Column, array: &dyn Array) {
    match column {
        Column::Text(cells) => append_text(cells, array),
        Column::Float(cells) => append_numbers(cells, array),
        Column::Timestamp(cells) => append_times(cells, array),
    }
}

fn append_text(cells: &mut Vec<String>, array: &dyn Array) {
    let text = |i: usize, value: &str| {
        if array.is_null(i) {
            String::new()
        } else {
            value.to_owned()
        }
    };
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            cells.extend((0..a.len()).map(|i| text(i, a.value(i))));
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            cells.extend((0..a.len()).map(|i| text(i, a.value(i))));
        }
        _ => {
            let a = array.as_string_view();
            cells.extend((0..a.len()).map(|i| text(i, a.value(i))));
        }
    }
}

fn numbers<T: ArrowPrimitiveType>(
    cells: &mut Vec<Option<f64>>,
    array: &dyn Array,
    to_f64: impl Fn(T::Native) -> f64,
) {
    let a: &PrimitiveArray<T> = array.as_primitive::<T>();
    cells.extend(a.iter().map(|v| v.map(&to_f64)));
}

#[allow(clippy::cast_precision_loss)]
fn append_numbers(cells: &mut Vec<Option<f64>>, array: &dyn Array) {
    match array.data_type() {
        DataType::Int8 => numbers::<Int8Type>(cells, array, f64::from),
        DataType::Int16 => numbers::<Int16Type>(cells, array, f64::from),
        DataType::Int32 => numbers::<Int32Type>(cells, array, f64::from),
        DataType::Int64 => numbers::<Int64Type>(cells, array, |v| v as f64),
        DataType::UInt8 => numbers::<UInt8Type>(cells, array, f64::from),
        DataType::UInt16 => numbers::<UInt16Type>(cells, array, f64::from),
        DataType::UInt32 => numbers::<UInt32Type>(cells, array, f64::from),
        DataType::UInt64 => numbers::<UInt64Type>(cells, array, |v| v as f64),
        DataType::Float32 => numbers::<Float32Type>(cells, array, f64::from),
        _ => numbers::<Float64Type>(cells, array, |v| v),
    }
}

fn times<T: ArrowPrimitiveType<Native = i64>>(
    cells: &mut Vec<Option<NaiveDateTime>>,
    array: &dyn Array,
    to_time: impl Fn(i64) -> Option<DateTime<chrono::Utc>>,
) {
    let a: &PrimitiveArray<T> = array.as_primitive::<T>();
    cells.extend(
        a.iter()
            .map(|v| v.and_then(&to_time).map(|t| t.naive_utc())),
    );
}

fn append_times(cells: &mut Vec<Option<NaiveDateTime>>, array: &dyn Array) {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            times::<TimestampSecondType>(cells, array, |v| DateTime::from_timestamp(v, 0));
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            times::<TimestampMillisecondType>(cells, array, DateTime::from_timestamp_millis);
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            times::<TimestampMicrosecondType>(cells, array, DateTime::from_timestamp_micros);
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            times::<TimestampNanosecondType>(cells, array, |v| {
                Some(DateTime::from_timestamp_nanos(v))
            });
        }
        DataType::Date32 => {
            let a = array.as_primitive::<Date32Type>();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            cells.extend(a.iter().map(|v| {
                v.and_then(|days| {
                    epoch.checked_add_signed(chrono::TimeDelta::days(i64::from(days)))
                })
                .and_then(|d| d.and_hms_opt(0, 0, 0))
            }));
        }
        _ => {
            let a = array.as_primitive::<Date64Type>();
            cells.extend(a.iter().map(|v| {
                v.and_then(DateTime::from_timestamp_millis)
                    .map(|t| t.naive_utc())
            }));
        }
    }
}
