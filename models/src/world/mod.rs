//! The world tape: every exogenous process of a scenario — market, grid,
//! demand — generated (or replayed) once per (seed, replication) on one
//! time grid, so that every policy of a sweep sees exactly the same world
//! (common random numbers) and reads it as plain data.
//!
//! [`WorldConfig`] is the scenario's world section (TOML, defaults for
//! everything: the reference fleet's three price nodes, late-2025 market
//! state, the calibrated parameters of `models/params/`). [`World::prepare`]
//! checks it and loads any replayed series once; [`World::tape`] then
//! builds a [`WorldTape`] for each (seed, replication) without touching the
//! file system. Each process draws only from its own streams, so replaying
//! one process leaves every other process's draws unchanged.

mod config;
mod tape;

pub use config::{BtcReplay, MAX_DAYS, PriceReplay, ReplayConfig, WorldConfig, WorldError};
pub use tape::{MAX_JOBS_PER_DAY, TapeFootprint, World, WorldTape};
