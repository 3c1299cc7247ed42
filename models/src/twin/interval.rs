//! The market interval: closing the books of the interval that ends
//! (mining, P1 serving, rental, energy, grid payments) and opening the next
//! (prices, the policy's decision, P1 sizing, the interval's job arrivals).

use hcp_engine::queue::Rank;
use hcp_engine::simulation::Scheduler;
use hcp_engine::time::{SimDuration, SimTime};

use super::asic_cohort::AsicCohort;
use super::gpu_pool::{GpuPool, job_slot};
use super::jobs::{Stop, Stopped, class_slot};
use super::model::{Closing, Notice, TwinEvent, TwinModel};
use super::p1::meets;
use super::result::{IntervalRecord, TwinSink};
use super::timeline::JobEvent;
use crate::contract::{GpuUse, Trigger};
use crate::demand::{JobArrival, NO_CUSTOMER, WorkloadClass};
use crate::grid::GridEventKind;
use crate::ledger::{Stream, Usage};
use crate::plant::mining_revenue_usd;

impl<S: TwinSink + 'static> TwinModel<S> {
    pub(crate) fn on_interval(&mut self, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        if now > SimTime::ZERO {
            self.close_interval(now);
            self.interval += 1;
        }
        while self.month < self.months.month(now) {
            self.ledger.close_month(self.month);
            self.month += 1;
            self.figures.sla_month = [(0.0, 0.0); 2];
        }
        if self.interval >= self.intervals {
            s.stop();
            return;
        }
        self.open_interval(s);
        s.schedule_in(self.step, TwinEvent::Interval);
    }

    /// Index of the open interval, for tape lookups.
    fn i(&self) -> usize {
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

    fn open_interval(&mut self, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        let jobs = &self.jobs;
        self.timeline.open(self.i(), |c| jobs.completes(c));
        for site in 0..self.sites.len() {
            self.committed_max_w[site] = 0.0;
            self.signals[site].price_usd_per_mwh = self.price(site);
        }
        self.refresh_observation(now, Trigger::Interval);
        self.forecaster.observe(&self.observation);
        let step_minutes = (self.step.as_micros() / 60_000_000).max(1);
        let every = (u64::from(self.subscriptions.every_minutes) / step_minutes).max(1);
        let spike = self
            .subscriptions
            .price_spike_usd_per_mwh
            .and_then(|level| (0..self.sites.len()).find(|&site| self.price(site) >= level));
        if self.interval.is_multiple_of(every) {
            self.decide(Trigger::Interval, s);
        } else if let Some(site) = spike {
            self.decide(Trigger::PriceSpike { site }, s);
        }
        self.size_p1(s);
        self.job_source
            .next_interval(&self.tape, &mut self.timeline.arrivals);
        self.track_committed();
    }

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

    /// Sets the P1 GPUs' utilisation for the interval and, when allowed,
    /// grows P1 from idle, then P4, then P3 GPUs to meet its demand.
    fn size_p1(&mut self, s: &mut Scheduler<TwinEvent>) {
        let i = self.i();
        let beta = self.config.router.p1_staffing_beta;
        let tape = &self.tape;
        self.p1_rates.clear();
        self.p1_rates
            .extend(self.p1.iter().map(|g| g.rate(tape, i)));
        let need: f64 = self
            .p1
            .iter()
            .zip(&self.p1_rates)
            .map(|(g, &rate)| g.gpus_needed(rate, beta))
            .sum();
        let busy: f64 = self
            .p1
            .iter()
            .zip(&self.p1_rates)
            .map(|(g, &rate)| g.gpus_busy(rate))
            .sum();
        let capacity = |pools: &[GpuPool]| -> f64 {
            pools
                .iter()
                .map(|p| f64::from(p.target.p1) * p.spec.job_speed)
                .sum()
        };
        if self.config.router.p1_preempts {
            for p in 0..self.pools.len() {
                let short = need - capacity(&self.pools);
                if short <= 0.0 {
                    break;
                }
                let speed = self.pools[p].spec.job_speed;
                let mut want = (short / speed).ceil() as u32;
                for from in [GpuUse::Idle, GpuUse::P4, GpuUse::P3] {
                    let moved = want.min(self.pools[p].target.get(from));
                    if moved > 0 {
                        self.move_gpus(p, from, GpuUse::P1, moved, s);
                        want -= moved;
                    }
                }
            }
        }
        let gpus = capacity(&self.pools);
        let utilisation = if gpus > 0.0 {
            (busy / gpus).min(1.0)
        } else {
            0.0
        };
        let now = s.now();
        for pool in &mut self.pools {
            pool.p1_utilisation = utilisation;
            pool.refresh(now);
        }
    }

    fn close_interval(&mut self, now: SimTime) {
        let i = self.i();
        let dt = self.step.as_secs_f64();
        let hours = dt / 3600.0;
        let hashprice = self.hashprice();
        let btc_usd = self
            .tape
            .market
            .btc_usd
            .values()
            .get(i)
            .copied()
            .unwrap_or(0.0);
        let n = self.sites.len();
        let mut sums = std::mem::take(&mut self.closing);
        for v in [&mut sums.asic_ws, &mut sums.mining, &mut sums.hash] {
            v.clear();
            v.resize(n, 0.0);
        }
        let Closing {
            asic_ws,
            mining,
            hash,
            ..
        } = &mut sums;
        // Fast (ancillary-qualified) ASIC energy, W·s, turned into MW below.
        self.fast_mw.fill(0.0);
        for cohort in &mut self.cohorts {
            let ths = cohort.hash.take(now);
            let usd = mining_revenue_usd(ths, 1.0, hashprice, self.config.pool_fee);
            if btc_usd > 0.0 {
                self.ledger.mined(usd / btc_usd, usd);
            }
            mining[cohort.site] += usd;
            hash[cohort.site] += ths;
            let ws = cohort.power.take(now);
            asic_ws[cohort.site] += ws;
            if cohort.firmware.sheds_for_ancillary() {
                self.fast_mw[cohort.site] += ws;
            }
            self.figures.hash_ths += ths;
            self.figures.stock_hash_ths +=
                f64::from(cohort.installed) * cohort.spec.hashrate_th * dt;
        }
        let (p1_gpus, gpu_hours, rental_usd) = self.close_gpus(now, i, &mut sums.gpu_ws);
        let Closing {
            asic_ws,
            mining,
            hash,
            gpu_ws,
        } = &sums;
        if rental_usd != 0.0 {
            self.ledger.post(Stream::GpuRental, rental_usd);
        }
        self.figures.interval_usd[4] += rental_usd;
        self.serve_p1(i, p1_gpus, dt);
        let keep = (-dt / 86_400.0).exp();
        let usd = std::mem::take(&mut self.figures.interval_usd);
        self.figures.gpu_value.record(keep, &usd, &gpu_hours);
        for site in 0..n {
            let pue = self.sites[site].pue;
            let it_ws = asic_ws[site] + gpu_ws[site].iter().sum::<f64>();
            let mwh = it_ws * pue / 3.6e9;
            let price = self.price(site);
            let energy_usd = price * mwh;
            self.ledger.energy(site, mwh, energy_usd);
            let facility_mw = mwh / hours;
            self.last_mw[site] = facility_mw;
            self.fast_mw[site] = self.fast_mw[site] * pue / dt / 1e6;
            if facility_mw > self.sites[site].cap_w / 1e6 * (1.0 + 1e-9) {
                self.figures.cap_violations += 1;
            }
            let mut gpu_mw = [0.0; 7];
            for (mw, ws) in gpu_mw.iter_mut().zip(gpu_ws[site]) {
                *mw = ws / dt / 1e6;
            }
            self.sink.interval(&IntervalRecord {
                interval: self.interval,
                site,
                price_usd_per_mwh: price,
                hashprice_usd_per_th_day: hashprice,
                facility_mw,
                asic_mw: asic_ws[site] / dt / 1e6,
                gpu_mw,
                hashrate_phs: hash[site] / dt / 1000.0,
                committed_mw_max: self.committed_max_w[site] / 1e6,
                cap_mw: self.sites[site].cap_w / 1e6,
                mining_usd: mining[site],
                energy_usd,
                ai_usd: if site == 0 { usd } else { [0.0; 5] },
            });
        }
        self.closing = sums;
        self.settle_grid(now, hours);
    }

    /// Closes the GPU pools' interval: IT energy by site and use (W·s, into
    /// `gpu_ws`); returns P1 H100-equivalent GPUs (average), GPU-hours by
    /// use (P1, P2, P3, P4, rental) and rental revenue.
    fn close_gpus(
        &mut self,
        now: SimTime,
        i: usize,
        gpu_ws: &mut Vec<[f64; 7]>,
    ) -> (f64, [f64; 5], f64) {
        let dt = self.step.as_secs_f64();
        let hours = dt / 3600.0;
        gpu_ws.clear();
        gpu_ws.resize(self.sites.len(), [0.0; 7]);
        let mut p1_gpus = 0.0;
        let mut rental_usd = 0.0;
        let mut gpu_hours = [0.0; 5];
        for pool in &mut self.pools {
            for (u, integral) in pool.power.iter_mut().enumerate() {
                gpu_ws[pool.site][u] += integral.take(now);
            }
            let p1 = pool.p1_gpus.take(now) / dt;
            p1_gpus += p1 * pool.spec.job_speed;
            gpu_hours[0] += p1 * hours;
            for (k, busy) in pool.busy_gpus.iter_mut().enumerate() {
                gpu_hours[k + 1] += busy.take(now) / 3600.0;
            }
            let listed = pool.rental_gpus.take(now) / dt;
            gpu_hours[4] += listed * hours;
            let rented = listed * self.config.rental.occupancy;
            let price = pool
                .rental_series
                .and_then(|k| {
                    self.tape.market.gpu_rental[k]
                        .usd_per_gpu_hour
                        .values()
                        .get(i)
                })
                .copied()
                .unwrap_or(0.0);
            rental_usd += rented * price * hours * (1.0 - self.config.rental.fee);
            let busy: f64 = pool.busy_milli.iter().map(|&m| m as f64 / 1000.0).sum();
            self.figures.gpu_busy_s += (busy + p1 * pool.p1_utilisation + rented) * dt;
            self.figures.gpu_installed_s += f64::from(pool.installed) * dt;
        }
        (p1_gpus, gpu_hours, rental_usd)
    }

    /// P1 requests of interval `i` on `gpus` H100-equivalent GPUs.
    fn serve_p1(&mut self, i: usize, gpus: f64, dt: f64) {
        let beta = self.config.router.p1_staffing_beta;
        let tape = &self.tape;
        // The rates `size_p1` read when the interval opened.
        let rates = &self.p1_rates;
        let need: f64 = self
            .p1
            .iter()
            .zip(rates)
            .map(|(g, &r)| g.gpus_needed(r, beta))
            .sum();
        for (g, group) in self.p1.iter().enumerate() {
            let rate = rates[g];
            let share = if need > 0.0 {
                group.gpus_needed(rate, beta) / need
            } else {
                0.0
            };
            let outcome = group.serve(rate, gpus * share);
            let served_share = if rate > 0.0 {
                (outcome.served_per_s / rate).clamp(0.0, 1.0)
            } else {
                1.0
            };
            self.figures.p1_requests[0] += rate * dt;
            self.figures.p1_requests[1] += rate * dt * served_share;
            self.figures.p1_requests[2] += rate * dt * (1.0 - served_share);
            if let Some(view) = self.observation.p1.get_mut(g) {
                view.rate_per_s = rate;
                view.gpus_needed = group.gpus_needed(rate, beta);
                view.p99_wait_ms = outcome.p99_wait_ms;
            }
            for &(customer, k) in &group.members {
                let r = tape.demand.p1[k]
                    .rate
                    .values
                    .get(i)
                    .map_or(0.0, |&v| f64::from(v));
                if r <= 0.0 {
                    continue;
                }
                let served = r * dt * served_share;
                self.figures.interval_usd[0] += self.ledger.usage(
                    customer,
                    self.month,
                    Usage {
                        input_tokens: served * group.mean_input_tokens,
                        output_tokens: served * group.mean_output_tokens,
                        gpu_seconds: 0.0,
                    },
                );
                let met = meets(
                    &tape.demand.customers[usize::from(customer)],
                    &outcome,
                    rate,
                );
                self.ledger.sla_outcome(customer, self.month, r * dt, met);
                self.figures.sla(0, r * dt, met);
            }
        }
    }

    /// Grid payments for the interval that ends at `now`, and notices that
    /// are over.
    fn settle_grid(&mut self, now: SimTime, hours: f64) {
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
        if self.subscriptions.grid_notices {
            let now = s.now();
            self.refresh_observation(
                now,
                Trigger::GridNotice {
                    event: event as u32,
                },
            );
            self.decide(
                Trigger::GridNotice {
                    event: event as u32,
                },
                s,
            );
        }
    }

    /// A wake-up of the job timeline at (now, `rank`): handles its
    /// arrivals and completions in place while each would be the engine's
    /// next event.
    pub(crate) fn on_job_event(&mut self, rank: Rank, s: &mut Scheduler<TwinEvent>) {
        self.timeline.woke(s.now(), rank);
        while let Some((time, rank, event)) = self.timeline.peek(|c| self.jobs.completes(c)) {
            if !s.advance_to(time, rank) {
                break;
            }
            self.timeline.pop(&event);
            match event {
                JobEvent::Done(done) => self.job_done(done.id, s),
                JobEvent::Arrival(job) => self.job_arrives(job, s),
            }
        }
    }

    fn job_arrives(&mut self, job: JobArrival, s: &mut Scheduler<TwinEvent>) {
        let slot = class_slot(job.class);
        self.jobs.arrive(job, &self.config.router);
        self.dispatch(slot, s);
        if let Some(threshold) = self.subscriptions.queue_threshold_jobs
            && self.jobs.queues[slot].len() == threshold as usize
        {
            let now = s.now();
            self.refresh_observation(now, Trigger::QueueThreshold { class: job.class });
            self.decide(Trigger::QueueThreshold { class: job.class }, s);
        }
    }

    fn job_done(&mut self, id: u32, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        if let Some(stopped) = self.jobs.stop(id, Stop::Done, &mut self.pools, now) {
            let slot = class_slot(stopped.job.class);
            self.account_stop(&stopped, true, now);
            self.dispatch(slot, s);
        }
    }

    /// Places queued jobs of one class; their ends go on the timeline.
    pub(crate) fn dispatch(&mut self, slot: usize, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        let timeline = &mut self.timeline;
        self.jobs.dispatch(
            slot,
            &mut self.pools,
            &self.signals,
            &self.config.router,
            now,
            |id, generation, duration_s| {
                let d = SimDuration::try_from_secs_f64(duration_s)
                    .unwrap_or(SimDuration::from_micros(1));
                timeline.add(now + d, generation, id);
            },
        );
    }

    pub(crate) fn dispatch_all(&mut self, s: &mut Scheduler<TwinEvent>) {
        for slot in 0..3 {
            self.dispatch(slot, s);
        }
    }

    /// Preempts jobs of `use_` on pool `p` until they fit its ready GPUs
    /// less `keep_free` GPUs.
    pub(crate) fn preempt_to_fit(
        &mut self,
        p: usize,
        use_: GpuUse,
        keep_free: u32,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let Some(slot) = job_slot(use_) else {
            return;
        };
        let now = s.now();
        let pool = &self.pools[p];
        let allowed = u64::from(pool.ready[use_.index()].saturating_sub(keep_free)) * 1000;
        let busy = pool.busy_milli[slot];
        if busy <= allowed {
            return;
        }
        for id in self.jobs.victims(p, slot, busy, allowed) {
            if let Some(stopped) = self.jobs.stop(id, Stop::Preempted, &mut self.pools, now) {
                self.account_stop(&stopped, false, now);
            }
        }
    }

    /// After a GPU of `use_` failed on pool `p`: preempt what no longer fits.
    pub(crate) fn fit_jobs(&mut self, p: usize, use_: GpuUse, s: &mut Scheduler<TwinEvent>) {
        self.preempt_to_fit(p, use_, 0, s);
    }

    /// Books a job that finished (`done`) or was preempted.
    fn account_stop(&mut self, stopped: &Stopped, done: bool, now: SimTime) {
        let job = &stopped.job;
        let slot = class_slot(job.class);
        if done && job.class == WorkloadClass::P2 {
            let waited = (now - job.arrival).as_secs_f64();
            let on_time = waited <= f64::from(job.deadline_s());
            if !on_time {
                self.jobs.counters.late[slot] += 1;
            }
            if job.customer != NO_CUSTOMER {
                self.ledger
                    .sla_outcome(job.customer, self.month, 1.0, on_time);
            }
            self.figures.sla(1, 1.0, on_time);
        }
        if job.customer == NO_CUSTOMER {
            return;
        }
        match job.class {
            WorkloadClass::P2 => {
                let rate = self
                    .p2_tokens_per_s
                    .get(usize::from(job.customer))
                    .copied()
                    .unwrap_or(0.0);
                let output = stopped.progress_h100_s * rate;
                self.figures.interval_usd[1] += self.ledger.usage(
                    job.customer,
                    self.month,
                    Usage {
                        input_tokens: output * self.p2_input_ratio,
                        output_tokens: output,
                        gpu_seconds: 0.0,
                    },
                );
            }
            WorkloadClass::P3 | WorkloadClass::P4 => {
                self.figures.interval_usd[slot + 1] += self.ledger.usage(
                    job.customer,
                    self.month,
                    Usage {
                        gpu_seconds: stopped.occupancy_gpu_s,
                        ..Usage::default()
                    },
                );
                if stopped.lost_gpu_s > 0.0 {
                    self.ledger
                        .preemption_loss(job.customer, self.month, stopped.lost_gpu_s);
                }
            }
            WorkloadClass::P1 => {}
        }
    }
}
