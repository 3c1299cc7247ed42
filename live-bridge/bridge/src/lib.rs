//! HCP Twin's live bridge: the policy that won the sweep, run against a
//! real fleet.
//!
//! An operator writes a bridge configuration ([`config`]): sites and their
//! caps, miners by address and firmware, feeds for prices and
//! hashprice, the policy exactly as a scenario names it, and safety limits.
//! The control loop ([`control`]) polls the devices, builds the contract's
//! [`Observation`](hcp_contract::Observation) from telemetry and feeds
//! ([`observe`], [`feeds`]), asks the policy through the contract's
//! [`DecisionLoop`](hcp_contract::DecisionLoop), passes its actions
//! through the safety envelope ([`envelope`]) and, only when armed
//! ([`arming`]), turns them into device commands for the miners ([`fleet`]). Every step
//! goes to the audit log ([`audit`]), which [`replay`] feeds back to the
//! policy to show it decides the same. The operator API ([`api`]) serves
//! health, status, Prometheus metrics ([`metrics`]), a live event stream
//! and the arm, disarm and emergency-stop calls ([`operator`]).

pub mod api;
pub mod arming;
pub mod audit;
pub mod clock;
pub mod config;
pub mod control;
pub mod envelope;
pub mod feeds;
pub mod fleet;
pub mod gpus;
pub mod metrics;
pub mod observe;
pub mod operator;
pub mod replay;
