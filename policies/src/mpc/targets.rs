//! The power targets a cohort may be given and its hashrate at each: the
//! grid of `n` targets evenly spaced over the firmware's range, with
//! H(w) = H0·(w/P0)^β evaluated once per grid rather than at every step of
//! every plan.
//!
//! A grid is kept per cohort and rebuilt only when something it depends on
//! changes (the range, the candidate count or the spec's curve, compared
//! exactly), so the targets and hashrates are the very numbers a fresh
//! evaluation gives. Units: W, TH/s, USD per device-hour.

use hcp_contract::AsicCohortView;

/// One cohort's candidate targets and their hashrates.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TargetGrid {
    /// What the grid was built from, as bits: range low and high, stock
    /// hashrate and power, the spec's power window, the curve exponent.
    key: [u64; 7],
    /// Candidates in the grid (at least 2 once built; 0 before).
    n: u32,
    /// Candidate targets, W, lowest first.
    watts: Vec<f64>,
    /// Hashrate at each candidate, TH/s.
    hash_th: Vec<f64>,
}

impl TargetGrid {
    /// Makes the grid match `view` with `n` candidates (at least 2),
    /// rebuilding it only if it does not already.
    pub(crate) fn update(&mut self, view: &AsicCohortView, n: u32) {
        let n = n.max(2);
        let s = &view.curve;
        let (low, high) = view.power_range_w;
        let key = [
            low,
            high,
            s.stock_hashrate_th,
            s.stock_power_w,
            s.min_power_w,
            s.max_power_w,
            s.exponent,
        ]
        .map(f64::to_bits);
        if key == self.key && n == self.n {
            return;
        }
        self.key = key;
        self.n = n;
        self.watts.clear();
        self.hash_th.clear();
        for k in 0..n {
            let w = low + (high - low) * f64::from(k) / f64::from(n - 1);
            self.watts.push(w);
            self.hash_th.push(s.hashrate_th_at(w));
        }
    }

    /// The candidate that earns most per device-hour at `energy_usd_per_wh`
    /// (price × PUE ÷ 10⁶) and a net hash value of `usd_per_th_h`, as
    /// (target W, hashrate TH/s); the lowest such target on a tie, the
    /// range's top when no candidate earns a finite margin.
    pub(crate) fn best(&self, view: &AsicCohortView, energy: f64, usd_per_th_h: f64) -> (f64, f64) {
        let mut best: Option<usize> = None;
        let mut best_margin = f64::NEG_INFINITY;
        for (k, (&w, &h)) in self.watts.iter().zip(&self.hash_th).enumerate() {
            let m = usd_per_th_h * h - energy * w;
            if m > best_margin {
                best = Some(k);
                best_margin = m;
            }
        }
        if let Some(k) = best {
            (self.watts[k], self.hash_th[k])
        } else {
            let high = view.power_range_w.1;
            (high, view.curve.hashrate_th_at(high))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_contract::{AsicCohortSpec, PowerCurve, SiteId};

    /// Every candidate tried with a fresh hashrate, as a plan did before
    /// the grid: (target W, hashrate TH/s).
    fn brute_force(view: &AsicCohortView, energy: f64, usd_per_th_h: f64, n: u32) -> (f64, f64) {
        let (low, high) = view.power_range_w;
        let n = n.max(2);
        let mut best = (high, f64::NEG_INFINITY);
        for k in 0..n {
            let w = low + (high - low) * f64::from(k) / f64::from(n - 1);
            let m = usd_per_th_h * view.curve.hashrate_th_at(w) - energy * w;
            if m > best.1 {
                best = (w, m);
            }
        }
        (best.0, view.curve.hashrate_th_at(best.0))
    }

    /// A LuxOS cohort of the public spec sheets' S21 (200 TH/s at
    /// 3,500 W) or S19 XP (140 TH/s at 3,010 W), on a window of 55–115 % of
    /// stock power and the curve exponent 0.629 of docs/models/asic.md.
    fn view(model: &str) -> AsicCohortView {
        let (hashrate, power) = match model {
            "S21" => (200.0, 3500.0),
            _ => (140.0, 3010.0),
        };
        let curve = PowerCurve {
            stock_hashrate_th: hashrate,
            stock_power_w: power,
            min_power_w: power * 0.55,
            max_power_w: power * 1.15,
            exponent: 0.629,
        };
        let mut v = AsicCohortView::new(
            AsicCohortSpec {
                site: SiteId::from("site"),
                model: model.into(),
                firmware: "luxos".into(),
                curve,
                installed: 10,
                supports_power_target: true,
                standby_w: 20.0,
            },
            power,
        );
        v.on = 10;
        v
    }

    #[test]
    fn grid_picks_the_same_target_and_hashrate_to_the_bit() {
        let mut grid = TargetGrid::default();
        for model in ["S21", "S19 XP"] {
            let v = view(model);
            for n in [2, 5, 9, 17] {
                grid.update(&v, n);
                for price in [-50.0, 0.0, 12.5, 40.0, 75.0, 160.0, 900.0, 5000.0] {
                    for hashprice in [0.0, 0.03, 0.055, 0.12] {
                        let usd = hashprice * 0.98 / 24.0;
                        let energy = price * 1.1 / 1e6;
                        let (w, h) = grid.best(&v, energy, usd);
                        let (bw, bh) = brute_force(&v, energy, usd, n);
                        assert_eq!((w.to_bits(), h.to_bits()), (bw.to_bits(), bh.to_bits()));
                    }
                }
            }
        }
        let (w, _) = grid.best(&view("S21"), f64::NAN, 0.01);
        assert_eq!(w, view("S21").power_range_w.1);
    }

    #[test]
    fn grid_is_rebuilt_when_the_range_changes() {
        let mut grid = TargetGrid::default();
        let mut v = view("S21");
        grid.update(&v, 9);
        let wide = grid.clone();
        v.power_range_w.1 -= 500.0;
        grid.update(&v, 9);
        assert_ne!(grid, wide);
        assert!(grid.watts.iter().all(|&w| w <= v.power_range_w.1));
        grid.update(&v, 3);
        assert_eq!(grid.watts.len(), 3);
    }
}
