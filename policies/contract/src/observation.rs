//! [`Observation`]: everything a policy may see at a decision epoch.
//!
//! The twin keeps one observation per run and refreshes it in place at each
//! epoch (no allocation once the run is going); the live bridge fills the
//! same type from telemetry. Sites, cohorts and pools carry stable ids
//! ([`SiteId`], [`CohortId`], [`PoolId`]): a policy that keeps state keys
//! it by id, and its actions name their target by id. The lists keep a
//! fixed order within one run of the twin, but nothing may rely on a
//! position across observations of a live fleet, which gains and loses
//! pools.
//!
//! What the plant does not know is said, not guessed: a price that is
//! unknown or stale beyond its feed's limit is `None` (with the age of the
//! last reading beside it), and devices that did not answer are counted in
//! `unresponsive`. The derived figures a policy relies on (headroom, an
//! ASIC cohort's allowed range, hashrate and J/TH at its target) are set
//! by the constructors and setters here, which every driver calls, so they
//! mean the same in the twin and on a live fleet.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hcp_engine::time::SimTime;
use serde::{Deserialize, Serialize};

use crate::class::{GpuAllocation, PerGpuUse, PerJobClass, WorkloadClass};
use crate::forecast::Forecast;
use crate::grid::GridNotice;
use crate::ids::{CohortId, PoolId, SiteId};

/// Why the policy is being asked now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
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
        /// The site.
        site: SiteId,
    },
    /// A job queue reached the subscribed length.
    QueueThreshold {
        /// The class.
        class: WorkloadClass,
    },
}

/// The whole view of one decision epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Job queues by class.
    pub queues: PerJobClass<QueueView>,
    /// P1 demand per served model, over the last interval.
    pub p1: Vec<P1ModelView>,
    /// Month-to-date SLA attainment.
    pub sla: SlaView,
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
            market: MarketView::default(),
            sites: Vec::new(),
            grid_notices: Vec::new(),
            asic_cohorts: Vec::new(),
            gpu_pools: Vec::new(),
            queues: PerJobClass::default(),
            p1: Vec::new(),
            sla: SlaView::default(),
            forecast: None,
        }
    }

    /// Position of a site in `sites`, for this observation only.
    pub fn site_index(&self, id: &SiteId) -> Option<usize> {
        self.sites.iter().position(|s| &s.id == id)
    }

    /// The site `id`.
    pub fn site(&self, id: &SiteId) -> Option<&SiteView> {
        self.sites.iter().find(|s| &s.id == id)
    }

    /// The ASIC cohort `id`.
    pub fn cohort(&self, id: &CohortId) -> Option<&AsicCohortView> {
        self.asic_cohorts.iter().find(|c| &c.id == id)
    }

    /// The GPU pool `id`.
    pub fn pool(&self, id: &PoolId) -> Option<&GpuPoolView> {
        self.gpu_pools.iter().find(|p| &p.id == id)
    }
}

/// Market prices at the interval start.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketView {
    /// BTC/USD (`None`: unknown or stale).
    pub btc_usd: Option<f64>,
    /// Hashprice, USD per TH/s per day, before pool fee (`None`: unknown or
    /// stale).
    pub hashprice_usd_per_th_day: Option<f64>,
    /// Network hashrate, EH/s (`None`: unknown or stale).
    pub network_hashrate_ehs: Option<f64>,
    /// Age of the BTC, hashprice and network readings, seconds (0 in the
    /// twin, whose tape is always current).
    pub age_s: f64,
    /// GPU rental prices by GPU model, USD per GPU-hour (a model the market
    /// does not list is absent).
    pub gpu_rental_usd_per_gpu_hour: BTreeMap<String, f64>,
    /// Ancillary services on offer by name, USD per MW per hour.
    pub ancillary_services: BTreeMap<String, f64>,
    /// Mining pool fee (FPPS), fraction of the expected value.
    pub pool_fee: f64,
    /// What a busy GPU-hour has earned lately in each use, USD: the
    /// operator's own billing over about the last day ([`GpuHourValue`];
    /// rental from the market price after occupancy and fee). `None` until
    /// a use has run.
    ///
    /// [`GpuHourValue`]: crate::GpuHourValue
    pub gpu_usd_per_gpu_hour: PerGpuUse<Option<f64>>,
}

impl MarketView {
    /// The rental price that applies to `pool`, USD per GPU-hour.
    pub fn rental_price(&self, pool: &GpuPoolView) -> Option<f64> {
        let market = pool.rental_market.as_ref()?;
        self.gpu_rental_usd_per_gpu_hour.get(market).copied()
    }
}

/// One site now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteView {
    /// The site's stable id (its name).
    pub id: SiteId,
    /// Price node.
    pub node: String,
    /// Spot price of the current interval, USD/MWh (`None`: unknown or
    /// stale).
    pub price_usd_per_mwh: Option<f64>,
    /// Age of the price reading, seconds (0 in the twin).
    pub price_age_s: f64,
    /// Grid connection cap, MW (facility power).
    pub cap_mw: f64,
    /// Power usage effectiveness (facility ÷ IT power).
    pub pue: f64,
    /// Facility power the current settings commit, MW (devices at full
    /// draw, including devices still winding down and devices that did not
    /// answer).
    pub committed_mw: f64,
    /// `cap_mw − committed_mw`.
    pub headroom_mw: f64,
    /// Facility power over the last interval, MW (average).
    pub last_power_mw: f64,
    /// Whether the site takes part in grid events.
    pub grid_events: bool,
}

impl SiteView {
    /// A site with nothing committed yet and no price known.
    pub fn new(id: SiteId, node: String, cap_mw: f64, pue: f64, grid_events: bool) -> SiteView {
        let mut site = SiteView {
            id,
            node,
            price_usd_per_mwh: None,
            price_age_s: 0.0,
            cap_mw,
            pue,
            committed_mw: 0.0,
            headroom_mw: 0.0,
            last_power_mw: 0.0,
            grid_events,
        };
        site.set_committed(0.0);
        site
    }

    /// Sets the committed facility power, MW, and the headroom with it.
    pub fn set_committed(&mut self, committed_mw: f64) {
        self.committed_mw = committed_mw;
        self.headroom_mw = self.cap_mw - committed_mw;
    }
}

/// An ASIC model's power-target curve, from its public spec sheet:
/// H(P) = H0 · (P/P0)^β on the window the firmware allows, with (H0, P0)
/// the stock point and 0 < β ≤ 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerCurve {
    /// Stock hashrate H0, TH/s.
    pub stock_hashrate_th: f64,
    /// Stock power P0 at the wall, W.
    pub stock_power_w: f64,
    /// Lowest power target custom firmware allows, W.
    pub min_power_w: f64,
    /// Highest power target custom firmware allows, W.
    pub max_power_w: f64,
    /// β (dimensionless, in (0, 1]).
    pub exponent: f64,
}

impl PowerCurve {
    /// `w` clamped into `[min_power_w, max_power_w]`, W.
    pub fn clamp_power_w(&self, w: f64) -> f64 {
        w.clamp(self.min_power_w, self.max_power_w)
    }

    /// Hashrate at power target `power_w` (clamped first), TH/s.
    pub fn hashrate_th_at(&self, power_w: f64) -> f64 {
        let p = self.clamp_power_w(power_w);
        self.stock_hashrate_th * (p / self.stock_power_w).powf(self.exponent)
    }

    /// Efficiency at power target `power_w` (clamped first), J/TH.
    pub fn efficiency_j_per_th_at(&self, power_w: f64) -> f64 {
        let p = self.clamp_power_w(power_w);
        p / self.hashrate_th_at(p)
    }
}

/// Devices installed less failed and unresponsive ones.
fn working(installed: u32, failed: u32, unresponsive: u32) -> u32 {
    installed
        .saturating_sub(failed)
        .saturating_sub(unresponsive)
}

/// Identical ASICs at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsicCohortView {
    /// The cohort's stable id (`site/model/firmware`).
    pub id: CohortId,
    /// The site it stands at.
    pub site: SiteId,
    /// ASIC model name (`S21`).
    pub model: String,
    /// Firmware name (`stock`, `luxos`).
    pub firmware: String,
    /// The model's power-target curve.
    pub curve: PowerCurve,
    /// Devices installed.
    pub installed: u32,
    /// Devices failed (awaiting repair).
    pub failed: u32,
    /// Devices that did not answer the last poll (state unknown; a driver
    /// counts them at full draw in the site's committed power). Always 0 in
    /// the twin.
    pub unresponsive: u32,
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

/// What an [`AsicCohortView`] is built from: the parts that do not change
/// while a run or a fleet stands.
#[derive(Debug, Clone, PartialEq)]
pub struct AsicCohortSpec {
    /// The site.
    pub site: SiteId,
    /// ASIC model name.
    pub model: String,
    /// Firmware name.
    pub firmware: String,
    /// The model's curve.
    pub curve: PowerCurve,
    /// Devices installed.
    pub installed: u32,
    /// Whether the firmware takes power targets (else it runs at stock).
    pub supports_power_target: bool,
    /// Standby power of a curtailed device, W.
    pub standby_w: f64,
}

impl AsicCohortView {
    /// The view of a cohort at `power_target_w` with nothing on: the id
    /// from site, model and firmware; the allowed range is the curve's
    /// window where the firmware takes targets and the stock power alone
    /// where it does not.
    pub fn new(spec: AsicCohortSpec, power_target_w: f64) -> AsicCohortView {
        let power_range_w = if spec.supports_power_target {
            (spec.curve.min_power_w, spec.curve.max_power_w)
        } else {
            (spec.curve.stock_power_w, spec.curve.stock_power_w)
        };
        let mut view = AsicCohortView {
            id: CohortId::of(&spec.site, &spec.model, &spec.firmware),
            site: spec.site,
            model: spec.model,
            firmware: spec.firmware,
            curve: spec.curve,
            installed: spec.installed,
            failed: 0,
            unresponsive: 0,
            on: 0,
            curtailing: 0,
            power_target_w,
            power_range_w,
            supports_power_target: spec.supports_power_target,
            hashrate_th: 0.0,
            efficiency_j_per_th: 0.0,
            standby_w: spec.standby_w,
        };
        view.set_target(power_target_w);
        view
    }

    /// Sets the power target, W, with the hashrate and J/TH it gives.
    pub fn set_target(&mut self, power_target_w: f64) {
        self.power_target_w = power_target_w;
        self.hashrate_th = self.curve.hashrate_th_at(power_target_w);
        self.efficiency_j_per_th = power_target_w / self.hashrate_th.max(1e-9);
    }

    /// Devices a policy may plan with: installed, less failed and
    /// unresponsive ones.
    pub fn working(&self) -> u32 {
        working(self.installed, self.failed, self.unresponsive)
    }
}

/// GPUs of one model at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuPoolView {
    /// The pool's stable id (`site/gpu`).
    pub id: PoolId,
    /// The site it stands at.
    pub site: SiteId,
    /// GPU model (e.g. `H100`).
    pub gpu: String,
    /// GPUs installed.
    pub installed: u32,
    /// GPUs failed.
    pub failed: u32,
    /// GPUs whose telemetry did not answer (always 0 in the twin).
    pub unresponsive: u32,
    /// Current allocation (GPUs still switching count towards their target).
    pub allocation: GpuAllocation,
    /// GPUs in a switch right now.
    pub switching: u32,
    /// GPUs busy with jobs per class (fractional GPUs summed).
    pub busy: PerJobClass<f64>,
    /// Wall power per GPU at full load including its server share, W.
    pub max_power_per_gpu_w: f64,
    /// Job speed relative to an H100.
    pub job_speed: f64,
    /// Whether models are kept pre-warmed (fast switches).
    pub prewarmed: bool,
    /// The GPU model whose rental price applies to this pool (a key of
    /// `market.gpu_rental_usd_per_gpu_hour`), if the market lists one.
    pub rental_market: Option<String>,
}

impl GpuPoolView {
    /// A pool with nothing allocated; the id from site and GPU model.
    pub fn new(
        site: SiteId,
        gpu: String,
        installed: u32,
        max_power_per_gpu_w: f64,
        job_speed: f64,
        prewarmed: bool,
    ) -> GpuPoolView {
        GpuPoolView {
            id: PoolId::of(&site, &gpu),
            site,
            gpu,
            installed,
            failed: 0,
            unresponsive: 0,
            allocation: GpuAllocation::default(),
            switching: 0,
            busy: PerJobClass::default(),
            max_power_per_gpu_w,
            job_speed,
            prewarmed,
            rental_market: None,
        }
    }

    /// GPUs a policy may plan with: installed, less failed and
    /// unresponsive ones.
    pub fn working(&self) -> u32 {
        working(self.installed, self.failed, self.unresponsive)
    }
}

/// One job queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueView {
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

impl Default for QueueView {
    /// An empty queue that admits.
    fn default() -> Self {
        QueueView {
            jobs: 0,
            gpus: 0.0,
            work_gpu_hours: 0.0,
            oldest_wait_s: 0.0,
            admitting: true,
        }
    }
}

/// P1 demand for one served model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P1ModelView {
    /// Model and token profile (e.g. `Llama-3.1-70B`).
    pub model: String,
    /// Requests per second over the last interval.
    pub rate_per_s: f64,
    /// H100-equivalent GPUs that serve this rate at the target utilisation.
    pub gpus_needed: f64,
    /// p99 wait over the last interval, ms (`None`: unbounded, the
    /// requests had no capacity to wait for).
    pub p99_wait_ms: Option<f64>,
}

/// Month-to-date SLA attainment, %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaView {
    /// P1, request-weighted.
    pub p1_pct: f64,
    /// P2, jobs finished by their deadline.
    pub p2_pct: f64,
}

impl Default for SlaView {
    /// 100 % of nothing yet.
    fn default() -> Self {
        SlaView {
            p1_pct: 100.0,
            p2_pct: 100.0,
        }
    }
}

impl SlaView {
    /// Attainment from (met, total) weights: 100 % while there is none.
    pub fn attainment_pct(met: f64, total: f64) -> f64 {
        if total > 0.0 {
            100.0 * met / total
        } else {
            100.0
        }
    }
}
