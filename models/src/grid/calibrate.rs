//! Calibration: fitting price-node parameters from ERCOT-layout files, for
//! the shipped defaults ([`fit_ercot`]) and for a user's own file
//! ([`calibrate_node`], [`calibrate`]).
//!
//! A user's file needs either at least a year of hourly (or finer) prices —
//! then every month's shape comes from it — or some months of 15-minute
//! prices, with the months it lacks taken from a prior parameter set.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use hcp_engine::rng::RngStreams;

use super::fit::{self, Shape};
use super::load::{self, NodeSeries};
use super::price::{MarketParams, NodeParams};
use super::{GridParams, generate_prices};
use crate::data::{DataError, GapRepair, Location, RegularData, Table};
use crate::series::Horizon;

/// The node whose price marks ERCOT-wide spikes and carries the common shock.
pub const ERCOT_REFERENCE: &str = "HB_HUBAVG";
/// A system price above this ($/MWh) puts an interval in the spike regime.
pub const SPIKE_THRESHOLD: f64 = 300.0;
/// The real-time file the dynamics are fitted on.
pub const RTM_JANUARIES: &str = "ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv";
/// ERCOT's offer cap since 2022, $/MWh.
pub const ERCOT_CAP: f64 = 5000.0;
/// ERCOT's price floor, $/MWh.
pub const ERCOT_FLOOR: f64 = -251.0;

/// Options of [`calibrate_node`]; the layout is detected from the headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCalibrationOptions {
    /// The node (settlement point) to fit.
    pub node: String,
    /// The market the node belongs to (key of the resulting markets table).
    pub market: String,
    /// What to do with gaps.
    pub repair: GapRepair,
    /// Offer cap, $/MWh.
    pub cap: f64,
    /// Price floor, $/MWh.
    pub floor: f64,
    /// A price above this ($/MWh) is a spike interval.
    pub spike_threshold: f64,
    /// Common share ρ to use (one node alone cannot identify it).
    pub common_share: f64,
    /// Parameters for the months the file does not cover (default: the
    /// built-in node of the same name, else HB_NORTH).
    pub prior: Option<NodeParams>,
}

impl NodeCalibrationOptions {
    /// ERCOT defaults for `node`.
    pub fn ercot(node: &str) -> Self {
        NodeCalibrationOptions {
            node: node.to_owned(),
            market: "ercot".to_owned(),
            repair: GapRepair::Reject,
            cap: ERCOT_CAP,
            floor: ERCOT_FLOOR,
            spike_threshold: SPIKE_THRESHOLD,
            common_share: 0.7,
            prior: None,
        }
    }
}

fn samples(series: &NodeSeries) -> Vec<(DateTime<Utc>, f64)> {
    series
        .segments
        .iter()
        .flat_map(|s| (0..s.values.len()).map(move |i| (s.time_of(i), s.values[i])))
        .collect()
}

fn spiking(segments: &[RegularData], threshold: f64) -> Vec<Vec<bool>> {
    segments
        .iter()
        .map(|s| s.values.iter().map(|&v| v > threshold).collect())
        .collect()
}

/// Fits one node of a user's file.
///
/// # Errors
/// Any loading error; a file covering too little (fewer than 30 days, or
/// months missing and no prior for them).
pub fn calibrate_node(
    path: &Path,
    options: &NodeCalibrationOptions,
) -> Result<NodeParams, DataError> {
    Ok(fit_user(path, options)?.0)
}

/// Fits a user's node and returns it with its market, as a block a
/// scenario can include.
///
/// # Errors
/// As [`calibrate_node`].
pub fn calibrate(path: &Path, options: &NodeCalibrationOptions) -> Result<GridParams, DataError> {
    let (node, market) = fit_user(path, options)?;
    Ok(GridParams {
        markets: BTreeMap::from([(options.market.clone(), market)]),
        nodes: BTreeMap::from([(options.node.clone(), node)]),
    })
}

/// The node and market parameters of a user's file; the level offsets are
/// absolute (shape and dynamics come from the same file), months the file
/// lacks keep the prior's.
fn fit_user(
    path: &Path,
    options: &NodeCalibrationOptions,
) -> Result<(NodeParams, MarketParams), DataError> {
    let table = Table::read(path)?;
    let series = load::load_node(&table, &options.node, options.repair)?;
    let step = series.step();
    let count: usize = series.segments.iter().map(|s| s.values.len()).sum();
    if step > TimeDelta::hours(1)
        || i64::try_from(count)
            .unwrap_or(i64::MAX)
            .saturating_mul(step.num_minutes())
            < 30 * 24 * 60
    {
        return Err(table.error(
            Location::File,
            "calibration needs at least 30 days of hourly or finer prices",
        ));
    }
    let default = GridParams::default();
    let prior = options
        .prior
        .as_ref()
        .or_else(|| default.nodes.get(&options.node))
        .or_else(|| default.nodes.get("HB_NORTH"));
    let data = samples(&series);
    let shape = fit::fit_shape(&data, prior, None);
    if shape.covered.iter().any(|c| !c) && prior.is_none() {
        return Err(table.error(
            Location::File,
            "the file lacks some months and no prior covers them",
        ));
    }
    let spikes = spiking(&series.segments, options.spike_threshold);
    let dynamics = fit::fit_dynamics(&shape, &series.segments, &spikes);
    let mut market = MarketParams {
        spike_rate: dynamics.spike_rate,
        month_weight: month_weight(&data, options.spike_threshold),
        spike_intervals: dynamics.episodes.blip,
        sustained_share: dynamics.episodes.sustained_share,
        sustained_intervals: dynamics.episodes.sustained,
        spike_persistence: dynamics.spike_persistence,
        phi_slow: dynamics.factors.phi_slow,
        spike_coupling: 0.0,
        spike_ramp: dynamics.spike_ramp,
        spike_decay: dynamics.spike_decay,
        cap: options.cap,
        floor: options.floor,
    };
    let mut node = node_params(&options.market, &shape, &dynamics, options.common_share);
    let names = (options.market.as_str(), options.node.as_str());
    let fit = Persistence {
        targets: &dynamics.score_autocorrelations,
        step_minutes: step.num_minutes() as f64,
        segments: &series.segments,
    };
    fit.pace_and_coupling(&mut node, &mut market, names);
    let (scale, level) = fit::month_levels(&data, &node, &market, None);
    for m in 0..12 {
        (node.spike_scale[m], node.level[m]) = if shape.covered[m] {
            (scale[m], level[m])
        } else {
            prior.map_or((1.0, 0.0), |p| (p.spike_scale[m], p.level[m]))
        };
    }
    Ok((node, market))
}

fn node_params(market: &str, shape: &Shape, d: &fit::Dynamics, common_share: f64) -> NodeParams {
    NodeParams {
        market: market.to_owned(),
        shape: shape.shape,
        weekend: shape.weekend,
        level: [0.0; 12],
        spike_scale: [1.0; 12],
        month_scale: d.month_scale,
        residual: d.residual,
        phi: d.factors.phi,
        slow_share: d.factors.slow_share,
        common_share,
        spike_mu: d.spike_log.0,
        spike_sigma: d.spike_log.1,
    }
}

/// Seed of the simulations calibration runs.
pub const CALIBRATION_SEED: u64 = 20_220_101;

/// The prices of a candidate node and market over a real segment's span,
/// one replication of [`CALIBRATION_SEED`].
fn simulate(
    (market_name, node_name): (&str, &str),
    node: &NodeParams,
    market: &MarketParams,
    segment: &RegularData,
    replication: u64,
) -> Vec<f64> {
    let minutes = u64::try_from(segment.step.num_minutes())
        .unwrap_or(15)
        .max(1);
    let days = (segment.values.len() as u64 * minutes)
        .div_ceil(1_440)
        .max(1);
    let horizon = Horizon::days(segment.start, days, minutes);
    let params = GridParams {
        markets: BTreeMap::from([(market_name.to_owned(), market.clone())]),
        nodes: BTreeMap::from([(node_name.to_owned(), node.clone())]),
    };
    let streams = RngStreams::new(CALIBRATION_SEED, replication);
    generate_prices(&params, &[node_name], &horizon, &streams)
        .ok()
        .and_then(|mut p| p.pop())
        .map(|p| {
            let mut values = p.price.values().to_vec();
            values.truncate(segment.values.len());
            values
        })
        .unwrap_or_default()
}

/// What the simulated fits of persistence need from one node's record.
struct Persistence<'a> {
    /// The normal scores' autocorrelations (lag in steps, correlation).
    targets: &'a [(usize, f64)],
    step_minutes: f64,
    /// The real segments the simulations copy.
    segments: &'a [RegularData],
}

impl Persistence<'_> {
    /// The node's factors at a given market pace (or, with none, the pace
    /// too), by [`fit::match_persistence`].
    fn factors(
        &self,
        node: &mut NodeParams,
        market: &mut MarketParams,
        names: (&str, &str),
        pace: Option<(f64, f64)>,
    ) {
        let factors = fit::match_persistence(
            self.targets,
            pace,
            self.step_minutes,
            self.segments,
            |f, segment, replication| {
                let mut node = node.clone();
                let mut market = market.clone();
                (node.phi, node.slow_share, market.phi_slow) = (f.phi, f.slow_share, f.phi_slow);
                simulate(names, &node, &market, segment, replication)
            },
        );
        (node.phi, node.slow_share, market.phi_slow) =
            (factors.phi, factors.slow_share, factors.phi_slow);
    }

    /// The market's pace and spike coupling from its reference node: the
    /// factors, then the coupling ([`fit::match_spike_coupling`]), then the
    /// factors again under that coupling.
    fn pace_and_coupling(
        &self,
        node: &mut NodeParams,
        market: &mut MarketParams,
        names: (&str, &str),
    ) {
        self.factors(node, market, names, None);
        market.spike_coupling = fit::match_spike_coupling(
            self.step_minutes,
            self.segments,
            |beta, segment, replication| {
                let mut market = market.clone();
                market.spike_coupling = beta;
                simulate(names, node, &market, segment, replication)
            },
        );
        self.factors(node, market, names, None);
    }
}

/// The shipped ERCOT files, read once.
pub struct ErcotFiles {
    dam_2021: Table,
    dam_wide: Table,
    rtm: Vec<Table>,
}

impl ErcotFiles {
    /// Reads the ERCOT files of `data_dir`.
    ///
    /// # Errors
    /// A file is missing or unreadable.
    pub fn read(data_dir: &Path) -> Result<ErcotFiles, DataError> {
        Ok(ErcotFiles {
            dam_2021: Table::read(&data_dir.join("ercot_dam_spp_hub_lz_2021_hourly.csv"))?,
            dam_wide: Table::read(
                &data_dir.join("ercot_dam_spp_hub_lz_2022-2025_hourly_wide.csv"),
            )?,
            rtm: vec![Table::read(&data_dir.join(RTM_JANUARIES))?],
        })
    }

    /// The nodes of the day-ahead wide file.
    ///
    /// # Errors
    /// The file's layout is not recognised.
    pub fn nodes(&self) -> Result<Vec<String>, DataError> {
        load::nodes(&self.dam_wide)
    }

    /// Day-ahead hourly prices of a node, 2021 (Winter Storm Uri days
    /// 10–20 February excluded) and 2022–2025.
    ///
    /// # Errors
    /// Loading errors.
    pub fn day_ahead(&self, node: &str) -> Result<Vec<(DateTime<Utc>, f64)>, DataError> {
        let (uri_from, uri_to) = uri_window();
        let mut out: Vec<(DateTime<Utc>, f64)> =
            samples(&load::load_node(&self.dam_2021, node, GapRepair::Reject)?)
                .into_iter()
                .filter(|(t, _)| *t < uri_from || *t >= uri_to)
                .collect();
        out.extend(samples(&load::load_node(
            &self.dam_wide,
            node,
            GapRepair::Reject,
        )?));
        Ok(out)
    }

    /// Real-time 15-minute segments of a node used for fitting: the
    /// Januaries 2022–2025 (the years of the day-ahead shape; the
    /// Februaries 2019–2021 are replay cases);
    /// `None` for a file that lacks the node.
    ///
    /// # Errors
    /// Loading errors other than an unknown node.
    pub fn real_time(&self, node: &str) -> Result<Vec<Option<Vec<RegularData>>>, DataError> {
        let mut out = Vec::new();
        for table in &self.rtm {
            if load::nodes(table)?.iter().any(|n| n == node) {
                out.push(Some(
                    load::load_node(table, node, GapRepair::Reject)?.segments,
                ));
            } else {
                out.push(None);
            }
        }
        Ok(out)
    }
}

/// Winter Storm Uri days excluded from fitting: 10–20 February 2021, Central time.
pub fn uri_window() -> (DateTime<Utc>, DateTime<Utc>) {
    let from = Utc
        .with_ymd_and_hms(2021, 2, 10, 6, 0, 0)
        .single()
        .unwrap_or_default();
    (from, from + TimeDelta::days(11))
}

/// Fits every ERCOT node of the shipped files (the values shipped in
/// `grid_ercot.toml`).
///
/// # Errors
/// A shipped file is missing or invalid.
pub fn fit_ercot(data_dir: &Path) -> Result<GridParams, DataError> {
    let files = ErcotFiles::read(data_dir)?;
    let reference_rt = files.real_time(ERCOT_REFERENCE)?;
    let reference_shape = fit::fit_shape(&files.day_ahead(ERCOT_REFERENCE)?, None, None);
    let all: Vec<RegularData> = reference_rt.iter().flatten().flatten().cloned().collect();
    let reference = fit::fit_dynamics(&reference_shape, &all, &spiking(&all, SPIKE_THRESHOLD));
    let mut market = MarketParams {
        spike_rate: reference.spike_rate,
        month_weight: month_weight(&files.day_ahead(ERCOT_REFERENCE)?, SPIKE_THRESHOLD),
        spike_intervals: reference.episodes.blip,
        sustained_share: reference.episodes.sustained_share,
        sustained_intervals: reference.episodes.sustained,
        spike_persistence: reference.spike_persistence,
        phi_slow: reference.factors.phi_slow,
        spike_coupling: 0.0,
        spike_ramp: reference.spike_ramp,
        spike_decay: reference.spike_decay,
        cap: ERCOT_CAP,
        floor: ERCOT_FLOOR,
    };
    let fit_node = |node: &str,
                    market: &mut MarketParams,
                    pace: Option<(f64, f64)>|
     -> Result<NodeParams, DataError> {
        let day_ahead = files.day_ahead(node)?;
        let shape = fit::fit_shape(&day_ahead, None, None);
        let (mut own, mut system) = (Vec::new(), Vec::new());
        for (segments, reference) in files.real_time(node)?.into_iter().zip(&reference_rt) {
            if let (Some(segments), Some(reference)) = (segments, reference) {
                own.extend(segments);
                system.extend(reference.iter().cloned());
            }
        }
        let spikes = spiking(&system, SPIKE_THRESHOLD);
        let dynamics = fit::fit_dynamics(&shape, &own, &spikes);
        let system_dynamics = fit::fit_dynamics(&reference_shape, &system, &spikes);
        let rho = fit::common_share(&dynamics.innovations, &system_dynamics.innovations);
        let mut params = node_params("ercot", &shape, &dynamics, rho);
        if let Some(sigma) = fit::spike_loading(&dynamics.log_excess, &system_dynamics.log_excess) {
            params.spike_sigma = sigma;
        }
        let fit = Persistence {
            targets: &dynamics.score_autocorrelations,
            step_minutes: 15.0,
            segments: &own,
        };
        match pace {
            None => fit.pace_and_coupling(&mut params, market, ("ercot", node)),
            Some(_) => fit.factors(&mut params, market, ("ercot", node), pace),
        }
        // Offsets from the parameters as shipped (rounded), so the shipped
        // levels are exactly what a refit gives.
        (params.spike_scale, params.level) =
            fit::month_levels(&day_ahead, &params.rounded(), &market.rounded(), Some(0));
        Ok(params)
    };
    // The market's pace and spike coupling come from its reference node;
    // every node then fits only its slow factor's share.
    let reference_node = fit_node(ERCOT_REFERENCE, &mut market, None)?;
    market = market.rounded();
    let pace = Some((reference_node.rounded().phi, market.phi_slow));
    let mut nodes = BTreeMap::new();
    for node in files.nodes()? {
        let params = fit_node(&node, &mut market, pace)?;
        nodes.insert(node.clone(), params);
    }
    Ok(GridParams {
        markets: BTreeMap::from([("ercot".to_owned(), market)]),
        nodes,
    })
}

/// Spike-rate multiplier by month: the share of prices above `threshold`
/// in each month relative to January (one pseudo-count per month).
pub fn month_weight(samples: &[(DateTime<Utc>, f64)], threshold: f64) -> [f64; 12] {
    let (mut above, mut count) = ([1.0f64; 12], [1.0f64; 12]);
    for &(t, p) in samples {
        let m = fit::local_bucket(t).0;
        count[m] += 1.0;
        if p > threshold {
            above[m] += 1.0;
        }
    }
    let january = above[0] / count[0];
    let mut out = [1.0; 12];
    for m in 0..12 {
        out[m] = above[m] / count[m] / january;
    }
    out
}
