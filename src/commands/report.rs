//! `hcp report DIR`: the figures, HTML page and Markdown summary of a
//! sweep's Parquet dataset, read from its files alone (`DIR/report/`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hcp_reports::ReportOutcome;

/// Options of `hcp report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output folder of `hcp sweep` (its `--out`).
    dir: PathBuf,
    /// Print one JSON document on stdout: the files written and, per
    /// scenario, the comparison and each figure's finding.
    #[arg(long)]
    json: bool,
}

/// Writes the report of `dir` and logs what was written on stderr.
pub fn write(dir: &std::path::Path) -> Result<ReportOutcome> {
    let outcome = hcp_reports::write_report(dir)
        .with_context(|| format!("cannot write the report of {}", dir.display()))?;
    for s in &outcome.scenarios {
        for note in &s.notes {
            eprintln!("report {}: note: {note}", s.scenario);
        }
    }
    eprintln!(
        "report: {} files → {}",
        outcome.files.len(),
        outcome.dir.join("index.html").display()
    );
    Ok(outcome)
}

/// Runs the command.
pub fn run(args: &ReportArgs) -> Result<()> {
    let outcome = write(&args.dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        for s in &outcome.scenarios {
            println!("{}:", s.scenario);
            for f in &s.figures {
                println!("  {}", f.finding);
            }
        }
        println!("{}", outcome.dir.join("index.html").display());
    }
    Ok(())
}
