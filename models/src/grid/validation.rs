//! `hcp validate` checks of the grid generators against the shipped ERCOT
//! files: the January real-time statistics of each hub and load zone
//! (generator: 40 simulated Januaries at 15 minutes), hub-to-hub
//! correlation, persistence (linear and rank autocorrelation at 1, 4 and
//! 24 hours; how long spikes last), and the whole-year shape against the
//! day-ahead years 2022–2024 (generator: 4 simulated years, averaged to
//! hours).

use std::path::Path;

use chrono::{TimeZone, Utc};
use hcp_engine::rng::RngStreams;

use super::calibrate::ErcotFiles;
use super::fit::local_bucket;
use super::{GridParams, generate_prices, persistence};
use crate::check::Check;
use crate::data::{DataError, GapRepair, RegularData, Table};
use crate::describe::{
    Summary, autocorrelation, mean, pearson, share_above, share_below, spearman, std_dev,
};
use crate::series::Horizon;
use rand::RngExt;

/// The nodes validated.
pub const NODES: [&str; 7] = [
    "HB_NORTH",
    "HB_SOUTH",
    "HB_WEST",
    "HB_HOUSTON",
    "LZ_NORTH",
    "LZ_SOUTH",
    "LZ_WEST",
];
/// The seed of every validation run.
pub const SEED: u64 = 20_240_101;
/// Simulated Januaries per node.
pub const JANUARIES: u64 = 40;
/// Simulated years for the seasonal checks.
pub const YEARS: u64 = 4;

const RTM_SOURCE: &str = "ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv";
const DAM_SOURCE: &str = "ercot_dam_spp_hub_lz_2021_hourly.csv (Uri days excluded), ercot_dam_spp_hub_lz_2022-2025_hourly_wide.csv";

/// Statistics compared for one sample of 15-minute (or hourly) prices.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceStats {
    /// Mean, std, p50, p99.
    pub summary: Summary,
    /// Share of intervals above $1,000/MWh.
    pub above_1000: f64,
    /// Share of intervals below $0/MWh.
    pub negative: f64,
    /// Mean lag-1 autocorrelation of the segments.
    pub lag1: f64,
    /// Mean price by local hour of day.
    pub profile: [f64; 24],
}

impl PriceStats {
    /// Statistics of segments (each a contiguous run).
    pub fn of(segments: &[RegularData]) -> PriceStats {
        let values: Vec<f64> = segments
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .collect();
        let lag1 = mean(
            &segments
                .iter()
                .map(|s| autocorrelation(&s.values, 1))
                .collect::<Vec<_>>(),
        );
        let (mut sum, mut count) = ([0.0; 24], [0.0; 24]);
        for s in segments {
            for (i, v) in s.values.iter().enumerate() {
                let h = local_bucket(s.time_of(i)).2;
                sum[h] += v;
                count[h] += 1.0;
            }
        }
        let mut profile = [0.0; 24];
        for h in 0..24 {
            profile[h] = sum[h] / count[h];
        }
        PriceStats {
            summary: Summary::of(&values),
            above_1000: share_above(&values, 1000.0),
            negative: share_below(&values, 0.0),
            lag1,
            profile,
        }
    }
}

/// Generated segments of `node`: `count` runs of `days` from `start`
/// (UTC) at `step_minutes`, replication r = 0…count−1 of the seed.
///
/// # Panics
/// If the node has no parameters (validation nodes are built in).
pub fn simulate(
    params: &GridParams,
    nodes: &[&str],
    start: chrono::DateTime<Utc>,
    days: u64,
    step_minutes: u64,
    count: u64,
) -> Vec<Vec<RegularData>> {
    let horizon = Horizon::days(start, days, step_minutes);
    let mut out = vec![Vec::new(); nodes.len()];
    for r in 0..count {
        let streams = RngStreams::new(SEED, r);
        let prices = generate_prices(params, nodes, &horizon, &streams)
            .unwrap_or_else(|e| panic!("validation node: {e}"));
        for (k, p) in prices.into_iter().enumerate() {
            out[k].push(RegularData {
                start,
                step: chrono::TimeDelta::minutes(i64::try_from(step_minutes).unwrap_or(15)),
                values: p.price.values().to_vec(),
                repairs: Vec::new(),
            });
        }
    }
    out
}

fn hourly(segment: &RegularData) -> RegularData {
    let per = usize::try_from(60 / segment.step.num_minutes().max(1))
        .unwrap_or(1)
        .max(1);
    RegularData {
        start: segment.start,
        step: chrono::TimeDelta::hours(1),
        values: segment.values.chunks(per).map(mean).collect(),
        repairs: Vec::new(),
    }
}

/// Day-block bootstrap relative standard errors of the real std, lag-1
/// autocorrelation and 99th percentile (`BOOTSTRAP` resamples of whole
/// days, fixed stream `grid/validation/bootstrap/<NODE>`).
pub fn bootstrap_errors(node: &str, segments: &[RegularData]) -> (f64, f64, f64) {
    let days: Vec<&[f64]> = segments.iter().flat_map(|s| s.values.chunks(96)).collect();
    let streams = RngStreams::new(SEED, 0);
    let mut rng = streams.stream(hcp_engine::rng::StreamId::named(&format!(
        "grid/validation/bootstrap/{node}"
    )));
    let (mut stds, mut lags) = (Vec::with_capacity(BOOTSTRAP), Vec::with_capacity(BOOTSTRAP));
    let mut p99s = Vec::with_capacity(BOOTSTRAP);
    let mut sample = Vec::with_capacity(days.len() * 96);
    for _ in 0..BOOTSTRAP {
        sample.clear();
        for _ in 0..days.len() {
            sample.extend_from_slice(days[rng.random_range(0..days.len())]);
        }
        stds.push(std_dev(&sample));
        lags.push(autocorrelation(&sample, 1));
        p99s.push(crate::describe::quantile(&sample, 0.99));
    }
    (
        std_dev(&stds) / mean(&stds).abs(),
        std_dev(&lags) / mean(&lags).abs(),
        std_dev(&p99s) / mean(&p99s).abs(),
    )
}

/// Resamples of the day-block bootstrap.
pub const BOOTSTRAP: usize = 200;

fn january_checks(
    group: &str,
    sim: &PriceStats,
    real: &PriceStats,
    errors: (f64, f64, f64),
    out: &mut Vec<Check>,
) {
    let (s, r) = (&sim.summary, &real.summary);
    let src = RTM_SOURCE;
    let std_tolerance = 0.15f64.max(2.0 * errors.0);
    let lag_tolerance = 0.15f64.max(2.0 * errors.1);
    let p99_tolerance = 0.15f64.max(2.0 * errors.2);
    out.push(Check::relative(
        group, "jan_mean", s.mean, r.mean, 0.15, "$/MWh", src,
    ));
    out.push(Check::relative(
        group,
        "jan_std",
        s.std,
        r.std,
        std_tolerance,
        "$/MWh",
        src,
    ));
    out.push(Check::relative(
        group, "jan_p50", s.p50, r.p50, 0.15, "$/MWh", src,
    ));
    out.push(Check::relative(
        group,
        "jan_p99",
        s.p99,
        r.p99,
        p99_tolerance,
        "$/MWh",
        src,
    ));
    out.push(Check::absolute(
        group,
        "jan_share_above_1000",
        sim.above_1000,
        real.above_1000,
        0.001,
        "share",
        src,
    ));
    out.push(Check::absolute(
        group,
        "jan_share_negative",
        sim.negative,
        real.negative,
        0.02,
        "share",
        src,
    ));
    out.push(Check::relative(
        group,
        "jan_lag1_autocorrelation",
        sim.lag1,
        real.lag1,
        lag_tolerance,
        "1",
        src,
    ));
    out.push(Check::absolute(
        group,
        "jan_hour_profile_correlation",
        pearson(&sim.profile, &real.profile),
        1.0,
        0.15,
        "1",
        src,
    ));
}

/// Every grid check, generator against the files of `data_dir`.
///
/// # Errors
/// A shipped file is missing or invalid.
#[allow(clippy::too_many_lines)] // one table of checks, built in file order
pub fn checks(data_dir: &Path) -> Result<Vec<Check>, DataError> {
    let params = GridParams::default();
    let files = ErcotFiles::read(data_dir)?;
    let rtm = Table::read(&data_dir.join(RTM_SOURCE))?;
    let january = Utc
        .with_ymd_and_hms(2024, 1, 1, 6, 0, 0)
        .single()
        .unwrap_or_default();
    let sim_jan = simulate(&params, &NODES, january, 31, 15, JANUARIES);
    let year = Utc
        .with_ymd_and_hms(2023, 1, 1, 6, 0, 0)
        .single()
        .unwrap_or_default();
    let sim_year = simulate(&params, &NODES, year, 364, 15, YEARS);
    let mut out = Vec::new();
    let mut real_series = Vec::new();
    for (k, node) in NODES.iter().enumerate() {
        let group = format!("grid/{node}");
        let real = super::load::load_node(&rtm, node, GapRepair::Reject)?;
        let errors = bootstrap_errors(node, &real.segments);
        january_checks(
            &group,
            &PriceStats::of(&sim_jan[k]),
            &PriceStats::of(&real.segments),
            errors,
            &mut out,
        );
        persistence_checks(&group, &sim_jan[k], &real.segments, &mut out);
        real_series.push(real);
        // Seasonal shape against the day-ahead years.
        let dam: Vec<(chrono::DateTime<Utc>, f64)> = files.day_ahead(node)?.into_iter().collect();
        let dam_values: Vec<f64> = dam.iter().map(|d| d.1).collect();
        let sim_hourly: Vec<RegularData> = sim_year[k].iter().map(hourly).collect();
        let sim_values: Vec<f64> = sim_hourly
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .collect();
        let (mut month_real, mut month_sim) = ([0.0; 12], [0.0; 12]);
        let (mut n_real, mut n_sim) = ([0.0; 12], [0.0; 12]);
        for (t, v) in &dam {
            let m = local_bucket(*t).0;
            month_real[m] += v;
            n_real[m] += 1.0;
        }
        for s in &sim_hourly {
            for (i, v) in s.values.iter().enumerate() {
                let m = local_bucket(s.time_of(i)).0;
                month_sim[m] += v;
                n_sim[m] += 1.0;
            }
        }
        let month_real: Vec<f64> = (0..12).map(|m| month_real[m] / n_real[m]).collect();
        let month_sim: Vec<f64> = (0..12).map(|m| month_sim[m] / n_sim[m]).collect();
        let sim_stats = PriceStats::of(&sim_hourly);
        let mut real_profile = ([0.0; 24], [0.0; 24]);
        for (t, v) in &dam {
            let h = local_bucket(*t).2;
            real_profile.0[h] += v;
            real_profile.1[h] += 1.0;
        }
        let real_profile: Vec<f64> = (0..24)
            .map(|h| real_profile.0[h] / real_profile.1[h])
            .collect();
        let real_summary = Summary::of(&dam_values);
        let sim_summary = Summary::of(&sim_values);
        out.push(Check::relative(
            &group,
            "year_mean",
            sim_summary.mean,
            real_summary.mean,
            0.15,
            "$/MWh",
            DAM_SOURCE,
        ));
        out.push(Check::relative(
            &group,
            "year_p50",
            sim_summary.p50,
            real_summary.p50,
            0.15,
            "$/MWh",
            DAM_SOURCE,
        ));
        out.push(Check::absolute(
            &group,
            "year_hour_profile_correlation",
            pearson(&sim_stats.profile, &real_profile),
            1.0,
            0.15,
            "1",
            DAM_SOURCE,
        ));
        out.push(Check::absolute(
            &group,
            "year_month_profile_correlation",
            pearson(&month_sim, &month_real),
            1.0,
            0.15,
            "1",
            DAM_SOURCE,
        ));
    }
    for (a, b) in [(0, 1), (0, 2), (0, 3)] {
        let real = spearman(
            &real_series[a].values().collect::<Vec<_>>(),
            &real_series[b].values().collect::<Vec<_>>(),
        );
        let flat = |k: usize| -> Vec<f64> {
            sim_jan[k]
                .iter()
                .flat_map(|s| s.values.iter().copied())
                .collect()
        };
        let sim = spearman(&flat(a), &flat(b));
        out.push(Check::absolute(
            &format!("grid/{}~{}", NODES[a], NODES[b]),
            "jan_rank_correlation_15min",
            sim,
            real,
            0.1,
            "1",
            RTM_SOURCE,
        ));
    }
    Ok(out)
}

/// Fewest real episodes a spike-length check is computed on.
pub const MIN_EPISODES: usize = 5;
/// Thresholds of the spike-episode checks, $/MWh.
pub const EPISODE_THRESHOLDS: [f64; 2] = [500.0, 1000.0];

/// Persistence of the January real-time prices: the linear and rank
/// autocorrelations at 1, 4 and 24 hours (mean over Januaries; tolerance
/// 0.1 or two standard errors of the real Januaries' spread, whichever is
/// larger) and the mean length of spike episodes above $500 and $1,000
/// (intervals; tolerance 25 % or two standard errors of the real mean,
/// only where the real record has [`MIN_EPISODES`] episodes).
fn persistence_checks(
    group: &str,
    sim: &[RegularData],
    real: &[RegularData],
    out: &mut Vec<Check>,
) {
    let sim: Vec<&[f64]> = sim.iter().map(|s| s.values.as_slice()).collect();
    let real: Vec<&[f64]> = real.iter().map(|s| s.values.as_slice()).collect();
    for hours in persistence::LAG_HOURS {
        let lag = usize::try_from(hours * 4).unwrap_or(4);
        for (name, statistic) in [
            (
                "autocorrelation",
                autocorrelation as fn(&[f64], usize) -> f64,
            ),
            ("rank_autocorrelation", persistence::rank_autocorrelation),
        ] {
            let (value, _) = persistence::across_segments(&sim, |s| statistic(s, lag));
            let (reference, se) = persistence::across_segments(&real, |s| statistic(s, lag));
            out.push(Check::absolute(
                group,
                &format!("jan_{name}_{hours}h"),
                value,
                reference,
                0.1f64.max(2.0 * se),
                "1",
                RTM_SOURCE,
            ));
        }
    }
    for threshold in EPISODE_THRESHOLDS {
        let lengths = |segments: &[&[f64]]| -> Vec<usize> {
            segments
                .iter()
                .flat_map(|s| persistence::episode_lengths(s, threshold))
                .collect()
        };
        let real_lengths = lengths(&real);
        if real_lengths.len() < MIN_EPISODES {
            continue;
        }
        let (reference, se) = persistence::mean_length(&real_lengths);
        let (value, _) = persistence::mean_length(&lengths(&sim));
        out.push(Check::relative(
            group,
            &format!("jan_spike_episode_intervals_above_{threshold:.0}"),
            value,
            reference,
            0.25f64.max(2.0 * se / reference),
            "intervals",
            RTM_SOURCE,
        ));
    }
}
