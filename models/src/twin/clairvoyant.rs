//! [`Clairvoyant`]: a forecaster that reads the replication's tape, so its
//! forecast is the future the twin will play — a diagnostic yardstick,
//! never deployable. Played by `mpc`, it separates what a policy loses to
//! forecast error (mpc against clairvoyant mpc) from what it loses to its
//! structure and to the oracle's relaxations (clairvoyant mpc against the
//! oracle). It sees prices and hashprice only, as every forecaster does;
//! AI demand, grid events and failures stay unseen.

use std::sync::Arc;

use hcp_contract::{Forecast, Forecaster, Observation, SiteId};

use crate::world::WorldTape;

/// The true prices ahead, read from the tape.
pub struct Clairvoyant {
    tape: Arc<WorldTape>,
    /// The open interval of the last observation.
    interval: usize,
    /// (site, its price node) of the last observation.
    sites: Vec<(SiteId, String)>,
}

impl Clairvoyant {
    /// Stable name, as tables and logs write it.
    pub const NAME: &'static str = "clairvoyant";

    /// The forecaster of `tape`'s future.
    pub fn new(tape: Arc<WorldTape>) -> Self {
        Clairvoyant {
            tape,
            interval: 0,
            sites: Vec::new(),
        }
    }
}

/// `steps` values of `series` after `interval`, the last one repeated past
/// the end of the tape (where no interval will be played).
fn ahead(series: &[f64], interval: usize, steps: usize, out: &mut Vec<f64>) {
    out.clear();
    let last = series.last().copied().unwrap_or(0.0);
    out.extend((1..=steps).map(|k| series.get(interval + k).copied().unwrap_or(last)));
}

impl Forecaster for Clairvoyant {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn observe(&mut self, observation: &Observation) {
        self.interval = usize::try_from(observation.interval).unwrap_or(usize::MAX);
        self.sites.clear();
        self.sites.extend(
            observation
                .sites
                .iter()
                .map(|site| (site.id.clone(), site.node.clone())),
        );
    }

    fn forecast(&self, steps: usize, out: &mut Forecast) {
        out.retain_sites(|site| self.sites.iter().any(|(id, _)| id == site));
        for (site, node) in &self.sites {
            let series = self.tape.grid.price(node).map_or(&[][..], |s| s.values());
            ahead(series, self.interval, steps, out.price_mut(site));
        }
        let hashprice = self.tape.market.hashprice_usd_per_th_day.values();
        ahead(
            hashprice,
            self.interval,
            steps,
            &mut out.hashprice_usd_per_th_day,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::ahead;

    #[test]
    fn ahead_starts_after_the_open_interval_and_repeats_the_last_value() {
        let series = [10.0, 11.0, 12.0, 13.0];
        let mut out = Vec::new();
        ahead(&series, 1, 2, &mut out);
        assert_eq!(out, [12.0, 13.0]);
        ahead(&series, 2, 3, &mut out);
        assert_eq!(out, [13.0, 13.0, 13.0]);
        ahead(&[], 0, 2, &mut out);
        assert_eq!(out, [0.0, 0.0]);
    }
}
