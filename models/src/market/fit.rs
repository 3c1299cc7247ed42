//! Maximum-likelihood fit of the Markov-switching Student-t model of daily
//! log-returns: Baum–Welch (EM) for the regimes and transition matrix, with
//! the t's latent scale weights in the M-step (ECM), and the degrees of
//! freedom ν chosen by profile likelihood on a grid.
//!
//! Units: log-returns per day in, the same units out.

use statrs::function::gamma::ln_gamma;

use super::btc_price::{BtcPriceParams, Regime};

/// The ν values the profile likelihood tries.
pub const DOF_GRID: [f64; 12] = [
    2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 30.0,
];

const MAX_ITERATIONS: usize = 2_000;
const TOLERANCE: f64 = 1e-10;

/// A fitted model and its log-likelihood.
#[derive(Debug, Clone, PartialEq)]
pub struct MsFit {
    /// The parameters.
    pub params: BtcPriceParams,
    /// Log-likelihood of the returns under the parameters.
    pub log_likelihood: f64,
}

/// Fits a `regimes`-state model to `returns`, trying every ν of
/// [`DOF_GRID`] and keeping the most likely. Regimes are ordered by scale.
///
/// # Panics
/// If `returns` has fewer than two values or `regimes` is zero.
pub fn fit_markov_switching_t(returns: &[f64], regimes: usize) -> MsFit {
    let mut best = fit_with_dof(returns, regimes, DOF_GRID[0]);
    for &dof in &DOF_GRID[1..] {
        let fit = fit_with_dof(returns, regimes, dof);
        if fit.log_likelihood > best.log_likelihood {
            best = fit;
        }
    }
    best
}

fn t_log_constant(dof: f64) -> f64 {
    ln_gamma(f64::midpoint(dof, 1.0))
        - ln_gamma(dof / 2.0)
        - 0.5 * (dof * std::f64::consts::PI).ln()
}

/// The EM state: parameters and the per-day work arrays (row t, column j
/// at `t * k + j`).
struct Em<'a> {
    x: &'a [f64],
    k: usize,
    dof: f64,
    constant: f64,
    mu: Vec<f64>,
    sigma: Vec<f64>,
    p: Vec<Vec<f64>>,
    initial: Vec<f64>,
    emission: Vec<f64>,
    weight: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    scale: Vec<f64>,
}

impl Em<'_> {
    /// Emission densities and the t weights u = (ν+1)/(ν+δ²).
    fn emissions(&mut self) {
        let (k, dof) = (self.k, self.dof);
        for (t, x) in self.x.iter().enumerate() {
            for j in 0..k {
                let delta = (x - self.mu[j]) / self.sigma[j];
                let q = delta * delta;
                self.emission[t * k + j] = (self.constant
                    - self.sigma[j].ln()
                    - f64::midpoint(dof, 1.0) * (q / dof).ln_1p())
                .exp();
                self.weight[t * k + j] = (dof + 1.0) / (dof + q);
            }
        }
    }

    /// Scaled forward and backward passes; returns the log-likelihood.
    fn forward_backward(&mut self) -> f64 {
        let (n, k) = (self.x.len(), self.k);
        for t in 0..n {
            let mut sum = 0.0;
            for j in 0..k {
                let prior = if t == 0 {
                    self.initial[j]
                } else {
                    (0..k)
                        .map(|i| self.alpha[(t - 1) * k + i] * self.p[i][j])
                        .sum()
                };
                let a = prior * self.emission[t * k + j];
                self.alpha[t * k + j] = a;
                sum += a;
            }
            self.scale[t] = sum;
            for j in 0..k {
                self.alpha[t * k + j] /= sum;
            }
        }
        for j in 0..k {
            self.beta[(n - 1) * k + j] = 1.0;
        }
        for t in (0..n - 1).rev() {
            for i in 0..k {
                self.beta[t * k + i] = (0..k)
                    .map(|j| {
                        self.p[i][j] * self.emission[(t + 1) * k + j] * self.beta[(t + 1) * k + j]
                    })
                    .sum::<f64>()
                    / self.scale[t + 1];
            }
        }
        self.scale.iter().map(|c| c.ln()).sum()
    }

    /// Re-estimates the transition matrix, locations, scales and the
    /// initial distribution.
    fn maximise(&mut self) {
        let (n, k) = (self.x.len(), self.k);
        let mut counts = vec![vec![0.0; k]; k];
        for t in 0..n - 1 {
            for (i, row) in counts.iter_mut().enumerate() {
                for (j, c) in row.iter_mut().enumerate() {
                    *c += self.alpha[t * k + i]
                        * self.p[i][j]
                        * self.emission[(t + 1) * k + j]
                        * self.beta[(t + 1) * k + j]
                        / self.scale[t + 1];
                }
            }
        }
        for (row, counts) in self.p.iter_mut().zip(&counts) {
            let total: f64 = counts.iter().sum();
            for (x, c) in row.iter_mut().zip(counts) {
                *x = c / total;
            }
        }
        for j in 0..k {
            let posterior = |t: usize| self.alpha[t * k + j] * self.beta[t * k + j];
            let (mut occupancy, mut weighted, mut weighted_x) = (0.0, 0.0, 0.0);
            for (t, x) in self.x.iter().enumerate() {
                let g = posterior(t);
                occupancy += g;
                weighted += g * self.weight[t * k + j];
                weighted_x += g * self.weight[t * k + j] * x;
            }
            let mu = weighted_x / weighted;
            let ss: f64 = self
                .x
                .iter()
                .enumerate()
                .map(|(t, x)| posterior(t) * self.weight[t * k + j] * (x - mu).powi(2))
                .sum();
            self.mu[j] = mu;
            self.sigma[j] = (ss / occupancy).sqrt();
            self.initial[j] = posterior(0);
        }
    }
}

/// EM at a fixed ν, from a deterministic start (scales spread around the
/// sample's, 95 % persistence).
///
/// # Panics
/// If `returns` has fewer than two values or `k` is zero.
pub fn fit_with_dof(returns: &[f64], k: usize, dof: f64) -> MsFit {
    assert!(
        returns.len() >= 2 && k > 0,
        "a fit needs two returns and a regime"
    );
    let n = returns.len();
    let mean = returns.iter().sum::<f64>() / n as f64;
    let sd = (returns.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    let spread = (k.max(2) - 1) as f64;
    let mut p = vec![vec![0.05 / spread; k]; k];
    for (i, row) in p.iter_mut().enumerate() {
        row[i] = if k == 1 { 1.0 } else { 0.95 };
    }
    let mut em = Em {
        x: returns,
        k,
        dof,
        constant: t_log_constant(dof),
        mu: vec![mean; k],
        sigma: (0..k)
            .map(|i| sd * 0.5 * 3.0_f64.powf(i as f64 / spread))
            .collect(),
        p,
        initial: vec![1.0 / k as f64; k],
        emission: vec![0.0; n * k],
        weight: vec![0.0; n * k],
        alpha: vec![0.0; n * k],
        beta: vec![0.0; n * k],
        scale: vec![0.0; n],
    };
    let mut previous = f64::NEG_INFINITY;
    let mut log_likelihood = f64::NEG_INFINITY;
    for _ in 0..MAX_ITERATIONS {
        em.emissions();
        log_likelihood = em.forward_backward();
        em.maximise();
        if (log_likelihood - previous).abs() < TOLERANCE * log_likelihood.abs() {
            break;
        }
        previous = log_likelihood;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| em.sigma[a].total_cmp(&em.sigma[b]));
    let params = BtcPriceParams {
        dof,
        regimes: order
            .iter()
            .map(|&i| Regime {
                drift_per_day: em.mu[i],
                scale_per_day: em.sigma[i],
            })
            .collect(),
        transition: order
            .iter()
            .map(|&i| order.iter().map(|&j| em.p[i][j]).collect())
            .collect(),
    };
    MsFit {
        params,
        log_likelihood,
    }
}
