//! The [`Forecaster`] seam: the only way a policy sees ahead.
//!
//! A forecaster learns from the observations it is shown, one per market
//! interval, in order — never from the tape — so no policy can peek at the
//! future it is scored on. The scenario names the forecaster; the twin
//! feeds it and writes its forecast into [`Observation::forecast`] when the
//! policy subscribes to one. [`Persistence`] (tomorrow looks like now) is
//! the trivial one; richer forecasters live with the policies.

use serde::Serialize;

use super::observation::Observation;

/// Values ahead, one per market interval, starting with the next.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Forecast {
    /// Spot price per site (in `sites` order), USD/MWh.
    pub price_usd_per_mwh: Vec<Vec<f64>>,
    /// Hashprice, USD per TH/s per day.
    pub hashprice_usd_per_th_day: Vec<f64>,
}

/// Forecasts prices from past observations only.
pub trait Forecaster: Send {
    /// Stable name as the scenario writes it.
    fn name(&self) -> &str;

    /// Learns from the observation of the interval that just started.
    fn observe(&mut self, observation: &Observation);

    /// Writes `steps` values ahead into `out` (its vectors are reused).
    fn forecast(&self, steps: usize, out: &mut Forecast);
}

/// Every future interval equals the last one seen.
#[derive(Debug, Clone, Default)]
pub struct Persistence {
    prices: Vec<f64>,
    hashprice: f64,
}

impl Forecaster for Persistence {
    fn name(&self) -> &'static str {
        "persistence"
    }

    fn observe(&mut self, observation: &Observation) {
        self.prices.clear();
        self.prices
            .extend(observation.sites.iter().map(|s| s.price_usd_per_mwh));
        self.hashprice = observation.market.hashprice_usd_per_th_day;
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        out.price_usd_per_mwh
            .resize_with(self.prices.len(), Vec::new);
        for (series, &price) in out.price_usd_per_mwh.iter_mut().zip(&self.prices) {
            series.clear();
            series.resize(steps, price);
        }
        out.hashprice_usd_per_th_day.clear();
        out.hashprice_usd_per_th_day.resize(steps, self.hashprice);
    }
}
