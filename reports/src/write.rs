//! Writing one record batch as one Parquet file, atomically and
//! reproducibly.
//!
//! The file is written to `<name>.tmp` beside its final path (a leftover
//! from a killed run is truncated), flushed and synced, then renamed over
//! the final name and the folder synced, so a reader sees either no file
//! or a whole one. Bytes depend only on the batch and the
//! [`DatasetMeta`]: zstd level 3, `created_by` fixed to this crate's
//! version, no timestamps, key-value metadata in a fixed order.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::DatasetMeta;
use crate::error::ReportError;
use crate::schema::SCHEMA_VERSION;

/// The `created_by` string of every file.
pub(crate) const CREATED_BY: &str = concat!("hcp-reports ", env!("CARGO_PKG_VERSION"));

/// zstd level: fast to write, about a third smaller than snappy here.
const ZSTD_LEVEL: i32 = 3;

/// The key-value metadata of every file, in this order.
pub(crate) fn key_values(meta: &DatasetMeta) -> Vec<KeyValue> {
    vec![
        KeyValue::new("hcp.scenario_hash".into(), meta.scenario_hash.clone()),
        KeyValue::new("hcp.master_seed".into(), meta.master_seed.to_string()),
        KeyValue::new("hcp.crate_version".into(), meta.crate_version.clone()),
        KeyValue::new("hcp.git_revision".into(), meta.git_revision.clone()),
        KeyValue::new("hcp.schema_version".into(), SCHEMA_VERSION.to_owned()),
    ]
}

fn properties(meta: &DatasetMeta, path: &Path) -> Result<WriterProperties, ReportError> {
    let level = ZstdLevel::try_new(ZSTD_LEVEL).map_err(ReportError::parquet(path))?;
    Ok(WriterProperties::builder()
        .set_created_by(CREATED_BY.to_owned())
        .set_compression(Compression::ZSTD(level))
        .set_key_value_metadata(Some(key_values(meta)))
        .build())
}

/// The temporary file `path` is written through.
pub(crate) fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `batch` to `tmp` and syncs it.
fn write_synced(tmp: &Path, batch: &RecordBatch, meta: &DatasetMeta) -> Result<(), ReportError> {
    let file = File::create(tmp).map_err(ReportError::io(tmp))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties(meta, tmp)?))
        .map_err(ReportError::parquet(tmp))?;
    writer.write(batch).map_err(ReportError::parquet(tmp))?;
    let file = writer.into_inner().map_err(ReportError::parquet(tmp))?;
    file.sync_all().map_err(ReportError::io(tmp))
}

/// Writes `batch` to `path` (creating its folders) through a synced
/// temporary file and a rename; on failure the temporary file is removed
/// and an earlier file at `path` is left as it was.
pub(crate) fn write_atomic(
    path: &Path,
    batch: &RecordBatch,
    meta: &DatasetMeta,
) -> Result<(), ReportError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(folder).map_err(ReportError::io(folder))?;
    let tmp = temporary(path);
    let written = write_synced(&tmp, batch, meta)
        .and_then(|()| fs::rename(&tmp, path).map_err(ReportError::io(path)));
    if let Err(e) = written {
        // A full disk or a vanished folder: leave no partial file behind.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable once the folder's entry is synced; folders
    // cannot be opened for syncing on every platform, so this is best effort.
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}
