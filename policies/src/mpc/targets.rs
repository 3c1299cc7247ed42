//! The power targets a cohort may be given and its hashrate at each: the
//! grid of `n` targets evenly spaced over the firmware's range, with
//! H(w) = H0·(w/P0)^β evaluated once per grid rather than at every step of
//! every plan.
//!
//! A grid is kept per cohort and rebuilt only when something it depends on
//! changes (the range, the candidate count or the spec's curve, compared
//! exactly), so the targets and hashrates are the very numbers a fresh
//! evaluation gives. Units: W, TH/s, USD per device-hour.

use hcp_models::contract::AsicCohortView;

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
        let s = &view.spec;
        let (low, high) = view.power_range_w;
        let key = [
            low,
            high,
            s.hashrate_th,
            s.power_w,
            s.min_power_w,
            s.max_power_w,
            s.curve_exponent,
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
        match best {
            Some(k) => (self.watts[k], self.hash_th[k]),
            None => {
                let high = view.power_range_w.1;
                (high, view.spec.hashrate_th_at(high))
            }
        }
    }
}
