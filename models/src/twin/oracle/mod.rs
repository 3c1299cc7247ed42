//! The oracle: an upper bound on what any policy can earn on a tape.
//!
//! The oracle knows the whole realised tape (every price, every request
//! and job) and may switch any device at any instant at no cost. It is not
//! a policy one could deploy but the yardstick of one: every policy is
//! reported as a share of it and as regret (oracle − policy) on the same
//! tape. It must be a true bound — no policy may beat it — so it relaxes
//! the plant rather than approximating it:
//!
//! - **ASICs** ([`asic`]): per site and interval, a fractional knapsack of
//!   every cohort's concave power–hashrate envelope under the site's cap,
//!   earning mining revenue (hashprice after the pool fee), ancillary pay
//!   on fast load, and charged energy plus the grid's pay for power left
//!   unused (demand response per MWh shed, 4CP on the realised peak).
//! - **GPUs** ([`gpu`]): a Lagrangian bound over the whole horizon of P1
//!   inference, P2–P4 job work and rental, net of energy. The GPUs' own
//!   power is not charged against the cap (they draw under 2 % of a site's
//!   cap in the built-in plants), which only loosens the bound.
//! - **Grid payments not tied to power**: the standby pay of every grid
//!   event for the whole cap of every taking-part site, and the pay for
//!   power left unused counted on the whole cap (the ASIC side charges it
//!   back per watt used).
//!
//! The three parts add up to the bound; each is at least what the plant
//! earns there under any policy (`policies/tests/oracle.rs` checks it
//! against every built-in policy and one that grabs every grid and
//! ancillary payment). Units: USD over the horizon.

mod asic;
mod gpu;
mod terms;

use super::setup::TwinSetup;
use crate::world::WorldTape;
use hcp_engine::rng::RngStreams;

/// The oracle's upper bound on one tape, USD over the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleBound {
    /// The bound on profit: the sum of the parts below.
    pub profit_usd: f64,
    /// ASICs: mining revenue and ancillary pay less energy and the grid's
    /// pay for unused power forgone.
    pub asic_usd: f64,
    /// GPUs: P1, P2–P4 and rental revenue less energy.
    pub gpu_usd: f64,
    /// Grid payments bounded on the whole cap: standby pay and pay for
    /// unused power.
    pub grid_usd: f64,
}

/// The oracle's bound for `tape` (from [`TwinSetup::tape`] with `streams`,
/// which also give the jobs).
pub fn oracle(setup: &TwinSetup, tape: &WorldTape, streams: &RngStreams) -> OracleBound {
    let terms = terms::Terms::of(setup, tape, streams);
    let asic_usd = terms.asic_value();
    let gpu_usd = terms.gpu.bound();
    let grid_usd = terms.grid_usd;
    OracleBound {
        profit_usd: asic_usd + gpu_usd + grid_usd,
        asic_usd,
        gpu_usd,
        grid_usd,
    }
}
