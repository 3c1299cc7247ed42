//! `hcp calibrate …`: fit a generator on a user's own series and print the
//! parameters as a TOML block a scenario can include (or JSON with `--json`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hcp_models::data::GapRepair;
use hcp_models::demand::ServiceParams;
use hcp_models::demand::calibrate::calibrate_requests;
use hcp_models::demand::traces::RequestTraceOptions;
use hcp_models::grid::calibrate::{NodeCalibrationOptions, calibrate};
use hcp_models::market::calibrate::{
    BtcCalibrationOptions, NetworkCalibrationOptions, calibrate_btc, calibrate_network,
};
use serde::Serialize;

/// What to calibrate.
#[derive(Debug, Subcommand)]
pub enum CalibrateCommand {
    /// The BTC/USD price model (Markov-switching Student-t daily returns)
    /// from a daily price file.
    Btc(BtcArgs),
    /// The network model (hashrate reversion and trend, fee share) from a
    /// daily Coin Metrics-style network file.
    Network(NetworkArgs),
    /// A price node's spot-price generator (daily and seasonal shape, mean
    /// reversion, spikes, negative prices) from any ERCOT layout or a CSV /
    /// Parquet file with the same columns.
    Grid(GridArgs),
    /// A P1 request stream (rate, burstiness, token counts, daily shape when
    /// the trace is long enough) from a request trace.
    Requests(RequestArgs),
}

/// Output options shared by every calibration.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the TOML block to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the fitted parameters as one JSON object instead of TOML.
    #[arg(long)]
    json: bool,
    /// Fill gaps of at most this many missing days/intervals by repeating the
    /// last value (each fill is reported); by default a gap is an error.
    #[arg(long, value_name = "N")]
    fill_gaps: Option<usize>,
}

impl OutputArgs {
    fn repair(&self) -> GapRepair {
        self.fill_gaps
            .map_or(GapRepair::Reject, |max_missing| GapRepair::ForwardFill {
                max_missing,
            })
    }
}

/// Options of `hcp calibrate btc`.
#[derive(Debug, Args)]
pub struct BtcArgs {
    /// Daily price file (CSV or Parquet), one row per UTC day.
    file: PathBuf,
    /// Column holding the date (YYYY-MM-DD).
    #[arg(long, default_value = "date")]
    date_column: String,
    /// Column holding the price in USD.
    #[arg(long, default_value = "PriceUSD")]
    price_column: String,
    /// Number of regimes of the Markov-switching model.
    #[arg(long, default_value_t = 4)]
    regimes: usize,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options of `hcp calibrate network`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Daily network file (CSV or Parquet) with Coin Metrics columns
    /// (date, HashRate, IssTotUSD, FeeTotUSD, IssTotNtv, FeeTotNtv).
    file: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options of `hcp calibrate grid`.
#[derive(Debug, Args)]
pub struct GridArgs {
    /// Price file: ERCOT real-time (15-minute) or day-ahead (hourly) prices,
    /// long or wide layout, CSV or Parquet; timestamps in Central prevailing
    /// time. A year of hourly data or several months of 15-minute data.
    file: PathBuf,
    /// The settlement point (column or Settlement Point Name), e.g. HB_WEST.
    #[arg(long)]
    node: String,
    /// Market the node belongs to (its key in the parameters).
    #[arg(long, default_value = "ercot")]
    market: String,
    /// Offer cap, $/MWh (ERCOT: 5,000 since 2022, 9,000 before).
    #[arg(long)]
    cap: Option<f64>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options of `hcp calibrate requests`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Request trace (CSV or Parquet), one row per request.
    file: PathBuf,
    /// Name of the service in the parameters.
    #[arg(long, default_value = "custom")]
    name: String,
    /// Column of arrival times.
    #[arg(long, default_value = "TIMESTAMP")]
    time_column: String,
    /// chrono format of the arrival times.
    #[arg(long, default_value = "%Y-%m-%d %H:%M:%S%.f")]
    time_format: String,
    /// Column of context (prompt) tokens ("" if none).
    #[arg(long, default_value = "ContextTokens")]
    context_column: String,
    /// Column of generated tokens ("" if none).
    #[arg(long, default_value = "GeneratedTokens")]
    generated_column: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs a calibration command.
pub fn run(cmd: &CalibrateCommand) -> Result<()> {
    match cmd {
        CalibrateCommand::Btc(args) => {
            let options = BtcCalibrationOptions {
                date_column: args.date_column.clone(),
                price_column: args.price_column.clone(),
                regimes: args.regimes,
                repair: args.output.repair(),
            };
            let params = calibrate_btc(&args.file, &options)?;
            emit(&args.output, &["market", "btc"], &params, &args.file)
        }
        CalibrateCommand::Network(args) => {
            let options = NetworkCalibrationOptions {
                repair: args.output.repair(),
                ..NetworkCalibrationOptions::default()
            };
            let fit = calibrate_network(&args.file, &options)?;
            emit(&args.output, &["market"], &fit, &args.file)
        }
        CalibrateCommand::Grid(args) => {
            let mut options = NodeCalibrationOptions::ercot(&args.node);
            options.market.clone_from(&args.market);
            options.repair = args.output.repair();
            if let Some(cap) = args.cap {
                options.cap = cap;
            }
            let params = calibrate(&args.file, &options)?;
            emit(&args.output, &["grid"], &params, &args.file)
        }
        CalibrateCommand::Requests(args) => {
            let column = |c: &str| (!c.is_empty()).then(|| c.to_owned());
            let options = RequestTraceOptions {
                time_column: args.time_column.clone(),
                format: args.time_format.clone(),
                context_column: column(&args.context_column),
                generated_column: column(&args.generated_column),
            };
            let stream = calibrate_requests(&args.file, &options)?;
            let service = ServiceParams {
                name: args.name.clone(),
                stream,
            };
            emit(
                &args.output,
                &["demand", "requests"],
                &ServicesBlock {
                    services: vec![service],
                },
                &args.file,
            )
        }
    }
}

/// `[[demand.requests.services]]`: one fitted service to append.
#[derive(Serialize)]
struct ServicesBlock {
    services: Vec<ServiceParams>,
}

/// Prints (or writes) fitted parameters under the scenario table `path`.
fn emit(output: &OutputArgs, path: &[&str], params: &impl Serialize, source: &Path) -> Result<()> {
    let text = if output.json {
        serde_json::to_string_pretty(params)? + "\n"
    } else {
        let mut value = toml::Value::try_from(params).context("the fitted parameters as TOML")?;
        for key in path.iter().rev() {
            let mut table = toml::Table::new();
            table.insert((*key).to_owned(), value);
            value = toml::Value::Table(table);
        }
        format!(
            "# Fitted by `hcp calibrate` on {} (HCP Twin {}).\n{}",
            source.display(),
            env!("CARGO_PKG_VERSION"),
            toml::to_string(&value).context("the fitted parameters as TOML")?
        )
    };
    match &output.out {
        None => print!("{text}"),
        Some(file) => {
            write_atomically(file, text.as_bytes())?;
            eprintln!("wrote {}", file.display());
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `file`, then renames it over
/// `file`: readers see the old file or the new one, never half of one.
fn write_atomically(file: &Path, bytes: &[u8]) -> Result<()> {
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let mut temporary = file.to_path_buf();
    temporary.set_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, file)
        .with_context(|| format!("cannot move {} to {}", temporary.display(), file.display()))
}
