//! Reading input series: CSV or Parquet files as column tables, with errors
//! that name the file, the line or row, the column and the problem.
//!
//! Every loader of the crate (replays, calibration, validation) goes through
//! [`Table`], so a user's own file gets the same checks and messages as the
//! series shipped in `data/`. Loaders reject gaps, duplicate timestamps,
//! unsorted rows and unknown columns unless the caller asked for an explicit
//! repair ([`GapRepair`]), which is then reported back as [`Repair`] records.

mod error;
mod parquet;
mod regular;
mod table;

pub use error::{DataError, Location};
pub use regular::{GapRepair, RegularData, Repair, regularize};
pub use table::Table;

use std::path::PathBuf;

/// The `data/` folder of this repository: the real series that validation,
/// calibration examples and replay scenarios use.
///
/// Resolved at build time from the crate's location; `hcp` lets users point
/// elsewhere with `--data`.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data"))
}
