//! `hcp validate …`: the simulator against results no one here wrote.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use hcp_engine::queueing::validation::checks;
use hcp_engine::queueing::{Check, MmcResult, ValidationCase, run_mmc, standard_cases};
use hcp_engine::rng::RngStreams;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

/// What to validate.
#[derive(Debug, Subcommand)]
pub enum ValidateCommand {
    /// M/M/8 at ρ = 0.9, M/M/1 and M/D/1 at ρ = 0.8, simulated on the engine,
    /// against Erlang C and Pollaczek–Khinchine.
    Engine(EngineArgs),
}

/// Options of `hcp validate engine`.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Master seed of the RNG streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Multiply the replications of every case (longer run, tighter intervals).
    #[arg(long, default_value_t = 1)]
    scale: u64,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The document of `hcp validate engine --json` (stable field names).
#[derive(Debug, Serialize)]
struct ValidationReport<'a> {
    seed: u64,
    cases: &'a [ValidationCase],
    checks: &'a [Check],
    passed: bool,
}

/// Runs a validation command.
pub fn run(cmd: &ValidateCommand) -> Result<()> {
    match cmd {
        ValidateCommand::Engine(args) => engine(args),
    }
}

fn engine(args: &EngineArgs) -> Result<()> {
    let cases = standard_cases(args.scale);
    let jobs: Vec<(usize, u64)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, case)| (0..case.replications).map(move |r| (i, r)))
        .collect();
    let progress = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} replications ({eta})")?
            .progress_chars("=> "),
    );
    progress.set_message("validating the engine");

    // Each (case, replication) draws from its own streams, so the results do
    // not depend on how rayon schedules them; collect keeps their order.
    let results: Vec<MmcResult> = jobs
        .par_iter()
        .map(|&(case, replication)| {
            let result = run_mmc(
                &cases[case].config,
                &RngStreams::new(args.seed, replication),
            );
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();

    let mut all_checks = Vec::new();
    let mut offset = 0;
    for case in &cases {
        let n = usize::try_from(case.replications)?;
        all_checks.extend(checks(case, &results[offset..offset + n])?);
        offset += n;
    }
    let failed = all_checks.iter().filter(|c| !c.passed).count();

    if args.json {
        let report = ValidationReport {
            seed: args.seed,
            cases: &cases,
            checks: &all_checks,
            passed: failed == 0,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&cases, &all_checks);
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks are outside their tolerance",
            all_checks.len()
        );
    }
    Ok(())
}

fn print_table(cases: &[ValidationCase], checks: &[Check]) {
    println!("Engine validation: simulated queues against closed-form results");
    for case in cases {
        println!(
            "  {:<13} {} replications × {} customers ({} warm-up)",
            case.name, case.replications, case.config.customers, case.config.warmup_customers
        );
    }
    println!();
    println!(
        "{:<13} {:<16} {:>12} {:>22} {:>9} {:>7}  result",
        "case", "metric", "closed form", "simulated (95% CI)", "error", "tol."
    );
    for c in checks {
        println!(
            "{:<13} {:<16} {:>12.5} {:>12.5} ± {:<7.5} {:>+8.2}% {:>6.1}%  {}",
            c.case,
            c.metric,
            c.expected,
            c.simulated.mean,
            c.simulated.half_width,
            c.relative_error * 100.0,
            c.tolerance * 100.0,
            if c.passed { "pass" } else { "FAIL" }
        );
    }
}
