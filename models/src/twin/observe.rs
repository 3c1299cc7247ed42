//! Building the [`Observation`] a policy sees: created once with the
//! run's fixed parts (names, specs) and refreshed in place at each epoch.

use hcp_engine::time::SimTime;

use super::model::TwinModel;
use super::result::TwinSink;
use crate::contract::{
    AsicCohortView, GpuPoolView, GridNotice, MarketView, Observation, P1ModelView, QueueView,
    SiteView, SlaView, Trigger,
};
use crate::demand::WorkloadClass;

const JOB_CLASSES: [WorkloadClass; 3] = [WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4];

impl<S: TwinSink + 'static> TwinModel<S> {
    /// The observation's fixed parts; values are filled by
    /// [`refresh_observation`](Self::refresh_observation).
    // One struct literal naming every field of every view.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn initial_observation(&self) -> Observation {
        Observation {
            time: SimTime::ZERO,
            utc: self.tape.horizon.epoch.start(),
            interval: 0,
            interval_s: self.step.as_secs_f64(),
            trigger: Trigger::Interval,
            market: MarketView {
                btc_usd: 0.0,
                hashprice_usd_per_th_day: 0.0,
                network_hashrate_ehs: 0.0,
                gpu_rental_usd_per_gpu_hour: self
                    .tape
                    .market
                    .gpu_rental
                    .iter()
                    .map(|g| (g.model.clone(), 0.0))
                    .collect(),
                ancillary_services: self
                    .tape
                    .grid
                    .ancillary
                    .iter()
                    .map(|a| (a.service.clone(), 0.0))
                    .collect(),
                pool_fee: self.config.pool_fee,
                gpu_usd_per_gpu_hour: [0.0; 5],
            },
            sites: self
                .sites
                .iter()
                .map(|s| SiteView {
                    name: s.name.clone(),
                    node: s.node.clone(),
                    price_usd_per_mwh: 0.0,
                    cap_mw: s.cap_w / 1e6,
                    pue: s.pue,
                    committed_mw: 0.0,
                    headroom_mw: 0.0,
                    last_power_mw: 0.0,
                    grid_events: s.grid_events,
                })
                .collect(),
            grid_notices: Vec::new(),
            asic_cohorts: self
                .cohorts
                .iter()
                .map(|c| AsicCohortView {
                    site: c.site,
                    spec: c.spec.clone(),
                    firmware: c.firmware.name.clone(),
                    installed: c.installed,
                    failed: 0,
                    on: 0,
                    curtailing: 0,
                    power_target_w: c.target_w,
                    power_range_w: if c.firmware.supports_power_target {
                        (c.spec.min_power_w, c.spec.max_power_w)
                    } else {
                        (c.spec.power_w, c.spec.power_w)
                    },
                    supports_power_target: c.firmware.supports_power_target,
                    hashrate_th: c.hashrate_th,
                    efficiency_j_per_th: c.target_w / c.hashrate_th,
                    standby_w: c.firmware.standby_w,
                })
                .collect(),
            gpu_pools: self
                .pools
                .iter()
                .map(|p| GpuPoolView {
                    site: p.site,
                    gpu: p.spec.name.clone(),
                    installed: p.installed,
                    failed: 0,
                    allocation: p.target,
                    switching: 0,
                    busy: [0.0; 3],
                    max_power_per_gpu_w: p.spec.max_power_per_gpu_w(),
                    job_speed: p.spec.job_speed,
                    prewarmed: p.prewarmed,
                    rental_price: p.rental_series,
                })
                .collect(),
            queues: JOB_CLASSES
                .iter()
                .map(|&class| QueueView {
                    class,
                    jobs: 0,
                    gpus: 0.0,
                    work_gpu_hours: 0.0,
                    oldest_wait_s: 0.0,
                    admitting: true,
                })
                .collect(),
            p1: self
                .p1
                .iter()
                .map(|g| P1ModelView {
                    model: g.model.clone(),
                    rate_per_s: 0.0,
                    gpus_needed: 0.0,
                    p99_wait_ms: 0.0,
                })
                .collect(),
            sla: [WorkloadClass::P1, WorkloadClass::P2]
                .iter()
                .map(|&class| SlaView {
                    class,
                    attainment_pct: 100.0,
                })
                .collect(),
            forecast: None,
        }
    }

    /// Refreshes every value of the observation for `now`.
    pub(crate) fn refresh_observation(&mut self, now: SimTime, trigger: Trigger) {
        let i = self.interval as usize;
        // Sites first, one at a time: no buffer allocated per epoch.
        for site in 0..self.sites.len() {
            let committed_mw = self.committed_facility_w(site) / 1e6;
            let price = self.price(site);
            let view = &mut self.observation.sites[site];
            view.price_usd_per_mwh = price;
            view.committed_mw = committed_mw;
            view.headroom_mw = view.cap_mw - committed_mw;
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
        o.trigger = trigger;
        let at =
            |series: &crate::series::RegularSeries| series.values().get(i).copied().unwrap_or(0.0);
        o.market.btc_usd = at(&tape.market.btc_usd);
        o.market.hashprice_usd_per_th_day = hashprice;
        o.market.network_hashrate_ehs = at(&tape.market.network_hashrate_ehs);
        for (view, g) in o
            .market
            .gpu_rental_usd_per_gpu_hour
            .iter_mut()
            .zip(&tape.market.gpu_rental)
        {
            view.1 = at(&g.usd_per_gpu_hour);
        }
        for (view, a) in o
            .market
            .ancillary_services
            .iter_mut()
            .zip(&tape.grid.ancillary)
        {
            view.1 = at(&a.price);
        }
        o.market.gpu_usd_per_gpu_hour = self.figures.gpu_value.usd_per_gpu_hour();
        o.grid_notices.clear();
        for notice in &self.notices {
            let event = &tape.grid.events[notice.event];
            o.grid_notices.push(GridNotice {
                id: notice.event as u32,
                kind: event.kind,
                start: event.start,
                end: event.end(),
                payment: event.payment,
                committed_mw: notice.committed_mw.clone(),
            });
        }
        for (view, c) in o.asic_cohorts.iter_mut().zip(&self.cohorts) {
            view.failed = c.failed;
            view.on = c.on;
            view.curtailing = c.curtailing;
            view.power_target_w = c.target_w;
            view.hashrate_th = c.hashrate_th;
            view.efficiency_j_per_th = c.target_w / c.hashrate_th.max(1e-9);
        }
        for (view, p) in o.gpu_pools.iter_mut().zip(&self.pools) {
            view.failed = p.failed;
            view.allocation = p.target;
            view.switching = p.switching();
            for (b, &m) in view.busy.iter_mut().zip(&p.busy_milli) {
                *b = m as f64 / 1000.0;
            }
        }
        for (slot, view) in o.queues.iter_mut().enumerate() {
            let queue = &self.jobs.queues[slot];
            view.jobs = queue.len() as u32;
            view.gpus = self.jobs.queued_milli[slot] as f64 / 1000.0;
            view.work_gpu_hours = self.jobs.queued_work[slot] / 3600.0;
            // The head is the oldest job (preempted jobs rejoin at the head).
            view.oldest_wait_s = queue.front().map_or(0.0, |j| {
                now.as_micros().saturating_sub(j.arrival.as_micros()) as f64 / 1e6
            });
            view.admitting = self.jobs.admitting[slot];
        }
        for (view, &(met, total)) in o.sla.iter_mut().zip(&self.figures.sla_month) {
            view.attainment_pct = if total > 0.0 {
                100.0 * met / total
            } else {
                100.0
            };
        }
    }
}
