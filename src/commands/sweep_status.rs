//! `hcp sweep status DIR` and `hcp sweep merge DIR`: what the shards of a
//! sweep have left in a shared folder, and — once every shard is done —
//! the summary and report a single-machine `hcp sweep` would have written,
//! byte for byte (the same files, read by the same code).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use hcp_reports::status::{ScenarioStatus, Verdict, sweep_status};
use hcp_scenarios::sweep::{BASELINE, RunFigures, summarise};

use super::exit::{PERMANENT, Permanent, Verdict as ExitWith};

/// Options of `hcp sweep status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The sweep's output folder (shared by its shards).
    dir: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Options of `hcp sweep merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The sweep's output folder (shared by its shards).
    dir: PathBuf,
    /// The scenario to summarise, when DIR holds several.
    #[arg(long)]
    scenario: Option<String>,
    /// Do not write the report under DIR/report.
    #[arg(long)]
    no_report: bool,
    /// Print one JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// Exit code of a verdict: 0 complete, 1 incomplete, 2 inconsistent.
fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Complete => 0,
        Verdict::Incomplete => 1,
        Verdict::Inconsistent => PERMANENT,
    }
}

/// Prints the status of every scenario under the folder.
pub fn status(args: &StatusArgs) -> Result<()> {
    let all = sweep_status(&args.dir).map_err(Permanent::wrap)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        for s in &all {
            print_status(s);
        }
    }
    let worst = all
        .iter()
        .map(|s| verdict_code(s.verdict))
        .max()
        .unwrap_or(0);
    if worst == 0 {
        Ok(())
    } else {
        Err(ExitWith(worst).into())
    }
}

/// Replications as ranges: `0-3, 7, 9-10`.
fn ranges(rs: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rs.len() {
        let mut j = i;
        while j + 1 < rs.len() && rs[j + 1] == rs[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            rs[i].to_string()
        } else {
            format!("{}-{}", rs[i], rs[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

fn print_status(s: &ScenarioStatus) {
    let total = s
        .replications_total
        .map_or_else(|| "?".to_owned(), |t| t.to_string());
    println!(
        "{}: {:?} — {} of {total} replications present, seed {}, code {}",
        s.scenario,
        s.verdict,
        s.present,
        s.seed.map_or_else(|| "?".to_owned(), |x| x.to_string()),
        s.git_revision.as_deref().unwrap_or("?"),
    );
    if s.replications_total.is_none() {
        println!(
            "  no shard manifest: no shard has started, or an hcp older than manifests wrote it"
        );
    }
    if !s.missing.is_empty() {
        println!("  missing replications: {}", ranges(&s.missing));
    }
    for shard in &s.shards {
        let missing = if shard.missing.is_empty() {
            String::new()
        } else {
            format!(", missing {}", ranges(&shard.missing))
        };
        println!(
            "  shard {}/{}: {}{}{missing}",
            shard.shard,
            shard.shards,
            shard.state.replace('_', " "),
            shard
                .origin
                .as_ref()
                .map_or_else(String::new, |o| format!(" ({o})")),
        );
    }
    for p in &s.problems {
        println!("  inconsistent: {p}");
    }
    for l in &s.leftovers {
        println!("  leftover of a killed write (ignored): {}", l.display());
    }
}

/// Summarises a complete sweep from its files.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let all = sweep_status(&args.dir).map_err(Permanent::wrap)?;
    let status = match (&args.scenario, all.as_slice()) {
        (Some(name), _) => all.iter().find(|s| &s.scenario == name).ok_or_else(|| {
            Permanent::message(format!("{}: no scenario {name}", args.dir.display()))
        })?,
        (None, [one]) => one,
        (None, _) => {
            let names: Vec<&str> = all.iter().map(|s| s.scenario.as_str()).collect();
            return Err(Permanent::message(format!(
                "{} holds scenarios {}: name one with --scenario",
                args.dir.display(),
                names.join(", ")
            )));
        }
    };
    match status.verdict {
        Verdict::Complete => {}
        Verdict::Incomplete => {
            print_status(status);
            anyhow::bail!(
                "{}: sweep {} is not complete yet (missing {})",
                args.dir.display(),
                status.scenario,
                ranges(&status.missing)
            );
        }
        Verdict::Inconsistent => {
            print_status(status);
            return Err(Permanent::message(format!(
                "{}: sweep {} is inconsistent: {}",
                args.dir.display(),
                status.scenario,
                status.problems.join("; ")
            )));
        }
    }
    summarise_complete(&args.dir, status, args.no_report, args.json)
}

fn summarise_complete(
    dir: &Path,
    status: &ScenarioStatus,
    no_report: bool,
    json: bool,
) -> Result<()> {
    let (Some(seed), Some(days)) = (status.seed, status.horizon_days) else {
        return Err(Permanent::message("a complete sweep without a manifest"));
    };
    let figures: Vec<RunFigures> = hcp_reports::read_runs(dir)?
        .into_iter()
        .filter(|row| row.scenario == status.scenario && row.seed == seed)
        .map(|row| row.figures(days))
        .collect();
    let summary = summarise(&status.scenario, seed, &status.policies, &figures, BASELINE);
    super::sweep::finish(dir, no_report, json, &summary)
}
