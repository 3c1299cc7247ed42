//! [`Autoregressive`]: an AR(p) on each series' deviations from its rolling
//! daily profile, fitted by least squares on a rolling window.
//!
//! Each series (every site's spot price, USD/MWh, and the hashprice, USD
//! per TH/s per day) keeps the mean of every interval-of-day slot over the
//! window (the profile) and the deviation of each observation from the
//! profile as it stood when the observation arrived. The least-squares
//! normal equations of x_t = φ₁x_{t−1} + … + φ_p x_{t−p} are kept as running
//! sums over the window — a row in, the oldest row out, O(p²) per
//! observation — and solved (p × p, Gaussian elimination with a tiny ridge)
//! when a forecast is asked. The forecast is the profile of each future
//! slot plus the AR recursion of the deviations. Until the window holds
//! enough rows (ten per coefficient) it forecasts persistence.

use std::collections::BTreeMap;

use hcp_contract::{Forecast, Forecaster, Observation, SiteId};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::intervals_in;

/// Highest order the forecaster fits.
pub const MAX_ORDER: usize = 16;

/// Parameters of [`Autoregressive`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutoregressiveParams {
    /// Order p (1 to 16).
    pub order: u32,
    /// Rolling window for the profile and the fit, days.
    pub window_days: f64,
    /// The profile's period, hours.
    pub period_hours: f64,
}

impl Default for AutoregressiveParams {
    /// AR(2) on a 14-day window around a daily profile.
    fn default() -> Self {
        AutoregressiveParams {
            order: 2,
            window_days: 14.0,
            period_hours: 24.0,
        }
    }
}

/// One series' rolling state.
#[derive(Debug, Clone)]
struct Series {
    /// Raw values of the window, by t mod window.
    raw: Vec<f64>,
    /// Deviations, by t mod (window + p + 1).
    dev: Vec<f64>,
    /// Profile sums and counts per slot.
    slot_sum: Vec<f64>,
    slot_count: Vec<u32>,
    /// Σ x xᵀ (p × p, row-major) and Σ x y over the window's rows.
    xtx: Vec<f64>,
    xty: Vec<f64>,
    rows: usize,
    last: f64,
    /// Values pushed so far.
    seen: usize,
}

/// AR(p) around a rolling daily profile.
#[derive(Debug, Clone)]
pub struct Autoregressive {
    p: usize,
    params: AutoregressiveParams,
    period: usize,
    window: usize,
    prices: BTreeMap<SiteId, Series>,
    hashprice: Option<Series>,
}

impl Autoregressive {
    /// The forecaster with `params` (the order clamped to 1..=16).
    pub fn new(params: AutoregressiveParams) -> Self {
        Autoregressive {
            p: (params.order as usize).clamp(1, MAX_ORDER),
            params,
            period: 0,
            window: 0,
            prices: BTreeMap::new(),
            hashprice: None,
        }
    }

    fn new_series(&self) -> Series {
        Series {
            raw: vec![0.0; self.window],
            dev: vec![0.0; self.window + self.p + 1],
            slot_sum: vec![0.0; self.period],
            slot_count: vec![0; self.period],
            xtx: vec![0.0; self.p * self.p],
            xty: vec![0.0; self.p],
            rows: 0,
            last: 0.0,
            seen: 0,
        }
    }

    /// Adds (sign 1) or removes (−1) the row whose target is at `t`.
    fn row(&self, s: &mut Series, t: usize, sign: f64) {
        let n = s.dev.len();
        let y = s.dev[t % n];
        for i in 0..self.p {
            let xi = s.dev[(t - 1 - i) % n];
            s.xty[i] += sign * xi * y;
            for j in 0..self.p {
                s.xtx[i * self.p + j] += sign * xi * s.dev[(t - 1 - j) % n];
            }
        }
    }

    fn profile(s: &Series, slot: usize) -> f64 {
        match s.slot_count[slot] {
            0 => s.last,
            c => s.slot_sum[slot] / f64::from(c),
        }
    }

    /// Adds the value of the interval that started (the last one again
    /// when it is unknown).
    fn push_reading(&self, s: &mut Series, value: Option<f64>) {
        let t = s.seen;
        let value = value.unwrap_or(s.last);
        self.push(s, t, value);
        s.seen += 1;
    }

    fn push(&self, s: &mut Series, t: usize, value: f64) {
        let slot = t % self.period;
        if t >= self.window {
            // The oldest value and row leave the window.
            let old = t - self.window;
            s.slot_sum[old % self.period] -= s.raw[old % self.window];
            s.slot_count[old % self.period] -= 1;
            if old >= self.p {
                self.row(s, old, -1.0);
                s.rows -= 1;
            }
        }
        let deviation = if s.slot_count[slot] == 0 {
            0.0
        } else {
            value - Self::profile(s, slot)
        };
        s.slot_sum[slot] += value;
        s.slot_count[slot] += 1;
        s.raw[t % self.window] = value;
        let n = s.dev.len();
        s.dev[t % n] = deviation;
        if t >= self.p {
            self.row(s, t, 1.0);
            s.rows += 1;
        }
        s.last = value;
    }

    /// The fitted coefficients into `phi`; false when too few rows or a
    /// singular system.
    fn fit(&self, s: &Series, phi: &mut [f64; MAX_ORDER]) -> bool {
        let p = self.p;
        if s.rows < 10 * p {
            return false;
        }
        // The normal equations (Σ x xᵀ + ridge·I) φ = Σ x y are symmetric
        // positive definite unless degenerate: Cholesky (nalgebra) solves
        // them and says when they are not.
        let trace: f64 = (0..p).map(|i| s.xtx[i * p + i]).sum();
        let ridge = 1e-9 * trace.max(1e-12);
        let xtx = DMatrix::from_row_slice(p, p, &s.xtx) + DMatrix::identity(p, p) * ridge;
        let Some(cholesky) = xtx.cholesky() else {
            return false;
        };
        let solution = cholesky.solve(&DVector::from_column_slice(&s.xty));
        for (x, &v) in phi.iter_mut().zip(solution.iter()) {
            *x = v;
        }
        phi[..p].iter().all(|x| x.is_finite())
    }

    /// Writes `steps` forecasts of series `s` into `out`.
    fn forecast_series(&self, s: &Series, steps: usize, out: &mut Vec<f64>) {
        out.clear();
        let mut phi = [0.0; MAX_ORDER];
        if s.seen == 0 || !self.fit(s, &mut phi) {
            out.resize(steps, s.last);
            return;
        }
        let p = self.p;
        let n = s.dev.len();
        let last = s.seen - 1;
        // Recent deviations, newest first, shifted as the recursion runs.
        let mut recent = [0.0; MAX_ORDER];
        for (i, r) in recent.iter_mut().take(p).enumerate() {
            *r = s.dev[(last - i) % n];
        }
        for k in 1..=steps {
            let x: f64 = (0..p).map(|i| phi[i] * recent[i]).sum();
            recent.copy_within(0..p - 1, 1);
            recent[0] = x;
            out.push(Self::profile(s, (last + k) % self.period) + x);
        }
    }
}

impl Forecaster for Autoregressive {
    fn name(&self) -> &'static str {
        "autoregressive"
    }

    fn observe(&mut self, observation: &Observation) {
        if self.period == 0 {
            self.period = intervals_in(self.params.period_hours, observation);
            self.window = intervals_in(self.params.window_days * 24.0, observation)
                .max(self.period)
                .max(self.p + 1);
        }
        let mut prices = std::mem::take(&mut self.prices);
        prices.retain(|site, _| observation.site(site).is_some());
        for site in &observation.sites {
            let s = prices
                .entry(site.id.clone())
                .or_insert_with(|| self.new_series());
            self.push_reading(s, site.price_usd_per_mwh);
        }
        self.prices = prices;
        let mut hashprice = self.hashprice.take().unwrap_or_else(|| self.new_series());
        self.push_reading(&mut hashprice, observation.market.hashprice_usd_per_th_day);
        self.hashprice = Some(hashprice);
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        out.retain_sites(|site| self.prices.contains_key(site));
        for (site, s) in &self.prices {
            self.forecast_series(s, steps, out.price_mut(site));
        }
        if let Some(s) = &self.hashprice {
            self.forecast_series(s, steps, &mut out.hashprice_usd_per_th_day);
        } else {
            out.hashprice_usd_per_th_day.clear();
            out.hashprice_usd_per_th_day.resize(steps, 0.0);
        }
    }
}
