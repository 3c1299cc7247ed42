//! Queueing models on the engine and the closed forms they must reproduce.
//!
//! This module is the engine's proof of correctness and its benchmark: an
//! M/M/c queue ([`mmc`]) built from a Poisson source and a FCFS station
//! ([`station`]), the same logic on a plain binary heap ([`baseline`]) and
//! with boxed, dynamically dispatched events ([`boxed`]), the
//! textbook results it is checked against ([`closed_form`]), and the
//! validation suite that compares them ([`validation`]). Nothing here knows of
//! mining or GPUs; later models reuse the closed forms (the P1 serving pool's
//! latency is an M/M/c question).

pub mod baseline;
pub mod boxed;
pub mod closed_form;
pub mod mmc;
pub mod station;
pub mod validation;

pub use baseline::run_mmc_baseline;
pub use boxed::run_mmc_boxed;
pub use closed_form::{MmcQueue, QueueError, erlang_b, erlang_c, pollaczek_khinchine_mean_wait};
pub use mmc::{MmcConfig, MmcEvent, MmcResult, MmcSystem, run_mmc};
pub use station::{ServiceTime, StationStats};
pub use validation::{Check, ValidationCase, standard_cases};
