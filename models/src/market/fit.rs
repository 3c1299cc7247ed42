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
pub fn fit_markov_switching_t(returns: &[f64], regimes: usize) -> MsFit {
    DOF_GRID
        .iter()
        .map(|&dof| fit_with_dof(returns, regimes, dof))
        .max_by(|a, b| a.log_likelihood.total_cmp(&b.log_likelihood))
        .expect("the grid is not empty")
}

fn t_log_constant(dof: f64) -> f64 {
    ln_gamma(f64::midpoint(dof, 1.0))
        - ln_gamma(dof / 2.0)
        - 0.5 * (dof * std::f64::consts::PI).ln()
}

/// EM at a fixed ν.
pub fn fit_with_dof(returns: &[f64], k: usize, dof: f64) -> MsFit {
    let n = returns.len();
    let mean = returns.iter().sum::<f64>() / n as f64;
    let sd = (returns.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    let mut mu = vec![mean; k];
    let mut sigma: Vec<f64> = (0..k)
        .map(|i| sd * 0.5 * 3.0_f64.powf(i as f64 / (k.max(2) - 1) as f64))
        .collect();
    let mut p = vec![vec![0.05 / (k.max(2) - 1) as f64; k]; k];
    for (i, row) in p.iter_mut().enumerate() {
        row[i] = if k == 1 { 1.0 } else { 0.95 };
    }
    let mut initial = vec![1.0 / k as f64; k];
    let constant = t_log_constant(dof);
    let mut emission = vec![0.0; n * k];
    let mut weight = vec![0.0; n * k];
    let mut alpha = vec![0.0; n * k];
    let mut beta = vec![0.0; n * k];
    let mut scale = vec![0.0; n];
    let mut previous = f64::NEG_INFINITY;
    let mut log_likelihood = f64::NEG_INFINITY;
    for _ in 0..MAX_ITERATIONS {
        // E-step: emissions and the t weights u = (ν+1)/(ν+δ²).
        for t in 0..n {
            for j in 0..k {
                let delta = (returns[t] - mu[j]) / sigma[j];
                let q = delta * delta;
                emission[t * k + j] =
                    (constant - sigma[j].ln() - f64::midpoint(dof, 1.0) * (q / dof).ln_1p()).exp();
                weight[t * k + j] = (dof + 1.0) / (dof + q);
            }
        }
        // Forward pass, scaled.
        for t in 0..n {
            let mut sum = 0.0;
            for j in 0..k {
                let prior = if t == 0 {
                    initial[j]
                } else {
                    (0..k).map(|i| alpha[(t - 1) * k + i] * p[i][j]).sum()
                };
                let a = prior * emission[t * k + j];
                alpha[t * k + j] = a;
                sum += a;
            }
            scale[t] = sum;
            for j in 0..k {
                alpha[t * k + j] /= sum;
            }
        }
        log_likelihood = scale.iter().map(|c| c.ln()).sum();
        // Backward pass.
        for j in 0..k {
            beta[(n - 1) * k + j] = 1.0;
        }
        for t in (0..n - 1).rev() {
            for i in 0..k {
                beta[t * k + i] = (0..k)
                    .map(|j| p[i][j] * emission[(t + 1) * k + j] * beta[(t + 1) * k + j])
                    .sum::<f64>()
                    / scale[t + 1];
            }
        }
        // M-step.
        let mut transitions = vec![vec![0.0; k]; k];
        for t in 0..n - 1 {
            for i in 0..k {
                for j in 0..k {
                    transitions[i][j] += alpha[t * k + i]
                        * p[i][j]
                        * emission[(t + 1) * k + j]
                        * beta[(t + 1) * k + j]
                        / scale[t + 1];
                }
            }
        }
        for (row, counts) in p.iter_mut().zip(&transitions) {
            let total: f64 = counts.iter().sum();
            for (x, c) in row.iter_mut().zip(counts) {
                *x = c / total;
            }
        }
        for j in 0..k {
            let (mut g_sum, mut gu_sum, mut gux) = (0.0, 0.0, 0.0);
            for t in 0..n {
                let g = alpha[t * k + j] * beta[t * k + j];
                g_sum += g;
                gu_sum += g * weight[t * k + j];
                gux += g * weight[t * k + j] * returns[t];
            }
            mu[j] = gux / gu_sum;
            let ss: f64 = (0..n)
                .map(|t| {
                    alpha[t * k + j]
                        * beta[t * k + j]
                        * weight[t * k + j]
                        * (returns[t] - mu[j]).powi(2)
                })
                .sum();
            sigma[j] = (ss / g_sum).sqrt();
            initial[j] = alpha[j] * beta[j];
        }
        if (log_likelihood - previous).abs() < TOLERANCE * log_likelihood.abs() {
            break;
        }
        previous = log_likelihood;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| sigma[a].total_cmp(&sigma[b]));
    let params = BtcPriceParams {
        dof,
        regimes: order
            .iter()
            .map(|&i| Regime {
                drift_per_day: mu[i],
                scale_per_day: sigma[i],
            })
            .collect(),
        transition: order
            .iter()
            .map(|&i| order.iter().map(|&j| p[i][j]).collect())
            .collect(),
    };
    MsFit {
        params,
        log_likelihood,
    }
}
