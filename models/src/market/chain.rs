//! The Bitcoin chain as a point process: blocks found at Poisson rate
//! H / (D·2³²) per second, difficulty retargets every 2,016 blocks and
//! subsidy halvings every 210,000 blocks.
//!
//! Hashrate H is in hashes per second and piecewise constant over the
//! tape's intervals; difficulty D is dimensionless (expected hashes per
//! block = D·2³²); times are seconds from the horizon start, stored as
//! [`SimTime`] once per block. The work to the next block is an Exp(1)
//! multiple of D·2³² hashes, consumed at the current hashrate, so the block
//! count in a window of constant H and D is Poisson.
//!
//! Retargets follow Bitcoin's rule, including its off-by-one: at a height
//! h divisible by 2,016 the difficulty is multiplied by
//! 2016·600 s / (time(h−1) − time(h−2016)) — a span of 2,015 intervals —
//! with the span clamped to [¼, 4]× the target, so D changes by at most ×4
//! or ÷4 per retarget.

use hcp_engine::rng::StreamRng;
use hcp_engine::time::SimTime;
use rand_distr::{Distribution, Exp1};
use serde::Serialize;

/// Target time between blocks, seconds.
pub const TARGET_SPACING_S: f64 = 600.0;
/// Blocks between difficulty retargets.
pub const RETARGET_INTERVAL: u64 = 2_016;
/// Blocks between subsidy halvings.
pub const HALVING_INTERVAL: u64 = 210_000;
/// Expected hashes per block per unit of difficulty (2³²).
pub const HASHES_PER_DIFFICULTY: f64 = 4_294_967_296.0;
/// Largest factor by which one retarget may change the difficulty.
pub const MAX_RETARGET_FACTOR: f64 = 4.0;

/// One mined block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Block {
    /// Block height.
    pub height: u64,
    /// When it was found.
    pub time: SimTime,
    /// Block subsidy, BTC.
    pub subsidy_btc: f64,
    /// Transaction fees collected, BTC.
    pub fees_btc: f64,
}

/// One difficulty retarget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Retarget {
    /// Height of the first block mined at the new difficulty (a multiple of 2,016).
    pub height: u64,
    /// Time of the block that closed the previous epoch.
    pub time: SimTime,
    /// Difficulty before.
    pub old_difficulty: f64,
    /// Difficulty after.
    pub new_difficulty: f64,
    /// Measured span of the closing epoch (2,015 intervals), seconds, before clamping.
    pub timespan_s: f64,
    /// Whether the ×4 / ÷4 clamp applied.
    pub clamped: bool,
}

/// Block subsidy at `height`, BTC: 50·2^−⌊height/210,000⌋, computed in
/// satoshis with Bitcoin's integer shift (zero after 64 halvings).
pub fn subsidy_btc(height: u64) -> f64 {
    let halvings = height / HALVING_INTERVAL;
    if halvings >= 64 {
        return 0.0;
    }
    (5_000_000_000_u64 >> halvings) as f64 / 1e8
}

/// What the chain did: blocks and retargets in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainLog {
    /// Blocks found.
    pub blocks: Vec<Block>,
    /// Retargets made.
    pub retargets: Vec<Retarget>,
}

impl ChainLog {
    /// An empty log with room for `blocks` blocks.
    pub fn with_capacity(blocks: usize) -> ChainLog {
        ChainLog {
            blocks: Vec::with_capacity(blocks),
            retargets: Vec::with_capacity(blocks / 2_016 + 1),
        }
    }
}

/// The chain's state while blocks are simulated.
#[derive(Debug, Clone)]
pub struct Chain {
    tip_height: u64,
    difficulty: f64,
    epoch_first_time_s: f64,
    work_left: f64,
}

impl Chain {
    /// A chain whose last block is `tip_height`, mining at `difficulty`,
    /// whose current epoch began `epoch_elapsed_s` seconds before time
    /// zero; the first work draw comes from `rng`.
    pub fn new(
        tip_height: u64,
        difficulty: f64,
        epoch_elapsed_s: f64,
        rng: &mut StreamRng,
    ) -> Chain {
        let mut chain = Chain {
            tip_height,
            difficulty,
            epoch_first_time_s: -epoch_elapsed_s,
            work_left: 0.0,
        };
        chain.draw_work(rng);
        chain
    }

    /// A chain whose current epoch's blocks so far came at the 600 s
    /// target (the default assumption when only the tip height is known).
    pub fn at_target_pace(tip_height: u64, difficulty: f64, rng: &mut StreamRng) -> Chain {
        let into_epoch = tip_height % RETARGET_INTERVAL;
        Chain::new(
            tip_height,
            difficulty,
            into_epoch as f64 * TARGET_SPACING_S,
            rng,
        )
    }

    /// Height of the last block.
    pub fn tip_height(&self) -> u64 {
        self.tip_height
    }

    /// Difficulty of the next block.
    pub fn difficulty(&self) -> f64 {
        self.difficulty
    }

    /// Subsidy of the next block, BTC.
    pub fn next_subsidy_btc(&self) -> f64 {
        subsidy_btc(self.tip_height + 1)
    }

    fn draw_work(&mut self, rng: &mut StreamRng) {
        let e: f64 = Exp1.sample(rng);
        self.work_left = e * self.difficulty * HASHES_PER_DIFFICULTY;
    }

    /// Mines from `from_s` to `to_s` (seconds) at `hashrate` (H/s), with
    /// fees of `fee_share` × subsidy per block; appends the blocks found and
    /// any retarget to `log`.
    pub fn mine(
        &mut self,
        from_s: f64,
        to_s: f64,
        hashrate: f64,
        fee_share: f64,
        rng: &mut StreamRng,
        log: &mut ChainLog,
    ) {
        if hashrate <= 0.0 {
            return;
        }
        let mut t = from_s;
        loop {
            let needed = self.work_left / hashrate;
            if t + needed >= to_s {
                self.work_left -= hashrate * (to_s - t);
                return;
            }
            t += needed;
            self.tip_height += 1;
            let height = self.tip_height;
            let subsidy = subsidy_btc(height);
            let time = seconds_to_sim(t);
            log.blocks.push(Block {
                height,
                time,
                subsidy_btc: subsidy,
                fees_btc: subsidy * fee_share,
            });
            if height.is_multiple_of(RETARGET_INTERVAL) {
                self.epoch_first_time_s = t;
            }
            if (height + 1).is_multiple_of(RETARGET_INTERVAL) {
                log.retargets.push(self.retarget(height + 1, t, time));
            }
            self.draw_work(rng);
        }
    }

    fn retarget(&mut self, height: u64, now_s: f64, time: SimTime) -> Retarget {
        let target = RETARGET_INTERVAL as f64 * TARGET_SPACING_S;
        let timespan = now_s - self.epoch_first_time_s;
        let clamped_span =
            timespan.clamp(target / MAX_RETARGET_FACTOR, target * MAX_RETARGET_FACTOR);
        let old = self.difficulty;
        self.difficulty = old * target / clamped_span;
        Retarget {
            height,
            time,
            old_difficulty: old,
            new_difficulty: self.difficulty,
            timespan_s: timespan,
            clamped: clamped_span != timespan,
        }
    }
}

/// Seconds from time zero to a [`SimTime`], rounded to the microsecond.
fn seconds_to_sim(seconds: f64) -> SimTime {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let micros = (seconds.max(0.0) * 1e6).round() as u64;
    SimTime::from_micros(micros)
}
