//! Grid events: a notice opens a window the policy may commit load to
//! (demand response), and each interval's close settles what the sites
//! delivered against their commitments, 4CP peaks and ancillary offers.

use hcp_contract::Occasion;
use hcp_engine::simulation::Scheduler;
use hcp_engine::time::SimTime;

use super::model::{Notice, TwinEvent, TwinModel};
use super::result::TwinSink;
use crate::grid::GridEventKind;
use crate::ledger::Stream;

impl<S: TwinSink + 'static> TwinModel<S> {
    /// Grid payments for the interval that ends at `now`, and notices that
    /// are over.
    pub(crate) fn settle_grid(&mut self, now: SimTime, hours: f64) {
        let start = SimTime::from_micros(now.as_micros() - self.step.as_micros());
        let mut dr_usd = 0.0;
        for notice in &self.notices {
            let event = &self.tape.grid.events[notice.event];
            let overlap_us = event
                .end()
                .as_micros()
                .min(now.as_micros())
                .saturating_sub(event.start.as_micros().max(start.as_micros()));
            let overlap_h = overlap_us as f64 / 3.6e9;
            for site in 0..self.sites.len() {
                let committed = notice.committed_mw[site];
                if committed <= 0.0 {
                    continue;
                }
                let delivered =
                    (notice.baseline_mw[site] - self.last_mw[site]).clamp(0.0, committed);
                if overlap_h > 0.0 {
                    dr_usd += event.payment.standby_per_mw_h * committed * overlap_h
                        + event.payment.per_mwh * delivered * overlap_h;
                }
                if event.kind == GridEventKind::FourCp
                    && let Some(peak) = event.realised_peak
                    && peak >= start
                    && peak < now
                {
                    // One of four coincident peaks sets a quarter of the
                    // year's transmission charge.
                    dr_usd += event.payment.per_kw_year * 1000.0 * delivered / 4.0;
                }
            }
        }
        if dr_usd != 0.0 {
            self.ledger.post(Stream::DemandResponse, dr_usd);
        }
        let events = &self.tape.grid.events;
        self.notices.retain(|n| events[n.event].end() > now);
        // Offers are paid on the fast load the site actually ran over the
        // interval: an offer larger than that is paid pro rata.
        let mut ancillary_usd = 0.0;
        for (offers, &fast_mw) in self.ancillary_mw.iter().zip(&self.fast_mw) {
            let offered: f64 = offers.iter().sum();
            let paid = if offered > fast_mw {
                fast_mw / offered
            } else {
                1.0
            };
            for (k, &mw) in offers.iter().enumerate() {
                if mw > 0.0 {
                    let price = self.tape.grid.ancillary[k]
                        .price
                        .values()
                        .get(self.i())
                        .copied()
                        .unwrap_or(0.0);
                    ancillary_usd += mw * paid * price * hours;
                }
            }
        }
        if ancillary_usd != 0.0 {
            self.ledger.post(Stream::Ancillary, ancillary_usd);
        }
    }

    pub(crate) fn on_notice(&mut self, event: usize, s: &mut Scheduler<TwinEvent>) {
        let n = self.sites.len();
        let eligible = (0..n).any(|site| self.sites[site].grid_events);
        if !eligible {
            return;
        }
        self.notices.push(Notice {
            event,
            committed_mw: vec![0.0; n],
            baseline_mw: self.last_mw.clone(),
        });
        let occasion = Occasion::GridNotice {
            event: event as u32,
        };
        self.refresh_observation(s.now());
        if let Some(trigger) = self.decisions.due(occasion, &self.observation) {
            self.decide(trigger, s);
        }
    }
}
