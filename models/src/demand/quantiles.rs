//! [`QuantileTable`]: an empirical distribution stored as its quantiles on a
//! fixed probability grid, sampled by inverse transform with linear
//! interpolation between knots.
//!
//! The grid is every percentile from 0 to 99 plus 99.5, 99.9 and 100
//! ([`QUANTILE_PROBS`], 103 knots), so the median and the 99th percentile of
//! a sample drawn from the table equal the data's (type-7) quantiles, and
//! the mean of the table has a closed form (trapezoids). Units are those of
//! the fitted data (tokens, seconds, GPUs).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::describe::quantile_sorted;

/// Number of knots of the grid.
pub const KNOTS: usize = 103;

/// The probabilities of the knots: 0.00, 0.01, …, 0.99, 0.995, 0.999, 1.
pub const QUANTILE_PROBS: [f64; KNOTS] = {
    let mut p = [0.0; KNOTS];
    let mut i = 0;
    while i < 100 {
        p[i] = i as f64 / 100.0;
        i += 1;
    }
    p[100] = 0.995;
    p[101] = 0.999;
    p[102] = 1.0;
    p
};

/// Quantiles of a distribution at [`QUANTILE_PROBS`], non-decreasing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct QuantileTable(pub Vec<f64>);

impl QuantileTable {
    /// The table of a sample, each knot rounded to `decimals` places.
    /// Returns `None` for an empty sample.
    pub fn fit(values: &[f64], decimals: usize) -> Option<QuantileTable> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(QuantileTable(
            QUANTILE_PROBS
                .iter()
                .map(|&p| round_to(quantile_sorted(&sorted, p), decimals))
                .collect(),
        ))
    }

    /// Whether the table has [`KNOTS`] finite, non-decreasing values.
    pub fn is_valid(&self) -> bool {
        self.0.len() == KNOTS
            && self.0.iter().all(|v| v.is_finite())
            && self.0.windows(2).all(|w| w[0] <= w[1])
    }

    /// The value at probability `u` in [0, 1] (linear between knots).
    #[inline]
    pub fn sample(&self, u: f64) -> f64 {
        let q = &self.0;
        let (i, lo, hi) = if u < 0.99 {
            // Percentile knots: segment i spans [i/100, (i+1)/100).
            let i = ((u * 100.0) as usize).min(98);
            (i, QUANTILE_PROBS[i], QUANTILE_PROBS[i + 1])
        } else if u < 0.995 {
            (99, 0.99, 0.995)
        } else if u < 0.999 {
            (100, 0.995, 0.999)
        } else {
            (101, 0.999, 1.0)
        };
        let w = ((u - lo) / (hi - lo)).clamp(0.0, 1.0);
        q[i] + w * (q[i + 1] - q[i])
    }

    /// The mean of the interpolated distribution (exact: trapezoids).
    pub fn mean(&self) -> f64 {
        self.0
            .windows(2)
            .zip(QUANTILE_PROBS.windows(2))
            .map(|(q, p)| 0.5 * (q[0] + q[1]) * (p[1] - p[0]))
            .sum()
    }

    /// The quantile at a knot probability `p` (exact at knots).
    pub fn at(&self, p: f64) -> f64 {
        self.sample(p)
    }
}

/// `value` rounded to `decimals` decimal places, as the nearest f64 to the
/// decimal text (so it prints and parses back exactly).
pub fn round_to(value: f64, decimals: usize) -> f64 {
    format!("{value:.decimals$}").parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_sample_gives_a_uniform_table() {
        let v: Vec<f64> = (0..=1000).map(f64::from).collect();
        let t = QuantileTable::fit(&v, 1).unwrap();
        assert!(t.is_valid());
        assert_eq!(t.0[50], 500.0);
        assert_eq!(t.0[99], 990.0);
        assert!((t.mean() - 500.0).abs() < 1e-9);
        assert!((t.sample(0.255) - 255.0).abs() < 1e-9);
        assert!((t.sample(0.9995) - 999.5).abs() < 1e-9);
        assert_eq!(t.sample(1.0), 1000.0);
    }
}
