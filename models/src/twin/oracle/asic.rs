//! The ASIC side of the oracle: per site and market interval, the most
//! that mining (plus ancillary capacity and the grid's pay for power left
//! unused) can earn under the site's cap, as a fractional knapsack over
//! every cohort's concave power–hashrate envelope.
//!
//! A device can be off (failed: 0 W), on standby, or hashing at a power
//! target in its firmware's range with hashrate H(w) from the spec sheet's
//! curve. Any mix of these states over the devices of a cohort and over
//! the interval lies under the concave hull of the points (0, 0) and
//! (w, H(w)), scaled by the device count, so the hull bounds what the
//! cohort can earn with any number of devices in any states, with
//! switching taking no time. The hull is the chord from (0, 0) to the
//! tangent point of the curve, then the curve; the curve is replaced by
//! the lower envelope of its tangents at `TANGENTS` points, which lies on
//! or above it (the curve is concave), so the bound only loosens (by less
//! than 0.1 % of the hashrate).
//!
//! Units: W per device, TH/s, USD per interval.

use crate::plant::AsicSpec;

/// Tangent points along the power-target range.
const TANGENTS: usize = 12;

/// One linear piece of a device's envelope: `width_w` more watts earn
/// `th_per_w` TH/s per watt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Piece {
    pub(crate) th_per_w: f64,
    pub(crate) width_w: f64,
}

/// The pieces of one device's envelope, steepest first (concave).
pub(crate) fn envelope(spec: &AsicSpec, power_target: bool) -> Vec<Piece> {
    let (low, high) = if power_target {
        (spec.min_power_w, spec.max_power_w)
    } else {
        (spec.power_w, spec.power_w)
    };
    let h = |w: f64| spec.hashrate_th_at(w);
    if high <= low || low.is_nan() || low <= 0.0 {
        return vec![Piece {
            th_per_w: h(spec.power_w) / spec.power_w,
            width_w: spec.power_w,
        }];
    }
    // H(w) = H0 (w / w0)^k is concave with H(w)/w falling in w, so the
    // chord from the origin touches the curve at `low`.
    // H'(w) = k H(w) / w on the power-law curve.
    let slope_at = |w: f64| spec.curve_exponent * h(w) / w;
    let mut pieces = vec![Piece {
        th_per_w: h(low) / low,
        width_w: low,
    }];
    // Tangents at evenly spaced points; consecutive tangents meet at
    // z_j, where the envelope changes slope.
    let points: Vec<f64> = (0..TANGENTS)
        .map(|j| low + (high - low) * j as f64 / (TANGENTS - 1) as f64)
        .collect();
    let tangent = |x: f64| (h(x), slope_at(x));
    let mut from = low;
    for j in 0..TANGENTS {
        let (hx, sx) = tangent(points[j]);
        let to = if j + 1 < TANGENTS {
            let (hy, sy) = tangent(points[j + 1]);
            // hx + sx (z − x) = hy + sy (z − y)
            let z = if (sx - sy).abs() > 1e-15 {
                (hy - sy * points[j + 1] - hx + sx * points[j]) / (sx - sy)
            } else {
                points[j + 1]
            };
            z.clamp(from, high)
        } else {
            high
        };
        if to > from {
            pieces.push(Piece {
                th_per_w: sx.max(0.0),
                width_w: to - from,
            });
        }
        from = to;
    }
    pieces
}

/// One cohort as the knapsack sees it.
#[derive(Debug, Clone)]
pub(crate) struct CohortEnvelope {
    pub(crate) devices: f64,
    pub(crate) pieces: Vec<Piece>,
    /// Whether its load can be offered as ancillary capacity (firmware
    /// sheds it within 10 s).
    pub(crate) fast: bool,
}

/// What one site's interval is worth at its prices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SitePrices {
    /// USD per TH/s over the interval (hashprice after the pool fee).
    pub(crate) usd_per_th: f64,
    /// USD per facility W over the interval: energy.
    pub(crate) energy_usd_per_w: f64,
    /// USD per facility W over the interval the grid pays for power left
    /// unused (demand response, 4CP), charged here on power used.
    pub(crate) unused_usd_per_w: f64,
    /// USD per facility W over the interval that ancillary capacity pays
    /// on fast load.
    pub(crate) ancillary_usd_per_w: f64,
}

/// The most a site's cohorts can earn in one interval under `cap_w`
/// (facility W): mining revenue + ancillary pay − energy − unused-power
/// pay forgone. `scratch` is a reused buffer.
pub(crate) fn site_value(
    cohorts: &[CohortEnvelope],
    pue: f64,
    cap_w: f64,
    prices: SitePrices,
    scratch: &mut Vec<(f64, f64)>,
) -> f64 {
    scratch.clear();
    for cohort in cohorts {
        let per_it_w = pue
            * (prices.energy_usd_per_w + prices.unused_usd_per_w
                - if cohort.fast {
                    prices.ancillary_usd_per_w
                } else {
                    0.0
                });
        for piece in &cohort.pieces {
            let net = piece.th_per_w * prices.usd_per_th - per_it_w;
            if net <= 0.0 {
                // Pieces are steepest first: the rest earn less.
                break;
            }
            scratch.push((net, piece.width_w * cohort.devices));
        }
    }
    scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut left_it_w = cap_w / pue;
    let mut value = 0.0;
    for &(net, width) in scratch.iter() {
        if left_it_w <= 0.0 {
            break;
        }
        let take = width.min(left_it_w);
        value += take * net;
        left_it_w -= take;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::AsicCatalog;

    fn s21() -> AsicSpec {
        AsicCatalog::default()
            .model("S21")
            .expect("S21 in the catalog")
            .clone()
    }

    #[test]
    fn the_envelope_lies_on_or_above_the_curve_and_is_concave() {
        let spec = s21();
        let pieces = envelope(&spec, true);
        for pair in pieces.windows(2) {
            assert!(pair[1].th_per_w <= pair[0].th_per_w);
        }
        let total: f64 = pieces.iter().map(|p| p.width_w).sum();
        assert!((total - spec.max_power_w).abs() < 1e-6);
        let at = |w: f64| {
            let mut left = w;
            let mut th = 0.0;
            for p in &pieces {
                let take = p.width_w.min(left);
                th += take * p.th_per_w;
                left -= take;
            }
            th
        };
        for k in 0..=100 {
            let w = spec.min_power_w + (spec.max_power_w - spec.min_power_w) * f64::from(k) / 100.0;
            let curve = spec.hashrate_th_at(w);
            assert!(at(w) >= curve * (1.0 - 1e-9), "below the curve at {w} W");
            assert!(at(w) <= curve * 1.001, "{} vs {curve} at {w} W", at(w));
        }
        // Stock firmware: one chord to the stock point.
        let stock = envelope(&spec, false);
        assert_eq!(stock.len(), 1);
        assert!((stock[0].th_per_w * stock[0].width_w - spec.hashrate_th).abs() < 1e-9);
    }

    #[test]
    fn a_site_fills_its_cap_with_the_most_efficient_watts_first() {
        let spec = s21();
        let cohort = CohortEnvelope {
            devices: 1000.0,
            pieces: envelope(&spec, false),
            fast: false,
        };
        let usd_per_th = 0.05 / 24.0 / 12.0;
        let prices = SitePrices {
            usd_per_th,
            energy_usd_per_w: 30.0 / 1e6 / 12.0,
            unused_usd_per_w: 0.0,
            ancillary_usd_per_w: 0.0,
        };
        let mut scratch = Vec::new();
        let full = site_value(
            std::slice::from_ref(&cohort),
            1.1,
            1e9,
            prices,
            &mut scratch,
        );
        let margin = spec.hashrate_th * usd_per_th - spec.power_w * 1.1 * 30.0 / 1e6 / 12.0;
        assert!((full - 1000.0 * margin).abs() < 1e-6 * full.abs());
        // Half the devices' power under the cap: half the value.
        let cap = 500.0 * spec.power_w * 1.1;
        let half = site_value(
            std::slice::from_ref(&cohort),
            1.1,
            cap,
            prices,
            &mut scratch,
        );
        assert!((half - full / 2.0).abs() < 1e-6 * full);
        // Above breakeven nothing runs.
        let dear = SitePrices {
            energy_usd_per_w: 300.0 / 1e6 / 12.0,
            ..prices
        };
        assert_eq!(
            site_value(std::slice::from_ref(&cohort), 1.1, 1e9, dear, &mut scratch),
            0.0
        );
    }
}
