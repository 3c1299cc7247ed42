//! The contract between the operator's plant and a switching policy:
//! [`Observation`] (what a policy may see), [`Action`] (what it may ask
//! for) and the [`Policy`] trait, plus the [`Forecaster`] seam through which
//! alone a policy sees the future.
//!
//! This module is the whole surface a policy touches. The twin builds an
//! `Observation` at every decision epoch and applies the returned actions;
//! the live bridge builds the same `Observation` from telemetry and turns
//! the same actions into device commands. A policy therefore never reaches
//! into the simulator: anything it needs must be in the observation, and
//! anything it wants must be an action. Actions are requests: the plant
//! checks them against the power cap, device counts and firmware ranges,
//! clips what does not fit, and records every clip (see
//! `docs/contract.md`).
//!
//! Units: power in MW (sites) or W (devices), prices in USD per MWh
//! (energy), USD per TH/s per day (hashprice), USD per GPU-hour (rental),
//! rates in requests per second, times as simulated microseconds
//! ([`SimTime`]) plus the calendar instant.
//!
//! [`SimTime`]: hcp_engine::time::SimTime

mod action;
mod forecast;
mod observation;

pub use action::{Action, GpuAllocation, GpuUse};
pub use forecast::{Forecast, Forecaster, Persistence};
pub use observation::{
    AsicCohortView, GpuPoolView, GridNotice, MarketView, Observation, P1ModelView, QueueView,
    SiteView, SlaView, Trigger,
};

/// What a policy wants to be woken for, besides every market interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subscriptions {
    /// Decide at the first market interval start of every period of this
    /// many minutes (0, or anything up to the interval length: every
    /// interval). Minutes, not intervals, so a policy means the same on a
    /// 5- and a 15-minute market.
    pub every_minutes: u32,
    /// Decide when a grid event (demand response, 4CP alert) is announced.
    pub grid_notices: bool,
    /// Decide when a site's spot price crosses this level, USD/MWh
    /// (checked at every interval even between scheduled decisions).
    pub price_spike_usd_per_mwh: Option<f64>,
    /// Decide when a job queue (P2–P4) reaches this many jobs.
    pub queue_threshold_jobs: Option<u32>,
    /// Steps ahead the policy wants in [`Observation::forecast`] (0: none).
    pub forecast_steps: u32,
}

impl Default for Subscriptions {
    /// Every interval, grid notices on, no other triggers, no forecast.
    fn default() -> Self {
        Subscriptions {
            every_minutes: 0,
            grid_notices: true,
            price_spike_usd_per_mwh: None,
            queue_threshold_jobs: None,
            forecast_steps: 0,
        }
    }
}

/// A switching policy: reads an [`Observation`], returns [`Action`]s.
///
/// The same object runs in the twin and in the live bridge, so it must not
/// depend on anything but its inputs: no wall clock, no global state, no
/// unseeded randomness (a policy that randomises owns a generator seeded in
/// its constructor).
pub trait Policy: Send {
    /// A short stable name (`mining-only`, `breakeven`, …).
    fn name(&self) -> &str;

    /// The decision epochs the policy wants; read once before the run.
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::default()
    }

    /// Decides at one epoch: pushes the actions to take now onto `actions`
    /// (empty on entry). Devices not named keep their current setting.
    fn decide(&mut self, observation: &Observation, actions: &mut Vec<Action>);
}
