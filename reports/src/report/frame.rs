//! [`Frame`]: one Parquet file of the dataset read as named columns, with
//! its key-value metadata. Columns are looked up by name, not position, so
//! a file of an older or newer column layout still yields what it has; a
//! column that is there with another type is an error naming file and
//! column.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::ReportError;

/// One file's rows, as record batches, and its key-value metadata.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) path: PathBuf,
    pub(crate) meta: BTreeMap<String, String>,
    batches: Vec<RecordBatch>,
}

impl Frame {
    /// Reads every row of `path`.
    pub(crate) fn read(path: &Path) -> Result<Frame, ReportError> {
        let file = File::open(path).map_err(ReportError::io(path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(ReportError::parquet(path))?;
        let meta = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        let reader = builder
            .with_batch_size(64 * 1024)
            .build()
            .map_err(ReportError::parquet(path))?;
        let mut batches = Vec::new();
        for batch in reader {
            batches.push(batch.map_err(|e| ReportError::Schema {
                path: path.to_path_buf(),
                problem: format!("cannot decode a row group: {e}"),
            })?);
        }
        Ok(Frame {
            path: path.to_path_buf(),
            meta,
            batches,
        })
    }

    /// Rows in the file.
    pub(crate) fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Whether the file has a column `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.batches
            .first()
            .is_some_and(|b| b.schema().index_of(name).is_ok())
    }

    fn columns(&self, name: &str) -> Option<Vec<&ArrayRef>> {
        self.batches
            .iter()
            .map(|b| b.column_by_name(name))
            .collect()
    }

    fn bad_type(&self, name: &str, want: &str) -> ReportError {
        ReportError::Schema {
            path: self.path.clone(),
            problem: format!("column {name} is not {want}"),
        }
    }

    fn values<T>(
        &self,
        name: &str,
        want: &str,
        mut get: impl FnMut(&ArrayRef, usize) -> Option<Option<T>>,
    ) -> Result<Option<Vec<Option<T>>>, ReportError> {
        let Some(columns) = self.columns(name) else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(self.rows());
        for array in columns {
            for i in 0..array.len() {
                out.push(get(array, i).ok_or_else(|| self.bad_type(name, want))?);
            }
        }
        Ok(Some(out))
    }

    /// A float64 column (nulls as `None`); `None` when the file lacks it.
    pub(crate) fn f64s(&self, name: &str) -> Result<Option<Vec<Option<f64>>>, ReportError> {
        self.values(name, "float64", |a, i| {
            let a = a.as_primitive_opt::<Float64Type>()?;
            Some(a.is_valid(i).then(|| a.value(i)))
        })
    }

    /// A float64 column with nulls as NaN, or an error if it is absent.
    pub(crate) fn f64s_required(&self, name: &str) -> Result<Vec<f64>, ReportError> {
        Ok(self
            .f64s(name)?
            .ok_or_else(|| self.missing(name))?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }

    /// A uint64 or uint32 column as u64; `None` when the file lacks it.
    pub(crate) fn u64s(&self, name: &str) -> Result<Option<Vec<u64>>, ReportError> {
        let v = self.values(name, "an unsigned integer", |a, i| {
            if let Some(a) = a.as_primitive_opt::<UInt64Type>() {
                return Some(Some(a.value(i)));
            }
            let a = a.as_primitive_opt::<UInt32Type>()?;
            Some(Some(u64::from(a.value(i))))
        })?;
        Ok(v.map(|v| v.into_iter().flatten().collect()))
    }

    /// A utf8 column; `None` when the file lacks it.
    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ReportError> {
        let v = self.values(name, "utf8", |a, i| {
            Some(Some(a.as_string_opt::<i32>()?.value(i).to_owned()))
        })?;
        Ok(v.map(|v| v.into_iter().flatten().collect()))
    }

    /// A timestamp[us] column as microseconds since 1970, or an error if
    /// it is absent.
    pub(crate) fn micros_required(&self, name: &str) -> Result<Vec<i64>, ReportError> {
        let v = self.values(name, "timestamp[us]", |a, i| {
            Some(Some(
                a.as_primitive_opt::<TimestampMicrosecondType>()?.value(i),
            ))
        })?;
        Ok(v.ok_or_else(|| self.missing(name))?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The error for a required column the file lacks.
    pub(crate) fn missing(&self, name: &str) -> ReportError {
        ReportError::Schema {
            path: self.path.clone(),
            problem: format!("column {name} is missing"),
        }
    }
}
