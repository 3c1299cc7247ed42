//! HCP Twin's virtual fleet: miners and GPU servers that speak the real
//! devices' protocols on loopback, with the twin's plant models for
//! physics, so the live bridge's drivers — and third-party clients such as
//! `asic-rs` — can be tested and measured without hardware.
//!
//! Each virtual miner has its own loopback address (127.64.1.1 onward),
//! port 4028, and speaks its cohort's firmware ([`protocol`]); stock
//! Antminer and Braiins OS units also serve their web interface on port 80
//! ([`web`]). Power, hashrate, curtail/resume latencies, standby draw and
//! failures follow [`miner::MinerPhysics`]; time can run faster than wall
//! time ([`clock`]); faults can be set per device or drawn at random
//! ([`faults`]). This crate is a simulator: the drivers and the bridge
//! never link it (`tests/boundary.rs`).

pub mod bridge_config;
pub mod clock;
pub mod faults;
pub mod gpu_server;
pub mod inventory;
pub mod miner;
pub mod protocol;
pub mod rpc_server;
pub mod virtual_miner;
pub mod web;

pub use inventory::{FleetOptions, FleetPlan, RunningFleet, plan, start};
