//! The contract between an operator's plant and a switching policy — the
//! product's API boundary.
//!
//! [`Observation`] is what a policy may see, [`Action`] what it may ask
//! for, [`Policy`] the trait it implements, [`Forecaster`] the one seam
//! through which it sees ahead, and [`DecisionLoop`] the one piece of code
//! that decides when it is asked and feeds its forecaster. The twin
//! (`hcp-models`) builds observations from its state and applies the
//! actions; the live bridge builds the same observations from telemetry
//! and turns the same actions into device commands; the viewer reads them.
//! This crate depends on the engine's time types, serde and chrono only,
//! so a driver that uses it links none of the twin's data stack.
//!
//! Everything here is `Serialize + Deserialize` with stable names: a
//! logged observation read back is the same value, and a policy fed it
//! decides the same (docs/contract.md lists the fields). Sites, cohorts
//! and pools carry stable ids ([`SiteId`], [`CohortId`], [`PoolId`]);
//! actions name their target by id; readings the plant does not know are
//! `None`.
//!
//! Units: power in MW (sites) or W (devices), prices in USD per MWh
//! (energy), USD per TH/s per day (hashprice), USD per GPU-hour (rental),
//! rates in requests per second, times as simulated microseconds
//! ([`SimTime`]) plus the calendar instant.
//!
//! [`SimTime`]: hcp_engine::time::SimTime

mod action;
mod class;
mod decision;
mod economics;
mod forecast;
mod grid;
mod ids;
mod observation;

pub use action::Action;
pub use class::{GpuAllocation, GpuUse, PerGpuUse, PerJobClass, WorkloadClass};
pub use decision::{DecisionLoop, Occasion, Policy, Subscriptions, intervals_per_decision};
pub use economics::{GpuHourValue, MWH_PER_JTH_DAY, breakeven_usd_per_mwh};
pub use forecast::{Forecast, Forecaster, Persistence};
pub use grid::{GridEventKind, GridNotice, Payment};
pub use ids::{CohortId, PoolId, SiteId};
pub use observation::{
    AsicCohortSpec, AsicCohortView, GpuPoolView, MarketView, Observation, P1ModelView, PowerCurve,
    QueueView, SiteView, SlaView, Trigger,
};
