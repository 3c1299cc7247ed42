//! Helpers shared by the policies' integration tests: the reference fleet
//! over a few days, and one run of a policy in the twin.

// Each test file uses the helpers it needs.
#![allow(dead_code)]

use std::path::Path;

use hcp_contract::{Forecaster, Policy};
use hcp_engine::rng::RngStreams;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{MemorySink, RunResult, TwinSetup, run};
use hcp_models::world::WorldConfig;

/// The reference fleet over `days` days of the default world.
pub fn setup(days: u32) -> TwinSetup {
    let world = WorldConfig {
        days,
        ..WorldConfig::default()
    };
    TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap()
}

/// One run of `policy` on replication 0 of `seed`, its records kept.
pub fn play(
    setup: &TwinSetup,
    seed: u64,
    policy: Box<dyn Policy>,
    forecaster: Box<dyn Forecaster>,
) -> (RunResult, MemorySink) {
    let streams = RngStreams::new(seed, 0);
    let tape = setup.tape(&streams);
    run(
        setup,
        tape,
        &streams,
        policy,
        forecaster,
        MemorySink::default(),
    )
}
