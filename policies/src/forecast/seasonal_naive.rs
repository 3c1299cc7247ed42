//! [`SeasonalNaive`]: each future interval equals the same interval one
//! period back (a day by default), from a ring buffer of the observed
//! prices per site and of the hashprice. Until a whole period has been
//! seen it forecasts persistence (the last value). Units are those of the
//! observation: USD/MWh for prices, USD per TH/s per day for hashprice.

use hcp_models::contract::{Forecast, Forecaster, Observation};
use serde::{Deserialize, Serialize};

use super::{intervals_in, observed_values};

/// Parameters of [`SeasonalNaive`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SeasonalNaiveParams {
    /// The season, hours (24: tomorrow repeats today).
    pub period_hours: f64,
}

impl Default for SeasonalNaiveParams {
    /// One day.
    fn default() -> Self {
        SeasonalNaiveParams { period_hours: 24.0 }
    }
}

/// Repeats the last period.
#[derive(Debug, Clone)]
pub struct SeasonalNaive {
    params: SeasonalNaiveParams,
    /// Intervals per period (0 until the first observation).
    period: usize,
    /// Observations seen.
    seen: usize,
    /// One ring of `period` values per series (sites, then hashprice).
    rings: Vec<Vec<f64>>,
}

impl SeasonalNaive {
    /// The forecaster with `params`.
    pub fn new(params: SeasonalNaiveParams) -> Self {
        SeasonalNaive {
            params,
            period: 0,
            seen: 0,
            rings: Vec::new(),
        }
    }
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal-naive"
    }

    fn observe(&mut self, observation: &Observation) {
        if self.period == 0 {
            self.period = intervals_in(self.params.period_hours, observation);
        }
        let n = observation.sites.len() + 1;
        if self.rings.len() != n {
            self.rings = vec![vec![0.0; self.period]; n];
        }
        let slot = self.seen % self.period;
        for (ring, value) in self.rings.iter_mut().zip(observed_values(observation)) {
            ring[slot] = value;
        }
        self.seen += 1;
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        let sites = self.rings.len().saturating_sub(1);
        out.price_usd_per_mwh.resize_with(sites, Vec::new);
        let full = self.seen >= self.period && self.period > 0;
        let last = self.seen.saturating_sub(1);
        let value = |ring: &[f64], k: usize| -> f64 {
            if ring.is_empty() || self.seen == 0 {
                0.0
            } else if full {
                // Interval last + k repeats last + k − period, which the
                // ring holds at (last + k) mod period.
                ring[(last + k) % self.period]
            } else {
                ring[last % self.period]
            }
        };
        for (series, ring) in out.price_usd_per_mwh.iter_mut().zip(&self.rings) {
            series.clear();
            series.extend((1..=steps).map(|k| value(ring, k)));
        }
        out.hashprice_usd_per_th_day.clear();
        if let Some(ring) = self.rings.last() {
            out.hashprice_usd_per_th_day
                .extend((1..=steps).map(|k| value(ring, k)));
        } else {
            out.hashprice_usd_per_th_day.resize(steps, 0.0);
        }
    }
}
