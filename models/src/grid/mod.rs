//! Grid-side processes: real-time spot prices per price node ($/MWh),
//! ancillary-service prices ($/MW per hour) and grid events (demand
//! response, 4CP-like peaks, emergency curtailment requests), each as a
//! calibrated stochastic generator and as a replay of real ERCOT files.
//!
//! Parameters ship in `models/params/grid_ercot.toml` (every ERCOT hub and
//! load zone, fitted on the files of `data/`) and
//! `models/params/grid_north_dakota.toml` (a documented assumption set for a
//! MISO/SPP-footprint site). Stream names: `grid/system/<market>`,
//! `grid/price/<NODE>`, `grid/ancillary/<SERVICE>`, `grid/events/<kind>`.

pub mod ancillary;
pub mod ancillary_fit;
pub mod calibrate;
pub mod events;
pub mod fit;
pub mod load;
pub mod persistence;
pub mod price;
pub mod validation;

use std::collections::BTreeMap;

use hcp_engine::rng::RngStreams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};
pub use ancillary::{AncillaryParams, ServicePrices};
pub use events::{EventParams, GridEvent, GridEventKind, Payment};
pub use price::{MarketParams, NodeParams};

const ERCOT_TOML: &str = include_str!("../../params/grid_ercot.toml");
const NORTH_DAKOTA_TOML: &str = include_str!("../../params/grid_north_dakota.toml");

/// Every grid parameter: markets (common spike regime and shocks) and
/// price nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GridParams {
    /// Market-wide parameters by market name (`ercot`, `north_dakota`).
    pub markets: BTreeMap<String, MarketParams>,
    /// Price-node parameters by node name (`HB_WEST`, `ND_MISO`, …).
    pub nodes: BTreeMap<String, NodeParams>,
}

impl GridParams {
    /// Parses a TOML parameter block.
    ///
    /// # Errors
    /// Invalid TOML or fields that do not match.
    pub fn from_toml(text: &str) -> Result<GridParams, toml::de::Error> {
        toml::from_str(text)
    }

    /// The same parameters rounded as they are shipped: prices to cents,
    /// coefficients to four (φ's to five) decimals, rates to six
    /// significant digits.
    #[must_use]
    pub fn rounded(&self) -> GridParams {
        GridParams {
            markets: self
                .markets
                .iter()
                .map(|(k, m)| (k.clone(), m.rounded()))
                .collect(),
            nodes: self
                .nodes
                .iter()
                .map(|(k, n)| (k.clone(), n.rounded()))
                .collect(),
        }
    }

    /// A node's parameters and those of its market.
    ///
    /// # Errors
    /// The node, or the market it names, has no parameters.
    pub fn node(&self, node: &str) -> Result<(&NodeParams, &MarketParams), GridError> {
        let node_params = self.nodes.get(node).ok_or_else(|| GridError::UnknownNode {
            node: node.to_owned(),
            known: self.nodes.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        let market =
            self.markets
                .get(&node_params.market)
                .ok_or_else(|| GridError::UnknownMarket {
                    node: node.to_owned(),
                    market: node_params.market.clone(),
                })?;
        Ok((node_params, market))
    }

    /// Adds (or replaces) the markets and nodes of `other`.
    pub fn merge(&mut self, other: GridParams) {
        self.markets.extend(other.markets);
        self.nodes.extend(other.nodes);
    }
}

impl Default for GridParams {
    /// The shipped ERCOT fit plus the North Dakota assumption set.
    fn default() -> Self {
        let mut params =
            GridParams::from_toml(ERCOT_TOML).unwrap_or_else(|e| panic!("grid_ercot.toml: {e}"));
        params.merge(
            GridParams::from_toml(NORTH_DAKOTA_TOML)
                .unwrap_or_else(|e| panic!("grid_north_dakota.toml: {e}")),
        );
        params
    }
}

impl MarketParams {
    /// The market's parameters rounded as shipped ([`GridParams::rounded`]).
    #[must_use]
    pub fn rounded(&self) -> MarketParams {
        let mut m = self.clone();
        m.spike_rate = significant(m.spike_rate);
        m.spike_intervals = round_to(m.spike_intervals, 4);
        m.sustained_share = round_to(m.sustained_share, 4);
        m.sustained_intervals = round_to(m.sustained_intervals, 4);
        m.spike_persistence = round_to(m.spike_persistence, 4);
        m.phi_slow = round_to(m.phi_slow, 5);
        m.spike_coupling = round_to(m.spike_coupling, 4);
        m.spike_ramp = round_to(m.spike_ramp, 4);
        m.spike_decay = round_to(m.spike_decay, 4);
        m.month_weight.iter_mut().for_each(|v| *v = round_to(*v, 4));
        m
    }
}

impl NodeParams {
    /// The node's parameters rounded as shipped ([`GridParams::rounded`]).
    #[must_use]
    pub fn rounded(&self) -> NodeParams {
        let mut n = self.clone();
        n.shape
            .iter_mut()
            .flatten()
            .for_each(|v| *v = round_to(*v, 2));
        n.residual
            .iter_mut()
            .chain(n.level.iter_mut())
            .for_each(|v| *v = round_to(*v, 2));
        n.weekend
            .iter_mut()
            .chain(n.month_scale.iter_mut())
            .chain(n.spike_scale.iter_mut())
            .for_each(|v| *v = round_to(*v, 4));
        n.phi = round_to(n.phi, 5);
        n.slow_share = round_to(n.slow_share, 4);
        n.common_share = round_to(n.common_share, 4);
        n.spike_mu = round_to(n.spike_mu, 4);
        n.spike_sigma = round_to(n.spike_sigma, 4);
        n
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    // Adding zero turns a rounded −0.0 into 0.0.
    (v * f).round() / f + 0.0
}

fn significant(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation)]
    let digits = 5 - v.abs().log10().floor() as i32;
    round_to(v, digits)
}

/// One node's price series on the tape.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePrices {
    /// The node.
    pub node: String,
    /// Prices, $/MWh, at the horizon step.
    pub price: RegularSeries,
}

/// Errors of the grid generators.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GridError {
    /// A node has no parameters.
    #[error("no price parameters for node '{node}' (known: {known})")]
    UnknownNode {
        /// The node asked for.
        node: String,
        /// The nodes that have parameters.
        known: String,
    },
    /// A node names a market without parameters.
    #[error("node '{node}' belongs to market '{market}', which has no parameters")]
    UnknownMarket {
        /// The node.
        node: String,
        /// Its market.
        market: String,
    },
}

/// Generates the price series of `nodes` over the horizon. Each market's
/// common path is drawn once (whatever nodes are asked for), each node from
/// its own stream, so adding a node never changes another's prices.
///
/// # Errors
/// A node or its market has no parameters.
pub fn generate_prices(
    params: &GridParams,
    nodes: &[&str],
    horizon: &Horizon,
    streams: &RngStreams,
) -> Result<Vec<NodePrices>, GridError> {
    let calendar = price::calendar(horizon);
    let mut paths: BTreeMap<&str, price::MarketPath> = BTreeMap::new();
    let mut out = Vec::with_capacity(nodes.len());
    for &node in nodes {
        let (node_params, market) = params.node(node)?;
        let market_name = node_params.market.as_str();
        let path = paths.entry(market_name).or_insert_with(|| {
            price::market_path(market_name, market, &calendar, horizon, streams)
        });
        out.push(NodePrices {
            node: node.to_owned(),
            price: price::node_prices(node, node_params, market, path, &calendar, horizon, streams),
        });
    }
    Ok(out)
}

/// The grid part of the world tape: one price series per requested node.
#[derive(Debug, Clone, PartialEq)]
pub struct GridTape {
    /// Prices in the order the nodes were requested.
    pub prices: Vec<NodePrices>,
    /// Grid events, sorted by start.
    pub events: Vec<GridEvent>,
    /// Ancillary-service prices, one series per service.
    pub ancillary: Vec<ServicePrices>,
}

impl GridTape {
    /// The price series of `node`, if it is on the tape.
    pub fn price(&self, node: &str) -> Option<&RegularSeries> {
        self.prices
            .iter()
            .find(|p| p.node == node)
            .map(|p| &p.price)
    }
}

/// Builds the module's tape for the nodes the scenario's sites use, with
/// the built-in event and ancillary-service parameters.
///
/// # Errors
/// A node or its market has no parameters.
pub fn generate(
    params: &GridParams,
    nodes: &[&str],
    horizon: &Horizon,
    streams: &RngStreams,
) -> Result<GridTape, GridError> {
    generate_with(
        params,
        &EventParams::default(),
        &AncillaryParams::default(),
        nodes,
        horizon,
        streams,
    )
}

/// Builds the module's tape: prices of `nodes`, grid events (emergency
/// requests keyed to the price of `events.emergency.node`, generated from
/// its own streams when it is not among `nodes`) and ancillary prices.
///
/// # Errors
/// A node, the emergency reference node or a market has no parameters.
pub fn generate_with(
    params: &GridParams,
    events: &EventParams,
    ancillary: &AncillaryParams,
    nodes: &[&str],
    horizon: &Horizon,
    streams: &RngStreams,
) -> Result<GridTape, GridError> {
    let prices = generate_prices(params, nodes, horizon, streams)?;
    let reference_node = events.emergency.node.as_str();
    let extra;
    let reference = if let Some(p) = prices.iter().find(|p| p.node == reference_node) {
        &p.price
    } else {
        extra = generate_prices(params, &[reference_node], horizon, streams)?;
        &extra[0].price
    };
    Ok(GridTape {
        events: events::generate(events, horizon, streams, Some(reference)),
        ancillary: ancillary::generate(ancillary, horizon, streams),
        prices,
    })
}
