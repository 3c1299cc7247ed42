//! `hcp validate …`: the simulator and its world models against results no
//! one here wrote — closed-form queues, real price and demand series, public
//! hashprice figures.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hcp_engine::queueing::validation::checks as engine_checks;
use hcp_engine::queueing::{MmcResult, ValidationCase, run_mmc, standard_cases};
use hcp_engine::rng::RngStreams;
use hcp_models::check::Check;
use hcp_models::data::default_data_dir;
use hcp_models::plant::{asic_validation, gpu_validation};
use hcp_models::{demand, grid, market, twin};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use super::output::print_checks;

/// `hcp validate [TARGET]`: with no target, every check of every model.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ValidateArgs {
    #[command(subcommand)]
    target: Option<ValidateCommand>,
    #[command(flatten)]
    options: WorldArgs,
}

/// What to validate.
#[derive(Debug, Subcommand)]
pub enum ValidateCommand {
    /// M/M/8 at ρ = 0.9, M/M/1 and M/D/1 at ρ = 0.8, simulated on the engine,
    /// against Erlang C and Pollaczek–Khinchine.
    Engine(EngineArgs),
    /// BTC price, network (blocks, difficulty, fees), hashprice and GPU
    /// rental generators against Coin Metrics data and public hashprice figures.
    Market(WorldArgs),
    /// Spot-price generators per ERCOT node against the real 15-minute and
    /// hourly series; grid events and ancillary-service prices.
    Grid(WorldArgs),
    /// Customer demand: P1 request streams against the Azure and Alibaba
    /// traces, P2–P4 jobs against the Alibaba GPU pod list.
    Demand(WorldArgs),
    /// The plant: ASIC specs, power-target curves and breakeven prices,
    /// GPU server power, inference capacity, switching quantiles, the P1
    /// serving model against a request-level run, and a week of the twin
    /// (power cap, energy balance, books).
    Plant(WorldArgs),
}

/// Options shared by the world-model targets.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Folder of the real series (default: the repository's `data/`).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Print a JSON array of checks on stdout instead of a table.
    #[arg(long)]
    json: bool,
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
struct EngineReport<'a> {
    seed: u64,
    cases: &'a [ValidationCase],
    checks: &'a [hcp_engine::queueing::Check],
    passed: bool,
}

/// Which models a world validation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    Engine,
    Market,
    Grid,
    Demand,
    Plant,
}

/// Runs a validation command.
pub fn run(args: &ValidateArgs) -> Result<()> {
    match &args.target {
        None => world(
            &[
                Model::Engine,
                Model::Market,
                Model::Grid,
                Model::Demand,
                Model::Plant,
            ],
            &args.options,
        ),
        Some(ValidateCommand::Engine(engine_args)) => engine(engine_args),
        Some(ValidateCommand::Market(options)) => world(&[Model::Market], options),
        Some(ValidateCommand::Grid(options)) => world(&[Model::Grid], options),
        Some(ValidateCommand::Demand(options)) => world(&[Model::Demand], options),
        Some(ValidateCommand::Plant(options)) => world(&[Model::Plant], options),
    }
}

fn world(models: &[Model], options: &WorldArgs) -> Result<()> {
    let data = options.data.clone().unwrap_or_else(default_data_dir);
    if !data.is_dir() {
        bail!(
            "the data folder {} does not exist; pass --data DIR pointing at the series the \
             validation compares against (the repository's data/)",
            data.display()
        );
    }
    let progress = spinner("validating models against real data");
    // Each model's checks are independent and use fixed seeds: running them
    // in parallel cannot change a figure; collect keeps the listed order.
    let results: Vec<Result<Vec<Check>>> = models
        .par_iter()
        .map(|model| match model {
            Model::Engine => engine_world_checks(1),
            Model::Market => market::validation::checks(&data).context("market validation"),
            Model::Grid => grid::validation::checks(&data).context("grid validation"),
            Model::Demand => demand::validation::checks(&data).context("demand validation"),
            Model::Plant => Ok(plant_checks()),
        })
        .collect();
    progress.finish_and_clear();
    let mut checks = Vec::new();
    for result in results {
        checks.extend(result?);
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    if options.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        print_checks(&checks);
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks are outside their tolerance",
            checks.len()
        );
    }
    Ok(())
}

/// The plant's checks: device specs and models, then a week of the twin.
fn plant_checks() -> Vec<Check> {
    let mut checks = asic_validation::checks();
    checks.extend(gpu_validation::checks());
    checks.extend(twin::validation::checks(7));
    checks
}

fn spinner(message: &'static str) -> ProgressBar {
    let progress = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        progress.set_style(style);
    }
    progress.set_message(message);
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    progress
}

/// Runs the engine's suite and returns its per-replication results in case order.
fn run_engine_suite(cases: &[ValidationCase], seed: u64, progress: &ProgressBar) -> Vec<MmcResult> {
    let jobs: Vec<(usize, u64)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, case)| (0..case.replications).map(move |r| (i, r)))
        .collect();
    progress.set_length(jobs.len() as u64);
    // Each (case, replication) draws from its own streams, so the results do
    // not depend on how rayon schedules them; collect keeps their order.
    jobs.par_iter()
        .map(|&(case, replication)| {
            let result = run_mmc(&cases[case].config, &RngStreams::new(seed, replication));
            progress.inc(1);
            result
        })
        .collect()
}

fn engine_suite_checks(
    cases: &[ValidationCase],
    results: &[MmcResult],
) -> Result<Vec<hcp_engine::queueing::Check>> {
    let mut all = Vec::new();
    let mut offset = 0;
    for case in cases {
        let n = usize::try_from(case.replications)?;
        all.extend(engine_checks(case, &results[offset..offset + n])?);
        offset += n;
    }
    Ok(all)
}

/// The engine's checks in the common `Check` form of `hcp validate`.
fn engine_world_checks(seed: u64) -> Result<Vec<Check>> {
    let cases = standard_cases(1);
    let results = run_engine_suite(&cases, seed, &ProgressBar::hidden());
    Ok(engine_suite_checks(&cases, &results)?
        .into_iter()
        .map(|c| {
            Check::relative(
                &format!("engine/{}", c.case),
                &c.metric,
                c.simulated.mean,
                c.expected,
                c.tolerance,
                &c.unit,
                "closed form (Erlang C / Pollaczek–Khinchine)",
            )
        })
        .collect())
}

fn engine(args: &EngineArgs) -> Result<()> {
    let cases = standard_cases(args.scale);
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} replications ({eta})")?
            .progress_chars("=> "),
    );
    progress.set_message("validating the engine");
    let results = run_engine_suite(&cases, args.seed, &progress);
    progress.finish_and_clear();
    let all_checks = engine_suite_checks(&cases, &results)?;
    let failed = all_checks.iter().filter(|c| !c.passed).count();

    if args.json {
        let report = EngineReport {
            seed: args.seed,
            cases: &cases,
            checks: &all_checks,
            passed: failed == 0,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_engine_table(&cases, &all_checks);
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks are outside their tolerance",
            all_checks.len()
        );
    }
    Ok(())
}

fn print_engine_table(cases: &[ValidationCase], checks: &[hcp_engine::queueing::Check]) {
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
