//! The plant inside the fence: GPU specifications and power, inference throughput, the switching state machine and the P1 serving model.

pub mod gpu;
pub mod gpu_validation;
pub mod inference;
pub mod serving;
pub mod serving_sim;
pub mod switching;
