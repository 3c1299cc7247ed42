//! [`Frame`]: one Parquet file of the dataset read as named columns, with
//! its key-value metadata. Columns are looked up by name, not position, so
//! a file of an older or newer column layout still yields what it has; a
//! column that is there with another type is an error naming file and
//! column. [`Frame::read_columns`] decodes only the columns named (a
//! Parquet projection), for readers that need one column of a large file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use parquet::arrow::ProjectionMask;
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
        Frame::read_projected(path, None)
    }

    /// Reads every row of `path`, but only the columns `names` (those the
    /// file lacks are left out, as if the file had none of that name).
    pub(crate) fn read_columns(path: &Path, names: &[&str]) -> Result<Frame, ReportError> {
        Frame::read_projected(path, Some(names))
    }

    fn read_projected(path: &Path, names: Option<&[&str]>) -> Result<Frame, ReportError> {
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
        let builder = match names {
            Some(names) => {
                let mask = ProjectionMask::columns(builder.parquet_schema(), names.iter().copied());
                builder.with_projection(mask)
            }
            None => builder,
        };
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

    /// Column `name` of every batch, each array turned into values by
    /// `extend` (which returns `false` when the array is not of the type
    /// wanted, `want` in the error); `None` when the file lacks it.
    fn values<T>(
        &self,
        name: &str,
        want: &str,
        mut extend: impl FnMut(&ArrayRef, &mut Vec<T>) -> bool,
    ) -> Result<Option<Vec<T>>, ReportError> {
        let Some(columns) = self.columns(name) else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(self.rows());
        for array in columns {
            if !extend(array, &mut out) {
                return Err(self.bad_type(name, want));
            }
        }
        Ok(Some(out))
    }

    /// A float64 column (nulls as `None`); `None` when the file lacks it.
    pub(crate) fn f64s(&self, name: &str) -> Result<Option<Vec<Option<f64>>>, ReportError> {
        self.values(name, "float64", |a, out| {
            let Some(a) = a.as_primitive_opt::<Float64Type>() else {
                return false;
            };
            out.extend(a.iter());
            true
        })
    }

    /// A float64 column with nulls as NaN; `None` when the file lacks it.
    pub(crate) fn f64s_or_nan(&self, name: &str) -> Result<Option<Vec<f64>>, ReportError> {
        self.values(name, "float64", |a, out| {
            let Some(a) = a.as_primitive_opt::<Float64Type>() else {
                return false;
            };
            if a.null_count() == 0 {
                out.extend_from_slice(a.values());
            } else {
                out.extend(a.iter().map(|v| v.unwrap_or(f64::NAN)));
            }
            true
        })
    }

    /// A float64 column with nulls as NaN, or an error if it is absent.
    pub(crate) fn f64s_required(&self, name: &str) -> Result<Vec<f64>, ReportError> {
        self.f64s_or_nan(name)?.ok_or_else(|| self.missing(name))
    }

    /// A uint64 or uint32 column as u64 (nulls as 0); `None` when the file
    /// lacks it.
    pub(crate) fn u64s(&self, name: &str) -> Result<Option<Vec<u64>>, ReportError> {
        self.values(name, "an unsigned integer", |a, out| {
            if let Some(a) = a.as_primitive_opt::<UInt64Type>() {
                out.extend(a.iter().map(Option::unwrap_or_default));
            } else if let Some(a) = a.as_primitive_opt::<UInt32Type>() {
                out.extend(a.iter().map(|v| u64::from(v.unwrap_or_default())));
            } else {
                return false;
            }
            true
        })
    }

    /// A bool column (nulls as false); `None` when the file lacks it.
    pub(crate) fn bools(&self, name: &str) -> Result<Option<Vec<bool>>, ReportError> {
        self.values(name, "bool", |a, out| {
            let Some(a) = a.as_boolean_opt() else {
                return false;
            };
            out.extend(a.iter().map(Option::unwrap_or_default));
            true
        })
    }

    /// A utf8 column (nulls as empty); `None` when the file lacks it.
    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ReportError> {
        self.values(name, "utf8", |a, out| {
            let Some(a) = a.as_string_opt::<i32>() else {
                return false;
            };
            out.extend(a.iter().map(|v| v.unwrap_or_default().to_owned()));
            true
        })
    }

    /// A timestamp[us] column as microseconds since 1970, or an error if
    /// it is absent.
    pub(crate) fn micros_required(&self, name: &str) -> Result<Vec<i64>, ReportError> {
        self.values(name, "timestamp[us]", |a, out| {
            let Some(a) = a.as_primitive_opt::<TimestampMicrosecondType>() else {
                return false;
            };
            out.extend(a.iter().map(Option::unwrap_or_default));
            true
        })?
        .ok_or_else(|| self.missing(name))
    }

    /// The error for a required column the file lacks.
    pub(crate) fn missing(&self, name: &str) -> ReportError {
        ReportError::Schema {
            path: self.path.clone(),
            problem: format!("column {name} is missing"),
        }
    }
}
