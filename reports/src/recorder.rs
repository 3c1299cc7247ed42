//! [`RunRecorder`]: the sink a sweep hands the twin. Interval, switch and
//! clip records go straight into Arrow column builders (one growing buffer
//! per column, preallocated for the horizon), so a year of 5-minute
//! intervals at three sites (315,360 rows) costs a few tens of MB and no
//! allocation per row. Times are kept as UTC microseconds from the
//! scenario's epoch; names (sites) are looked up once from the plant.

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, StringBuilder, TimestampMicrosecondBuilder,
    UInt32Builder, UInt64Builder,
};
use chrono::NaiveDate;
use hcp_models::ledger::BillingMonths;
use hcp_models::twin::{ClipReason, ClipRecord, IntervalRecord, SwitchRecord, TwinSetup, TwinSink};

/// Float columns of `intervals`, after the key columns.
pub(crate) const INTERVAL_VALUES: usize = 21;

/// Interval columns being built.
#[derive(Debug)]
pub(crate) struct IntervalColumns {
    pub(crate) interval: UInt64Builder,
    pub(crate) time_utc: TimestampMicrosecondBuilder,
    pub(crate) site: UInt32Builder,
    pub(crate) site_name: StringBuilder,
    pub(crate) values: [Float64Builder; INTERVAL_VALUES],
    pub(crate) grid_event: BooleanBuilder,
    /// Jobs queued at the interval's end, P2, P3, P4.
    pub(crate) queued_jobs: [UInt64Builder; 3],
}

/// Switch columns being built.
#[derive(Debug, Default)]
pub(crate) struct SwitchColumns {
    pub(crate) time_utc: TimestampMicrosecondBuilder,
    pub(crate) pool: UInt32Builder,
    pub(crate) site: UInt32Builder,
    pub(crate) to_use: StringBuilder,
    pub(crate) gpus: UInt32Builder,
    pub(crate) cold: UInt32Builder,
    pub(crate) max_ms: Float64Builder,
    pub(crate) mean_ms: Float64Builder,
}

/// Clip columns being built.
#[derive(Debug, Default)]
pub(crate) struct ClipColumns {
    pub(crate) time_utc: TimestampMicrosecondBuilder,
    pub(crate) action: UInt32Builder,
    pub(crate) reason: StringBuilder,
    pub(crate) requested: Float64Builder,
    pub(crate) applied: Float64Builder,
}

/// Collects one run's interval, switch and clip records in columnar
/// builders; it is the [`TwinSink`] of a sweep's run.
#[derive(Debug)]
pub struct RunRecorder {
    pub(crate) epoch_us: i64,
    pub(crate) step_us: i64,
    pub(crate) site_names: Vec<String>,
    pub(crate) pool_site: Vec<u32>,
    /// First day of each billing month, days since 1970-01-01.
    pub(crate) month_starts: Vec<i32>,
    pub(crate) intervals: Option<IntervalColumns>,
    pub(crate) switches: SwitchColumns,
    pub(crate) clips: ClipColumns,
    /// Whether switches and clips are kept (and their tables written).
    pub(crate) events: bool,
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn micros_i64(us: u64) -> i64 {
    i64::try_from(us).unwrap_or(i64::MAX)
}

fn days_since_1970(year: i32, month: u32) -> i32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let unix = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days = (first - unix).num_days();
    i32::try_from(days).unwrap_or(i32::MIN)
}

/// Stable snake_case name of a clip reason (the serde name).
pub(crate) fn reason_name(reason: ClipReason) -> &'static str {
    match reason {
        ClipReason::UnknownIndex => "unknown_index",
        ClipReason::NotEnoughDevices => "not_enough_devices",
        ClipReason::PowerCap => "power_cap",
        ClipReason::PowerTarget => "power_target",
        ClipReason::Commitment => "commitment",
    }
}

impl RunRecorder {
    /// A recorder for one run of `setup`'s scenario. `intervals`: whether
    /// to keep the per-site per-interval table (off for large sweeps;
    /// switches and clips are always kept).
    pub fn new(setup: &TwinSetup, intervals: bool) -> RunRecorder {
        let horizon = setup.world().horizon();
        let plant = setup.plant();
        let months = BillingMonths::of(horizon);
        let rows = horizon.intervals().saturating_mul(plant.sites.len());
        let site_names: Vec<String> = plant.sites.iter().map(|s| s.name.clone()).collect();
        let name_bytes = site_names.iter().map(String::len).max().unwrap_or(0);
        RunRecorder {
            epoch_us: horizon.epoch.start().timestamp_micros(),
            step_us: micros_i64(horizon.step.as_micros()),
            pool_site: plant
                .sites
                .iter()
                .enumerate()
                .flat_map(|(s, site)| site.gpus.iter().map(move |_| index_u32(s)))
                .collect(),
            site_names,
            month_starts: (0..months.len())
                .filter_map(|m| months.label(m))
                .map(|(y, m)| days_since_1970(y, m))
                .collect(),
            intervals: intervals.then(|| IntervalColumns {
                interval: UInt64Builder::with_capacity(rows),
                time_utc: TimestampMicrosecondBuilder::with_capacity(rows),
                site: UInt32Builder::with_capacity(rows),
                site_name: StringBuilder::with_capacity(rows, rows.saturating_mul(name_bytes)),
                values: std::array::from_fn(|_| Float64Builder::with_capacity(rows)),
                grid_event: BooleanBuilder::with_capacity(rows),
                queued_jobs: std::array::from_fn(|_| UInt64Builder::with_capacity(rows)),
            }),
            switches: SwitchColumns::default(),
            clips: ClipColumns::default(),
            events: true,
        }
    }

    /// A recorder that keeps no intervals, switches or clips: the run
    /// leaves only its `runs` row and its invoices (the detail tables of a
    /// sweep are written for its first replications only).
    pub fn summary_only(setup: &TwinSetup) -> RunRecorder {
        RunRecorder {
            events: false,
            ..RunRecorder::new(setup, false)
        }
    }

    /// Whether the per-interval table is kept.
    pub fn keeps_intervals(&self) -> bool {
        self.intervals.is_some()
    }

    /// Interval rows recorded (0 when the table is not kept).
    pub fn interval_rows(&self) -> usize {
        self.intervals.as_ref().map_or(0, |c| c.interval.len())
    }

    /// Switch rows recorded.
    pub fn switch_rows(&self) -> usize {
        self.switches.pool.len()
    }

    /// Clip rows recorded.
    pub fn clip_rows(&self) -> usize {
        self.clips.action.len()
    }

    fn utc_us(&self, sim_us: u64) -> i64 {
        self.epoch_us.saturating_add(micros_i64(sim_us))
    }
}

impl TwinSink for RunRecorder {
    fn interval(&mut self, r: &IntervalRecord) {
        let time = self
            .epoch_us
            .saturating_add(micros_i64(r.interval).saturating_mul(self.step_us));
        let name = self.site_names.get(r.site).map_or("", String::as_str);
        let Some(c) = self.intervals.as_mut() else {
            return;
        };
        c.interval.append_value(r.interval);
        c.time_utc.append_value(time);
        c.site.append_value(index_u32(r.site));
        c.site_name.append_value(name);
        let [p1, p2, p3, p4, rental, idle, off] = r.gpu_mw;
        let [p1_usd, p2_usd, p3_usd, p4_usd, rental_usd] = r.ai_usd;
        let values = [
            r.price_usd_per_mwh,
            r.hashprice_usd_per_th_day,
            r.facility_mw,
            r.asic_mw,
            p1,
            p2,
            p3,
            p4,
            rental,
            idle,
            off,
            r.hashrate_phs,
            r.committed_mw_max,
            r.cap_mw,
            r.mining_usd,
            r.energy_usd,
            p1_usd,
            p2_usd,
            p3_usd,
            p4_usd,
            rental_usd,
        ];
        for (builder, value) in c.values.iter_mut().zip(values) {
            builder.append_value(value);
        }
        c.grid_event.append_value(r.grid_event);
        for (builder, jobs) in c.queued_jobs.iter_mut().zip(r.queued_jobs) {
            builder.append_value(jobs);
        }
    }

    fn switch(&mut self, r: &SwitchRecord) {
        if !self.events {
            return;
        }
        let time = self.utc_us(r.time_us);
        let site = self.pool_site.get(r.pool).copied().unwrap_or(u32::MAX);
        let c = &mut self.switches;
        c.time_utc.append_value(time);
        c.pool.append_value(index_u32(r.pool));
        c.site.append_value(site);
        c.to_use.append_value(r.to.name());
        c.gpus.append_value(r.gpus);
        c.cold.append_value(r.cold);
        c.max_ms.append_value(r.max_ms);
        c.mean_ms.append_value(r.mean_ms);
    }

    fn clip(&mut self, r: &ClipRecord) {
        if !self.events {
            return;
        }
        let time = self.utc_us(r.time_us);
        let c = &mut self.clips;
        c.time_utc.append_value(time);
        c.action.append_value(index_u32(r.action));
        c.reason.append_value(reason_name(r.reason));
        c.requested.append_value(r.requested);
        c.applied.append_value(r.applied);
    }
}
