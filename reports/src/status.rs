//! [`sweep_status`]: what a sweep's folder holds, from its files alone —
//! which shards and replications are present, missing or inconsistent —
//! for `hcp sweep status` and `hcp sweep merge`. A replication is present
//! when its `runs` part reads and was written by the sweep the manifests
//! name (scenario hash, seed, code revision); anything that contradicts the
//! manifests is a problem, and a folder with problems is inconsistent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::ReportError;
use crate::layout::OutputTable;
use crate::manifest::{ShardManifest, ShardState, count_rows, read_manifests};
use crate::read::{entries, part_meta, runs_parts};

/// The verdict on one scenario's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every replication is present and consistent: merge it.
    Complete,
    /// Consistent so far, but replications are missing.
    Incomplete,
    /// Files of different sweeps, or files that contradict the manifests.
    Inconsistent,
}

/// One shard, as its manifest (or its absence) says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardEntry {
    /// 1-based shard number.
    pub shard: u32,
    /// Number of shards.
    pub shards: u32,
    /// `complete`, `running` (or stopped before it finished), `not_started`.
    pub state: String,
    /// Where it came from (`slurm`, `kubernetes`, `--shard`, `whole`).
    pub origin: Option<String>,
    /// Its replications not yet present.
    pub missing: Vec<u64>,
}

/// The status of one scenario's output in a folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioStatus {
    /// Scenario name.
    pub scenario: String,
    /// Complete, incomplete or inconsistent.
    pub verdict: Verdict,
    /// The sweep the manifests name: scenario hash.
    pub scenario_hash: Option<String>,
    /// Master seed.
    pub seed: Option<u64>,
    /// Code revision.
    pub git_revision: Option<String>,
    /// Replications of the whole sweep.
    pub replications_total: Option<u64>,
    /// Policies, in report order.
    pub policies: Vec<String>,
    /// Simulated days per run.
    pub horizon_days: Option<f64>,
    /// Replications present.
    pub present: u64,
    /// Replications missing.
    pub missing: Vec<u64>,
    /// Shards, by number.
    pub shards: Vec<ShardEntry>,
    /// What is inconsistent, each naming its file.
    pub problems: Vec<String>,
    /// Temporary files of killed writes (never read; the next write of the
    /// same part replaces them).
    pub leftovers: Vec<PathBuf>,
}

/// The status of every scenario under `dir`.
///
/// # Errors
/// A folder that is not a sweep's output, or one that cannot be listed, or
/// a manifest that cannot be parsed.
pub fn sweep_status(dir: &Path) -> Result<Vec<ScenarioStatus>, ReportError> {
    let mut scenarios = BTreeSet::new();
    for folder in [OutputTable::Runs.name(), "manifests"] {
        for (name, _) in entries(&dir.join(folder))? {
            if let Some(s) = name.strip_prefix("scenario=") {
                scenarios.insert(s.to_owned());
            }
        }
    }
    if scenarios.is_empty() {
        return Err(ReportError::NotASweep {
            path: dir.to_path_buf(),
        });
    }
    scenarios.iter().map(|s| scenario_status(dir, s)).collect()
}

fn same_sweep(a: &ShardManifest, b: &ShardManifest) -> Option<String> {
    let differs = |what: &str, x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug| {
        Some(format!("{what} {x:?}, not {y:?}"))
    };
    if a.scenario_hash != b.scenario_hash {
        return differs("scenario hash", &b.scenario_hash, &a.scenario_hash);
    }
    if a.seed != b.seed {
        return differs("seed", &b.seed, &a.seed);
    }
    if a.git_revision != b.git_revision {
        return differs("code revision", &b.git_revision, &a.git_revision);
    }
    if a.replications_total != b.replications_total {
        return differs("replications", &b.replications_total, &a.replications_total);
    }
    if a.policies != b.policies {
        return differs("policies", &b.policies, &a.policies);
    }
    None
}

fn scenario_status(dir: &Path, scenario: &str) -> Result<ScenarioStatus, ReportError> {
    let manifests = read_manifests(dir, scenario)?;
    let mut problems = Vec::new();
    let identity = manifests.first().map(|(_, m)| m.clone());
    if let Some(first) = &identity {
        for (path, m) in &manifests[1..] {
            if let Some(why) = same_sweep(first, m) {
                problems.push(format!(
                    "{} belongs to another sweep: {why}",
                    path.display()
                ));
            }
        }
    }
    let present = present_parts(dir, scenario, identity.as_ref(), &mut problems)?;
    let total = identity.as_ref().map(|m| m.replications_total);
    let missing: Vec<u64> = total
        .map(|t| (0..t).filter(|r| !present.contains(r)).collect())
        .unwrap_or_default();
    let mut shards = Vec::new();
    for (path, m) in &manifests {
        let mine: Vec<u64> = m
            .replications
            .iter()
            .copied()
            .filter(|r| !present.contains(r))
            .collect();
        if m.state == ShardState::Complete {
            if !mine.is_empty() {
                problems.push(format!(
                    "{} says complete but replications {mine:?} are missing",
                    path.display()
                ));
            } else if let Some(rows) = &m.rows {
                let now = count_rows(dir, scenario, &m.policies, &m.replications)?;
                if &now != rows {
                    problems.push(format!(
                        "{} counted rows {rows:?}; the files now hold {now:?}",
                        path.display()
                    ));
                }
            }
        }
        shards.push(ShardEntry {
            shard: m.shard,
            shards: m.shards,
            state: match m.state {
                ShardState::Complete => "complete",
                ShardState::Running => "running",
            }
            .to_owned(),
            origin: Some(m.origin.clone()),
            missing: mine,
        });
    }
    // Shards of a single split that never wrote a manifest.
    let counts: BTreeSet<u32> = manifests.iter().map(|(_, m)| m.shards).collect();
    if let (Some(&count), 1, Some(total)) = (counts.first(), counts.len(), total) {
        for index in 1..=count {
            if shards.iter().any(|s| s.shard == index) {
                continue;
            }
            let shard = hcp_scenarios::sweep::Shard { index, count };
            shards.push(ShardEntry {
                shard: index,
                shards: count,
                state: "not_started".to_owned(),
                origin: None,
                missing: shard
                    .replications(total)
                    .filter(|r| !present.contains(r))
                    .collect(),
            });
        }
    }
    shards.sort_by_key(|s| (s.shards, s.shard));
    let verdict = if !problems.is_empty() {
        Verdict::Inconsistent
    } else if total.is_some() && missing.is_empty() {
        Verdict::Complete
    } else {
        Verdict::Incomplete
    };
    Ok(ScenarioStatus {
        scenario: scenario.to_owned(),
        verdict,
        scenario_hash: identity.as_ref().map(|m| m.scenario_hash.clone()),
        seed: identity.as_ref().map(|m| m.seed),
        git_revision: identity.as_ref().map(|m| m.git_revision.clone()),
        replications_total: total,
        policies: identity
            .as_ref()
            .map(|m| m.policies.clone())
            .unwrap_or_default(),
        horizon_days: identity.as_ref().map(|m| m.horizon_days),
        present: present.len() as u64,
        missing,
        shards,
        problems,
        leftovers: leftovers(dir, scenario)?,
    })
}

/// Replications whose `runs` part reads and belongs to the sweep of
/// `identity` (any readable part when there is no manifest); every other
/// part is a problem.
fn present_parts(
    dir: &Path,
    scenario: &str,
    identity: Option<&ShardManifest>,
    problems: &mut Vec<String>,
) -> Result<BTreeSet<u64>, ReportError> {
    let mut present = BTreeSet::new();
    for (r, path) in runs_parts(dir, scenario)? {
        let meta = match part_meta(&path) {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(format!("unreadable part: {e}"));
                continue;
            }
        };
        let Some(id) = identity else {
            present.insert(r);
            continue;
        };
        let mismatch =
            if let Some(why) = meta.differs_from(&id.scenario_hash, id.seed, &id.git_revision) {
                Some(why)
            } else if r >= id.replications_total {
                Some(format!(
                    "replication {r} of a sweep of {}",
                    id.replications_total
                ))
            } else if meta.rows != id.policies.len() as u64 {
                Some(format!(
                    "{} rows for {} policies",
                    meta.rows,
                    id.policies.len()
                ))
            } else {
                None
            };
        match mismatch {
            Some(why) => problems.push(format!("{} is not of this sweep: {why}", path.display())),
            None => {
                present.insert(r);
            }
        }
    }
    Ok(present)
}

/// `.tmp` files under the scenario's partitions.
fn leftovers(dir: &Path, scenario: &str) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    for table in OutputTable::ALL {
        let folder = dir.join(table.name()).join(format!("scenario={scenario}"));
        let mut folders = vec![folder.clone()];
        for (name, path) in entries(&folder)? {
            if name.starts_with("policy=") {
                folders.push(path);
            }
        }
        for f in folders {
            for (name, path) in entries(&f)? {
                if Path::new(&name).extension().is_some_and(|e| e == "tmp") {
                    out.push(path);
                }
            }
        }
    }
    Ok(out)
}
