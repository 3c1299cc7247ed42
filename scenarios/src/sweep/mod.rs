//! The Monte Carlo sweep: every policy of a scenario over replications of
//! its world, in parallel, with common random numbers — each replication's
//! tape is generated once and every policy plays it — and the paired
//! statistics that compare them.
//!
//! Results never depend on the thread count or on how replications are
//! sharded: each replication draws only from its own streams
//! (master seed, replication index), runs are collected in replication
//! order, and statistics are computed from that ordered list.

mod plan;
mod runner;
mod shard;
mod summary;

pub use plan::SweepPlan;
pub use runner::{ReplicationRuns, SweepOutput, SweepRun, forecaster_for, run_sweep};
pub use shard::{Shard, ShardError, ShardOrigin, ShardRequest, detect as detect_shard};
pub use summary::{
    BASELINE, CLAIRVOYANT, Estimate, PolicySummary, RegretSplit, RunFigures, Summary, summarise,
};
