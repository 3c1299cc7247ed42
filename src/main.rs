//! `hcp`: the command-line entry point of HCP Twin.
//!
//! A thin layer: argument parsing and printing live here, everything that
//! computes lives in the workspace's libraries. Every command that prints
//! figures also takes `--json` and then prints exactly one JSON document on
//! stdout; logs and progress go to stderr.

mod commands;
mod memory;

use clap::{Parser, Subcommand};

/// HCP Twin: a deterministic digital twin of operators that split power
/// between Bitcoin-mining ASICs and GPU AI workloads.
#[derive(Debug, Parser)]
#[command(name = "hcp", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the simulator and its world models against results no one here
    /// wrote: closed-form queues, real price and demand series, public
    /// hashprice figures.
    Validate(commands::validate::ValidateArgs),
    /// Fit a generator on your own series and print its parameters as a
    /// TOML block a scenario can include.
    #[command(subcommand)]
    Calibrate(commands::calibrate::CalibrateCommand),
    /// The main job: every policy of a scenario over Monte Carlo
    /// replications of its world, paired on the same worlds; a comparison
    /// table and a Parquet dataset.
    Sweep(commands::sweep::SweepArgs),
    /// Figures, a self-contained HTML page and a Markdown summary of a
    /// sweep's Parquet output (written to DIR/report/).
    Report(commands::report::ReportArgs),
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Measure the simulator's speed and memory.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// A virtual fleet that speaks the real devices' protocols on loopback.
    #[command(subcommand)]
    Fleet(commands::fleet::FleetCommand),
    /// Run the validated policy against a fleet: shadow mode until armed,
    /// a safety envelope, an audit log and an operator API.
    Bridge(commands::bridge::BridgeArgs),
    /// The desktop twin viewer: a sweep's dataset, a live twin run
    /// (--live), or a running bridge (--bridge).
    View(commands::view::ViewArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&args),
        Command::Calibrate(cmd) => commands::calibrate::run(&cmd),
        Command::Sweep(args) => commands::sweep::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Schema => commands::schema::run(),
        Command::Bench(cmd) => commands::bench::run(&cmd),
        Command::Fleet(cmd) => commands::fleet::run(&cmd),
        Command::Bridge(args) => commands::bridge::run(&args),
        Command::View(args) => commands::view::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let code = commands::exit::code(&error);
            // One plain message with its causes; no backtrace for users.
            if error.downcast_ref::<commands::exit::Verdict>().is_none() {
                eprintln!("error: {error:#}");
            }
            std::process::ExitCode::from(code)
        }
    }
}
