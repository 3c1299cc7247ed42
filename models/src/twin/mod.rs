//! The twin: the engine, one replication's world tape and the plant,
//! driven by a policy through the contract crate (`hcp_contract`) and its
//! decision loop.
//!
//! ```text
//!   WorldTape ──prices, hashprice, P1 rates, grid events──┐
//!   JobSource ──P2–P4 arrivals, one interval at a time────┤
//!                                                         ▼
//!   engine (time, events) ──► TwinModel ──Observation──► Policy
//!                               │  ▲                       │
//!                               │  └──────Actions──────────┘
//!                               ├──► Ledger (every dollar by stream)
//!                               └──► TwinSink (interval, switch, clip records)
//! ```
//!
//! [`TwinSetup::prepare`] checks a scenario's world and plant sections
//! together (price nodes and the demand's GPU fleet come from the plant's
//! sites); [`run`] plays one (seed, replication) for one policy and returns
//! the books and the run's figures. Every policy of a sweep gets the same
//! tape and the same failure streams, so results are paired.

// Casts here are of bounded values: cohort, pool and slot indices (a plant
// has far fewer than 2^32 of each) and floors of non-negative, clamped
// device counts computed from power budgets.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

mod apply;
mod asic_cohort;
mod books;
mod clairvoyant;
mod fixed;
mod gpu_pool;
mod grid_settlement;
mod integral;
mod interval;
mod job_lifecycle;
mod job_source;
mod jobs;
mod model;
mod observe;
mod oracle;
mod p1;
mod placement;
mod power_cap;
mod prices;
mod result;
mod setup;
mod stepper;
mod timeline;
pub mod validation;

pub use clairvoyant::Clairvoyant;
pub use fixed::FixedPolicy;
pub use oracle::{OracleBound, oracle};
pub use result::{
    ClipReason, ClipRecord, IntervalRecord, JobFigures, MemorySink, NoSink, RunKey, RunResult,
    SwitchRecord, TwinSink,
};
pub use setup::{SHARED_JOBS_MAX_BYTES, TwinError, TwinSetup, run};
pub use stepper::TwinRun;
