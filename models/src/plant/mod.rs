//! The plant inside the fence: ASIC specs and power-target curves, firmware latencies, device reliability and mining economics.

pub mod asic;
pub mod asic_validation;
pub mod firmware;
pub mod mining;
pub mod reliability;
