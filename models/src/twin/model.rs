//! [`TwinModel`]: the twin as an engine model — its state (sites, ASIC
//! cohorts, GPU pools, jobs, books, the policy) and its events, in the
//! engine's total order: at one instant an interval boundary comes first,
//! then grid notices, finished switches and firmware batches, failures and
//! repairs, finished jobs, and arrivals last.

use std::sync::Arc;

use hcp_engine::queue::{Event, EventHandle, Rank};
use hcp_engine::rng::StreamRng;
use hcp_engine::simulation::{Model, Scheduler};
use hcp_engine::stats::LatencyHistogram;
use hcp_engine::time::{SimDuration, SimTime};
use rand::RngExt;

use super::asic_cohort::AsicCohort;
use super::gpu_pool::GpuPool;
use super::job_source::JobSource;
use super::jobs::{Jobs, SiteSignal};
use super::observe::Ids;
use super::p1::P1Group;
use super::result::TwinSink;
use super::timeline::JobTimeline;
use crate::ledger::{BillingMonths, Ledger};
use crate::plant::{PlantConfig, ReliabilityParams, SwitchingParams};
use crate::world::WorldTape;
use hcp_contract::{Action, DecisionLoop, GpuHourValue, Observation, PerGpuUse, WorkloadClass};

/// The twin's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TwinEvent {
    /// A market interval boundary.
    Interval,
    /// A grid event is announced (index into the tape's events).
    Notice(u32),
    /// Switch batches of a pool are due.
    SwitchDone(u32),
    /// Firmware batches of a cohort are due.
    AsicDone(u32),
    /// A device of a cohort fails.
    AsicFailure(u32),
    /// A device of a cohort is repaired.
    AsicRepair(u32),
    /// A GPU of a pool fails.
    GpuFailure(u32),
    /// A GPU of a pool is repaired.
    GpuRepair(u32),
    /// A job finishes: wakes the job timeline for its next completion.
    JobDone,
    /// A job arrives: wakes the job timeline for its next arrival.
    Arrival,
}

impl Event for TwinEvent {
    fn rank(&self) -> Rank {
        match self {
            TwinEvent::Interval => 0,
            TwinEvent::Notice(_) => 1,
            TwinEvent::SwitchDone(_) | TwinEvent::AsicDone(_) => 2,
            TwinEvent::AsicFailure(_)
            | TwinEvent::AsicRepair(_)
            | TwinEvent::GpuFailure(_)
            | TwinEvent::GpuRepair(_) => 3,
            TwinEvent::JobDone => 4,
            TwinEvent::Arrival => 5,
        }
    }
}

/// A site's fixed terms.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) name: String,
    pub(crate) node: String,
    /// Index into the tape's price nodes.
    pub(crate) price_series: usize,
    pub(crate) cap_w: f64,
    pub(crate) pue: f64,
    pub(crate) grid_events: bool,
}

/// A grid event the operator has heard of.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub(crate) event: usize,
    /// MW committed per site.
    pub(crate) committed_mw: Vec<f64>,
    /// Facility MW per site before the notice (the baseline).
    pub(crate) baseline_mw: Vec<f64>,
}

/// SLA outcomes as (met weight, total weight), P1 and P2.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct SlaTally {
    pub(crate) p1: (f64, f64),
    pub(crate) p2: (f64, f64),
}

/// Run-wide figures gathered on the way.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) clips: u64,
    pub(crate) warm: LatencyHistogram,
    pub(crate) cold: LatencyHistogram,
    pub(crate) max_committed_share: f64,
    pub(crate) cap_violations: u64,
    pub(crate) failures: [u64; 2],
    pub(crate) p1_requests: [f64; 3],
    pub(crate) hash_ths: f64,
    pub(crate) stock_hash_ths: f64,
    pub(crate) gpu_busy_s: f64,
    pub(crate) gpu_installed_s: f64,
    /// Month-to-date SLA.
    pub(crate) sla_month: SlaTally,
    /// Whole-run SLA.
    pub(crate) sla_run: SlaTally,
    /// Recent USD per GPU-hour by use, for observations.
    pub(crate) gpu_value: GpuHourValue,
    /// USD earned in the open interval by use.
    pub(crate) interval_usd: PerGpuUse<f64>,
}

impl Figures {
    /// Records an SLA outcome of `class` (P1 or P2; others have no SLA
    /// tally) of `weight`.
    pub(crate) fn sla(&mut self, class: WorkloadClass, weight: f64, met: bool) {
        for tally in [&mut self.sla_month, &mut self.sla_run] {
            let tally = match class {
                WorkloadClass::P1 => &mut tally.p1,
                WorkloadClass::P2 => &mut tally.p2,
                WorkloadClass::P3 | WorkloadClass::P4 => return,
            };
            tally.1 += weight;
            if met {
                tally.0 += weight;
            }
        }
    }
}

/// Per-site sums of the interval being closed (ASIC W·s, mining USD,
/// TH, GPU W·s by use), kept between intervals to save allocations.
#[derive(Debug, Default)]
pub(crate) struct Closing {
    pub(crate) asic_ws: Vec<f64>,
    pub(crate) mining: Vec<f64>,
    pub(crate) hash: Vec<f64>,
    pub(crate) gpu_ws: Vec<[f64; 7]>,
}

/// Per-device-group random streams.
pub(crate) struct Streams {
    pub(crate) asic_failures: Vec<StreamRng>,
    pub(crate) gpu_failures: Vec<StreamRng>,
    pub(crate) firmware: Vec<StreamRng>,
    pub(crate) switching: Vec<StreamRng>,
}

/// The twin.
pub(crate) struct TwinModel<S: TwinSink> {
    pub(crate) tape: Arc<WorldTape>,
    pub(crate) config: PlantConfig,
    pub(crate) switching: SwitchingParams,
    pub(crate) asic_reliability: ReliabilityParams,
    pub(crate) gpu_reliability: ReliabilityParams,
    pub(crate) step: SimDuration,
    pub(crate) intervals: u64,
    /// Index of the interval now open (== `intervals` once done).
    pub(crate) interval: u64,
    pub(crate) sites: Vec<Site>,
    pub(crate) cohorts: Vec<AsicCohort>,
    pub(crate) pools: Vec<GpuPool>,
    pub(crate) jobs: Jobs,
    pub(crate) job_source: JobSource,
    /// Job arrivals and completions, in the engine's order.
    pub(crate) timeline: JobTimeline,
    pub(crate) p1: Vec<P1Group>,
    /// Output tokens per H100-second of each customer's model (P2 billing).
    pub(crate) p2_tokens_per_s: Vec<f64>,
    pub(crate) p2_input_ratio: f64,
    pub(crate) signals: Vec<SiteSignal>,
    pub(crate) ledger: Ledger,
    pub(crate) month: usize,
    pub(crate) months: BillingMonths,
    /// The policy, its forecaster and subscriptions.
    pub(crate) decisions: DecisionLoop,
    pub(crate) observation: Observation,
    /// Positions of the ids actions name.
    pub(crate) ids: Ids,
    pub(crate) actions: Vec<Action>,
    pub(crate) notices: Vec<Notice>,
    /// MW offered per site per ancillary service.
    pub(crate) ancillary_mw: Vec<Vec<f64>>,
    pub(crate) asic_failure_events: Vec<Option<EventHandle>>,
    pub(crate) gpu_failure_events: Vec<Option<EventHandle>>,
    pub(crate) streams: Streams,
    pub(crate) figures: Figures,
    /// Highest committed facility W per site in the open interval.
    pub(crate) committed_max_w: Vec<f64>,
    /// Facility MW per site over the last interval.
    pub(crate) last_mw: Vec<f64>,
    /// Facility power of fast (ancillary-qualified) ASIC load over the
    /// last interval, MW, per site.
    pub(crate) fast_mw: Vec<f64>,
    /// Request rate of each P1 group in the open interval, per second.
    pub(crate) p1_rates: Vec<f64>,
    /// Per-site sums of the interval being closed, reused from one
    /// interval to the next.
    pub(crate) closing: Closing,
    pub(crate) sink: S,
}

impl<S: TwinSink + 'static> Model for TwinModel<S> {
    type Event = TwinEvent;

    fn start(&mut self, s: &mut Scheduler<TwinEvent>) {
        s.schedule_at(SimTime::ZERO, TwinEvent::Interval);
        for (i, event) in self.tape.grid.events.iter().enumerate() {
            if event.end() > SimTime::ZERO {
                s.schedule_at(event.notice_at, TwinEvent::Notice(i as u32));
            }
        }
        for c in 0..self.cohorts.len() {
            self.schedule_asic_failure(c, s);
        }
        for p in 0..self.pools.len() {
            self.schedule_gpu_failure(p, s);
        }
    }

    fn handle(&mut self, event: TwinEvent, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        match event {
            TwinEvent::Interval => self.on_interval(s),
            TwinEvent::Notice(i) => self.on_notice(i as usize, s),
            TwinEvent::SwitchDone(p) => {
                self.pools[p as usize].switches_done(now);
                self.jobs.placement.stale = true;
                self.dispatch_all(s);
            }
            TwinEvent::AsicDone(c) => {
                let cohort = &mut self.cohorts[c as usize];
                cohort.resumes_done(now);
                cohort.curtails_done(now);
            }
            TwinEvent::AsicFailure(c) => {
                let c = c as usize;
                self.asic_failure_events[c] = None;
                let rng = &mut self.streams.asic_failures[c];
                let pick = rng.random::<f64>();
                let repair = self.asic_reliability.repair_time(rng);
                self.cohorts[c].fail_one(now, pick);
                self.figures.failures[0] += 1;
                s.schedule_in(repair, TwinEvent::AsicRepair(c as u32));
                self.schedule_asic_failure(c, s);
            }
            TwinEvent::AsicRepair(c) => {
                let c = c as usize;
                self.cohorts[c].repair_one(now);
                if let Some(h) = self.asic_failure_events[c].take() {
                    s.cancel(h);
                }
                self.schedule_asic_failure(c, s);
            }
            TwinEvent::GpuFailure(p) => {
                let p = p as usize;
                self.gpu_failure_events[p] = None;
                let rng = &mut self.streams.gpu_failures[p];
                let pick = rng.random::<f64>();
                let repair = self.gpu_reliability.repair_time(rng);
                self.jobs.placement.stale = true;
                if let Some(use_) = self.pools[p].fail_one(now, pick) {
                    self.fit_jobs(p, use_, s);
                }
                self.figures.failures[1] += 1;
                s.schedule_in(repair, TwinEvent::GpuRepair(p as u32));
                self.schedule_gpu_failure(p, s);
            }
            TwinEvent::GpuRepair(p) => {
                let p = p as usize;
                self.pools[p].repair_one(now);
                if let Some(h) = self.gpu_failure_events[p].take() {
                    s.cancel(h);
                }
                self.schedule_gpu_failure(p, s);
            }
            TwinEvent::JobDone | TwinEvent::Arrival => self.on_job_event(event.rank(), s),
        }
        // Any event may have started a job that ends before the timeline's
        // next wake-up, or opened an interval of arrivals.
        let jobs = &self.jobs;
        self.timeline.ensure_wake(|c| jobs.completes(c), s);
    }
}

/// Time to the next failure among `devices` working devices, each failing
/// at the rate of `reliability` (exponential: failures are memoryless, so
/// the draw is simply redone whenever the count changes).
fn time_to_failure(
    rng: &mut StreamRng,
    devices: u32,
    reliability: &ReliabilityParams,
) -> Option<SimDuration> {
    let rate = f64::from(devices) * reliability.failure_rate_per_s();
    if rate <= 0.0 {
        return None;
    }
    let u: f64 = rng.random();
    SimDuration::try_from_secs_f64(-(1.0 - u).ln() / rate).ok()
}

impl<S: TwinSink + 'static> TwinModel<S> {
    fn schedule_asic_failure(&mut self, c: usize, s: &mut Scheduler<TwinEvent>) {
        let working = self.cohorts[c].working();
        if let Some(d) = time_to_failure(
            &mut self.streams.asic_failures[c],
            working,
            &self.asic_reliability,
        ) {
            self.asic_failure_events[c] =
                Some(s.schedule_cancellable_in(d, TwinEvent::AsicFailure(c as u32)));
        }
    }

    fn schedule_gpu_failure(&mut self, p: usize, s: &mut Scheduler<TwinEvent>) {
        let working = self.pools[p].working();
        if let Some(d) = time_to_failure(
            &mut self.streams.gpu_failures[p],
            working,
            &self.gpu_reliability,
        ) {
            self.gpu_failure_events[p] =
                Some(s.schedule_cancellable_in(d, TwinEvent::GpuFailure(p as u32)));
        }
    }
}
