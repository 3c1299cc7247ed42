//! Reading Parquet files into a [`Table`].

use std::path::Path;

use super::error::DataError;
use super::table::Table;

/// Reads a Parquet file.
pub(crate) fn read(path: &Path) -> Result<Table, DataError> {
    Err(DataError::file(
        path,
        "Parquet input is not available in this build",
    ))
}
