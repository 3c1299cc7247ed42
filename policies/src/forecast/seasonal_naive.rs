//! [`SeasonalNaive`]: each future interval equals the same interval one
//! period back (a day by default), from a ring buffer of the observed
//! prices per site and of the hashprice. Until a whole period has been
//! seen it forecasts persistence (the last value). Units are those of the
//! observation: USD/MWh for prices, USD per TH/s per day for hashprice.

use std::collections::BTreeMap;

use hcp_contract::{Forecast, Forecaster, Observation, SiteId};
use serde::{Deserialize, Serialize};

use super::intervals_in;

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

/// One series' ring of the last period's values.
#[derive(Debug, Clone, Default)]
struct Ring {
    values: Vec<f64>,
    /// Values pushed so far.
    seen: usize,
}

impl Ring {
    /// Pushes the value of the interval that started (the last one again
    /// when it is unknown).
    fn push(&mut self, period: usize, value: Option<f64>) {
        if self.values.len() != period {
            self.values = vec![0.0; period];
        }
        let last = self.seen.checked_sub(1).map(|t| self.values[t % period]);
        let value = value.or(last).unwrap_or(0.0);
        self.values[self.seen % period] = value;
        self.seen += 1;
    }

    /// `steps` values ahead.
    fn forecast(&self, period: usize, steps: usize, out: &mut Vec<f64>) {
        out.clear();
        let full = self.seen >= period && period > 0;
        let last = self.seen.saturating_sub(1);
        out.extend((1..=steps).map(|k| {
            if self.values.is_empty() || self.seen == 0 {
                0.0
            } else if full {
                // Interval last + k repeats last + k − period, which the
                // ring holds at (last + k) mod period.
                self.values[(last + k) % period]
            } else {
                self.values[last % period]
            }
        }));
    }
}

/// Each interval ahead equals the same interval one period back.
#[derive(Debug, Clone)]
pub struct SeasonalNaive {
    params: SeasonalNaiveParams,
    period: usize,
    prices: BTreeMap<SiteId, Ring>,
    hashprice: Ring,
}

impl SeasonalNaive {
    /// The forecaster with `params`.
    pub fn new(params: SeasonalNaiveParams) -> Self {
        SeasonalNaive {
            params,
            period: 0,
            prices: BTreeMap::new(),
            hashprice: Ring::default(),
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
        self.prices
            .retain(|site, _| observation.site(site).is_some());
        for site in &observation.sites {
            self.prices
                .entry(site.id.clone())
                .or_default()
                .push(self.period, site.price_usd_per_mwh);
        }
        self.hashprice
            .push(self.period, observation.market.hashprice_usd_per_th_day);
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        out.retain_sites(|site| self.prices.contains_key(site));
        for (site, ring) in &self.prices {
            ring.forecast(self.period, steps, out.price_mut(site));
        }
        self.hashprice
            .forecast(self.period, steps, &mut out.hashprice_usd_per_th_day);
    }
}
