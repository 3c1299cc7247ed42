//! The `runs` table: [`RunRow`], one row per (scenario, replication,
//! policy) with the run's books and figures, and [`write_runs`].
//!
//! Each column is bound to its field by name in one place
//! ([`RunRow::slot`]), which both the writer and the reader go through;
//! the column order and types come from [`crate::schema::runs`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::DataType;
use hcp_models::ledger::Stream;
use hcp_models::twin::{JobFigures, RunResult};
use hcp_scenarios::sweep::RunFigures;
use serde::Serialize;

use crate::error::ReportError;
use crate::layout::{OutputTable, part_path};
use crate::schema::{self, JOB_CLASSES};
use crate::write::write_atomic;
use crate::{DatasetMeta, RunKey};

/// One row of `runs`: the key of a run and what it earned and did.
/// Money is USD, energy MWh, shares 0–1 unless named `_pct`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Scenario name (the partition key; not a column in the file).
    pub scenario: String,
    /// Policy name.
    pub policy: String,
    /// Replication index.
    pub replication: u64,
    /// The replication's seed.
    pub seed: u64,
    /// Revenue less costs.
    pub profit_usd: f64,
    /// Sum of the revenue streams.
    pub revenue_usd: f64,
    /// Sum of the cost streams (positive amounts).
    pub costs_usd: f64,
    /// Total of each money stream, indexed by [`Stream::index`] (costs as
    /// positive amounts); column `<Stream::name()>_usd`.
    pub streams_usd: [f64; 10],
    /// BTC mined.
    pub btc: f64,
    /// Energy bought at all sites.
    pub energy_mwh: f64,
    /// P1 requests served ÷ arrived, % (`None` without P1 requests).
    pub p1_served_pct: Option<f64>,
    /// P1 SLA attainment over the run, % of requests in intervals whose
    /// p99 wait met the customer's target.
    pub p1_sla_pct: Option<f64>,
    /// P2 jobs finished by their deadline ÷ finished, % (`None` when no
    /// P2 job finished).
    pub p2_on_time_pct: Option<f64>,
    /// Lowest SLA attainment on any invoice (customer-month), % (`None`
    /// when no invoice has SLA outcomes).
    pub sla_attainment_min_pct: Option<f64>,
    /// Job counts of P2, P3, P4.
    pub jobs: [JobFigures; 3],
    /// Market intervals simulated.
    pub intervals: u64,
    /// Policy decisions taken.
    pub decisions: u64,
    /// GPUs switched warm.
    pub gpu_switches_warm: u64,
    /// GPUs switched from cold.
    pub gpu_switches_cold: u64,
    /// Warm switch time p50, ms.
    pub switch_p50_ms: f64,
    /// Warm switch time p99, ms.
    pub switch_p99_ms: f64,
    /// Actions clipped or refused.
    pub clips: u64,
    /// Intervals in which a site's average facility power exceeded its cap.
    pub cap_violations: u64,
    /// ASIC failures.
    pub asic_failures: u64,
    /// GPU failures.
    pub gpu_failures: u64,
    /// Highest committed facility power ÷ cap, any site, any instant.
    pub max_committed_share_of_cap: f64,
    /// Share of installed ASIC hash capacity (at stock) delivered, 0–1.
    pub asic_utilisation: f64,
    /// Share of installed GPU-time busy, 0–1.
    pub gpu_utilisation: f64,
    /// Profit as % of the oracle's on the same tape (set by the sweep).
    pub pct_of_oracle: Option<f64>,
    /// Oracle profit less this policy's, USD (set by the sweep).
    pub regret_usd: Option<f64>,
}

/// A typed reference to one field of a [`RunRow`].
pub(crate) enum Slot<'a> {
    Text(&'a mut String),
    Count(&'a mut u64),
    Value(&'a mut f64),
    Maybe(&'a mut Option<f64>),
}

fn pct(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| 100.0 * part / whole)
}

impl RunRow {
    /// The row of one run: `key` and the figures of `result`, measured
    /// against the oracle's bound `oracle_usd` on the same tape when known.
    pub fn from_result(key: &RunKey, result: &RunResult, oracle_usd: Option<f64>) -> RunRow {
        let books = &result.ledger;
        let [arrived, served, _] = result.p1_requests;
        let p2 = result.jobs[0];
        RunRow {
            scenario: key.scenario.clone(),
            policy: key.policy.clone(),
            replication: key.replication,
            seed: key.seed,
            profit_usd: books.profit_usd,
            revenue_usd: books.revenue_usd,
            costs_usd: books.costs_usd,
            streams_usd: Stream::ALL.map(|s| books.total(s)),
            btc: books.btc,
            energy_mwh: books.energy_mwh_total,
            p1_served_pct: pct(served, arrived),
            p1_sla_pct: Some(result.sla_attainment_pct[0]),
            p2_on_time_pct: pct(
                p2.completed.saturating_sub(p2.late) as f64,
                p2.completed as f64,
            ),
            sla_attainment_min_pct: result
                .invoices
                .iter()
                .filter_map(|i| i.attainment_pct)
                .reduce(f64::min),
            jobs: result.jobs,
            intervals: result.intervals,
            decisions: result.decisions,
            gpu_switches_warm: result.switches[0],
            gpu_switches_cold: result.switches[1],
            switch_p50_ms: result.switch_ms[0],
            switch_p99_ms: result.switch_ms[1],
            clips: result.clips,
            cap_violations: result.cap_violations,
            asic_failures: result.failures[0],
            gpu_failures: result.failures[1],
            max_committed_share_of_cap: result.max_committed_share_of_cap,
            asic_utilisation: result.asic_utilisation,
            gpu_utilisation: result.gpu_utilisation,
            pct_of_oracle: oracle_usd.and_then(|o| pct(books.profit_usd, o)),
            regret_usd: oracle_usd.map(|o| o - books.profit_usd),
        }
    }

    /// The figures [`hcp_scenarios::sweep::summarise`] reads, for a run of
    /// `days` simulated days (for switches per day).
    pub fn figures(&self, days: f64) -> RunFigures {
        RunFigures {
            key: RunKey {
                scenario: self.scenario.clone(),
                policy: self.policy.clone(),
                replication: self.replication,
                seed: self.seed,
            },
            profit_usd: self.profit_usd,
            streams_usd: self.streams_usd,
            energy_mwh: self.energy_mwh,
            sla_pct: [
                self.p1_sla_pct.unwrap_or(100.0),
                self.p2_on_time_pct.unwrap_or(100.0),
            ],
            utilisation: [self.asic_utilisation, self.gpu_utilisation],
            switches_per_day: (self.gpu_switches_warm + self.gpu_switches_cold) as f64
                / days.max(1e-9),
            clips: self.clips,
            oracle_usd: self.regret_usd.map(|r| self.profit_usd + r),
        }
    }

    /// A row with every field empty, for the reader to fill.
    pub(crate) fn empty(scenario: &str) -> RunRow {
        let jobs = JobFigures {
            arrived: 0,
            rejected: 0,
            completed: 0,
            preempted: 0,
            late: 0,
            unfinished: 0,
        };
        RunRow {
            scenario: scenario.to_owned(),
            policy: String::new(),
            replication: 0,
            seed: 0,
            profit_usd: 0.0,
            revenue_usd: 0.0,
            costs_usd: 0.0,
            streams_usd: [0.0; 10],
            btc: 0.0,
            energy_mwh: 0.0,
            p1_served_pct: None,
            p1_sla_pct: None,
            p2_on_time_pct: None,
            sla_attainment_min_pct: None,
            jobs: [jobs; 3],
            intervals: 0,
            decisions: 0,
            gpu_switches_warm: 0,
            gpu_switches_cold: 0,
            switch_p50_ms: 0.0,
            switch_p99_ms: 0.0,
            clips: 0,
            cap_violations: 0,
            asic_failures: 0,
            gpu_failures: 0,
            max_committed_share_of_cap: 0.0,
            asic_utilisation: 0.0,
            gpu_utilisation: 0.0,
            pct_of_oracle: None,
            regret_usd: None,
        }
    }

    /// The field behind column `name` of `runs`.
    pub(crate) fn slot(&mut self, name: &str) -> Option<Slot<'_>> {
        use Slot::{Count, Maybe, Text, Value};
        Some(match name {
            "policy" => Text(&mut self.policy),
            "replication" => Count(&mut self.replication),
            "seed" => Count(&mut self.seed),
            "profit_usd" => Value(&mut self.profit_usd),
            "revenue_usd" => Value(&mut self.revenue_usd),
            "costs_usd" => Value(&mut self.costs_usd),
            "btc" => Value(&mut self.btc),
            "energy_mwh" => Value(&mut self.energy_mwh),
            "p1_served_pct" => Maybe(&mut self.p1_served_pct),
            "p1_sla_pct" => Maybe(&mut self.p1_sla_pct),
            "p2_on_time_pct" => Maybe(&mut self.p2_on_time_pct),
            "sla_attainment_min_pct" => Maybe(&mut self.sla_attainment_min_pct),
            "intervals" => Count(&mut self.intervals),
            "decisions" => Count(&mut self.decisions),
            "gpu_switches_warm" => Count(&mut self.gpu_switches_warm),
            "gpu_switches_cold" => Count(&mut self.gpu_switches_cold),
            "switch_p50_ms" => Value(&mut self.switch_p50_ms),
            "switch_p99_ms" => Value(&mut self.switch_p99_ms),
            "clips" => Count(&mut self.clips),
            "cap_violations" => Count(&mut self.cap_violations),
            "asic_failures" => Count(&mut self.asic_failures),
            "gpu_failures" => Count(&mut self.gpu_failures),
            "max_committed_share_of_cap" => Value(&mut self.max_committed_share_of_cap),
            "asic_utilisation" => Value(&mut self.asic_utilisation),
            "gpu_utilisation" => Value(&mut self.gpu_utilisation),
            "pct_of_oracle" => Maybe(&mut self.pct_of_oracle),
            "regret_usd" => Maybe(&mut self.regret_usd),
            _ => return self.stream_or_job_slot(name),
        })
    }

    fn stream_or_job_slot(&mut self, name: &str) -> Option<Slot<'_>> {
        if let Some(stream) = Stream::ALL
            .into_iter()
            .find(|&s| schema::stream_column(s) == name)
        {
            return Some(Slot::Value(&mut self.streams_usd[stream.index()]));
        }
        let (class, figure) = name.split_once("_jobs_")?;
        let jobs = &mut self.jobs[JOB_CLASSES.iter().position(|&c| c == class)?];
        Some(Slot::Count(match figure {
            "arrived" => &mut jobs.arrived,
            "rejected" => &mut jobs.rejected,
            "completed" => &mut jobs.completed,
            "preempted" => &mut jobs.preempted,
            "late" => &mut jobs.late,
            "unfinished" => &mut jobs.unfinished,
            _ => return None,
        }))
    }
}

fn unbound(path: &Path, column: &str) -> ReportError {
    ReportError::Schema {
        path: path.to_path_buf(),
        problem: format!("column {column} is bound to no field of the runs row"),
    }
}

/// Column `name` of `rows` (mutable only because fields are reached
/// through [`RunRow::slot`]).
fn column(
    path: &Path,
    name: &str,
    data_type: &DataType,
    rows: &mut [RunRow],
) -> Result<ArrayRef, ReportError> {
    let n = rows.len();
    let array: ArrayRef = match data_type {
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(n, n * 16);
            for row in rows.iter_mut() {
                let Some(Slot::Text(v)) = row.slot(name) else {
                    return Err(unbound(path, name));
                };
                b.append_value(v);
            }
            Arc::new(b.finish())
        }
        DataType::UInt64 => {
            let mut b = UInt64Builder::with_capacity(n);
            for row in rows.iter_mut() {
                let Some(Slot::Count(v)) = row.slot(name) else {
                    return Err(unbound(path, name));
                };
                b.append_value(*v);
            }
            Arc::new(b.finish())
        }
        _ => {
            let mut b = Float64Builder::with_capacity(n);
            for row in rows.iter_mut() {
                match row.slot(name) {
                    Some(Slot::Value(v)) => b.append_value(*v),
                    Some(Slot::Maybe(v)) => b.append_option(*v),
                    _ => return Err(unbound(path, name)),
                }
            }
            Arc::new(b.finish())
        }
    };
    Ok(array)
}

/// Writes one replication's `runs` file,
/// `<dir>/runs/scenario=<s>/part-r<replication:05>.parquet`: one row per
/// policy, in the order given. Write it after every policy's record tables
/// ([`crate::write_run_records`]): its presence marks the replication done.
///
/// # Errors
/// A row of another scenario or replication, a scenario name that cannot
/// be a partition value, or a folder or file that cannot be written (the
/// error names the path and the OS error).
pub fn write_runs(
    dir: &Path,
    scenario: &str,
    replication: u64,
    rows: &[RunRow],
    meta: &DatasetMeta,
) -> Result<PathBuf, ReportError> {
    if let Some(row) = rows
        .iter()
        .find(|r| r.scenario != scenario || r.replication != replication)
    {
        return Err(ReportError::Mismatch {
            problem: format!(
                "runs row of policy {} is for scenario {} replication {}, not scenario {scenario} replication {replication}",
                row.policy, row.scenario, row.replication
            ),
        });
    }
    let path = part_path(dir, OutputTable::Runs, scenario, "", replication)?;
    let schema = schema::runs();
    let mut scratch = rows.to_vec();
    let columns = schema
        .fields()
        .iter()
        .map(|f| column(&path, f.name(), f.data_type(), &mut scratch))
        .collect::<Result<Vec<_>, _>>()?;
    let batch = RecordBatch::try_new(schema, columns).map_err(|e| ReportError::Schema {
        path: path.clone(),
        problem: e.to_string(),
    })?;
    write_atomic(&path, &batch, meta)?;
    Ok(path)
}
