//! Fitting a node's price parameters ([`NodeParams`]) from regular series
//! in $/MWh: the calendar shape from a long (hourly or finer) record, the
//! residual distribution, persistence, common share and spikes from
//! 15-minute (or hourly) segments.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::America::Chicago;
use statrs::distribution::{ContinuousCDF, Normal};

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
    /// Lag-1 autocorrelation of the normal scores per 15 minutes.
    pub phi: f64,
    /// Normal-score innovations (NaN where undefined), aligned with the input values.
    pub innovations: Vec<f64>,
    /// Spike episodes' start probability per 15 minutes.
    pub spike_rate: f64,
    /// Mean spike length in 15-minute intervals.
    pub spike_intervals: f64,
    /// Log spike excess mean and deviation.
    pub spike_log: (f64, f64),
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
/// φ is the normal-score correlation at which the mapped residuals have
/// the observed lag-1 autocorrelation (Gaussian-copula moment match).
#[allow(clippy::too_many_lines)] // one pass over the data, kept together for clarity
pub fn fit_dynamics(shape: &Shape, segments: &[RegularData], spiking: &[Vec<bool>]) -> Dynamics {
    let step_minutes = segments
        .first()
        .map_or(15.0, |s| s.step.num_minutes() as f64);
    let mut month_weight = [0.0f64; 12];
    let mut residuals = Vec::new();
    let mut index = Vec::new(); // (segment, i) per residual
    let mut spike_excess = Vec::new();
    let (mut episodes, mut spike_count) = (0usize, 0usize);
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
                spike_count += 1;
                if i == 0 || !spiking[s][i - 1] {
                    episodes += 1;
                }
                let excess = seg.values[i] - base;
                if excess > 0.0 {
                    spike_excess.push(excess.ln());
                }
            } else {
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
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    let mut by_residual: Vec<Vec<f64>> = segments
        .iter()
        .map(|s| vec![f64::NAN; s.values.len()])
        .collect();
    for (k, &(s, i, _)) in index.iter().enumerate() {
        by_residual[s][i] = residuals[k];
    }
    for (seg, res) in by_position.iter().zip(&by_residual) {
        for (w, r) in seg.windows(2).zip(res.windows(2)) {
            if w[0].is_finite() && w[1].is_finite() {
                a.push(w[0]);
                b.push(w[1]);
                ra.push(r[0]);
                rb.push(r[1]);
            }
        }
    }
    let target = pearson(&ra, &rb);
    let phi_step =
        copula_phi(&residual, target).unwrap_or_else(|| pearson(&a, &b).clamp(0.0, 0.9999));
    let phi = phi_step.powf(15.0 / step_minutes);
    let innovations = by_position
        .iter()
        .flat_map(|seg| {
            (0..seg.len()).map(move |i| {
                if i == 0 {
                    f64::NAN
                } else {
                    seg[i] - phi_step * seg[i - 1]
                }
            })
        })
        .collect();
    let normal_count = residuals.len().max(1) as f64;
    let per_step_rate = episodes as f64 / normal_count;
    let spike_rate = 1.0 - (1.0 - per_step_rate).powf(15.0 / step_minutes);
    let spike_intervals = if episodes == 0 {
        1.0
    } else {
        spike_count as f64 / episodes as f64 * step_minutes / 15.0
    };
    let spike_log = if spike_excess.len() >= 2 {
        let mu = mean(&spike_excess);
        (mu, crate::describe::std_dev(&spike_excess))
    } else {
        (6.5, 0.5)
    };
    Dynamics {
        residual,
        month_scale,
        phi,
        innovations,
        spike_rate,
        spike_intervals,
        spike_log,
        spike_ramp: ramp_step.powf(15.0 / step_minutes),
        spike_decay: decay_step.powf(15.0 / step_minutes),
    }
}

/// The common share ρ of a node: the squared correlation of its normal-score
/// innovations with the market reference node's.
pub fn common_share(node: &[f64], reference: &[f64]) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = node
        .iter()
        .zip(reference)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip();
    let r = pearson(&a, &b);
    if r.is_finite() {
        (r * r).clamp(0.0, 0.98)
    } else {
        0.0
    }
}

/// The lag-1 autocorrelation of Q(x_t) when x is a stationary Gaussian
/// AR(1) with coefficient `phi` (numerical integration on a grid).
#[allow(clippy::many_single_char_names)] // the integral's own notation
pub fn mapped_autocorrelation(residual: &[f64; KNOTS], phi: f64) -> f64 {
    const N: usize = 121;
    let z: Vec<f64> = (0..N)
        .map(|i| -6.0 + 12.0 * i as f64 / (N - 1) as f64)
        .collect();
    let dz = z[1] - z[0];
    let q: Vec<f64> = z.iter().map(|&x| knot_value(residual, x)).collect();
    let w: Vec<f64> = z
        .iter()
        .map(|&x| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt() * dz)
        .collect();
    let m: f64 = q.iter().zip(&w).map(|(a, b)| a * b).sum();
    let v: f64 = q.iter().zip(&w).map(|(a, b)| (a - m) * (a - m) * b).sum();
    let s = (1.0 - phi * phi).sqrt().max(1e-6);
    let mut cov = 0.0;
    for i in 0..N {
        // Conditional law of y given x = z[i]: N(phi x, 1 − phi²).
        let mut inner = 0.0;
        let mut mass = 0.0;
        for j in 0..N {
            let u = (z[j] - phi * z[i]) / s;
            let d = (-0.5 * u * u).exp();
            inner += d * (q[j] - m);
            mass += d;
        }
        cov += w[i] * (q[i] - m) * inner / mass.max(1e-300);
    }
    cov / v
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
/// at entry rate p, the mean excess E\[J\] = exp(μ + σ²/2) during spikes and,
/// per episode, a/(1−a) + d/(1−d) excess-worths on the intervals around it.
pub fn expected_price(node: &NodeParams, market: &MarketParams, m: usize, base: f64) -> (f64, f64) {
    let enter = (market.spike_rate * market.month_weight[m]).clamp(0.0, 1.0);
    let exit = 1.0 / market.spike_intervals.max(1.0);
    let share = enter / (enter + exit);
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

/// Solves [`mapped_autocorrelation`] = `target` for φ by bisection.
fn copula_phi(residual: &[f64; KNOTS], target: f64) -> Option<f64> {
    if !target.is_finite() || target <= 0.0 || target >= 0.999 {
        return None;
    }
    let (mut lo, mut hi) = (0.0, 0.9999);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if mapped_autocorrelation(residual, mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}
