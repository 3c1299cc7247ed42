//! The sweep's summary as the viewer shows it: the policy comparison
//! (profit with its 95 % CI, paired uplift over the baseline, CVaR 5 %,
//! % of oracle) and revenue and cost by stream, computed by the very code
//! `hcp sweep` and `hcp report` use ([`hcp_reports::report::stats::summary`],
//! [`hcp_reports::report::tables`]), so the numbers are the same.

use hcp_reports::report::ScenarioData;
use hcp_reports::report::stats;
use hcp_reports::report::tables::{self, Table};

/// One scenario's summary, as text cells.
#[derive(Debug, Clone)]
pub struct ScenarioSummary {
    /// Scenario name.
    pub scenario: String,
    /// Replications, seed, horizon, in one line.
    pub header: String,
    /// The money unit's period ("per replication, 365-day horizon").
    pub per_run: String,
    /// Policy comparison.
    pub comparison: Table,
    /// Revenue and cost by stream.
    pub streams: Table,
    /// What is odd or missing in the dataset.
    pub notes: Vec<String>,
}

/// The summary of every scenario of a sweep.
#[derive(Debug, Clone, Default)]
pub struct SummaryView {
    /// Per scenario, in folder order.
    pub scenarios: Vec<ScenarioSummary>,
}

impl SummaryView {
    /// Summarises what [`hcp_reports::dataset::load_runs`] read.
    pub fn of(data: &[ScenarioData]) -> SummaryView {
        let scenarios = data
            .iter()
            .map(|d| {
                let sum = stats::summary(d);
                let reps: Vec<String> = d.replications.iter().map(u64::to_string).collect();
                ScenarioSummary {
                    scenario: d.name.clone(),
                    header: format!(
                        "{} replications ({}), master seed {}, {} policies paired against {}; horizon {}.",
                        d.replications.len(),
                        reps.join(", "),
                        d.seed.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
                        d.policies.len(),
                        sum.baseline,
                        stats::horizon_days(d)
                            .map_or_else(|| "unknown".to_owned(), |days| format!("{days:.1} days")),
                    ),
                    per_run: stats::per_run(d),
                    comparison: tables::comparison(&sum),
                    streams: tables::streams(&sum),
                    notes: d.notes.clone(),
                }
            })
            .collect();
        SummaryView { scenarios }
    }
}
