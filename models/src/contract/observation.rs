//! [`Observation`]: everything a policy may see at a decision epoch.
//!
//! The twin keeps one observation per run and refreshes it in place at each
//! epoch (no allocation once the run is going); the live bridge fills the
//! same type from telemetry. Vectors keep their order for the whole run, so
//! an index into `sites`, `asic_cohorts` or `gpu_pools` names the same
//! thing at every epoch and in [`Action`](super::Action)s.

use chrono::{DateTime, Utc};
use hcp_engine::time::SimTime;
use serde::Serialize;

use super::action::GpuAllocation;
use super::forecast::Forecast;
use crate::demand::WorkloadClass;
use crate::grid::{GridEventKind, Payment};
use crate::plant::AsicSpec;

/// Why the policy is being asked now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A scheduled decision at the start of a market interval.
    Interval,
    /// A grid event was announced (`GridNotice::id`).
    GridNotice {
        /// The event.
        event: u32,
    },
    /// A site's price crossed the subscribed spike level.
    PriceSpike {
        /// Index into `sites`.
        site: usize,
    },
    /// A job queue reached the subscribed length.
    QueueThreshold {
        /// The class.
        class: WorkloadClass,
    },
}

/// The whole view of one decision epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Simulated time (microseconds since the scenario start).
    pub time: SimTime,
    /// The same instant on the calendar.
    pub utc: DateTime<Utc>,
    /// Index of the current market interval.
    pub interval: u64,
    /// Market interval length, seconds.
    pub interval_s: f64,
    /// Why the policy is asked.
    pub trigger: Trigger,
    /// Market prices now.
    pub market: MarketView,
    /// Sites: price, cap, power, headroom.
    pub sites: Vec<SiteView>,
    /// Grid events announced and not yet over.
    pub grid_notices: Vec<GridNotice>,
    /// ASIC cohorts (identical devices at one site).
    pub asic_cohorts: Vec<AsicCohortView>,
    /// GPU pools (one model at one site).
    pub gpu_pools: Vec<GpuPoolView>,
    /// Job queues P2, P3, P4 (in that order).
    pub queues: Vec<QueueView>,
    /// P1 demand per served model, over the last interval.
    pub p1: Vec<P1ModelView>,
    /// Month-to-date SLA attainment per class (P1, P2).
    pub sla: Vec<SlaView>,
    /// The scenario's forecaster's view ahead, when the policy asked for one.
    pub forecast: Option<Forecast>,
}

impl Observation {
    /// An observation of nothing at `utc` (no sites, no devices), to be
    /// filled in.
    pub fn empty(utc: DateTime<Utc>) -> Observation {
        Observation {
            time: SimTime::ZERO,
            utc,
            interval: 0,
            interval_s: 0.0,
            trigger: Trigger::Interval,
            market: MarketView {
                btc_usd: 0.0,
                hashprice_usd_per_th_day: 0.0,
                network_hashrate_ehs: 0.0,
                gpu_rental_usd_per_gpu_hour: Vec::new(),
                ancillary_services: Vec::new(),
                pool_fee: 0.0,
                gpu_usd_per_gpu_hour: [0.0; 5],
            },
            sites: Vec::new(),
            grid_notices: Vec::new(),
            asic_cohorts: Vec::new(),
            gpu_pools: Vec::new(),
            queues: Vec::new(),
            p1: Vec::new(),
            sla: Vec::new(),
            forecast: None,
        }
    }
}

/// Market prices at the interval start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketView {
    /// BTC/USD.
    pub btc_usd: f64,
    /// Hashprice, USD per TH/s per day (before pool fee).
    pub hashprice_usd_per_th_day: f64,
    /// Network hashrate, EH/s.
    pub network_hashrate_ehs: f64,
    /// GPU rental prices: (GPU model, USD per GPU-hour).
    pub gpu_rental_usd_per_gpu_hour: Vec<(String, f64)>,
    /// Ancillary services on offer: (service, USD per MW per hour).
    pub ancillary_services: Vec<(String, f64)>,
    /// Mining pool fee (FPPS), fraction of the expected value.
    pub pool_fee: f64,
    /// What a GPU-hour has earned lately in each use — P1, P2, P3, P4,
    /// rental — USD per busy GPU-hour: the operator's own billing over about
    /// the last day (exponentially weighted; rental from the market price
    /// after occupancy and fee). Zero until a use has earned anything.
    pub gpu_usd_per_gpu_hour: [f64; 5],
}

/// One site now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteView {
    /// Site name.
    pub name: String,
    /// Price node.
    pub node: String,
    /// Spot price of the current interval, USD/MWh.
    pub price_usd_per_mwh: f64,
    /// Grid connection cap, MW (facility power).
    pub cap_mw: f64,
    /// Power usage effectiveness (facility ÷ IT power).
    pub pue: f64,
    /// Facility power the current settings commit, MW (devices at full
    /// draw, including devices still winding down).
    pub committed_mw: f64,
    /// `cap_mw − committed_mw`.
    pub headroom_mw: f64,
    /// Facility power over the last interval, MW (average).
    pub last_power_mw: f64,
    /// Whether the site takes part in grid events.
    pub grid_events: bool,
}

/// A grid event the operator has been told about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridNotice {
    /// Identifier used in `Action::DemandResponse`.
    pub id: u32,
    /// The kind.
    pub kind: GridEventKind,
    /// Start of the event or alert window.
    pub start: SimTime,
    /// End of it.
    pub end: SimTime,
    /// Terms.
    pub payment: Payment,
    /// MW committed so far, per site (in `sites` order).
    pub committed_mw: Vec<f64>,
}

/// Identical ASICs at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsicCohortView {
    /// Index into `sites`.
    pub site: usize,
    /// The model's public spec sheet: name, stock hashrate and power,
    /// the power-target curve (`spec.hashrate_th_at(w)`).
    pub spec: AsicSpec,
    /// Firmware name (`stock`, `luxos`).
    pub firmware: String,
    /// Devices installed.
    pub installed: u32,
    /// Devices failed (awaiting repair).
    pub failed: u32,
    /// Devices hashing or ramping up.
    pub on: u32,
    /// Devices still curtailing (drawing power until done).
    pub curtailing: u32,
    /// Power target per device, W.
    pub power_target_w: f64,
    /// Lowest and highest target the firmware allows, W.
    pub power_range_w: (f64, f64),
    /// Whether the firmware takes power targets.
    pub supports_power_target: bool,
    /// Hashrate per device at the current target, TH/s.
    pub hashrate_th: f64,
    /// Efficiency at the current target, J/TH.
    pub efficiency_j_per_th: f64,
    /// Standby power of a curtailed device, W.
    pub standby_w: f64,
}

/// GPUs of one model at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuPoolView {
    /// Index into `sites`.
    pub site: usize,
    /// GPU model (e.g. `H100`).
    pub gpu: String,
    /// GPUs installed.
    pub installed: u32,
    /// GPUs failed.
    pub failed: u32,
    /// Current allocation (GPUs still switching count towards their target).
    pub allocation: GpuAllocation,
    /// GPUs in a switch right now.
    pub switching: u32,
    /// GPUs busy with jobs per class P2, P3, P4 (fractional GPUs summed).
    pub busy: [f64; 3],
    /// Wall power per GPU at full load including its server share, W.
    pub max_power_per_gpu_w: f64,
    /// Job speed relative to an H100.
    pub job_speed: f64,
    /// Whether models are kept pre-warmed (fast switches).
    pub prewarmed: bool,
    /// Index of this GPU model's price in `market.gpu_rental_usd_per_gpu_hour`,
    /// if the market lists it.
    pub rental_price: Option<usize>,
}

/// One job queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueView {
    /// P2, P3 or P4.
    pub class: WorkloadClass,
    /// Jobs waiting.
    pub jobs: u32,
    /// GPUs they request in total.
    pub gpus: f64,
    /// Work waiting, GPU-hours at H100 speed.
    pub work_gpu_hours: f64,
    /// Wait of the oldest job, seconds.
    pub oldest_wait_s: f64,
    /// Whether arrivals are admitted.
    pub admitting: bool,
}

/// P1 demand for one served model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct P1ModelView {
    /// Model (e.g. `Llama-3.1-70B`).
    pub model: String,
    /// Requests per second over the last interval.
    pub rate_per_s: f64,
    /// H100-equivalent GPUs that serve this rate at the target utilisation.
    pub gpus_needed: f64,
    /// p99 wait over the last interval, ms.
    pub p99_wait_ms: f64,
}

/// Month-to-date SLA attainment of a class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaView {
    /// P1 or P2.
    pub class: WorkloadClass,
    /// Attainment, % (request-weighted for P1, jobs for P2).
    pub attainment_pct: f64,
}
