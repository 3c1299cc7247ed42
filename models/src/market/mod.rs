//! Market processes outside the operator's control: the BTC/USD price
//! (Markov-switching Student-t daily returns), network hashrate and
//! difficulty (Poisson blocks, retargets every 2,016 blocks, halvings, fee
//! share), hashprice (USD per PH/s or TH/s per day) and GPU rental prices
//! (USD per GPU-hour).
//!
//! [`generate`] builds the whole [`MarketTape`] for one (seed,
//! replication) from [`MarketParams`] (whose `Default` is the calibrated
//! set in `models/params/market.toml`); [`replay`] turns real daily files
//! into the same series; [`calibrate`] fits the parameters on a user's
//! files; [`validation`] compares generators and formulas with real data.
//!
//! Streams: `market/btc_price`, `market/hashrate`, `market/blocks`,
//! `market/fees`, `market/gpu_rental/<model>`.

pub mod btc_price;
pub mod calibrate;
pub mod chain;
pub mod daily;
pub mod fit;
pub mod gpu;
pub mod hashprice;
pub mod network;
pub mod params;
pub mod replay;
pub mod tape;
pub mod validation;

pub use btc_price::{BtcPriceParams, Regime, generate_btc_price};
pub use chain::{Block, Retarget, subsidy_btc};
pub use gpu::{GpuRentalParams, GpuRentalSeries, generate_gpu_rental};
pub use network::{FeeParams, HashrateParams};
pub use params::{MarketParams, MarketStart, ParamsError};
pub use tape::{MarketTape, generate, generate_with_price};
