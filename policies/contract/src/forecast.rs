//! The [`Forecaster`] seam: the only way a policy sees ahead.
//!
//! A forecaster learns from the observations it is shown, one per market
//! interval, in order — never from the tape — so no policy can peek at the
//! future it is scored on. The scenario names the forecaster; the
//! [`DecisionLoop`](crate::DecisionLoop) feeds it and writes its forecast
//! into [`Observation::forecast`] when the policy subscribes to one.
//! [`Persistence`] (tomorrow looks like now) is the trivial one; richer
//! forecasters live with the policies. Series are keyed by site id, so a
//! site that comes or goes never shifts another's history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::SiteId;
use crate::observation::Observation;

/// Values ahead, one per market interval, starting with the next.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forecast {
    /// Spot price by site, USD/MWh.
    pub price_usd_per_mwh: BTreeMap<SiteId, Vec<f64>>,
    /// Hashprice, USD per TH/s per day.
    pub hashprice_usd_per_th_day: Vec<f64>,
}

impl Forecast {
    /// The price series of `site` ahead (empty if none).
    pub fn price(&self, site: &SiteId) -> &[f64] {
        self.price_usd_per_mwh.get(site).map_or(&[], Vec::as_slice)
    }

    /// The buffer for `site`'s prices, cleared (kept between forecasts).
    pub fn price_mut(&mut self, site: &SiteId) -> &mut Vec<f64> {
        let series = self.price_usd_per_mwh.entry(site.clone()).or_default();
        series.clear();
        series
    }

    /// Drops the series of sites `keep` says are gone.
    pub fn retain_sites(&mut self, mut keep: impl FnMut(&SiteId) -> bool) {
        self.price_usd_per_mwh.retain(|site, _| keep(site));
    }
}

/// Forecasts prices from past observations only.
pub trait Forecaster: Send {
    /// Stable name as the scenario writes it.
    fn name(&self) -> &str;

    /// Learns from the observation of the interval that just started. A
    /// value the observation says is unknown teaches nothing new.
    fn observe(&mut self, observation: &Observation);

    /// Writes `steps` values ahead into `out` (its vectors are reused).
    fn forecast(&self, steps: usize, out: &mut Forecast);
}

/// Every future interval equals the last value seen (the last known one
/// when a reading is unknown).
#[derive(Debug, Clone, Default)]
pub struct Persistence {
    prices: BTreeMap<SiteId, f64>,
    hashprice: f64,
}

impl Forecaster for Persistence {
    fn name(&self) -> &'static str {
        "persistence"
    }

    fn observe(&mut self, observation: &Observation) {
        self.prices
            .retain(|site, _| observation.site(site).is_some());
        for site in &observation.sites {
            if let Some(price) = site.price_usd_per_mwh {
                self.prices.insert(site.id.clone(), price);
            }
        }
        if let Some(hashprice) = observation.market.hashprice_usd_per_th_day {
            self.hashprice = hashprice;
        }
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        out.retain_sites(|site| self.prices.contains_key(site));
        for (site, &price) in &self.prices {
            out.price_mut(site).resize(steps, price);
        }
        out.hashprice_usd_per_th_day.clear();
        out.hashprice_usd_per_th_day.resize(steps, self.hashprice);
    }
}
