//! Sweep output of HCP Twin: a hive-partitioned Parquet dataset.
//!
//! A sweep plays every (scenario, replication, policy) through the twin;
//! this crate writes what each run leaves behind under an output folder:
//!
//! ```text
//! out/runs/scenario=<s>/part-r<replication:05>.parquet                 one row per policy
//! out/intervals/scenario=<s>/policy=<p>/part-r<replication:05>.parquet per site per interval
//! out/switches/scenario=<s>/policy=<p>/part-r<replication:05>.parquet  GPU switch batches
//! out/clips/scenario=<s>/policy=<p>/part-r<replication:05>.parquet     clipped actions
//! out/invoices/scenario=<s>/policy=<p>/part-r<replication:05>.parquet  per customer per month
//! ```
//!
//! [`RunRecorder`] is the run's [`TwinSink`](hcp_models::twin::TwinSink):
//! it appends interval, switch and clip records to Arrow builders as the
//! twin produces them. [`write_run_records`] writes one run's record
//! tables; [`write_runs`] writes one replication's `runs` file once every
//! policy of it is done, so the `runs` file marks a finished replication
//! ([`done_replications`]). Every file is written to `<name>.tmp`, synced
//! and renamed, and the same inputs give byte-identical files (zstd,
//! fixed `created_by`, metadata in a fixed order). Money is USD, energy MWh,
//! power MW, times UTC microseconds; docs/output.md documents every column.
//!
//! [`write_report`] reads such a folder back — its files only — and writes
//! the report under `out/report/`: figures (SVG and PNG), a self-contained
//! `index.html` and `summary.md` (see [`report`]). [`dataset`] reads it
//! back for a viewer: what is there ([`dataset::catalog`]), every runs row
//! ([`dataset::load_runs`]) and one run's detail tables
//! ([`dataset::read_run`]).

pub mod dataset;
mod error;
mod layout;
pub mod manifest;
mod read;
mod recorder;
mod records;
pub mod report;
mod runs;
pub mod schema;
pub mod status;
mod write;

pub use error::ReportError;
pub use layout::{OutputTable, part_path};
pub use read::{PartMeta, done_replications, part_meta, read_runs, runs_parts};
pub use recorder::RunRecorder;
pub use records::write_run_records;
pub use report::{ReportOutcome, write_report};
pub use runs::{RunRow, write_runs};

pub use hcp_models::twin::RunKey;

/// What every file of a dataset carries as Parquet key-value metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetMeta {
    /// Hash of the scenario's resolved configuration (`hcp.scenario_hash`).
    pub scenario_hash: String,
    /// The sweep's master seed (`hcp.master_seed`).
    pub master_seed: u64,
    /// Version of the `hcp` build that wrote the file (`hcp.crate_version`).
    pub crate_version: String,
    /// Git revision of that build (`hcp.git_revision`).
    pub git_revision: String,
}
