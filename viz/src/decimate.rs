//! Reducing a series to what a plot can show: at most two points per pixel
//! column, the column's minimum and maximum in the order they occur (what
//! time-series viewers do), so a spike of one interval in a year stays
//! visible and a frame never draws a million points; and, for stacked
//! areas, one mean per column, which keeps each layer's energy. Series
//! shorter than the columns pass through unchanged. NaN (no reading) is
//! skipped.

use std::ops::Range;

/// The buckets that split `range` into at most `columns` parts of equal
/// length (the last ones one shorter).
fn buckets(range: Range<usize>, columns: usize) -> impl Iterator<Item = Range<usize>> {
    let n = range.len();
    let columns = columns.clamp(1, n.max(1));
    let start = range.start;
    (0..columns).map(move |b| start + b * n / columns..start + (b + 1) * n / columns)
}

/// Points `[x, y]` for `ys[range]`: every point when the range has at most
/// `2 × columns` of them, else each column's min and max in time order.
pub fn min_max(
    ys: &[f64],
    range: Range<usize>,
    columns: usize,
    x_of: impl Fn(usize) -> f64,
) -> Vec<[f64; 2]> {
    let range = range.start.min(ys.len())..range.end.min(ys.len());
    if range.len() <= 2 * columns.max(1) {
        return range
            .filter(|&i| !ys[i].is_nan())
            .map(|i| [x_of(i), ys[i]])
            .collect();
    }
    let mut out = Vec::with_capacity(2 * columns);
    for bucket in buckets(range, columns) {
        let mut lo: Option<usize> = None;
        let mut hi: Option<usize> = None;
        for i in bucket {
            let y = ys[i];
            if y.is_nan() {
                continue;
            }
            if lo.is_none_or(|l| y < ys[l]) {
                lo = Some(i);
            }
            if hi.is_none_or(|h| y > ys[h]) {
                hi = Some(i);
            }
        }
        match (lo, hi) {
            (Some(l), Some(h)) if l == h => out.push([x_of(l), ys[l]]),
            (Some(l), Some(h)) => {
                let (a, b) = if l < h { (l, h) } else { (h, l) };
                out.push([x_of(a), ys[a]]);
                out.push([x_of(b), ys[b]]);
            }
            _ => {}
        }
    }
    out
}

/// One `(x, mean)` per column of `ys[range]` (x at the column's first
/// interval); every point when the range has at most `columns` of them.
/// NaN counts as 0 (a layer with no reading adds nothing to a stack).
pub fn means(
    ys: &[f64],
    range: Range<usize>,
    columns: usize,
    x_of: impl Fn(usize) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let range = range.start.min(ys.len())..range.end.min(ys.len());
    let finite = |v: f64| if v.is_nan() { 0.0 } else { v };
    if range.len() <= columns.max(1) {
        return range.map(|i| (x_of(i), finite(ys[i]))).unzip();
    }
    buckets(range, columns)
        .filter(|b| !b.is_empty())
        .map(|b| {
            let n = b.len() as f64;
            let x = x_of(b.start);
            let sum: f64 = ys[b].iter().copied().map(finite).sum();
            (x, sum / n)
        })
        .unzip()
}

/// The x of each column [`means`] gives for `range` (the same buckets), so
/// several layers of a stack share their xs.
pub fn mean_xs(range: Range<usize>, columns: usize, x_of: impl Fn(usize) -> f64) -> Vec<f64> {
    if range.len() <= columns.max(1) {
        return range.map(x_of).collect();
    }
    buckets(range, columns)
        .filter(|b| !b.is_empty())
        .map(|b| x_of(b.start))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_reduces_to_two_points_a_column_and_keeps_its_one_spike() {
        let n = 105_120; // a year of 5-minute intervals
        let mut ys: Vec<f64> = (0..n).map(|i| 30.0 + (i % 288) as f64 / 10.0).collect();
        ys[77_777] = 5_000.0;
        ys[1_234] = -20.0;
        let pts = min_max(&ys, 0..n, 800, |i| i as f64);
        assert!(pts.len() <= 1_600, "{}", pts.len());
        assert!(pts.len() >= 1_590, "{}", pts.len());
        let max = pts.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        let min = pts.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
        assert_eq!(max, 5_000.0);
        assert_eq!(min, -20.0);
        assert!(pts.iter().any(|p| p == &[77_777.0, 5_000.0]));
        // Time order is kept.
        assert!(pts.windows(2).all(|w| w[0][0] < w[1][0]));
    }

    #[test]
    fn short_ranges_pass_through_and_nan_is_skipped() {
        let ys = [1.0, f64::NAN, 3.0, 4.0];
        assert_eq!(
            min_max(&ys, 0..4, 100, |i| i as f64),
            vec![[0.0, 1.0], [2.0, 3.0], [3.0, 4.0]]
        );
        assert_eq!(min_max(&ys, 3..10, 100, |i| i as f64), vec![[3.0, 4.0]]);
        let (xs, m) = means(&ys, 0..4, 2, |i| i as f64 * 10.0);
        assert_eq!(xs, vec![0.0, 20.0]);
        assert_eq!(m, vec![0.5, 3.5]);
        assert_eq!(mean_xs(0..4, 2, |i| i as f64 * 10.0), xs);
    }

    #[test]
    fn means_keep_the_energy_of_a_layer() {
        let ys: Vec<f64> = (0..10_000_i32).map(|i| f64::from(i % 7)).collect();
        let (_, m) = means(&ys, 0..10_000, 100, |i| i as f64);
        let total: f64 = m.iter().sum::<f64>() * 100.0;
        let exact: f64 = ys.iter().sum();
        assert!((total - exact).abs() / exact < 1e-9, "{total} vs {exact}");
    }
}
