//! Building the [`Observation`] a policy sees: created once with the
//! run's fixed parts (ids, specs) through the contract's constructors, and
//! refreshed in place at each epoch.
//!
//! Ids come from the scenario's names: a site by its name, a cohort by
//! site, model and firmware, a pool by site and GPU model. Two fleets of a
//! site with the same name get `#2`, `#3`, … after the first, so every id
//! names one record. [`Ids`] maps them back to the twin's positions when
//! actions come in.

use std::collections::BTreeMap;

use hcp_contract::{
    AsicCohortSpec, AsicCohortView, CohortId, GpuPoolView, GridNotice, MarketView, Observation,
    P1ModelView, PerJobClass, PoolId, QueueView, SiteId, SiteView, SlaView,
};
use hcp_engine::time::SimTime;

use super::model::TwinModel;
use super::result::TwinSink;

/// The twin's positions of every id an action may name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    pub(crate) sites: BTreeMap<SiteId, usize>,
    pub(crate) cohorts: BTreeMap<CohortId, usize>,
    pub(crate) pools: BTreeMap<PoolId, usize>,
    pub(crate) services: BTreeMap<String, usize>,
}

impl Ids {
    /// Indexes the observation's views (in the twin's order).
    fn of(o: &Observation, services: &[String]) -> Ids {
        Ids {
            sites: o
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), i))
                .collect(),
            cohorts: o
                .asic_cohorts
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.clone(), i))
                .collect(),
            pools: o
                .gpu_pools
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.clone(), i))
                .collect(),
            services: services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i))
                .collect(),
        }
    }
}

/// `id`, or `id#2`, `id#3`, … if taken.
fn unique<T: Ord + Clone + From<String> + std::fmt::Display>(
    id: &T,
    taken: &mut std::collections::BTreeSet<T>,
) -> T {
    let mut candidate = id.clone();
    let mut k = 1;
    while taken.contains(&candidate) {
        k += 1;
        candidate = T::from(format!("{id}#{k}"));
    }
    taken.insert(candidate.clone());
    candidate
}

impl<S: TwinSink + 'static> TwinModel<S> {
    /// The observation's fixed parts and the id index; values are filled
    /// by [`refresh_observation`](Self::refresh_observation).
    pub(crate) fn initial_observation(&self) -> (Observation, Ids) {
        let site_ids: Vec<SiteId> = self
            .sites
            .iter()
            .map(|s| SiteId::from(s.name.as_str()))
            .collect();
        let mut market = MarketView {
            pool_fee: self.config.pool_fee,
            ..MarketView::default()
        };
        for g in &self.tape.market.gpu_rental {
            market
                .gpu_rental_usd_per_gpu_hour
                .insert(g.model.clone(), 0.0);
        }
        let services: Vec<String> = self
            .tape
            .grid
            .ancillary
            .iter()
            .map(|a| a.service.clone())
            .collect();
        for service in &services {
            market.ancillary_services.insert(service.clone(), 0.0);
        }
        let mut o = Observation::empty(self.tape.horizon.epoch.start());
        o.interval_s = self.step.as_secs_f64();
        o.market = market;
        o.sites = self
            .sites
            .iter()
            .zip(&site_ids)
            .map(|(s, id)| {
                SiteView::new(
                    id.clone(),
                    s.node.clone(),
                    s.cap_w / 1e6,
                    s.pue,
                    s.grid_events,
                )
            })
            .collect();
        let mut taken = std::collections::BTreeSet::new();
        o.asic_cohorts = self
            .cohorts
            .iter()
            .map(|c| {
                let mut view = AsicCohortView::new(
                    AsicCohortSpec {
                        site: site_ids[c.site].clone(),
                        model: c.spec.name.clone(),
                        firmware: c.firmware.name.clone(),
                        curve: c.spec.curve(),
                        installed: c.installed,
                        supports_power_target: c.firmware.supports_power_target,
                        standby_w: c.firmware.standby_w,
                    },
                    c.target_w,
                );
                view.id = unique(&view.id, &mut taken);
                view
            })
            .collect();
        let mut taken = std::collections::BTreeSet::new();
        o.gpu_pools = self
            .pools
            .iter()
            .map(|p| {
                let mut view = GpuPoolView::new(
                    site_ids[p.site].clone(),
                    p.spec.name.clone(),
                    p.installed,
                    p.spec.max_power_per_gpu_w(),
                    p.spec.job_speed,
                    p.prewarmed,
                );
                view.id = unique(&view.id, &mut taken);
                view.allocation = p.target;
                view.rental_market = p
                    .rental_series
                    .map(|k| self.tape.market.gpu_rental[k].model.clone());
                view
            })
            .collect();
        o.queues = PerJobClass::splat(QueueView::default());
        o.p1 = self
            .p1
            .iter()
            .map(|g| P1ModelView {
                model: g.model.clone(),
                rate_per_s: 0.0,
                gpus_needed: 0.0,
                p99_wait_ms: Some(0.0),
            })
            .collect();
        o.sla = SlaView::default();
        let ids = Ids::of(&o, &services);
        (o, ids)
    }

    /// Refreshes every value of the observation for `now`.
    pub(crate) fn refresh_observation(&mut self, now: SimTime) {
        let i = self.interval as usize;
        // Sites first, one at a time: no buffer allocated per epoch.
        for site in 0..self.sites.len() {
            let committed_mw = self.committed_facility_w(site) / 1e6;
            let price = self.price(site);
            let view = &mut self.observation.sites[site];
            view.price_usd_per_mwh = Some(price);
            view.set_committed(committed_mw);
            view.last_power_mw = self.last_mw[site];
        }
        let hashprice = self.hashprice();
        let tape = &self.tape;
        let o = &mut self.observation;
        o.time = now;
        if let Ok(utc) = tape.horizon.epoch.to_utc(now) {
            o.utc = utc;
        }
        o.interval = self.interval;
        let at =
            |series: &crate::series::RegularSeries| series.values().get(i).copied().unwrap_or(0.0);
        o.market.btc_usd = Some(at(&tape.market.btc_usd));
        o.market.hashprice_usd_per_th_day = Some(hashprice);
        o.market.network_hashrate_ehs = Some(at(&tape.market.network_hashrate_ehs));
        for g in &tape.market.gpu_rental {
            if let Some(price) = o.market.gpu_rental_usd_per_gpu_hour.get_mut(&g.model) {
                *price = at(&g.usd_per_gpu_hour);
            }
        }
        for a in &tape.grid.ancillary {
            if let Some(price) = o.market.ancillary_services.get_mut(&a.service) {
                *price = at(&a.price);
            }
        }
        o.market.gpu_usd_per_gpu_hour = self.figures.gpu_value.view();
        // Notices keep their entry from one refresh to the next (only the
        // MW committed change): nothing is allocated while one stands.
        let notices = &self.notices;
        o.grid_notices
            .retain(|n| notices.iter().any(|m| m.event as u32 == n.id));
        for notice in notices {
            let id = notice.event as u32;
            if let Some(view) = o.grid_notices.iter_mut().find(|n| n.id == id) {
                for (site, &mw) in o.sites.iter().zip(&notice.committed_mw) {
                    if let Some(committed) = view.committed_mw.get_mut(&site.id) {
                        *committed = mw;
                    }
                }
                continue;
            }
            let event = &tape.grid.events[notice.event];
            o.grid_notices.push(GridNotice {
                id,
                kind: event.kind,
                start: event.start,
                end: event.end(),
                payment: event.payment,
                committed_mw: o
                    .sites
                    .iter()
                    .zip(&notice.committed_mw)
                    .map(|(s, &mw)| (s.id.clone(), mw))
                    .collect(),
            });
        }
        for (view, c) in o.asic_cohorts.iter_mut().zip(&self.cohorts) {
            view.failed = c.failed;
            view.on = c.on;
            view.curtailing = c.curtailing;
            view.set_target(c.target_w);
        }
        for (view, p) in o.gpu_pools.iter_mut().zip(&self.pools) {
            view.failed = p.failed;
            view.allocation = p.target;
            view.switching = p.switching();
            for ((_, b), &m) in view.busy.iter_mut().zip(&p.busy_milli) {
                *b = m as f64 / 1000.0;
            }
        }
        let sla = &self.figures.sla_month;
        o.sla.p1_pct = SlaView::attainment_pct(sla.p1.0, sla.p1.1);
        o.sla.p2_pct = SlaView::attainment_pct(sla.p2.0, sla.p2.1);
        self.refresh_queues(now);
    }

    /// Refreshes the job queues' views alone (what a queue-threshold
    /// subscription is judged on).
    pub(crate) fn refresh_queues(&mut self, now: SimTime) {
        let o = &mut self.observation;
        for ((class, view), queue) in o.queues.iter_mut().zip(&self.jobs.queues) {
            let slot = super::jobs::class_slot(class);
            view.jobs = queue.len() as u32;
            view.gpus = self.jobs.queued_milli[slot] as f64 / 1000.0;
            view.work_gpu_hours = self.jobs.queued_work[slot] / 3600.0;
            // The head is the oldest job (preempted jobs rejoin at the head).
            view.oldest_wait_s = queue.front().map_or(0.0, |j| {
                now.as_micros().saturating_sub(j.arrival.as_micros()) as f64 / 1e6
            });
            view.admitting = self.jobs.admitting[slot];
        }
    }
}
