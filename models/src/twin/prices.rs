//! Where the twin reads the world's prices: the open interval's spot price
//! at a site's node and the hashprice, from the replication's tape. The
//! books, the observation and the decision all read them here.

use super::model::TwinModel;
use super::result::TwinSink;

impl<S: TwinSink + 'static> TwinModel<S> {
    /// Index of the open interval, for tape lookups.
    pub(crate) fn i(&self) -> usize {
        self.interval as usize
    }

    pub(crate) fn price(&self, site: usize) -> f64 {
        let series = &self.tape.grid.prices[self.sites[site].price_series].price;
        series.values().get(self.i()).copied().unwrap_or(0.0)
    }

    pub(crate) fn hashprice(&self) -> f64 {
        let series = &self.tape.market.hashprice_usd_per_th_day;
        series.values().get(self.i()).copied().unwrap_or(0.0)
    }
}
