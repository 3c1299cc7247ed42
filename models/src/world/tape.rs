//! [`World`] (a checked configuration with its replayed series loaded) and
//! [`WorldTape`] (everything exogenous for one seed and replication).

use std::path::Path;

use hcp_engine::rng::RngStreams;
use serde::Serialize;

use super::config::{MAX_DAYS, WorldConfig, WorldError};
use crate::data::Table;
use crate::demand::{self, DemandTape};
use crate::grid::{self, GridTape, NodePrices, load};
use crate::market::{self, MarketTape, replay::PriceReplayOptions};
use crate::series::{Horizon, RegularSeries};

/// A world ready to generate tapes: the configuration checked, the horizon
/// fixed and every replayed series loaded and mapped onto it.
#[derive(Debug, Clone)]
pub struct World {
    config: WorldConfig,
    horizon: Horizon,
    /// Replayed price series, by node.
    prices: Vec<(String, RegularSeries)>,
    btc: Option<RegularSeries>,
}

/// All exogenous series and events of one (seed, replication).
#[derive(Debug, Clone, PartialEq)]
pub struct WorldTape {
    /// The time grid every series uses.
    pub horizon: Horizon,
    /// BTC price, network, blocks, hashprice, GPU rental prices.
    pub market: MarketTape,
    /// Spot prices per node (in `price_nodes` order).
    pub grid: GridTape,
    /// Customers, P1 request rates, P2–P4 job arrivals.
    pub demand: DemandTape,
}

/// Memory held by a tape, bytes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TapeFootprint {
    /// Market series, blocks and retargets.
    pub market_bytes: usize,
    /// Grid price series.
    pub grid_bytes: usize,
    /// Customers, P1 rates and jobs.
    pub demand_bytes: usize,
}

impl TapeFootprint {
    /// The whole tape.
    pub fn total_bytes(&self) -> usize {
        self.market_bytes + self.grid_bytes + self.demand_bytes
    }
}

/// The most job arrivals a day a world accepts (`jobs_per_day` ×
/// `load_scale`): a hundred times the designed scale's 100,000; beyond it a
/// run would spend hours drawing jobs.
pub const MAX_JOBS_PER_DAY: f64 = 1e7;

/// The demand's shapes and quantile tables: lengths the generators index
/// by, finite non-decreasing quantiles, a service for P1 customers to run.
fn check_demand(demand: &crate::demand::DemandParams) -> Result<(), WorldError> {
    use crate::demand::{KNOTS, QuantileTable};
    let table = |key: String, t: &QuantileTable| {
        if t.is_valid() {
            Ok(())
        } else {
            Err(WorldError::invalid(
                &key,
                format!(
                    "a quantile table needs {KNOTS} finite, non-decreasing values (it has {})",
                    t.0.len()
                ),
            ))
        }
    };
    let shape = |key: &str, values: &[f64], len: usize| {
        // Mean-one factors: none can exceed the count of them.
        let most = len as f64;
        if values.len() == len && values.iter().all(|v| (0.0..=most).contains(v)) {
            Ok(())
        } else {
            Err(WorldError::invalid(
                key,
                format!(
                    "needs {len} mean-one factors between 0 and {len} (it has {})",
                    values.len()
                ),
            ))
        }
    };
    let r = &demand.requests;
    shape("demand.requests.daily_shape", &r.daily_shape, 24)?;
    shape("demand.requests.weekly_shape", &r.weekly_shape, 7)?;
    shape("demand.jobs.daily_shape", &demand.jobs.daily_shape, 24)?;
    if r.services.is_empty() && demand.customers.count[0] > 0 {
        return Err(WorldError::invalid(
            "demand.requests.services",
            "P1 customers need at least one request service",
        ));
    }
    for (i, service) in r.services.iter().enumerate() {
        let key = format!("demand.requests.services[{i}].stream");
        let stream = &service.stream;
        if let Some(daily) = &stream.daily_shape {
            shape(&format!("{key}.daily_shape"), daily, 24)?;
        }
        for (name, t) in [
            ("context_tokens", &stream.context_tokens),
            ("generated_tokens", &stream.generated_tokens),
        ] {
            if let Some(t) = t {
                table(format!("{key}.{name}"), t)?;
            }
        }
    }
    for (i, class) in demand.jobs.classes.iter().enumerate() {
        for (name, v) in [("share", class.share), ("h100_only", class.h100_only)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(WorldError::invalid(
                    &format!("demand.jobs.classes[{i}].{name}"),
                    format!("must be a fraction between 0 and 1, not {v}"),
                ));
            }
        }
        table(
            format!("demand.jobs.classes[{i}].runtime_s"),
            &class.runtime_s,
        )?;
    }
    check_jobs(&demand.jobs)
}

fn check_jobs(jobs: &crate::demand::JobParams) -> Result<(), WorldError> {
    for (key, v) in [
        ("demand.jobs.jobs_per_day", jobs.jobs_per_day),
        ("demand.jobs.load_scale", jobs.load_scale),
        ("demand.jobs.load_fraction", jobs.load_fraction),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(WorldError::invalid(
                key,
                format!("must be a number of at least 0, not {v}"),
            ));
        }
    }
    // Each class arrives at jobs_per_day × load_scale × its share: many
    // classes whose shares add up past 1 multiply the arrivals.
    let shares: f64 = jobs.classes.iter().map(|c| c.share).sum();
    let per_day = jobs.jobs_per_day * jobs.load_scale * shares.max(1.0);
    if per_day > MAX_JOBS_PER_DAY {
        return Err(WorldError::invalid(
            "demand.jobs.load_scale",
            format!(
                "{per_day:.0} job arrivals a day (jobs_per_day × load_scale × the classes' \
                 shares, which add up to {shares:.3}) is beyond the most a run can play, \
                 {MAX_JOBS_PER_DAY:.0}"
            ),
        ));
    }
    Ok(())
}

/// A node known to the grid's parameters whose market has a finite floor
/// below a finite cap, each within the prices a replay may hold.
fn check_market(grid: &crate::grid::GridParams, node: &str) -> Result<(), WorldError> {
    let (node_params, market) = grid.node(node)?;
    let key = |field: &str| format!("grid.markets.{}.{field}", node_params.market);
    for (field, v) in [("floor", market.floor), ("cap", market.cap)] {
        if !(v.is_finite() && v.abs() <= load::MAX_ABS_PRICE) {
            return Err(WorldError::invalid(
                &key(field),
                format!(
                    "must be a price within ±{:.0} $/MWh, not {v}",
                    load::MAX_ABS_PRICE
                ),
            ));
        }
    }
    if market.floor >= market.cap {
        return Err(WorldError::invalid(
            &key("floor"),
            format!(
                "the floor ({} $/MWh) must be below the offer cap ({} $/MWh)",
                market.floor, market.cap
            ),
        ));
    }
    let node_key = |field: &str| format!("grid.nodes.{node}.{field}");
    for (field, v, name) in [
        (key("sustained_share"), market.sustained_share, "a share"),
        (node_key("slow_share"), node_params.slow_share, "a share"),
        (key("phi_slow"), market.phi_slow, "an autocorrelation"),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(WorldError::invalid(
                &field,
                format!("must be {name} between 0 and 1, not {v}"),
            ));
        }
    }
    if !(market.sustained_intervals >= 1.0 && market.sustained_intervals.is_finite()) {
        return Err(WorldError::invalid(
            &key("sustained_intervals"),
            format!(
                "a sustained episode lasts at least one interval on average, not {}",
                market.sustained_intervals
            ),
        ));
    }
    Ok(())
}

impl World {
    /// Checks `config` and loads its replayed series; relative replay paths
    /// are resolved against `base_dir`.
    ///
    /// # Errors
    /// An impossible value (with its key), an unknown price node, or a
    /// replayed file that is unusable or does not cover the horizon.
    pub fn prepare(config: WorldConfig, base_dir: &Path) -> Result<World, WorldError> {
        if config.days == 0 {
            return Err(WorldError::invalid(
                "days",
                "the horizon must be at least one day",
            ));
        }
        if config.days > MAX_DAYS {
            return Err(WorldError::invalid(
                "days",
                format!(
                    "{} days is beyond the longest horizon, {MAX_DAYS} days",
                    config.days
                ),
            ));
        }
        if config.step_minutes == 0 || 1_440 % config.step_minutes != 0 {
            return Err(WorldError::invalid(
                "step_minutes",
                format!("{} minutes does not divide a day", config.step_minutes),
            ));
        }
        if config.price_nodes.is_empty() {
            return Err(WorldError::invalid(
                "price_nodes",
                "name at least one price node",
            ));
        }
        for (i, node) in config.price_nodes.iter().enumerate() {
            if config.price_nodes[..i].contains(node) {
                return Err(WorldError::invalid(
                    "price_nodes",
                    format!("'{node}' is listed twice"),
                ));
            }
        }
        check_demand(&config.demand)?;
        config
            .market
            .validate()
            .map_err(|problem| WorldError::invalid("market", problem))?;
        let horizon = Horizon::days(
            config.start,
            u64::from(config.days),
            u64::from(config.step_minutes),
        );
        // An unknown node or an impossible market is caught here, before
        // any tape is generated.
        for node in &config.price_nodes {
            check_market(&config.grid, node)?;
        }

        let mut prices = Vec::new();
        for (i, replay) in config.replay.prices.iter().enumerate() {
            let key = format!("replay.prices[{i}]");
            if !config.price_nodes.contains(&replay.node) {
                return Err(WorldError::invalid(
                    &format!("{key}.node"),
                    format!(
                        "'{}' is not one of price_nodes ({})",
                        replay.node,
                        config.price_nodes.join(", ")
                    ),
                ));
            }
            let path = base_dir.join(&replay.file);
            let table = Table::read(&path).map_err(WorldError::data(&key))?;
            let series = load::load_node(&table, &replay.node, replay.repair)
                .map_err(WorldError::data(&key))?;
            let on_horizon = load::replay(&series, &horizon).map_err(|problem| {
                WorldError::invalid(&key, format!("{}: {problem}", path.display()))
            })?;
            prices.push((replay.node.clone(), on_horizon));
        }
        let btc = match &config.replay.btc {
            None => None,
            Some(replay) => {
                let options = PriceReplayOptions {
                    date_column: replay.date_column.clone(),
                    price_column: replay.price_column.clone(),
                    repair: replay.repair,
                };
                Some(
                    market::replay::btc_price(&base_dir.join(&replay.file), &options, &horizon)
                        .map_err(WorldError::data("replay.btc"))?,
                )
            }
        };
        Ok(World {
            config,
            horizon,
            prices,
            btc,
        })
    }

    /// The checked configuration.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// The time grid of every tape.
    pub fn horizon(&self) -> &Horizon {
        &self.horizon
    }

    /// Generates the tape of one (seed, replication): generated processes
    /// draw from their own streams of `streams`, replayed ones are copied.
    pub fn tape(&self, streams: &RngStreams) -> WorldTape {
        let mut tape = self.tape_without_jobs(streams);
        tape.demand.jobs = self.jobs(&tape, streams);
        tape
    }

    /// The job list of [`World::tape`], for a tape made without it.
    pub fn jobs(&self, tape: &WorldTape, streams: &RngStreams) -> Vec<demand::JobArrival> {
        demand::jobs(
            &self.config.demand.jobs,
            &tape.demand.customers,
            self.config.demand.fleet.gpus(),
            &self.horizon,
            streams,
        )
    }

    /// The tape of [`World::tape`] without the job list (`demand.jobs`
    /// empty); [`World::job_generator`] yields the same jobs one interval at
    /// a time, which is how the twin reads them.
    pub fn tape_without_jobs(&self, streams: &RngStreams) -> WorldTape {
        let config = &self.config;
        let market = match &self.btc {
            None => market::generate(&config.market, &self.horizon, streams),
            Some(btc) => {
                market::generate_with_price(&config.market, btc.clone(), &self.horizon, streams)
            }
        };
        // Replayed nodes are copied, the others generated; each node draws
        // from its own stream, so leaving one out changes no other's prices.
        let replayed = |node: &str| self.prices.iter().find(|(n, _)| n == node);
        let generated: Vec<&str> = config
            .price_nodes
            .iter()
            .map(String::as_str)
            .filter(|node| replayed(node).is_none())
            .collect();
        // Nodes were checked in `prepare`, so generation cannot fail.
        let mut grid = grid::generate(&config.grid, &generated, &self.horizon, streams)
            .unwrap_or_else(|e| unreachable!("price nodes were checked in prepare: {e}"));
        let mut generated_prices = std::mem::take(&mut grid.prices).into_iter();
        grid.prices = config
            .price_nodes
            .iter()
            .map(|node| match replayed(node) {
                Some((_, series)) => NodePrices {
                    node: node.clone(),
                    price: series.clone(),
                },
                None => generated_prices
                    .next()
                    .unwrap_or_else(|| unreachable!("one generated series per generated node")),
            })
            .collect();
        let demand = demand::generate_without_jobs(&config.demand, &self.horizon, streams);
        WorldTape {
            horizon: self.horizon,
            market,
            grid,
            demand,
        }
    }
}

impl World {
    /// The job arrivals of `tape`'s replication, interval by interval.
    pub fn job_generator(&self, tape: &WorldTape, streams: &RngStreams) -> demand::JobGenerator {
        demand::job_generator(
            &self.config.demand,
            &tape.demand.customers,
            &self.horizon,
            streams,
        )
    }
}

impl WorldTape {
    /// Memory held by the tape's series and events.
    pub fn footprint(&self) -> TapeFootprint {
        let series = |s: &RegularSeries| s.len() * std::mem::size_of::<f64>();
        let m = &self.market;
        let market_bytes = [
            &m.btc_usd,
            &m.network_hashrate_ehs,
            &m.difficulty,
            &m.fee_share,
            &m.hashprice_usd_per_ph_day,
            &m.hashprice_usd_per_th_day,
        ]
        .into_iter()
        .map(series)
        .sum::<usize>()
            + m.gpu_rental
                .iter()
                .map(|g| series(&g.usd_per_gpu_hour))
                .sum::<usize>()
            + std::mem::size_of_val(m.blocks.as_slice())
            + std::mem::size_of_val(m.retargets.as_slice());
        let grid_bytes = self.grid.prices.iter().map(|p| series(&p.price)).sum();
        TapeFootprint {
            market_bytes,
            grid_bytes,
            demand_bytes: self.demand.heap_bytes(),
        }
    }
}
