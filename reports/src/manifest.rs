//! Shard manifests: a small JSON file per shard of a sweep,
//! `manifests/scenario=<s>/shard-<i:05>-of-<N:05>.json`, saying which
//! sweep the shard belongs to (scenario hash, seed, code revision, total
//! replications, policies) and, once it is done, how many rows each table
//! holds for its replications. A merge tells a complete, consistent set of
//! shards from a mixed one with them ([`crate::status`]). Written
//! atomically (temporary file, sync, rename), like every part.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::layout::{OutputTable, check_name, part_path};
use crate::read::{entries, part_meta};
use crate::write::temporary;

/// The manifest format's version.
pub const MANIFEST_VERSION: u32 = 1;

/// Where a shard is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardState {
    /// Started (or killed before it finished).
    Running,
    /// Every replication of the shard is written.
    Complete,
}

/// One shard's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    /// [`MANIFEST_VERSION`].
    pub manifest_version: u32,
    /// Scenario name (its partition value).
    pub scenario: String,
    /// Hash of the scenario's resolved configuration.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Version of the `hcp` build.
    pub crate_version: String,
    /// Git revision of the `hcp` build.
    pub git_revision: String,
    /// 1-based shard number.
    pub shard: u32,
    /// Number of shards.
    pub shards: u32,
    /// Where the shard came from: `whole`, `--shard`, `slurm`, `kubernetes`.
    pub origin: String,
    /// Replications of the whole sweep (0..total).
    pub replications_total: u64,
    /// This shard's replications.
    pub replications: Vec<u64>,
    /// Policies, in report order.
    pub policies: Vec<String>,
    /// Simulated days per run (for per-day figures in the summary).
    pub horizon_days: f64,
    /// Running or complete.
    pub state: ShardState,
    /// Rows per table over the shard's replications, once complete.
    pub rows: Option<BTreeMap<String, u64>>,
}

impl ShardManifest {
    /// The manifest's file under `dir`.
    ///
    /// # Errors
    /// A scenario name that cannot be a partition value.
    pub fn path(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        Ok(manifest_folder(dir, &self.scenario)?.join(format!(
            "shard-{:05}-of-{:05}.json",
            self.shard, self.shards
        )))
    }

    /// Writes the manifest atomically; returns its path.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = self.path(dir)?;
        let folder = path.parent().unwrap_or(dir);
        fs::create_dir_all(folder).map_err(ReportError::io(folder))?;
        let tmp = temporary(&path);
        let text = serde_json::to_string_pretty(self).map_err(|e| ReportError::Mismatch {
            problem: format!("manifest {}: {e}", path.display()),
        })?;
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(ReportError::io(&path)(e));
        }
        Ok(path)
    }
}

/// The manifest folder of `scenario`.
pub(crate) fn manifest_folder(dir: &Path, scenario: &str) -> Result<PathBuf, ReportError> {
    check_name("scenario", scenario)?;
    Ok(dir.join("manifests").join(format!("scenario={scenario}")))
}

/// Every manifest of `scenario` under `dir`, by file name.
///
/// # Errors
/// A folder that cannot be listed or a manifest that cannot be read or
/// parsed (the error names the file).
pub fn read_manifests(
    dir: &Path,
    scenario: &str,
) -> Result<Vec<(PathBuf, ShardManifest)>, ReportError> {
    let mut out = Vec::new();
    for (name, path) in entries(&manifest_folder(dir, scenario)?)? {
        if !name.starts_with("shard-") || Path::new(&name).extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(ReportError::io(&path))?;
        let manifest: ShardManifest =
            serde_json::from_str(&text).map_err(|e| ReportError::Schema {
                path: path.clone(),
                problem: format!("not a shard manifest: {e}"),
            })?;
        out.push((path, manifest));
    }
    Ok(out)
}

/// Rows per table over `replications` of `scenario` and `policies`, from
/// the files' footers (absent per-run files count 0: summary-only
/// replications write none).
///
/// # Errors
/// A file that exists but cannot be read.
pub fn count_rows(
    dir: &Path,
    scenario: &str,
    policies: &[String],
    replications: &[u64],
) -> Result<BTreeMap<String, u64>, ReportError> {
    let mut rows = BTreeMap::new();
    for table in OutputTable::ALL {
        let mut total = 0;
        for &r in replications {
            let policies: &[String] = if table == OutputTable::Runs {
                &policies[..policies.len().min(1)]
            } else {
                policies
            };
            for policy in policies {
                let path = part_path(dir, table, scenario, policy, r)?;
                if path.exists() {
                    total += part_meta(&path)?.rows;
                }
            }
        }
        rows.insert(table.name().to_owned(), total);
    }
    Ok(rows)
}
