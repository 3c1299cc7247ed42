//! [`WorldConfig`]: the world section of a scenario, with defaults for
//! everything, and the errors a bad one gets.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::data::{DataError, GapRepair};
use crate::demand::DemandParams;
use crate::grid::{GridError, GridParams};
use crate::market::MarketParams;

/// The longest horizon a world accepts, days (about 548 years): far beyond
/// any study, and short enough that every instant of it fits the engine's
/// microsecond clock and the calendar. Whether a sweep over a long horizon
/// fits in memory is a separate question, answered before the sweep starts
/// (`hcp_scenarios::memory`).
pub const MAX_DAYS: u32 = 200_000;

/// The exogenous world of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WorldConfig {
    /// Calendar start of simulated time zero (UTC).
    pub start: DateTime<Utc>,
    /// Horizon length, days (1 to [`MAX_DAYS`]).
    pub days: u32,
    /// Market interval, minutes (5 or 15 in the built-in scenarios; any
    /// divisor of a day).
    pub step_minutes: u32,
    /// Price nodes the scenario's sites buy at, in site order.
    pub price_nodes: Vec<String>,
    /// BTC price, network, fees, GPU rental.
    pub market: MarketParams,
    /// Spot-price nodes and their markets.
    pub grid: GridParams,
    /// Customers, P1 request streams, P2–P4 jobs.
    pub demand: DemandParams,
    /// Processes replayed from files instead of generated.
    pub replay: ReplayConfig,
}

impl Default for WorldConfig {
    /// The reference fleet's world: one year from 2025-12-01 at 5-minute
    /// intervals, prices at ERCOT North and South hubs and the North Dakota
    /// node, late-2025 market state, the calibrated parameters.
    fn default() -> Self {
        WorldConfig {
            start: Utc
                .with_ymd_and_hms(2025, 12, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            days: 365,
            step_minutes: 5,
            price_nodes: vec!["HB_NORTH".into(), "HB_SOUTH".into(), "ND_MISO".into()],
            market: MarketParams::default(),
            grid: GridParams::default(),
            demand: DemandParams::default(),
            replay: ReplayConfig::default(),
        }
    }
}

/// Processes replayed from files. Relative paths are resolved against the
/// folder given to [`crate::world::World::prepare`] (the scenario file's).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// Spot prices replayed per node (overriding the generator for it).
    pub prices: Vec<PriceReplay>,
    /// The BTC/USD path replayed from a daily file; network, fees and
    /// hashprice are then simulated around it.
    pub btc: Option<BtcReplay>,
}

/// One node's prices from a file (any ERCOT layout, or a user's CSV or
/// Parquet with the same columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceReplay {
    /// The price node (one of `price_nodes`).
    pub node: String,
    /// The file.
    pub file: PathBuf,
    /// Gap handling (default: a gap is an error).
    #[serde(default)]
    pub repair: GapRepair,
}

/// The BTC/USD path from a daily file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BtcReplay {
    /// The file.
    pub file: PathBuf,
    /// Date column (YYYY-MM-DD, UTC days).
    #[serde(default = "default_date_column")]
    pub date_column: String,
    /// Price column, USD.
    #[serde(default = "default_price_column")]
    pub price_column: String,
    /// Gap handling (default: a gap is an error).
    #[serde(default)]
    pub repair: GapRepair,
}

fn default_date_column() -> String {
    "date".into()
}

fn default_price_column() -> String {
    "PriceUSD".into()
}

/// What is wrong with a world configuration.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A key has an impossible value.
    #[error("world.{key}: {problem}")]
    Invalid {
        /// The key path under the world section.
        key: String,
        /// A plain sentence.
        problem: String,
    },
    /// A price node cannot be generated.
    #[error("world.price_nodes: {0}")]
    Grid(#[from] GridError),
    /// A replayed file is unusable: the replay's key
    /// (`replay.prices[1]`, `replay.btc`) and the file's own error (file,
    /// line or row, column).
    #[error("world.{key}: {source}")]
    Data {
        /// The key path of the replay under the world section.
        key: String,
        /// What is wrong with the file.
        source: DataError,
    },
}

impl WorldError {
    pub(crate) fn data(key: &str) -> impl FnOnce(DataError) -> WorldError + '_ {
        move |source| WorldError::Data {
            key: key.to_owned(),
            source,
        }
    }

    pub(crate) fn invalid(key: &str, problem: impl Into<String>) -> WorldError {
        WorldError::Invalid {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }
}
