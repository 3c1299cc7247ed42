//! Loading what a report needs from a sweep's folder, and only from its
//! Parquet files: every `runs` row of each scenario, and the `intervals`
//! of one detail replication per policy (the median one, see
//! [`ScenarioData::detail`]). What is odd or missing — gaps in the
//! replications, `.tmp` leftovers, unreadable files, another
//! `hcp.schema_version` — becomes a note in the report instead of an
//! error, so a partial or older dataset still gives what it can.
//!
//! The same loading serves the viewer through [`crate::dataset`]:
//! [`Intervals`] carries every column of an `intervals` file (the newer
//! ones as `Option`s, `None` for files of an older schema version), and
//! the runs can be loaded without the detail (`dataset::load_runs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcp_contract::GpuUse;

use super::frame::Frame;
use crate::error::ReportError;
use crate::layout::{OutputTable, parse_part_name};
use crate::read::entries;
use crate::runs::{RunRow, Slot};
use crate::schema::{self, JOB_CLASSES, REVENUE_USES, SCHEMA_VERSION};
use hcp_scenarios::sweep::BASELINE;

/// One site's series over the detail replication, interval by interval.
#[derive(Debug, Clone, Default)]
pub struct SiteSeries {
    /// Site name.
    pub name: String,
    /// Interval starts, µs since 1970 (UTC).
    pub time_us: Vec<i64>,
    /// Spot price, USD/MWh.
    pub price: Vec<f64>,
    /// Hashprice, USD/(TH/s·day).
    pub hashprice: Vec<f64>,
    /// Facility power, MW.
    pub facility_mw: Vec<f64>,
    /// ASIC IT power, MW.
    pub asic_mw: Vec<f64>,
    /// GPU IT power by use ([`GpuUse::ALL`] order), MW.
    pub gpu_mw: [Vec<f64>; 7],
    /// Hashrate, PH/s.
    pub hashrate_phs: Vec<f64>,
    /// Highest committed facility power in the interval
    /// (`committed_mw_max`), MW; NaN where the file lacks the column.
    pub committed_mw: Vec<f64>,
    /// Grid cap, MW.
    pub cap_mw: Vec<f64>,
    /// Mining revenue, USD.
    pub mining_usd: Vec<f64>,
    /// Energy cost, USD.
    pub energy_usd: Vec<f64>,
    /// Whether a grid event concerned the site in the interval
    /// (`grid_event`); `None` for files older than schema version 3.
    pub grid_event: Option<Vec<bool>>,
}

/// One policy's `intervals` of one replication. The per-site series hold
/// one value per row of the site, in file order; the plant-wide series
/// hold one value per interval, slot `k` for interval
/// `first_interval + k` (each the sum over the interval's rows: the
/// plant-wide columns are set on site 0's row and 0 on the others).
#[derive(Debug, Clone, Default)]
pub struct Intervals {
    /// Per site, in site-index order.
    pub sites: Vec<SiteSeries>,
    /// Index of the first interval in the file (slot 0 of the plant-wide
    /// series).
    pub first_interval: u64,
    /// Plant GPU revenue per interval (all uses), USD; `None` for files
    /// of schema version 1, which lack the `gpu_<use>_usd` columns.
    pub ai_usd: Option<Vec<f64>>,
    /// Plant GPU revenue per interval by use ([`REVENUE_USES`] order: P1,
    /// P2, P3, P4, rental), USD; `None` for files of schema version 1.
    pub ai_use_usd: Option<[Vec<f64>; 5]>,
    /// Jobs queued at each interval's end, P2, P3, P4 (`<class>_queued_jobs`);
    /// `None` for files older than schema version 3.
    pub queued_jobs: Option<[Vec<f64>; 3]>,
}

/// The replication whose intervals the time-series figures show.
#[derive(Debug, Clone)]
pub struct Detail {
    /// Replication index.
    pub replication: u64,
    /// How it was chosen, in words.
    pub rule: String,
    /// Per policy (in report order) with intervals for it.
    pub by_policy: Vec<(String, Intervals)>,
}

/// Everything the report reads of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioData {
    /// Scenario name (the partition key).
    pub name: String,
    /// Master seed (`hcp.master_seed` of the runs files).
    pub seed: Option<u64>,
    /// Every readable runs row.
    pub runs: Vec<RunRow>,
    /// Policies, the baseline first, then in the order the sweep wrote them.
    pub policies: Vec<String>,
    /// Replications with a runs file that was read.
    pub replications: BTreeSet<u64>,
    /// The detail replication's intervals, when any were written.
    pub detail: Option<Detail>,
    /// Market interval length in seconds (from the intervals' stamps).
    pub step_s: Option<f64>,
    /// What is missing or odd, one sentence each.
    pub notes: Vec<String>,
}

/// The scenarios under `dir/runs`, each loaded.
///
/// # Errors
/// `dir` has no `runs/` folder (not a sweep's output), no scenario in it
/// has a readable runs file, or a folder cannot be listed.
pub fn load(dir: &Path) -> Result<Vec<ScenarioData>, ReportError> {
    load_scenarios(dir, true)
}

/// The scenarios under `dir/runs`, each with its detail replication's
/// intervals (`with_detail`) or without (`detail: None`, the interval
/// length read from one intervals file's `time_utc` alone).
pub(crate) fn load_scenarios(
    dir: &Path,
    with_detail: bool,
) -> Result<Vec<ScenarioData>, ReportError> {
    let runs_dir = dir.join(OutputTable::Runs.name());
    if !runs_dir.is_dir() {
        return Err(ReportError::NotASweep {
            path: dir.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    for (name, _) in entries(&runs_dir)? {
        if let Some(scenario) = name.strip_prefix("scenario=") {
            out.push(load_scenario(dir, scenario, with_detail)?);
        }
    }
    out.retain(|s| !s.runs.is_empty() || !s.notes.is_empty());
    if out.iter().all(|s| s.runs.is_empty()) {
        let why = out
            .iter()
            .flat_map(|s| s.notes.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ReportError::Mismatch {
            problem: format!(
                "{}: no readable runs file{}",
                runs_dir.display(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            ),
        });
    }
    Ok(out)
}

/// Notes on a file's `hcp.schema_version`, once per table and version.
pub(crate) fn check_version(
    frame: &Frame,
    table: &str,
    seen: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
) {
    let version = frame.meta.get("hcp.schema_version").map(String::as_str);
    if version == Some(SCHEMA_VERSION) || !seen.insert(format!("{table}/{version:?}")) {
        return;
    }
    notes.push(match version {
        None => format!(
            "{}: no hcp.schema_version in its metadata (not written by hcp sweep?); reading the columns whose names match",
            frame.path.display()
        ),
        Some(v)
            if v
                .parse::<u32>()
                .is_ok_and(|v| SCHEMA_VERSION.parse::<u32>().is_ok_and(|now| v < now)) =>
        {
            format!(
                "{table} files are of the older hcp.schema_version {v} (this build writes {SCHEMA_VERSION}), e.g. {}; what they lack is left out",
                frame.path.display()
            )
        }
        Some(v) => format!(
            "{table} files are of hcp.schema_version {v}, unknown to this build (it knows up to {SCHEMA_VERSION}), e.g. {}; reading the columns whose names match",
            frame.path.display()
        ),
    });
}

fn runs_rows(
    frame: &Frame,
    scenario: &str,
    missing: &mut BTreeSet<String>,
) -> Result<Vec<RunRow>, ReportError> {
    let mut rows = vec![RunRow::empty(scenario); frame.rows()];
    for field in schema::runs().fields() {
        let name = field.name().as_str();
        if !frame.has(name) {
            missing.insert(name.to_owned());
            continue;
        }
        let text = frame.strings(name).ok().flatten();
        let count = frame.u64s(name).ok().flatten();
        let value = frame.f64s(name).ok().flatten();
        for (i, row) in rows.iter_mut().enumerate() {
            match (row.slot(name), &text, &count, &value) {
                (Some(Slot::Text(v)), Some(a), _, _) => a[i].clone_into(v),
                (Some(Slot::Count(v)), _, Some(a), _) => *v = a[i],
                (Some(Slot::Value(v)), _, _, Some(a)) => *v = a[i].unwrap_or(f64::NAN),
                (Some(Slot::Maybe(v)), _, _, Some(a)) => *v = a[i],
                _ => {
                    return Err(ReportError::Schema {
                        path: frame.path.clone(),
                        problem: format!("column {name} cannot be read as {}", field.data_type()),
                    });
                }
            }
        }
    }
    for required in ["policy", "replication", "profit_usd"] {
        if missing.contains(required) {
            return Err(frame.missing(required));
        }
    }
    Ok(rows)
}

/// Replications with an `invoices` part of any policy (written for every
/// replication before its runs file).
fn started(dir: &Path, scenario: &str) -> Result<BTreeSet<u64>, ReportError> {
    let base = dir
        .join(OutputTable::Invoices.name())
        .join(format!("scenario={scenario}"));
    let mut out = BTreeSet::new();
    for (_, folder) in entries(&base)? {
        for (name, _) in entries(&folder)? {
            out.extend(parse_part_name(&name));
        }
    }
    Ok(out)
}

/// `.tmp` files under the scenario's partitions of every table.
fn leftovers(dir: &Path, scenario: &str) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    for table in OutputTable::ALL {
        let mut stack = vec![dir.join(table.name()).join(format!("scenario={scenario}"))];
        while let Some(folder) = stack.pop() {
            for (name, path) in entries(&folder)? {
                if path.is_dir() {
                    stack.push(path);
                } else if Path::new(&name)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("tmp"))
                {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn ranges(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Notes on replications missing below the last one read, replications
/// started (invoices written) but unfinished, and `.tmp` leftovers.
fn completeness_notes(
    dir: &Path,
    scenario: &str,
    replications: &BTreeSet<u64>,
    notes: &mut Vec<String>,
) -> Result<(), ReportError> {
    if let Some(&last) = replications.last() {
        let gaps: Vec<u64> = (0..last).filter(|r| !replications.contains(r)).collect();
        if !gaps.is_empty() {
            notes.push(format!(
                "replications {} have no readable runs file (an interrupted or sharded sweep?): statistics use the {} that do",
                ranges(&gaps),
                replications.len()
            ));
        }
    }
    let unfinished: Vec<u64> = started(dir, scenario)?
        .difference(replications)
        .copied()
        .filter(|r| replications.last().is_none_or(|last| r > last))
        .collect();
    if !unfinished.is_empty() {
        notes.push(format!(
            "replications {} have invoices but no runs file: unfinished (killed sweep?), left out",
            ranges(&unfinished)
        ));
    }
    for path in leftovers(dir, scenario)? {
        notes.push(format!(
            "{}: leftover of an interrupted write, ignored",
            path.display()
        ));
    }
    Ok(())
}

fn load_scenario(
    dir: &Path,
    scenario: &str,
    with_detail: bool,
) -> Result<ScenarioData, ReportError> {
    let folder = dir
        .join(OutputTable::Runs.name())
        .join(format!("scenario={scenario}"));
    let mut notes = Vec::new();
    let mut versions_seen = BTreeSet::new();
    let mut missing_columns = BTreeSet::new();
    let mut runs = Vec::new();
    let mut replications = BTreeSet::new();
    let mut seeds = BTreeSet::new();
    for (name, path) in entries(&folder)? {
        let Some(replication) = parse_part_name(&name) else {
            continue;
        };
        let rows = Frame::read(&path).and_then(|frame| {
            check_version(&frame, "runs", &mut versions_seen, &mut notes);
            if let Some(seed) = frame.meta.get("hcp.master_seed") {
                seeds.insert(seed.clone());
            }
            runs_rows(&frame, scenario, &mut missing_columns)
        });
        match rows {
            Ok(mut rows) => {
                replications.insert(replication);
                runs.append(&mut rows);
            }
            Err(e) => notes.push(format!("replication {replication} left out: {e}")),
        }
    }
    if !missing_columns.is_empty() {
        notes.push(format!(
            "runs files lack the columns {}: the figures that need them are left out",
            missing_columns.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    completeness_notes(dir, scenario, &replications, &mut notes)?;
    if seeds.len() > 1 {
        notes.push(format!(
            "runs files carry different master seeds ({}): replications of different sweeps are mixed",
            seeds.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let seed = seeds.iter().next().and_then(|s| s.parse().ok());
    let policies = policy_order(&runs);
    let mut by_policy: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for row in &runs {
        by_policy
            .entry(&row.policy)
            .or_default()
            .insert(row.replication);
    }
    for (policy, reps) in &by_policy {
        if reps.len() < replications.len() {
            let lacking: Vec<u64> = replications.difference(reps).copied().collect();
            notes.push(format!(
                "policy {policy} has no row for replications {}",
                ranges(&lacking)
            ));
        }
    }
    let (detail, step_s) = if with_detail {
        load_detail(
            dir,
            scenario,
            &policies,
            &runs,
            &mut versions_seen,
            &mut notes,
        )?
    } else {
        (
            None,
            quick_step(dir, scenario, &policies, &mut versions_seen, &mut notes)?,
        )
    };
    Ok(ScenarioData {
        name: scenario.to_owned(),
        seed,
        runs,
        policies,
        replications,
        detail,
        step_s,
        notes,
    })
}

/// The baseline first, then policies in the order the first runs file
/// that has them lists them.
fn policy_order(runs: &[RunRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if runs.iter().any(|r| r.policy == BASELINE) {
        out.push(BASELINE.to_owned());
    }
    for row in runs {
        if !out.contains(&row.policy) {
            out.push(row.policy.clone());
        }
    }
    out
}

/// The market interval length from the `time_utc` column alone of one
/// intervals file: the baseline's (or the first policy's with any) of its
/// lowest replication.
fn quick_step(
    dir: &Path,
    scenario: &str,
    policies: &[String],
    seen: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<Option<f64>, ReportError> {
    let base = dir
        .join(OutputTable::Intervals.name())
        .join(format!("scenario={scenario}"));
    for policy in policies {
        let first = entries(&base.join(format!("policy={policy}")))?
            .into_iter()
            .filter_map(|(name, path)| parse_part_name(&name).map(|r| (r, path)))
            .min();
        let Some((_, path)) = first else {
            continue;
        };
        return Ok(match Frame::read_columns(&path, &["time_utc"]) {
            Ok(frame) => {
                check_version(&frame, "intervals", seen, notes);
                match frame.micros_required("time_utc") {
                    Ok(times) => step_of(&times),
                    Err(e) => {
                        notes.push(format!("the interval length is unknown: {e}"));
                        None
                    }
                }
            }
            Err(e) => {
                notes.push(format!("the interval length is unknown: {e}"));
                None
            }
        });
    }
    notes.push(
        "no intervals were written (--no-intervals?): the horizon's length is unknown".to_owned(),
    );
    Ok(None)
}

/// The interval length, s: the first stamp after the first, less it
/// (rows are by interval, then site).
fn step_of(times: &[i64]) -> Option<f64> {
    let first = *times.first()?;
    let next = times.iter().copied().find(|&t| t > first)?;
    Some((next - first) as f64 / 1e6)
}

/// Picks the detail replication (the median of the baseline's profit
/// among the replications whose intervals every policy has) and reads
/// its intervals; the market interval length comes from their stamps.
fn load_detail(
    dir: &Path,
    scenario: &str,
    policies: &[String],
    runs: &[RunRow],
    seen: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<(Option<Detail>, Option<f64>), ReportError> {
    let base = dir
        .join(OutputTable::Intervals.name())
        .join(format!("scenario={scenario}"));
    let mut common: Option<BTreeSet<u64>> = None;
    let mut files: BTreeMap<String, BTreeMap<u64, PathBuf>> = BTreeMap::new();
    for policy in policies {
        let parts: BTreeMap<u64, PathBuf> = entries(&base.join(format!("policy={policy}")))?
            .into_iter()
            .filter_map(|(name, path)| parse_part_name(&name).map(|r| (r, path)))
            .collect();
        let reps: BTreeSet<u64> = parts.keys().copied().collect();
        common = Some(match common {
            None => reps,
            Some(c) => c.intersection(&reps).copied().collect(),
        });
        files.insert(policy.clone(), parts);
    }
    let candidates: Vec<u64> = common.unwrap_or_default().into_iter().collect();
    if candidates.is_empty() {
        notes.push(
            "no replication has intervals for every policy (written with --no-intervals?): the time-series figures are left out"
                .to_owned(),
        );
        return Ok((None, None));
    }
    let reference = policies.first().map_or(BASELINE, String::as_str);
    let mut ranked: Vec<(f64, u64)> = candidates
        .iter()
        .map(|&r| {
            let profit = runs
                .iter()
                .find(|row| row.policy == reference && row.replication == r)
                .map_or(f64::NAN, |row| row.profit_usd);
            (profit, r)
        })
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (_, replication) = ranked[(ranked.len() - 1) / 2];
    let rule = if candidates.len() == 1 {
        format!("replication {replication}, the only one with intervals for every policy")
    } else {
        format!(
            "replication {replication}, the median of {reference}'s profit among the {} replications with intervals (replications {})",
            candidates.len(),
            ranges(&candidates)
        )
    };
    let mut by_policy = Vec::new();
    let mut step_s = None;
    for policy in policies {
        let Some(path) = files.get(policy).and_then(|f| f.get(&replication)) else {
            continue;
        };
        match Frame::read(path).and_then(|frame| {
            check_version(&frame, "intervals", seen, notes);
            read_intervals(&frame)
        }) {
            Ok((intervals, step)) => {
                step_s = step_s.or(step);
                by_policy.push((policy.clone(), intervals));
            }
            Err(e) => notes.push(format!("intervals of {policy} left out: {e}")),
        }
    }
    Ok((
        Some(Detail {
            replication,
            rule,
            by_policy,
        }),
        step_s,
    ))
}

/// Sites in the file (the highest index + 1), checking each index.
fn site_count(frame: &Frame, site: &[u64]) -> Result<usize, ReportError> {
    let mut sites = 0;
    for (row, &s) in site.iter().enumerate() {
        if s > 64 {
            return Err(ReportError::Schema {
                path: frame.path.clone(),
                problem: format!("site index {s} in row {row} is implausible"),
            });
        }
        sites = sites.max(s as usize + 1);
    }
    Ok(sites)
}

/// The first interval index and how many intervals the file spans.
fn interval_span(frame: &Frame, interval: &[u64]) -> Result<(u64, usize), ReportError> {
    let first = interval.iter().copied().min().unwrap_or(0);
    let count = interval.iter().map(|&i| i - first + 1).max().unwrap_or(0);
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let rows = interval.len();
    if count > rows.saturating_mul(2).max(1 << 20) {
        return Err(ReportError::Schema {
            path: frame.path.clone(),
            problem: format!(
                "intervals {first} to {} in {rows} rows are implausible",
                first.saturating_add(count as u64)
            ),
        });
    }
    Ok((first, count))
}

/// An empty site series with room for `rows` rows.
fn site_series(rows: usize, grid_event: bool) -> SiteSeries {
    SiteSeries {
        time_us: Vec::with_capacity(rows),
        price: Vec::with_capacity(rows),
        hashprice: Vec::with_capacity(rows),
        facility_mw: Vec::with_capacity(rows),
        asic_mw: Vec::with_capacity(rows),
        gpu_mw: std::array::from_fn(|_| Vec::with_capacity(rows)),
        hashrate_phs: Vec::with_capacity(rows),
        committed_mw: Vec::with_capacity(rows),
        cap_mw: Vec::with_capacity(rows),
        mining_usd: Vec::with_capacity(rows),
        energy_usd: Vec::with_capacity(rows),
        grid_event: grid_event.then(|| Vec::with_capacity(rows)),
        ..SiteSeries::default()
    }
}

/// `N` plant-wide series of `count` zeros.
fn plant_series<const N: usize>(count: usize) -> [Vec<f64>; N] {
    std::array::from_fn(|_| vec![0.0; count])
}

/// Every column of one `intervals` file, and the interval length (s)
/// from its stamps. The key columns and the series of schema version 1
/// are required; the newer columns are read when present.
pub(crate) fn read_intervals(frame: &Frame) -> Result<(Intervals, Option<f64>), ReportError> {
    let site = frame.u64s("site")?.ok_or_else(|| frame.missing("site"))?;
    let names = frame
        .strings("site_name")?
        .ok_or_else(|| frame.missing("site_name"))?;
    let interval = frame
        .u64s("interval")?
        .ok_or_else(|| frame.missing("interval"))?;
    let time = frame.micros_required("time_utc")?;
    let col = |name: &str| frame.f64s_required(name);
    let price = col("price_usd_per_mwh")?;
    let hashprice = col("hashprice_usd_per_th_day")?;
    let facility = col("facility_mw")?;
    let asic = col("asic_mw")?;
    let gpu: Vec<Vec<f64>> = GpuUse::ALL
        .iter()
        .map(|&u| col(&schema::gpu_use_column(u)))
        .collect::<Result<_, _>>()?;
    let hashrate = col("hashrate_phs")?;
    let committed = frame.f64s_or_nan("committed_mw_max")?;
    let cap = col("cap_mw")?;
    let mining = col("mining_usd")?;
    let energy = col("energy_usd")?;
    let ai: Option<Vec<Vec<f64>>> = REVENUE_USES
        .iter()
        .map(|&u| frame.f64s(&schema::gpu_revenue_column(u)))
        .collect::<Result<Option<Vec<_>>, _>>()?
        .map(|cols| {
            cols.into_iter()
                .map(|c| c.into_iter().map(|v| v.unwrap_or(0.0)).collect())
                .collect()
        });
    let grid = frame.bools("grid_event")?;
    let queued: Option<Vec<Vec<u64>>> = JOB_CLASSES
        .iter()
        .map(|&c| frame.u64s(&schema::queued_jobs_column(c)))
        .collect::<Result<Option<Vec<_>>, _>>()?;
    let rows = frame.rows();
    let sites = site_count(frame, &site)?;
    let (first, count) = interval_span(frame, &interval)?;
    let per_site = rows / sites.max(1) + 1;
    let mut out = Intervals {
        sites: (0..sites)
            .map(|_| site_series(per_site, grid.is_some()))
            .collect(),
        first_interval: first,
        ai_usd: ai.as_ref().map(|_| vec![0.0; count]),
        ai_use_usd: ai.as_ref().map(|_| plant_series(count)),
        queued_jobs: queued.as_ref().map(|_| plant_series(count)),
    };
    for row in 0..rows {
        let t = &mut out.sites[site[row] as usize];
        if t.name.is_empty() {
            names[row].clone_into(&mut t.name);
        }
        t.time_us.push(time[row]);
        t.price.push(price[row]);
        t.hashprice.push(hashprice[row]);
        t.facility_mw.push(facility[row]);
        t.asic_mw.push(asic[row]);
        for (k, g) in gpu.iter().enumerate() {
            t.gpu_mw[k].push(g[row]);
        }
        t.hashrate_phs.push(hashrate[row]);
        t.committed_mw
            .push(committed.as_ref().map_or(f64::NAN, |c| c[row]));
        t.cap_mw.push(cap[row]);
        t.mining_usd.push(mining[row]);
        t.energy_usd.push(energy[row]);
        if let (Some(flags), Some(grid)) = (t.grid_event.as_mut(), grid.as_ref()) {
            flags.push(grid[row]);
        }
        let k = usize::try_from(interval[row] - first).unwrap_or(usize::MAX);
        if let (Some(total), Some(by_use), Some(ai)) =
            (out.ai_usd.as_mut(), out.ai_use_usd.as_mut(), ai.as_ref())
            && let Some(slot) = total.get_mut(k)
        {
            *slot += ai.iter().map(|c| c[row]).sum::<f64>();
            for (series, column) in by_use.iter_mut().zip(ai) {
                series[k] += column[row];
            }
        }
        if let (Some(out), Some(queued)) = (out.queued_jobs.as_mut(), queued.as_ref()) {
            for (series, column) in out.iter_mut().zip(queued) {
                if let Some(slot) = series.get_mut(k) {
                    *slot += column[row] as f64;
                }
            }
        }
    }
    let step = out
        .sites
        .first()
        .and_then(|s| Some((s.time_us.get(1)? - s.time_us.first()?) as f64 / 1e6));
    Ok((out, step))
}
