//! The world and plant models of HCP Twin, on top of `hcp-engine`.
//!
//! This crate holds the world outside the fence — everything no policy can
//! change — as calibrated stochastic generators and as replays of real
//! series:
//!
//! - [`market`]: BTC/USD price, network hashrate and difficulty (blocks,
//!   retargets, halvings, fees), hashprice, GPU rental prices;
//! - [`grid`]: real-time spot prices per price node, demand-response and
//!   grid events, ancillary-service prices;
//! - [`demand`]: customers and their contracts, P1 request-rate streams,
//!   P2–P4 job arrivals;
//! - [`world`]: the scenario's exogenous *tape* — every process above
//!   generated once per (seed, replication) on a common time grid, so that
//!   every policy sees exactly the same world.
//!
//! and the plant inside it and the twin that plays a policy on both:
//!
//! - [`plant`]: sites and caps, ASIC and GPU specs, firmware, reliability,
//!   the GPU switching state machine, P1 serving;
//! - [`ledger`]: every dollar by stream, invoices, SLA credits;
//! - [`twin`]: the twin on the engine, which drives a policy through the
//!   contract crate (`hcp_contract`: observations, actions, the decision
//!   loop) and never lets it see the tape.
//!
//! Shared plumbing: [`data`] reads and checks input files (CSV or Parquet),
//! [`series`] holds regular time series on simulated time, [`describe`]
//! computes the descriptive statistics the validation compares, and
//! [`check`] is the record `hcp validate` prints.
//!
//! Every process draws only from its own named RNG stream
//! ([`hcp_engine::rng::StreamId`]); adding a process never changes another's
//! draws.

pub mod check;
pub mod data;
pub mod demand;
pub mod describe;
pub mod grid;
pub mod ledger;
pub mod market;
pub mod plant;
pub mod series;
pub mod twin;
pub mod world;
