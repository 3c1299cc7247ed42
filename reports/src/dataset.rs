//! Reading a sweep's dataset back for a viewer, from its files alone and
//! as lazily as a viewer needs: [`catalog`] lists what is there (scenarios,
//! policies, which replications have runs and which have detail tables)
//! from the folder names; [`load_runs`] reads every `runs` row — what the
//! sweep's summary is computed from — without the detail tables;
//! [`read_run`] reads one (scenario, policy, replication)'s `intervals`,
//! `switches` and `clips`. Columns are looked up by name, so files of an
//! older `hcp.schema_version` read too, with the columns they lack as
//! `None` and a note saying so; what is odd or missing is a note, what
//! makes the request impossible an error naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcp_scenarios::sweep::BASELINE;

use crate::error::ReportError;
use crate::layout::{OutputTable, parse_part_name, part_path};
use crate::read::entries;
use crate::report::frame::Frame;
use crate::report::load::{self, read_intervals};

pub use crate::report::load::{Intervals, ScenarioData, SiteSeries};

/// What a sweep's folder holds, from its listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Scenarios with a `runs/scenario=<s>` folder, by name.
    pub scenarios: Vec<CatalogScenario>,
}

/// One scenario of a [`Catalog`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogScenario {
    /// Scenario name (the partition key).
    pub name: String,
    /// Policies: the baseline (`mining-only`) first, then in the order the
    /// first readable `runs` file lists them, then any other policy with a
    /// partition folder (by name).
    pub policies: Vec<String>,
    /// Per policy (every one of `policies`): the replications with an
    /// `intervals` file (none when intervals were not written).
    pub detail: BTreeMap<String, BTreeSet<u64>>,
    /// Replications with a `runs` file (a finished replication).
    pub replications: BTreeSet<u64>,
}

/// One run's detail tables.
#[derive(Debug, Clone, Default)]
pub struct RunDetail {
    /// The `intervals` table.
    pub intervals: Intervals,
    /// The `switches` table, in file (time) order; empty when there is no
    /// file.
    pub switches: Vec<SwitchRow>,
    /// The `clips` table, in file (time) order; empty when there is no
    /// file.
    pub clips: Vec<ClipRow>,
    /// Market interval length, s (from the intervals' stamps; `None` with
    /// fewer than two intervals).
    pub step_s: Option<f64>,
    /// What is missing or odd, one sentence each.
    pub notes: Vec<String>,
}

/// One row of `switches`: a batch of GPUs of one pool starting a switch.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchRow {
    /// When the switch started, µs since 1970 (UTC).
    pub time_us: i64,
    /// GPU pool index (plant order).
    pub pool: u32,
    /// The pool's site index.
    pub site: u32,
    /// Use switched into: `p1`, `p2`, `p3`, `p4`, `rental`, `idle`, `off`.
    pub to_use: String,
    /// GPUs switched.
    pub gpus: u32,
    /// Of those, cold starts.
    pub cold: u32,
    /// Longest switch of the batch, ms.
    pub max_ms: f64,
    /// Mean switch time, ms.
    pub mean_ms: f64,
}

/// One row of `clips`: an action the plant did not carry out as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRow {
    /// When the action was applied, µs since 1970 (UTC).
    pub time_us: i64,
    /// Index of the action in the policy's list.
    pub action: u32,
    /// Why: `unknown_index`, `not_enough_devices`, `power_cap`,
    /// `power_target`, `commitment`.
    pub reason: String,
    /// What was asked (devices, W or MW as the reason says).
    pub requested: f64,
    /// What was applied.
    pub applied: f64,
}

/// The finished parts of a partition folder, by replication.
fn parts(folder: &Path) -> Result<BTreeMap<u64, PathBuf>, ReportError> {
    Ok(entries(folder)?
        .into_iter()
        .filter_map(|(name, path)| parse_part_name(&name).map(|r| (r, path)))
        .collect())
}

/// The `policy=<p>` folder names under `folder`.
fn policy_folders(folder: &Path) -> Result<Vec<String>, ReportError> {
    Ok(entries(folder)?
        .into_iter()
        .filter(|(_, path)| path.is_dir())
        .filter_map(|(name, _)| name.strip_prefix("policy=").map(str::to_owned))
        .collect())
}

/// The `runs` folder of `dir`, or [`ReportError::NotASweep`].
fn runs_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    let runs = dir.join(OutputTable::Runs.name());
    if runs.is_dir() {
        Ok(runs)
    } else {
        Err(ReportError::NotASweep {
            path: dir.to_path_buf(),
        })
    }
}

/// What `dir` holds, from its folder listing and the `policy` column of
/// one `runs` file per scenario (for the policies' order): no other file
/// is opened, so it is quick on a sweep of any size.
///
/// # Errors
/// `dir` has no `runs/` folder ([`ReportError::NotASweep`]), or a folder
/// cannot be listed.
pub fn catalog(dir: &Path) -> Result<Catalog, ReportError> {
    let mut scenarios = Vec::new();
    for (name, folder) in entries(&runs_dir(dir)?)? {
        let Some(scenario) = name.strip_prefix("scenario=") else {
            continue;
        };
        if !folder.is_dir() {
            continue;
        }
        let runs = parts(&folder)?;
        let mut listed: Vec<String> = Vec::new();
        for path in runs.values() {
            let Ok(frame) = Frame::read_columns(path, &["policy"]) else {
                continue;
            };
            if let Ok(Some(policies)) = frame.strings("policy") {
                for policy in policies {
                    if !listed.contains(&policy) {
                        listed.push(policy);
                    }
                }
                break;
            }
        }
        let mut folders = BTreeSet::new();
        for table in [
            OutputTable::Invoices,
            OutputTable::Intervals,
            OutputTable::Switches,
            OutputTable::Clips,
        ] {
            let base = dir.join(table.name()).join(format!("scenario={scenario}"));
            folders.extend(policy_folders(&base)?);
        }
        let mut policies = Vec::new();
        if listed.iter().any(|p| p == BASELINE) || folders.contains(BASELINE) {
            policies.push(BASELINE.to_owned());
        }
        for policy in listed.into_iter().chain(folders) {
            if !policies.contains(&policy) {
                policies.push(policy);
            }
        }
        let intervals = dir
            .join(OutputTable::Intervals.name())
            .join(format!("scenario={scenario}"));
        let mut detail = BTreeMap::new();
        for policy in &policies {
            let reps = parts(&intervals.join(format!("policy={policy}")))?;
            detail.insert(policy.clone(), reps.into_keys().collect());
        }
        scenarios.push(CatalogScenario {
            name: scenario.to_owned(),
            policies,
            detail,
            replications: runs.into_keys().collect(),
        });
    }
    Ok(Catalog { scenarios })
}

/// Every scenario's `runs` rows, as [`report::load::load`](load::load)
/// reads them (the same notes on what is missing or odd), but without the
/// detail replication's intervals (`detail: None`): the market interval
/// length (`step_s`, which the horizon's length and so
/// [`report::stats::summary`](crate::report::stats::summary) need) is read
/// from the `time_utc` column alone of one intervals file.
///
/// # Errors
/// As [`report::load::load`](load::load): `dir` is not a sweep's output,
/// no scenario has a readable runs file, or a folder cannot be listed.
pub fn load_runs(dir: &Path) -> Result<Vec<ScenarioData>, ReportError> {
    load::load_scenarios(dir, false)
}

/// One run's detail: its `intervals` (required), `switches` and `clips`
/// (each empty, with a note, when its file is missing or unreadable).
///
/// # Errors
/// A scenario or policy name that cannot be a partition value, an
/// `intervals` file that is missing ([`ReportError::Missing`], naming the
/// path) or cannot be read, or lacks a required column (naming the file
/// and the column).
pub fn read_run(
    dir: &Path,
    scenario: &str,
    policy: &str,
    replication: u64,
) -> Result<RunDetail, ReportError> {
    let path = part_path(dir, OutputTable::Intervals, scenario, policy, replication)?;
    if !path.is_file() {
        return Err(ReportError::Missing {
            path,
            what: format!(
                "the intervals of scenario {scenario}, policy {policy}, replication {replication}: \
                 written for the first sweep.detail_replications replications only, and not with --no-intervals"
            ),
        });
    }
    let mut notes = Vec::new();
    let mut seen = BTreeSet::new();
    let frame = Frame::read(&path)?;
    load::check_version(&frame, "intervals", &mut seen, &mut notes);
    let (intervals, step_s) = read_intervals(&frame)?;
    drop(frame);
    let mut optional = |table: OutputTable| -> Result<Option<Frame>, ReportError> {
        let path = part_path(dir, table, scenario, policy, replication)?;
        if !path.is_file() {
            notes.push(format!(
                "{}: not found, no {} shown",
                path.display(),
                table.name()
            ));
            return Ok(None);
        }
        match Frame::read(&path) {
            Ok(frame) => {
                load::check_version(&frame, table.name(), &mut seen, &mut notes);
                Ok(Some(frame))
            }
            Err(e) => {
                notes.push(format!("{} left out: {e}", table.name()));
                Ok(None)
            }
        }
    };
    let switches = optional(OutputTable::Switches)?;
    let clips = optional(OutputTable::Clips)?;
    let switches = match switches.as_ref().map(switch_rows).transpose() {
        Ok(rows) => rows.unwrap_or_default(),
        Err(e) => {
            notes.push(format!("switches left out: {e}"));
            Vec::new()
        }
    };
    let clips = match clips.as_ref().map(clip_rows).transpose() {
        Ok(rows) => rows.unwrap_or_default(),
        Err(e) => {
            notes.push(format!("clips left out: {e}"));
            Vec::new()
        }
    };
    Ok(RunDetail {
        intervals,
        switches,
        clips,
        step_s,
        notes,
    })
}

fn u32s(frame: &Frame, name: &str) -> Result<Vec<u32>, ReportError> {
    Ok(frame
        .u64s(name)?
        .ok_or_else(|| frame.missing(name))?
        .into_iter()
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        .collect())
}

fn strings(frame: &Frame, name: &str) -> Result<Vec<String>, ReportError> {
    frame.strings(name)?.ok_or_else(|| frame.missing(name))
}

fn switch_rows(frame: &Frame) -> Result<Vec<SwitchRow>, ReportError> {
    let time = frame.micros_required("time_utc")?;
    let pool = u32s(frame, "pool")?;
    let site = u32s(frame, "site")?;
    let to_use = strings(frame, "to_use")?;
    let gpus = u32s(frame, "gpus")?;
    let cold = u32s(frame, "cold")?;
    let max_ms = frame.f64s_required("max_ms")?;
    let mean_ms = frame.f64s_required("mean_ms")?;
    Ok(to_use
        .into_iter()
        .enumerate()
        .map(|(i, to_use)| SwitchRow {
            time_us: time[i],
            pool: pool[i],
            site: site[i],
            to_use,
            gpus: gpus[i],
            cold: cold[i],
            max_ms: max_ms[i],
            mean_ms: mean_ms[i],
        })
        .collect())
}

fn clip_rows(frame: &Frame) -> Result<Vec<ClipRow>, ReportError> {
    let time = frame.micros_required("time_utc")?;
    let action = u32s(frame, "action")?;
    let reason = strings(frame, "reason")?;
    let requested = frame.f64s_required("requested")?;
    let applied = frame.f64s_required("applied")?;
    Ok(reason
        .into_iter()
        .enumerate()
        .map(|(i, reason)| ClipRow {
            time_us: time[i],
            action: action[i],
            reason,
            requested: requested[i],
            applied: applied[i],
        })
        .collect())
}
