//! `hcp report`: a sweep's Parquet dataset turned into figures, an HTML
//! page and a Markdown summary, from the files alone.
//!
//! [`write_report`] loads every scenario under the folder
//! ([`load`]: runs, and the intervals of one median detail replication),
//! summarises the runs with the sweep's own statistics ([`stats`]), draws
//! the figures (`fig_runs` over replications, `fig_series` over time,
//! both through [`chart`]), and writes `report/index.html` (self-contained),
//! `report/summary.md` and each figure as `.svg` and `.png`, every file
//! through a temporary and a rename. Bytes depend only on the dataset.

// Figures turn bounded, finite floats into pixels, indices and colour
// channels (each clamped or rounded first); a truncating cast is the intent.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

pub mod chart;
mod fig_runs;
mod fig_series;
pub(crate) mod frame;
pub mod html;
pub mod load;
pub mod markdown;
mod png;
pub mod stats;
pub mod tables;

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use hcp_scenarios::sweep::{BASELINE, CLAIRVOYANT, Summary};
use serde::Serialize;

use crate::error::ReportError;
pub use chart::Figure;
pub use load::ScenarioData;
use tables::Table;

/// One scenario's part of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// What was read.
    pub data: ScenarioData,
    /// The sweep's statistics of its runs.
    pub summary: Summary,
    /// Figures drawn.
    pub figures: Vec<Figure>,
    /// Policy comparison table.
    pub comparison: Table,
    /// Revenue and cost by stream.
    pub streams: Table,
    /// mpc's regret split at the clairvoyant reference, when it ran.
    pub regret_split: Option<Table>,
    /// The money unit's period in words ("per replication, 365-day horizon").
    pub per_run: String,
}

impl Section {
    /// One line: replications, seed, horizon, detail replication.
    pub fn header_line(&self) -> String {
        let reps: Vec<String> = self.data.replications.iter().map(u64::to_string).collect();
        format!(
            "{} replications ({}), master seed {}, {} policies paired against {}; horizon {}; time-series figures: {}.",
            self.data.replications.len(),
            reps.join(", "),
            self.data
                .seed
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
            self.data.policies.len(),
            BASELINE,
            stats::horizon_days(&self.data).map_or_else(
                || "unknown (no intervals)".to_owned(),
                |d| format!("{d:.1} days")
            ),
            self.data
                .detail
                .as_ref()
                .map_or("none (no intervals written)", |d| d.rule.as_str())
        )
    }
}

/// A figure as `--json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FigureEntry {
    /// File stem.
    pub name: String,
    /// The figure's title.
    pub title: String,
    /// Its finding, one sentence.
    pub finding: String,
}

/// One scenario as `--json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioEntry {
    /// Scenario name.
    pub scenario: String,
    /// Replications read.
    pub replications: Vec<u64>,
    /// The replication the time-series figures show.
    pub detail_replication: Option<u64>,
    /// What is missing or odd.
    pub notes: Vec<String>,
    /// The comparison: the sweep's summary of the runs read.
    pub summary: Summary,
    /// Figures drawn.
    pub figures: Vec<FigureEntry>,
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOutcome {
    /// The report folder.
    pub dir: PathBuf,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    /// Per scenario.
    pub scenarios: Vec<ScenarioEntry>,
}

/// Writes `bytes` to `path` through `<path>.tmp`, synced, and a rename.
pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = crate::write::temporary(path);
    let mut file = File::create(&tmp).map_err(ReportError::io(&tmp))?;
    file.write_all(bytes).map_err(ReportError::io(&tmp))?;
    file.sync_all().map_err(ReportError::io(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(ReportError::io(path))
}

fn section(out: &Path, data: ScenarioData) -> Result<Section, ReportError> {
    let summary = stats::summary(&data);
    let mut figures = vec![fig_runs::profit(out, &data, &summary)?];
    figures.extend(fig_runs::uplift(out, &data, &summary)?);
    if let Some(detail) = &data.detail {
        figures.extend(fig_series::cumulative(out, &data, detail)?);
        let best = summary
            .policies
            .iter()
            .filter(|p| p.policy != CLAIRVOYANT)
            .filter(|p| detail.by_policy.iter().any(|(q, _)| *q == p.policy))
            .max_by(|a, b| a.profit_usd.mean.total_cmp(&b.profit_usd.mean))
            .map(|p| p.policy.clone());
        if let Some(best) = best {
            figures.extend(fig_series::power(out, &data, detail, &best)?);
        }
        figures.extend(fig_series::hashprice(out, &data, detail)?);
    }
    figures.extend(fig_runs::sla(out, &data)?);
    Ok(Section {
        comparison: tables::comparison(&summary),
        streams: tables::streams(&summary),
        regret_split: tables::regret_split(&summary),
        per_run: stats::per_run(&data),
        data,
        summary,
        figures,
    })
}

/// Reads the sweep output under `dir` and writes `dir/report/`.
///
/// # Errors
/// `dir` is not a sweep's output (no `runs/`), none of its runs files can
/// be read, a figure cannot be drawn, or a file cannot be written; each
/// error names the file and the problem. Partial or older datasets are
/// reported as far as they can be, with notes saying what is missing.
pub fn write_report(dir: &Path) -> Result<ReportOutcome, ReportError> {
    let scenarios = load::load(dir)?;
    let out = dir.join("report");
    fs::create_dir_all(&out).map_err(ReportError::io(&out))?;
    let sections: Vec<Section> = scenarios
        .into_iter()
        .map(|data| section(&out, data))
        .collect::<Result<_, _>>()?;
    let mut files = Vec::new();
    for s in &sections {
        for f in &s.figures {
            files.push(out.join(format!("{}.svg", f.name)));
            files.push(out.join(format!("{}.png", f.name)));
        }
    }
    let index = out.join("index.html");
    write_bytes(&index, html::page(&sections).as_bytes())?;
    let summary = out.join("summary.md");
    write_bytes(&summary, markdown::summary(&sections).as_bytes())?;
    files.push(index);
    files.push(summary);
    Ok(ReportOutcome {
        dir: out,
        files,
        scenarios: sections
            .into_iter()
            .map(|s| ScenarioEntry {
                scenario: s.data.name.clone(),
                replications: s.data.replications.iter().copied().collect(),
                detail_replication: s.data.detail.as_ref().map(|d| d.replication),
                notes: s.data.notes.clone(),
                figures: s
                    .figures
                    .iter()
                    .map(|f| FigureEntry {
                        name: f.name.clone(),
                        title: f.title.clone(),
                        finding: f.finding.clone(),
                    })
                    .collect(),
                summary: s.summary,
            })
            .collect(),
    })
}
