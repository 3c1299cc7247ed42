//! What a twin run leaves behind: [`RunResult`] (the books and the run's
//! figures) and the [`TwinSink`] seam through which per-interval records,
//! switches and clipped actions stream out (to Parquet, a viewer, or
//! nowhere) without the twin holding them in memory.

use serde::Serialize;

use crate::ledger::{Invoice, LedgerSummary};
use hcp_contract::GpuUse;

/// What identifies one run of a sweep: the scenario, the policy, the
/// replication and the master seed it was drawn from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RunKey {
    /// Scenario name.
    pub scenario: String,
    /// Policy name.
    pub policy: String,
    /// Replication index.
    pub replication: u64,
    /// Master seed.
    pub seed: u64,
}

/// One site over one market interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalRecord {
    /// Interval index.
    pub interval: u64,
    /// Site index.
    pub site: usize,
    /// Spot price, USD/MWh.
    pub price_usd_per_mwh: f64,
    /// Hashprice, USD per TH/s per day.
    pub hashprice_usd_per_th_day: f64,
    /// Facility power (IT × PUE), MW, interval average.
    pub facility_mw: f64,
    /// ASIC IT power, MW, interval average.
    pub asic_mw: f64,
    /// GPU IT power by use (P1, P2, P3, P4, rental, idle incl. switching,
    /// off), MW, interval average.
    pub gpu_mw: [f64; 7],
    /// Hashrate delivered, PH/s, interval average.
    pub hashrate_phs: f64,
    /// Highest committed facility power during the interval, MW.
    pub committed_mw_max: f64,
    /// Grid connection cap, MW.
    pub cap_mw: f64,
    /// Mining revenue of the site, USD (PPS, net of pool fee).
    pub mining_usd: f64,
    /// Energy cost, USD.
    pub energy_usd: f64,
    /// GPU revenue booked in the interval by use (P1, P2, P3, P4, rental),
    /// USD, gross of credits, for the whole plant: set on site 0's record,
    /// zero on the others (AI usage is billed per customer, not per site).
    pub ai_usd: [f64; 5],
    /// Whether a grid event concerned the site at some time in the
    /// interval: the site takes part in grid events and an event (ERS
    /// deployment, 4CP alert window, emergency request) was announced
    /// before the interval's end and ended after its start — the span in
    /// which it stands among the observation's `grid_notices`.
    pub grid_event: bool,
    /// Jobs waiting in the plant's queues (P2, P3, P4) at the interval's
    /// end, for the whole plant: set on site 0's record, zero on the others.
    pub queued_jobs: [u64; 3],
}

/// GPUs of one pool starting a switch into a use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchRecord {
    /// Simulated time, µs.
    pub time_us: u64,
    /// Pool index.
    pub pool: usize,
    /// The use switched into.
    pub to: GpuUse,
    /// GPUs switched.
    pub gpus: u32,
    /// Of those, cold starts.
    pub cold: u32,
    /// Longest switch of the batch, ms (the batch is ready then).
    pub max_ms: f64,
    /// Mean switch time, ms.
    pub mean_ms: f64,
}

/// An action the plant did not carry out as asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipRecord {
    /// Simulated time, µs.
    pub time_us: u64,
    /// Index of the action in the policy's list.
    pub action: usize,
    /// What was clipped and why.
    pub reason: ClipReason,
    /// What was asked (devices, W or MW as the reason says).
    pub requested: f64,
    /// What was applied.
    pub applied: f64,
}

/// Why an action was clipped or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipReason {
    /// An index that names no cohort, pool, site, event or service.
    UnknownIndex,
    /// More devices than are in working order.
    NotEnoughDevices,
    /// The power cap: devices on (or a power target) reduced to fit.
    PowerCap,
    /// A power target outside the firmware's range, or on firmware
    /// without power targets.
    PowerTarget,
    /// A negative or non-finite MW figure, or more than the site can shed.
    Commitment,
}

/// Receives a run's records as they are produced. Every method has a
/// default that drops the record.
pub trait TwinSink {
    /// One site over one interval.
    fn interval(&mut self, record: &IntervalRecord) {
        let _ = record;
    }
    /// A switch batch starts.
    fn switch(&mut self, record: &SwitchRecord) {
        let _ = record;
    }
    /// An action was clipped.
    fn clip(&mut self, record: &ClipRecord) {
        let _ = record;
    }
}

/// Drops every record.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl TwinSink for NoSink {}

/// Keeps every record in memory (tests, small runs).
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    /// Interval records, in order.
    pub intervals: Vec<IntervalRecord>,
    /// Switch records.
    pub switches: Vec<SwitchRecord>,
    /// Clip records.
    pub clips: Vec<ClipRecord>,
}

impl TwinSink for MemorySink {
    fn interval(&mut self, record: &IntervalRecord) {
        self.intervals.push(record.clone());
    }
    fn switch(&mut self, record: &SwitchRecord) {
        self.switches.push(record.clone());
    }
    fn clip(&mut self, record: &ClipRecord) {
        self.clips.push(record.clone());
    }
}

/// Job counts of one class (P2, P3, P4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobFigures {
    /// Jobs that arrived.
    pub arrived: u64,
    /// Turned away (admission closed, queue full, or too large for any pool).
    pub rejected: u64,
    /// Finished.
    pub completed: u64,
    /// Preemptions (a job may be preempted more than once).
    pub preempted: u64,
    /// Finished after the deadline (P2).
    pub late: u64,
    /// Still queued or running at the end.
    pub unfinished: u64,
}

/// The figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    /// The policy's name.
    pub policy: String,
    /// Market intervals simulated.
    pub intervals: u64,
    /// Engine events handled.
    pub events: u64,
    /// Policy decisions taken.
    pub decisions: u64,
    /// The books.
    pub ledger: LedgerSummary,
    /// Per-customer monthly invoices.
    pub invoices: Vec<Invoice>,
    /// Jobs P2, P3, P4.
    pub jobs: [JobFigures; 3],
    /// P1 requests arrived, served and dropped.
    pub p1_requests: [f64; 3],
    /// GPUs switched (warm, cold).
    pub switches: [u64; 2],
    /// Warm switch time quantiles p50, p99, ms.
    pub switch_ms: [f64; 2],
    /// Actions clipped or refused.
    pub clips: u64,
    /// Highest committed facility power over cap, any site, any instant.
    pub max_committed_share_of_cap: f64,
    /// Intervals in which some site's average facility power exceeded its cap.
    pub cap_violations: u64,
    /// Share of installed ASIC hash capacity (at stock) delivered.
    pub asic_utilisation: f64,
    /// Share of installed GPU-time busy (P1 at its utilisation, jobs,
    /// rental occupancy).
    pub gpu_utilisation: f64,
    /// Device failures (ASICs, GPUs).
    pub failures: [u64; 2],
    /// SLA attainment over the run, %: P1 (request-weighted intervals
    /// within the p99 target) and P2 (jobs on time); 100 when none.
    pub sla_attainment_pct: [f64; 2],
}
