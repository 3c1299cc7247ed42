//! [`generate`]: the market's whole tape for one (seed, replication) —
//! BTC price, hashrate, difficulty, fee share, hashprice on the interval
//! grid, the blocks and retargets in between, and GPU rental prices.
//!
//! One pass over the grid: at each interval start the hashprice is read
//! from the current difficulty, subsidy, fee share and price; blocks are
//! then mined through the interval at its hashrate (retargets happen at the
//! block that closes an epoch); the hashrate then moves towards the
//! revenue target. Each process draws only from its own stream.

use hcp_engine::rng::{RngStreams, StreamId};
use serde::Serialize;

use super::btc_price::{DAY_MICROS, generate_btc_price};
use super::chain::{Block, Chain, ChainLog, Retarget};
use super::gpu::{GpuRentalSeries, generate_gpu_rental};
use super::hashprice::usd_per_ph_day;
use super::network::{
    BLOCKS_STREAM, FEES_STREAM, FeeShare, HASHRATE_STREAM, Hashrate, revenue_usd_per_day,
};
use super::params::MarketParams;
use crate::series::{Horizon, RegularSeries};

/// Everything the market does over a horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketTape {
    /// BTC/USD at each interval start.
    pub btc_usd: RegularSeries,
    /// Network hashrate over each interval, EH/s.
    pub network_hashrate_ehs: RegularSeries,
    /// Difficulty in force at each interval start.
    pub difficulty: RegularSeries,
    /// Fees per block ÷ subsidy over each interval.
    pub fee_share: RegularSeries,
    /// Hashprice at each interval start, USD per PH/s per day.
    pub hashprice_usd_per_ph_day: RegularSeries,
    /// Hashprice at each interval start, USD per TH/s per day.
    pub hashprice_usd_per_th_day: RegularSeries,
    /// Blocks found, by increasing height and time.
    pub blocks: Vec<Block>,
    /// Difficulty retargets, in order.
    pub retargets: Vec<Retarget>,
    /// GPU rental prices, in the order of the parameters.
    pub gpu_rental: Vec<GpuRentalSeries>,
}

/// Generates the market tape.
///
/// # Panics
/// If `params` fails [`MarketParams::validate`] (checked when loaded).
pub fn generate(params: &MarketParams, horizon: &Horizon, streams: &RngStreams) -> MarketTape {
    let btc_usd = generate_btc_price(&params.btc, params.start.btc_usd, horizon, streams);
    generate_with_price(params, btc_usd, horizon, streams)
}

/// Generates the market tape around a given BTC/USD path (a replay, or a
/// path from elsewhere): the network, fees, hashprice and GPU rental are
/// simulated as in [`generate`], with miners reacting to that path. The
/// `market/btc_price` stream is not drawn.
///
/// # Panics
/// If `params` fails [`MarketParams::validate`] (checked when loaded), or
/// `btc_usd` is not on the horizon's grid.
pub fn generate_with_price(
    params: &MarketParams,
    btc_usd: RegularSeries,
    horizon: &Horizon,
    streams: &RngStreams,
) -> MarketTape {
    if let Err(problem) = params.validate() {
        panic!("invalid market parameters: {problem}");
    }
    assert!(
        btc_usd.step() == horizon.step && btc_usd.len() == horizon.intervals(),
        "the BTC/USD path must cover the horizon at its step"
    );
    let n = horizon.intervals();
    let step_micros = horizon.step.as_micros();
    let step_secs = horizon.step.as_secs_f64();
    let start = &params.start;
    let mut block_rng = streams.stream(StreamId::named(BLOCKS_STREAM));
    let mut hash_rng = streams.stream(StreamId::named(HASHRATE_STREAM));
    let mut fee_rng = streams.stream(StreamId::named(FEES_STREAM));
    let mut chain = match start.epoch_elapsed_s {
        Some(elapsed) => Chain::new(start.height, start.difficulty, elapsed, &mut block_rng),
        None => Chain::at_target_pace(start.height, start.difficulty, &mut block_rng),
    };
    let mut fees = FeeShare::new(&params.fees, start.fee_share);
    let revenue0 = revenue_usd_per_day(start.btc_usd, chain.next_subsidy_btc(), start.fee_share);
    let mut hashrate = Hashrate::new(
        &params.hashrate,
        start.hashrate_ehs * 1e18,
        revenue0,
        step_secs / 86_400.0,
    );
    let mut hashrate_ehs = Vec::with_capacity(n);
    let mut difficulty = Vec::with_capacity(n);
    let mut fee_share = Vec::with_capacity(n);
    let mut hashprice = Vec::with_capacity(n);
    let mut log = ChainLog::with_capacity(
        usize::try_from(horizon.length.as_micros() / 500_000_000).unwrap_or(0),
    );
    let mut day = 0;
    for (i, &price) in btc_usd.values().iter().enumerate() {
        let t_us = step_micros * i as u64;
        if t_us / DAY_MICROS != day {
            day = t_us / DAY_MICROS;
            fees.next_day(&mut fee_rng);
        }
        let f = fees.share();
        let subsidy = chain.next_subsidy_btc();
        let h = hashrate.hashes_per_second();
        hashrate_ehs.push(h / 1e18);
        difficulty.push(chain.difficulty());
        fee_share.push(f);
        hashprice.push(usd_per_ph_day(
            chain.difficulty(),
            subsidy,
            subsidy * f,
            price,
        ));
        let from = t_us as f64 / 1e6;
        chain.mine(from, from + step_secs, h, f, &mut block_rng, &mut log);
        hashrate.step(revenue_usd_per_day(price, subsidy, f), &mut hash_rng);
    }
    let hashprice_th = hashprice.iter().map(|v| v / 1_000.0).collect();
    let series = |values| RegularSeries::new(horizon.time_of(0), horizon.step, values);
    MarketTape {
        btc_usd,
        network_hashrate_ehs: series(hashrate_ehs),
        difficulty: series(difficulty),
        fee_share: series(fee_share),
        hashprice_usd_per_ph_day: series(hashprice),
        hashprice_usd_per_th_day: series(hashprice_th),
        blocks: log.blocks,
        retargets: log.retargets,
        gpu_rental: params
            .gpu
            .iter()
            .map(|g| generate_gpu_rental(g, horizon, streams))
            .collect(),
    }
}
