//! How long prices stay at a level: lagged linear and rank
//! autocorrelations of a price series, and the lengths of its spike
//! episodes (runs of consecutive intervals above a threshold). What the
//! persistence checks of `hcp validate grid` compare, generator against
//! the real ERCOT series.

use crate::describe::{mean, spearman, std_dev};

/// Lags of the persistence checks, in hours.
pub const LAG_HOURS: [u32; 3] = [1, 4, 24];

/// Spearman rank autocorrelation at `lag`: Pearson on the ranks of the
/// leading and the lagged parts (ties in sample order).
pub fn rank_autocorrelation(values: &[f64], lag: usize) -> f64 {
    if values.len() <= lag + 1 {
        return f64::NAN;
    }
    let n = values.len() - lag;
    spearman(&values[..n], &values[lag..])
}

/// Lengths, in intervals, of the runs of consecutive values above
/// `threshold`, in order (a run cut by the end of the series counts as it
/// stands).
pub fn episode_lengths(values: &[f64], threshold: f64) -> Vec<usize> {
    run_lengths(values.iter().map(|&v| v > threshold))
}

/// Lengths of the runs of `true`, in order (a run cut by the end counts as
/// it stands).
pub fn run_lengths(flags: impl IntoIterator<Item = bool>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut run = 0usize;
    for on in flags {
        if on {
            run += 1;
        } else if run > 0 {
            out.push(run);
            run = 0;
        }
    }
    if run > 0 {
        out.push(run);
    }
    out
}

/// Mean length of episodes and its standard error (sd / √n; NaN below two).
pub fn mean_length(lengths: &[usize]) -> (f64, f64) {
    let v: Vec<f64> = lengths.iter().map(|&l| l as f64).collect();
    (mean(&v), std_dev(&v) / (v.len() as f64).sqrt())
}

/// Mean of a statistic over segments and its standard error across them
/// (the spread of the segments' values over √segments; NaN values skipped).
pub fn across_segments(segments: &[&[f64]], statistic: impl Fn(&[f64]) -> f64) -> (f64, f64) {
    let values: Vec<f64> = segments
        .iter()
        .map(|s| statistic(s))
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let se = if values.len() > 1 {
        std_dev(&values) / (values.len() as f64).sqrt()
    } else {
        0.0
    };
    (mean(&values), se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_are_runs_above_the_threshold() {
        let v = [
            0.0, 600.0, 700.0, 10.0, 501.0, 0.0, 0.0, 900.0, 800.0, 700.0,
        ];
        assert_eq!(episode_lengths(&v, 500.0), vec![2, 1, 3]);
        assert_eq!(episode_lengths(&v, 750.0), vec![2]);
        assert!(episode_lengths(&v, 1000.0).is_empty());
    }

    #[test]
    fn rank_autocorrelation_ignores_the_scale_of_spikes() {
        // A slow sine with one huge spike: the rank correlation at a short
        // lag stays near one, the linear one collapses.
        let mut v: Vec<f64> = (0..400).map(|i| (f64::from(i) / 40.0).sin()).collect();
        v[200] = 1e6;
        assert!(rank_autocorrelation(&v, 1) > 0.95);
        assert!(crate::describe::autocorrelation(&v, 1) < 0.1);
    }

    #[test]
    fn the_standard_error_is_the_spread_over_root_n() {
        let a = [1.0, 2.0];
        let b = [3.0, 4.0];
        let (m, se) = across_segments(&[&a, &b], mean);
        assert!((m - 2.5).abs() < 1e-12);
        // std of {1.5, 3.5} (n − 1) = √2; / √2 = 1.
        assert!((se - 1.0).abs() < 1e-12);
    }
}
