//! Reading the dataset back: [`read_runs`] (every `runs` row, for
//! `--resume` and tests) and [`done_replications`] (which replications of
//! a scenario have a complete `runs` file). Files are checked against the
//! table's schema; `.tmp` leftovers of a killed sweep are never read.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::ReportError;
use crate::layout::{OutputTable, check_name, parse_part_name, runs_folder};
use crate::runs::{RunRow, Slot};

/// The entries of `folder`, sorted by name; none if it does not exist.
pub(crate) fn entries(folder: &Path) -> Result<Vec<(String, PathBuf)>, ReportError> {
    let list = match fs::read_dir(folder) {
        Ok(list) => list,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ReportError::io(folder)(e)),
    };
    let mut out = Vec::new();
    for entry in list {
        let entry = entry.map_err(ReportError::io(folder))?;
        if let Some(name) = entry.file_name().to_str() {
            out.push((name.to_owned(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Finished parts of a partition folder, by replication.
fn parts(folder: &Path) -> Result<Vec<(u64, PathBuf)>, ReportError> {
    let mut parts: Vec<(u64, PathBuf)> = entries(folder)?
        .into_iter()
        .filter_map(|(name, path)| parse_part_name(&name).map(|r| (r, path)))
        .collect();
    parts.sort();
    Ok(parts)
}

/// Opens `path` and checks its columns against `expected` (names and
/// types, in order).
fn open(
    path: &Path,
    expected: &SchemaRef,
) -> Result<ParquetRecordBatchReaderBuilder<File>, ReportError> {
    let file = File::open(path).map_err(ReportError::io(path))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(ReportError::parquet(path))?;
    let found = builder.schema();
    let problem = |problem: String| ReportError::Schema {
        path: path.to_path_buf(),
        problem,
    };
    for (i, want) in expected.fields().iter().enumerate() {
        let Some(got) = found.fields().get(i) else {
            return Err(problem(format!("column {} is missing", want.name())));
        };
        if got.name() != want.name() || got.data_type() != want.data_type() {
            return Err(problem(format!(
                "column {i} is {} {}, expected {} {}",
                got.name(),
                got.data_type(),
                want.name(),
                want.data_type()
            )));
        }
    }
    if let Some(extra) = found.fields().get(expected.fields().len()) {
        return Err(problem(format!("unexpected column {}", extra.name())));
    }
    Ok(builder)
}

fn fill(
    path: &Path,
    rows: &mut [RunRow],
    batch: &RecordBatch,
    expected: &SchemaRef,
) -> Result<(), ReportError> {
    let bad = |name: &str| ReportError::Schema {
        path: path.to_path_buf(),
        problem: format!("column {name} cannot be read as its schema type"),
    };
    for (field, array) in expected.fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        let text = array.as_string_opt::<i32>();
        let count = array.as_primitive_opt::<UInt64Type>();
        let value = array.as_primitive_opt::<arrow_array::types::Float64Type>();
        for (i, row) in rows.iter_mut().enumerate() {
            match (row.slot(name), text, count, value) {
                (Some(Slot::Text(v)), Some(a), _, _) => a.value(i).clone_into(v),
                (Some(Slot::Count(v)), _, Some(a), _) => *v = a.value(i),
                (Some(Slot::Value(v)), _, _, Some(a)) => *v = a.value(i),
                (Some(Slot::Maybe(v)), _, _, Some(a)) => {
                    *v = a.is_valid(i).then(|| a.value(i));
                }
                _ => return Err(bad(name)),
            }
        }
    }
    Ok(())
}

fn read_runs_file(path: &Path, scenario: &str, out: &mut Vec<RunRow>) -> Result<(), ReportError> {
    let expected = OutputTable::Runs.schema();
    let reader = open(path, &expected)?
        .build()
        .map_err(ReportError::parquet(path))?;
    for batch in reader {
        let batch = batch.map_err(|e| ReportError::Schema {
            path: path.to_path_buf(),
            problem: format!("cannot decode a row group: {e}"),
        })?;
        let mut rows = vec![RunRow::empty(scenario); batch.num_rows()];
        fill(path, &mut rows, &batch, &expected)?;
        out.append(&mut rows);
    }
    Ok(())
}

/// What a finished part's footer says: its rows and the sweep that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartMeta {
    /// Rows in the file.
    pub rows: u64,
    /// `hcp.scenario_hash`.
    pub scenario_hash: String,
    /// `hcp.master_seed`.
    pub seed: String,
    /// `hcp.git_revision`.
    pub git_revision: String,
}

impl PartMeta {
    /// How this part differs from a sweep of `scenario_hash`, `seed` and
    /// `git_revision` (the first of them that differs), or `None` when the
    /// sweep wrote it.
    pub fn differs_from(
        &self,
        scenario_hash: &str,
        seed: u64,
        git_revision: &str,
    ) -> Option<String> {
        if self.scenario_hash != scenario_hash {
            Some(format!(
                "scenario hash {}, not {scenario_hash}",
                self.scenario_hash
            ))
        } else if self.seed != seed.to_string() {
            Some(format!("seed {}, not {seed}", self.seed))
        } else if self.git_revision != git_revision {
            Some(format!(
                "code revision {}, not {git_revision}",
                self.git_revision
            ))
        } else {
            None
        }
    }
}

/// Reads a part's footer (not its data).
///
/// # Errors
/// A file that cannot be opened or is not Parquet (a truncated write).
pub fn part_meta(path: &Path) -> Result<PartMeta, ReportError> {
    let file = File::open(path).map_err(ReportError::io(path))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(ReportError::parquet(path))?;
    let meta = builder.metadata().file_metadata();
    let value = |key: &str| {
        meta.key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == key))
            .and_then(|e| e.value.clone())
            .unwrap_or_default()
    };
    Ok(PartMeta {
        rows: u64::try_from(meta.num_rows()).unwrap_or(0),
        scenario_hash: value("hcp.scenario_hash"),
        seed: value("hcp.master_seed"),
        git_revision: value("hcp.git_revision"),
    })
}

/// Finished `runs` parts of `scenario`, by replication.
///
/// # Errors
/// A scenario name that cannot be a partition value or a folder that
/// cannot be listed.
pub fn runs_parts(dir: &Path, scenario: &str) -> Result<Vec<(u64, PathBuf)>, ReportError> {
    check_name("scenario", scenario)?;
    parts(&runs_folder(dir, scenario))
}

/// Every row of every `runs` file under `dir`, by scenario (folder name
/// order), then replication, then the order written. An absent `runs`
/// folder gives no rows.
///
/// # Errors
/// A folder or file that cannot be read, or a file whose columns differ
/// from [`crate::schema::runs`] (the error names the file and the column).
pub fn read_runs(dir: &Path) -> Result<Vec<RunRow>, ReportError> {
    let mut out = Vec::new();
    for (name, folder) in entries(&dir.join(OutputTable::Runs.name()))? {
        let Some(scenario) = name.strip_prefix("scenario=") else {
            continue;
        };
        for (_, path) in parts(&folder)? {
            read_runs_file(&path, scenario, &mut out)?;
        }
    }
    Ok(out)
}

/// Replications of `scenario` whose `runs` file is present and complete
/// (its footer reads and its columns are the schema's). Temporary files
/// and unreadable parts are not done: a resumed sweep writes them again.
///
/// # Errors
/// A scenario name that cannot be a partition value, or a folder that
/// exists but cannot be listed.
pub fn done_replications(dir: &Path, scenario: &str) -> Result<BTreeSet<u64>, ReportError> {
    check_name("scenario", scenario)?;
    let expected = OutputTable::Runs.schema();
    Ok(parts(&runs_folder(dir, scenario))?
        .into_iter()
        .filter(|(_, path)| open(path, &expected).is_ok())
        .map(|(replication, _)| replication)
        .collect())
}
