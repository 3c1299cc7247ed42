//! Fitting a node's price parameters ([`NodeParams`]) from regular series
//! in $/MWh: the calendar shape from a long (hourly or finer) record, the
//! residual distribution, persistence, common share and spikes from
//! 15-minute (or hourly) segments.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::America::Chicago;
use statrs::distribution::{ContinuousCDF, Normal};

use super::persistence;
use super::price::{KNOT_FIRST, KNOT_STEP, KNOTS, MarketParams, NodeParams};
use crate::data::RegularData;
use crate::describe::{mean, pearson, quantile_sorted};

/// The calendar part of a node's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Weekday median by month and local hour, $/MWh.
    pub shape: [[f64; 24]; 12],
    /// Weekend / weekday ratio by local hour.
    pub weekend: [f64; 24],
    /// Median absolute deviation from the base price by month, $/MWh.
    pub spread: [f64; 12],
    /// Months that had data.
    pub covered: [bool; 12],
}

/// Local (Central) month 0–11, weekend flag and hour 0–23 of a UTC instant.
pub fn local_bucket(t: DateTime<Utc>) -> (usize, bool, usize) {
    let local = t.with_timezone(&Chicago);
    let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
    (local.month0() as usize, weekend, local.hour() as usize)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile_sorted(values, 0.5)
}

/// Fits the calendar shape from `(time, price)` pairs; months without data
/// keep `fallback`'s values (or zero) and are marked uncovered.
pub fn fit_shape(
    samples: &[(DateTime<Utc>, f64)],
    fallback: Option<&NodeParams>,
    fallback_spread: Option<&[f64; 12]>,
) -> Shape {
    let mut weekday: Vec<Vec<f64>> = vec![Vec::new(); 12 * 24];
    for &(t, p) in samples {
        let (m, weekend, h) = local_bucket(t);
        if !weekend {
            weekday[m * 24 + h].push(p);
        }
    }
    let mut shape = fallback.map_or([[0.0; 24]; 12], |f| f.shape);
    let mut covered = [false; 12];
    for m in 0..12 {
        if (0..24).all(|h| !weekday[m * 24 + h].is_empty()) {
            covered[m] = true;
            for h in 0..24 {
                shape[m][h] = median(&mut weekday[m * 24 + h]);
            }
        }
    }
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 24];
    let mut deviations: Vec<Vec<f64>> = vec![Vec::new(); 12];
    for &(t, p) in samples {
        let (m, weekend, h) = local_bucket(t);
        if !covered[m] {
            continue;
        }
        if weekend {
            ratios[h].push(p / shape[m][h].max(1.0));
        }
    }
    let mut weekend = fallback.map_or([1.0; 24], |f| f.weekend);
    for h in 0..24 {
        if ratios[h].len() >= 8 {
            weekend[h] = median(&mut ratios[h]);
        }
    }
    for &(t, p) in samples {
        let (m, is_weekend, h) = local_bucket(t);
        if covered[m] {
            let base = shape[m][h] * if is_weekend { weekend[h] } else { 1.0 };
            deviations[m].push((p - base).abs());
        }
    }
    let mut spread = fallback_spread.copied().unwrap_or([1.0; 12]);
    for m in 0..12 {
        if covered[m] {
            spread[m] = median(&mut deviations[m]).max(0.01);
        }
    }
    Shape {
        shape,
        weekend,
        spread,
        covered,
    }
}

/// Base price of an instant under a shape.
pub fn base_of(shape: &Shape, t: DateTime<Utc>) -> f64 {
    let (m, weekend, h) = local_bucket(t);
    shape.shape[m][h] * if weekend { shape.weekend[h] } else { 1.0 }
}

/// What [`fit_dynamics`] returns besides the node's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamics {
    /// Residual quantiles at the knots, $/MWh.
    pub residual: [f64; KNOTS],
    /// Month scale relative to the fitted months.
    pub month_scale: [f64; 12],
    /// The two factors of the normal scores (per 15 minutes).
    pub factors: Factors,
    /// The normal scores' autocorrelations the factors were fitted to, as
    /// `(lag in steps of the data, correlation)`.
    pub score_autocorrelations: Vec<(usize, f64)>,
    /// Normal-score innovations (NaN where undefined), aligned with the input values.
    pub innovations: Vec<f64>,
    /// Log spike excess per interval (NaN outside spikes or where the
    /// price is not above the base), aligned with the input values.
    pub log_excess: Vec<f64>,
    /// Spike episodes' start probability per 15 minutes.
    pub spike_rate: f64,
    /// Spike-episode lengths as a blip–sustained mixture (15-minute intervals).
    pub episodes: EpisodeMixture,
    /// Log spike excess mean and deviation.
    pub spike_log: (f64, f64),
    /// Lag-1 correlation (per 15 minutes) of the log spike excess within an
    /// episode.
    pub spike_persistence: f64,
    /// Ramp-up factor per 15 minutes before an episode.
    pub spike_ramp: f64,
    /// Decay factor per 15 minutes after an episode.
    pub spike_decay: f64,
}

/// Ratio-of-sums estimates of the ramp-up and decay factors (per step):
/// the excess over the base just before an episode's first interval
/// relative to that interval's excess, and just after its last interval
/// relative to that one's.
fn envelope_factors(excess: &[Vec<f64>], spiking: &[Vec<bool>]) -> (f64, f64) {
    let (mut up, mut up_den, mut down, mut down_den) = (0.0, 0.0, 0.0, 0.0);
    for (e, on) in excess.iter().zip(spiking) {
        for i in 0..e.len() {
            if !on[i] {
                continue;
            }
            if i > 0 && !on[i - 1] {
                up += e[i - 1].max(0.0);
                up_den += e[i].max(0.0);
            }
            if i + 1 < e.len() && !on[i + 1] {
                down += e[i + 1].max(0.0);
                down_den += e[i].max(0.0);
            }
        }
    }
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            (a / b).clamp(0.0, 0.9)
        } else {
            0.0
        }
    };
    (ratio(up, up_den), ratio(down, down_den))
}

/// The spike excess the envelopes put on each non-spike interval of a
/// segment: ramp^k times the next episode's first excess plus decay^j
/// times the last episode's final excess (both per step).
fn envelope_excess(excess: &[f64], on: &[bool], ramp: f64, decay: f64) -> Vec<f64> {
    let n = excess.len();
    let mut out = vec![0.0; n];
    let mut tail = 0.0;
    for i in 0..n {
        if on[i] {
            tail = excess[i].max(0.0);
        } else {
            tail *= decay;
            out[i] = tail;
        }
    }
    let mut head = 0.0;
    for i in (0..n).rev() {
        if on[i] {
            head = excess[i].max(0.0);
        } else {
            head *= ramp;
            out[i] += head;
        }
    }
    out
}

/// Fits residual quantiles, persistence and spikes on segments of one node.
/// `spiking[s][i]` marks the system's spike intervals of segment `s`.
/// The two factors are fitted to the normal scores' autocorrelations at
/// 15 minutes, 1, 4 and 24 hours ([`fit_factors`]; [`match_persistence`]
/// then corrects them by simulation); spike episodes' lengths to a
/// blip–sustained mixture ([`EpisodeMixture::fit`]).
#[allow(clippy::too_many_lines)] // one pass over the data, kept together for clarity
pub fn fit_dynamics(shape: &Shape, segments: &[RegularData], spiking: &[Vec<bool>]) -> Dynamics {
    let step_minutes = segments
        .first()
        .map_or(15.0, |s| s.step.num_minutes() as f64);
    let mut month_weight = [0.0f64; 12];
    let mut residuals = Vec::new();
    let mut index = Vec::new(); // (segment, i) per residual
    let mut spike_pairs: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut log_excess: Vec<f64> = Vec::new();
    let mut episodes = 0usize;
    let excess: Vec<Vec<f64>> = segments
        .iter()
        .map(|seg| {
            (0..seg.values.len())
                .map(|i| seg.values[i] - base_of(shape, seg.time_of(i)))
                .collect()
        })
        .collect();
    let (ramp_step, decay_step) = envelope_factors(&excess, spiking);
    for (s, seg) in segments.iter().enumerate() {
        let envelope = envelope_excess(&excess[s], &spiking[s], ramp_step, decay_step);
        let times: Vec<DateTime<Utc>> = (0..seg.values.len()).map(|i| seg.time_of(i)).collect();
        for (i, t) in times.iter().enumerate() {
            let m = local_bucket(*t).0;
            let base = base_of(shape, *t);
            if spiking[s][i] {
                if i == 0 || !spiking[s][i - 1] {
                    episodes += 1;
                }
                let e = excess[s][i];
                let log = if e > 0.0 { e.ln() } else { f64::NAN };
                // The previous entry is this segment's previous interval.
                if let Some(&previous) = log_excess.last().filter(|_| i > 0 && spiking[s][i - 1])
                    && previous.is_finite()
                    && log.is_finite()
                {
                    spike_pairs.0.push(previous);
                    spike_pairs.1.push(log);
                }
                log_excess.push(log);
            } else {
                log_excess.push(f64::NAN);
                month_weight[m] += 1.0;
                residuals.push((seg.values[i] - base - envelope[i]) / shape.spread[m]);
                index.push((s, i, m));
            }
        }
    }
    let total: f64 = month_weight.iter().sum();
    let reference: f64 = (0..12)
        .map(|m| month_weight[m] * shape.spread[m])
        .sum::<f64>()
        / total.max(1.0);
    let month_scale = shape.spread.map(|s| s / reference.max(1e-9));
    let mut sorted = residuals.clone();
    sorted.sort_by(f64::total_cmp);
    let normal = Normal::standard();
    let mut residual = [0.0; KNOTS];
    for (k, slot) in residual.iter_mut().enumerate() {
        let u = normal.cdf(KNOT_FIRST + KNOT_STEP * k as f64);
        *slot = quantile_sorted(&sorted, u) * reference;
    }
    // Normal scores by rank.
    let mut order: Vec<usize> = (0..residuals.len()).collect();
    order.sort_by(|&a, &b| residuals[a].total_cmp(&residuals[b]));
    let n = residuals.len() as f64;
    let mut scores = vec![0.0; residuals.len()];
    for (rank, &k) in order.iter().enumerate() {
        scores[k] = normal.inverse_cdf((rank as f64 + 0.5) / n);
    }
    let mut by_position: Vec<Vec<f64>> = segments
        .iter()
        .map(|s| vec![f64::NAN; s.values.len()])
        .collect();
    for (k, &(s, i, _)) in index.iter().enumerate() {
        by_position[s][i] = scores[k];
    }
    let score_segments: Vec<&[f64]> = by_position.iter().map(Vec::as_slice).collect();
    let observed: Vec<(usize, f64)> = FACTOR_LAG_MINUTES
        .iter()
        .map(|&m| steps(m, step_minutes))
        .map(|lag| (lag, score_autocorrelation(&score_segments, lag)))
        .filter(|(_, r)| r.is_finite())
        .collect();
    let factors_step = fit_factors(&observed);
    let lag1 = factors_step.correlation(1.0);
    let innovations = by_position
        .iter()
        .flat_map(|seg| {
            (0..seg.len()).map(move |i| {
                if i == 0 {
                    f64::NAN
                } else {
                    seg[i] - lag1 * seg[i - 1]
                }
            })
        })
        .collect();
    let normal_count = residuals.len().max(1) as f64;
    let per_step_rate = episodes as f64 / normal_count;
    let spike_rate = 1.0 - (1.0 - per_step_rate).powf(15.0 / step_minutes);
    let lengths: Vec<f64> = spiking
        .iter()
        .flat_map(|on| persistence::run_lengths(on.iter().copied()))
        .map(|l| l as f64 * step_minutes / 15.0)
        .collect();
    let episodes_mixture = EpisodeMixture::fit(&lengths);
    let spike_persistence = if spike_pairs.0.len() >= 3 {
        let r = pearson(&spike_pairs.0, &spike_pairs.1);
        if r.is_finite() {
            r.clamp(0.0, 1.0).powf(step_minutes / 15.0)
        } else {
            1.0
        }
    } else {
        1.0
    };
    let spike_excess: Vec<f64> = log_excess
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let spike_log = if spike_excess.len() >= 2 {
        let mu = mean(&spike_excess);
        (mu, crate::describe::std_dev(&spike_excess))
    } else {
        (6.5, 0.5)
    };
    Dynamics {
        residual,
        month_scale,
        factors: factors_step.per_15_minutes(step_minutes),
        score_autocorrelations: observed,
        innovations,
        log_excess,
        spike_rate,
        episodes: episodes_mixture,
        spike_log,
        spike_persistence,
        spike_ramp: ramp_step.powf(15.0 / step_minutes),
        spike_decay: decay_step.powf(15.0 / step_minutes),
    }
}

/// A node's loading on the market's spike magnitude: the slope of its log
/// spike excess on the reference node's standardised one, over the
/// intervals where both are defined (`None` below three). The generator
/// draws one magnitude score per interval for the whole market, so σ of a
/// node is its loading on that score; a node's own deviation would also
/// count the intervals where it did not follow the system, a left tail
/// that a log-normal turns into a long right one.
pub fn spike_loading(node: &[f64], reference: &[f64]) -> Option<f64> {
    let (a, b) = finite_pairs(node, reference);
    if a.len() < 3 {
        return None;
    }
    let slope = pearson(&a, &b) * crate::describe::std_dev(&a);
    slope.is_finite().then_some(slope.max(0.0))
}

/// The aligned values of two series where both are finite.
fn finite_pairs(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip()
}

/// The common share ρ of a node: the squared correlation of its normal-score
/// innovations with the market reference node's.
pub fn common_share(node: &[f64], reference: &[f64]) -> f64 {
    let (a, b) = finite_pairs(node, reference);
    let r = pearson(&a, &b);
    if r.is_finite() {
        (r * r).clamp(0.0, 0.98)
    } else {
        0.0
    }
}

/// E[Q(x)] for x ~ N(0, 1): the mean residual, $/MWh.
pub fn residual_mean(residual: &[f64; KNOTS]) -> f64 {
    const N: usize = 481;
    let dz = 12.0 / (N - 1) as f64;
    (0..N)
        .map(|i| {
            let z = -6.0 + dz * i as f64;
            knot_value(residual, z) * (-0.5 * z * z).exp() * dz
        })
        .sum::<f64>()
        / (2.0 * std::f64::consts::PI).sqrt()
}

/// The generator's expected price in month `m` without level offset, as
/// `(a, b)` with E = a + k·b for spike scale k: given the mean base price
/// of that month's intervals, the stationary spike share π = p/(p + 1/L)
/// at entry rate p and mean episode length L (blips and sustained), the
/// mean excess E\[J\] = exp(μ + σ²/2) during spikes and,
/// per episode, a/(1−a) + d/(1−d) excess-worths on the intervals around it.
pub fn expected_price(node: &NodeParams, market: &MarketParams, m: usize, base: f64) -> (f64, f64) {
    let enter = (market.spike_rate * market.month_weight[m]).clamp(0.0, 1.0);
    let length = (1.0 - market.sustained_share) * market.spike_intervals.max(1.0)
        + market.sustained_share * market.sustained_intervals.max(1.0);
    let share = enter / (enter + 1.0 / length);
    let jump = (node.spike_mu + 0.5 * node.spike_sigma * node.spike_sigma).exp();
    let around = |f: f64| {
        let f = f.clamp(0.0, 0.99);
        f / (1.0 - f)
    };
    let envelope = enter * (1.0 - share) * (around(market.spike_ramp) + around(market.spike_decay));
    (
        base + (1.0 - share) * node.month_scale[m] * residual_mean(&node.residual),
        (share + envelope) * jump,
    )
}

/// Bounds of the monthly spike scale.
pub const SPIKE_SCALE_RANGE: (f64, f64) = (0.5, 3.0);

/// Monthly spike scales and level offsets that give the generator each
/// month's mean of `samples`, relative to the `anchor` month (scale one,
/// offset zero; none: absolute). The gap between the data's and the
/// generator's monthly mean goes first to the spike size (the tail, so the
/// median stays), within [`SPIKE_SCALE_RANGE`], the rest to the level.
/// Months without samples get scale one and offset zero.
pub fn month_levels(
    samples: &[(DateTime<Utc>, f64)],
    node: &NodeParams,
    market: &MarketParams,
    anchor: Option<usize>,
) -> ([f64; 12], [f64; 12]) {
    let (mut price, mut base, mut count) = ([0.0; 12], [0.0; 12], [0.0; 12]);
    for &(t, p) in samples {
        let (m, weekend, h) = local_bucket(t);
        price[m] += p;
        base[m] += node.shape[m][h] * if weekend { node.weekend[h] } else { 1.0 };
        count[m] += 1.0;
    }
    let mut gap = [0.0; 12];
    let mut spike = [0.0; 12];
    for m in 0..12 {
        if count[m] > 0.0 {
            let (a, b) = expected_price(node, market, m, base[m] / count[m]);
            gap[m] = price[m] / count[m] - a - b;
            spike[m] = b;
        }
    }
    let reference = anchor.filter(|&a| count[a] > 0.0).map_or(0.0, |a| gap[a]);
    let (mut scale, mut level) = ([1.0; 12], [0.0; 12]);
    for m in 0..12 {
        if count[m] > 0.0 {
            let g = gap[m] - reference;
            if spike[m] > 0.0 {
                scale[m] = (1.0 + g / spike[m]).clamp(SPIKE_SCALE_RANGE.0, SPIKE_SCALE_RANGE.1);
            }
            level[m] = g - (scale[m] - 1.0) * spike[m];
        }
    }
    (scale, level)
}

fn knot_value(residual: &[f64; KNOTS], x: f64) -> f64 {
    let pos = ((x - KNOT_FIRST) / KNOT_STEP).clamp(0.0, (KNOTS - 1) as f64);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = (pos as usize).min(KNOTS - 2);
    let w = pos - i as f64;
    residual[i] + w * (residual[i + 1] - residual[i])
}

/// A span of `minutes` in whole steps of `step_minutes` (at least one).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a lag of at most a day
fn steps(minutes: f64, step_minutes: f64) -> usize {
    ((minutes / step_minutes).round().max(1.0)) as usize
}

/// Lags the factors are fitted at, minutes.
pub const FACTOR_LAG_MINUTES: [f64; 4] = [15.0, 60.0, 240.0, 1440.0];

/// The two AR(1) factors of the normal scores: fast (`phi`, the node's) and
/// slow (`phi_slow`, the market's, weight `slow_share`), per step of the
/// data they were fitted on until [`Factors::per_15_minutes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factors {
    /// Lag-1 autocorrelation of the fast factor.
    pub phi: f64,
    /// Lag-1 autocorrelation of the slow factor.
    pub phi_slow: f64,
    /// Share of the variance in the slow factor.
    pub slow_share: f64,
}

impl Factors {
    /// The normal scores' autocorrelation at `lag` steps.
    pub fn correlation(&self, lag: f64) -> f64 {
        (1.0 - self.slow_share) * self.phi.powf(lag) + self.slow_share * self.phi_slow.powf(lag)
    }

    /// The same factors per 15 minutes, from a step of `step_minutes`.
    #[must_use]
    pub fn per_15_minutes(&self, step_minutes: f64) -> Factors {
        let k = 15.0 / step_minutes;
        Factors {
            phi: self.phi.powf(k),
            phi_slow: self.phi_slow.powf(k),
            slow_share: self.slow_share,
        }
    }
}

/// Pearson correlation of normal scores `lag` steps apart within each
/// segment, over the pairs where both are defined (non-spike intervals).
pub fn score_autocorrelation(segments: &[&[f64]], lag: usize) -> f64 {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for seg in segments {
        for (x, y) in seg.iter().zip(seg.iter().skip(lag)) {
            if x.is_finite() && y.is_finite() {
                a.push(*x);
                b.push(*y);
            }
        }
    }
    if a.len() < 3 {
        return f64::NAN;
    }
    pearson(&a, &b)
}

/// Least-squares fit of [`Factors`] to observed `(lag, autocorrelation)`
/// pairs: a grid over both coefficients (by half-life, from a quarter
/// step to 2,880 steps, log-spaced) with the slow share solved in closed
/// form for each pair ([`fit_slow_share`]). With one lag only the slow
/// factor is left out.
pub fn fit_factors(observed: &[(usize, f64)]) -> Factors {
    let single = |r: f64| Factors {
        phi: r.clamp(0.0, 0.99999),
        phi_slow: 0.0,
        slow_share: 0.0,
    };
    match observed {
        [] => return single(0.0),
        [(lag, r)] => return single(r.max(0.0).powf(1.0 / *lag as f64)),
        _ => {}
    }
    let grid: Vec<f64> = (0..=160)
        .map(|i| {
            let half_life = 0.25 * (2880.0f64 / 0.25).powf(f64::from(i) / 160.0);
            0.5f64.powf(1.0 / half_life)
        })
        .collect();
    let mut best = (f64::INFINITY, single(observed[0].1));
    for (i, &fast) in grid.iter().enumerate() {
        for &slow in &grid[i..] {
            let candidate = fit_slow_share(observed, fast, slow);
            let error = squared_error(observed, &candidate);
            if error < best.0 {
                best = (error, candidate);
            }
        }
    }
    best.1
}

fn squared_error(observed: &[(usize, f64)], factors: &Factors) -> f64 {
    observed
        .iter()
        .map(|&(lag, r)| (factors.correlation(lag as f64) - r).powi(2))
        .sum()
}

/// The slow share that fits observed `(lag, autocorrelation)` pairs best
/// for given coefficients (per step): r_k − slow^k = (1 − w)(fast^k −
/// slow^k) is linear in 1 − w (least squares, kept within [0, 1]).
pub fn fit_slow_share(observed: &[(usize, f64)], fast: f64, slow: f64) -> Factors {
    let (mut num, mut den) = (0.0, 0.0);
    for &(lag, r) in observed {
        let d = fast.powf(lag as f64) - slow.powf(lag as f64);
        num += d * (r - slow.powf(lag as f64));
        den += d * d;
    }
    let keep_fast = if den > 0.0 {
        (num / den).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Factors {
        phi: fast,
        phi_slow: slow,
        slow_share: 1.0 - keep_fast,
    }
}

/// Spike-episode lengths as a mixture of two geometric laws: blips (mean
/// `blip`) and, with probability `sustained_share`, sustained episodes
/// (mean `sustained`), in 15-minute intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeMixture {
    /// Mean blip length.
    pub blip: f64,
    /// Share of sustained episodes.
    pub sustained_share: f64,
    /// Mean sustained length.
    pub sustained: f64,
}

impl EpisodeMixture {
    /// Fewest episodes a two-part fit is tried on; below, one geometric law.
    pub const MIN_EPISODES: usize = 6;

    /// Maximum-likelihood fit by EM, started from the single-interval
    /// episodes against the longer ones; lengths in 15-minute intervals.
    pub fn fit(lengths: &[f64]) -> EpisodeMixture {
        let mean_of = |v: &[f64]| {
            if v.is_empty() {
                1.0
            } else {
                (v.iter().sum::<f64>() / v.len() as f64).max(1.0)
            }
        };
        let one = EpisodeMixture {
            blip: mean_of(lengths),
            sustained_share: 0.0,
            sustained: 1.0,
        };
        let (short, long): (Vec<f64>, Vec<f64>) = lengths.iter().partition(|&&l| l < 2.0);
        if lengths.len() < Self::MIN_EPISODES || long.is_empty() || short.is_empty() {
            return one;
        }
        // Geometric on {1, 2, …} with mean m: p (1 − p)^(l − 1), p = 1/m.
        let density = |l: f64, m: f64| {
            let p = (1.0 / m).clamp(1e-9, 1.0 - 1e-12);
            (p.ln() + (l - 1.0).max(0.0) * (1.0 - p).ln()).exp()
        };
        let mut blip = mean_of(&short);
        let mut sustained = mean_of(&long).max(blip + 1.0);
        let mut share = long.len() as f64 / lengths.len() as f64;
        for _ in 0..500 {
            let (mut w_sum, mut w_len, mut b_sum, mut b_len) = (0.0, 0.0, 0.0, 0.0);
            for &l in lengths {
                let a = (1.0 - share) * density(l, blip);
                let b = share * density(l, sustained);
                let r = if a + b > 0.0 { b / (a + b) } else { 0.0 };
                w_sum += r;
                w_len += r * l;
                b_sum += 1.0 - r;
                b_len += (1.0 - r) * l;
            }
            let next = (
                w_sum / lengths.len() as f64,
                if b_sum > 0.0 {
                    (b_len / b_sum).max(1.0)
                } else {
                    1.0
                },
                if w_sum > 0.0 {
                    (w_len / w_sum).max(1.0)
                } else {
                    1.0
                },
            );
            let converged = (next.0 - share).abs() < 1e-12
                && (next.1 - blip).abs() < 1e-12
                && (next.2 - sustained).abs() < 1e-12;
            (share, blip, sustained) = next;
            if converged {
                break;
            }
        }
        if sustained < blip {
            (blip, sustained, share) = (sustained, blip, 1.0 - share);
        }
        EpisodeMixture {
            blip,
            sustained_share: share,
            sustained,
        }
    }
}

/// Rounds of [`match_persistence`].
pub const PERSISTENCE_ROUNDS: usize = 4;
/// Simulated copies of each real segment in [`match_persistence`] and
/// [`match_spike_coupling`].
pub const SIMULATED_COPIES: u64 = 10;

/// Mean over segments of a statistic of the prices at each lag.
fn per_segment(
    segments: &[&[f64]],
    lags: &[usize],
    statistic: fn(&[f64], usize) -> f64,
) -> Vec<f64> {
    lags.iter()
        .map(|&lag| persistence::across_segments(segments, |s| statistic(s, lag)).0)
        .collect()
}

/// Every real segment simulated [`SIMULATED_COPIES`] times; replication
/// `segment · copies + copy`.
fn simulate_all(
    segments: &[RegularData],
    simulate: &impl Fn(&RegularData, u64) -> Vec<f64>,
) -> Vec<Vec<f64>> {
    segments
        .iter()
        .zip(0u64..)
        .flat_map(|(seg, k)| {
            (0..SIMULATED_COPIES).map(move |copy| (seg, k * SIMULATED_COPIES + copy))
        })
        .map(|(seg, replication)| simulate(seg, replication))
        .collect()
}

/// Indirect inference of a node's factors (simulated method of moments).
/// Factors fitted to the normal scores do not give the prices the real
/// rank autocorrelations: a month-long segment's own mean takes part of
/// the slow factor, and the hourly shape adds to or takes from the
/// correlation at each lag. So the targets move by the gap between the
/// real prices' per-segment rank autocorrelation and the simulated
/// prices' (each real segment simulated [`SIMULATED_COPIES`] times on a
/// fixed seed), and the factors are refitted, for [`PERSISTENCE_ROUNDS`]
/// rounds. With `pace` (φ, φ_s per 15 minutes: the market's) only the slow
/// share is fitted, for nodes of one market must move at one pace or
/// their factors decorrelate them. `simulate` gives the prices of one
/// replication over one segment's span under candidate factors (per
/// 15 minutes). Returns the factors per 15 minutes.
pub fn match_persistence(
    targets: &[(usize, f64)],
    pace: Option<(f64, f64)>,
    step_minutes: f64,
    segments: &[RegularData],
    simulate: impl Fn(&Factors, &RegularData, u64) -> Vec<f64>,
) -> Factors {
    let to_step = step_minutes / 15.0;
    let fit = |observed: &[(usize, f64)]| match pace {
        Some((fast, slow)) => fit_slow_share(observed, fast.powf(to_step), slow.powf(to_step)),
        None => fit_factors(observed),
    };
    let mut factors = fit(targets);
    if targets.len() < 2 || segments.is_empty() {
        return factors.per_15_minutes(step_minutes);
    }
    let lags: Vec<usize> = targets.iter().map(|t| t.0).collect();
    let real: Vec<&[f64]> = segments.iter().map(|s| s.values.as_slice()).collect();
    let wanted = per_segment(&real, &lags, persistence::rank_autocorrelation);
    let mut moved: Vec<(usize, f64)> = targets.to_vec();
    for _ in 0..PERSISTENCE_ROUNDS {
        let candidate = factors.per_15_minutes(step_minutes);
        let simulated = simulate_all(segments, &|seg, r| simulate(&candidate, seg, r));
        let views: Vec<&[f64]> = simulated.iter().map(Vec::as_slice).collect();
        let got = per_segment(&views, &lags, persistence::rank_autocorrelation);
        for ((target, w), g) in moved.iter_mut().zip(&wanted).zip(&got) {
            if w.is_finite() && g.is_finite() {
                target.1 = (target.1 + w - g).clamp(-0.99, 0.9999);
            }
        }
        factors = fit(&moved);
    }
    factors.per_15_minutes(step_minutes)
}

/// Candidate couplings of the spike rate to the market's slow factor.
pub const COUPLINGS: [f64; 13] = [
    0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0,
];

/// The coupling β of the spike rate to the market's slow factor (rate ×
/// exp(β s − β²/2)): the candidate of [`COUPLINGS`] whose simulated prices
/// (`simulate(β, segment, replication)`) have the real segments' mean
/// linear autocorrelation at 24 hours — spikes come back on the next day
/// of a cold spell or a heat wave, and only a rate that follows the slow
/// factor brings them back. Simulated method of moments on a fixed seed.
pub fn match_spike_coupling(
    step_minutes: f64,
    segments: &[RegularData],
    simulate: impl Fn(f64, &RegularData, u64) -> Vec<f64>,
) -> f64 {
    let lag = [steps(1440.0, step_minutes)];
    let real: Vec<&[f64]> = segments.iter().map(|s| s.values.as_slice()).collect();
    let wanted = per_segment(&real, &lag, crate::describe::autocorrelation)[0];
    if !wanted.is_finite() {
        return 0.0;
    }
    let mut best = (f64::INFINITY, 0.0);
    for beta in COUPLINGS {
        let simulated = simulate_all(segments, &|seg, r| simulate(beta, seg, r));
        let views: Vec<&[f64]> = simulated.iter().map(Vec::as_slice).collect();
        let got = per_segment(&views, &lag, crate::describe::autocorrelation)[0];
        let gap = (got - wanted).abs();
        if gap < best.0 {
            best = (gap, beta);
        }
    }
    best.1
}
