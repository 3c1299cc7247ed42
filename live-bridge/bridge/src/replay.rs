//! `hcp bridge replay`: the contract's determinism, proved on a live log.
//!
//! Every run in the log (from one `start` record to the next) is played
//! again: a fresh policy and forecaster, built from the configuration the
//! run logged, are shown each logged observation in order through the
//! contract's [`DecisionLoop`], exactly as the bridge showed it; each
//! decision they make is compared with the one the bridge logged. Same
//! observations, same decisions — or the report says where not.

use std::path::Path;

use hcp_contract::{Action, DecisionLoop, Trigger};
use serde::Serialize;

use crate::audit::{Event, read};

/// The outcome of a replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Runs (bridge starts) in the log.
    pub runs: usize,
    /// Observations shown again.
    pub observations: usize,
    /// Decisions compared.
    pub decisions: usize,
    /// Decisions that differ (first few described in `mismatches`).
    pub differing: usize,
    /// Where they differ.
    pub mismatches: Vec<String>,
}

impl ReplayReport {
    /// Whether every decision was the same.
    pub fn identical(&self) -> bool {
        self.differing == 0 && self.decisions > 0
    }
}

/// Replays the log at `path` (a folder of segments or one file).
///
/// # Errors
/// The log cannot be read, or holds an observation before any start.
pub fn replay(path: &Path) -> Result<ReplayReport, String> {
    let lines = read(path)?;
    let mut report = ReplayReport::default();
    let mut run: Option<DecisionLoop> = None;
    // The decision the replayed loop made, awaiting the logged one.
    let mut pending: Option<(u64, Trigger, Vec<Action>)> = None;
    let mut actions = Vec::new();
    let differ = |report: &mut ReplayReport, why: String| {
        report.differing += 1;
        if report.mismatches.len() < 10 {
            report.mismatches.push(why);
        }
    };
    for line in lines {
        match line.event {
            Event::Start {
                policy, forecaster, ..
            } => {
                if let Some((epoch, ..)) = pending.take() {
                    differ(
                        &mut report,
                        format!("epoch {epoch}: the replay decided, the log has no decision"),
                    );
                }
                report.runs += 1;
                run = Some(DecisionLoop::new(policy.build(), forecaster.build()));
            }
            Event::Observation {
                epoch,
                occasion,
                mut observation,
            } => {
                let Some(run) = run.as_mut() else {
                    return Err(format!(
                        "line {}: an observation before any start record",
                        line.seq
                    ));
                };
                if let Some((e, ..)) = pending.take() {
                    differ(
                        &mut report,
                        format!("epoch {e}: the replay decided, the log has no decision"),
                    );
                }
                report.observations += 1;
                if let Some(trigger) = run.step(occasion, &mut observation, &mut actions) {
                    pending = Some((epoch, trigger, actions.clone()));
                }
            }
            Event::Decision {
                epoch,
                trigger,
                actions: logged,
                ..
            } => {
                report.decisions += 1;
                match pending.take() {
                    Some((e, t, a)) if e == epoch && t == trigger && a == logged => {}
                    Some((e, t, a)) => differ(
                        &mut report,
                        format!(
                            "epoch {e}: replayed {t:?} with {} actions, logged {trigger:?} with {} actions (first differing: {:?})",
                            a.len(),
                            logged.len(),
                            a.iter().zip(&logged).find(|(x, y)| x != y)
                        ),
                    ),
                    None => differ(
                        &mut report,
                        format!("epoch {epoch}: logged a decision the replay did not make"),
                    ),
                }
            }
            _ => {}
        }
    }
    if let Some((epoch, ..)) = pending {
        // The log may end between an observation and its decision only if
        // the bridge was cut off there; say so.
        differ(
            &mut report,
            format!("epoch {epoch}: the log ends before the decision was written"),
        );
    }
    Ok(report)
}
