//! Committed facility power, the quantity the power cap is kept on: every
//! device at the most its state may draw (devices still winding down
//! included), times the site's PUE. [`apply`](super::apply) clips every
//! increase to the headroom this leaves; `track_committed` records the
//! highest committed power of each interval, which the interval records
//! and `RunResult::max_committed_share` report.

use super::asic_cohort::AsicCohort;
use super::gpu_pool::GpuPool;
use super::model::TwinModel;
use super::result::TwinSink;

impl<S: TwinSink + 'static> TwinModel<S> {
    /// Records the highest committed facility power per site; called after
    /// every change of settings.
    pub(crate) fn track_committed(&mut self) {
        for site in 0..self.sites.len() {
            let w = self.committed_facility_w(site);
            if w > self.committed_max_w[site] {
                self.committed_max_w[site] = w;
            }
            let share = w / self.sites[site].cap_w;
            if share > self.figures.max_committed_share {
                self.figures.max_committed_share = share;
            }
            self.signals[site].headroom_share = (1.0 - share).max(0.0);
        }
        self.jobs.placement.stale = true;
    }

    /// Committed facility power of a site, W.
    pub(crate) fn committed_facility_w(&self, site: usize) -> f64 {
        let it: f64 = self
            .cohorts
            .iter()
            .filter(|c| c.site == site)
            .map(AsicCohort::committed_w)
            .sum::<f64>()
            + self
                .pools
                .iter()
                .filter(|p| p.site == site)
                .map(GpuPool::committed_w)
                .sum::<f64>();
        it * self.sites[site].pue
    }

    /// Headroom of a site, facility W.
    pub(crate) fn headroom_w(&self, site: usize) -> f64 {
        (self.sites[site].cap_w - self.committed_facility_w(site)).max(0.0)
    }
}
