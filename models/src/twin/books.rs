//! The books of a market interval that ends: mining revenue per cohort,
//! GPU energy and GPU-hours by use, rental, P1 serving and its SLA, energy
//! bought at each site's spot price, and the per-site interval records.

use hcp_contract::{GpuHourValue, GpuUse, PerGpuUse, WorkloadClass};
use hcp_engine::time::SimTime;

use super::model::{Closing, TwinModel};
use super::p1::meets;
use super::result::{IntervalRecord, TwinSink};
use crate::ledger::{Stream, Usage};
use crate::plant::mining_revenue_usd;

impl<S: TwinSink + 'static> TwinModel<S> {
    pub(crate) fn close_interval(&mut self, now: SimTime) {
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
        self.figures.interval_usd.rental += rental_usd;
        self.serve_p1(i, p1_gpus, dt);
        // Notices still stand until `settle_grid` drops the ones that are
        // over: what is here was announced before `now` and ends after the
        // interval's start.
        let grid_event = !self.notices.is_empty();
        let queued_jobs = self.jobs.queues.each_ref().map(|q| q.len() as u64);
        let keep = GpuHourValue::keep_after(dt);
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
                ai_usd: if site == 0 {
                    [usd.p1, usd.p2, usd.p3, usd.p4, usd.rental]
                } else {
                    [0.0; 5]
                },
                grid_event: grid_event && self.sites[site].grid_events,
                queued_jobs: if site == 0 { queued_jobs } else { [0; 3] },
            });
        }
        self.closing = sums;
        self.settle_grid(now, hours);
    }

    /// Closes the GPU pools' interval: IT energy by site and use (W·s, into
    /// `gpu_ws`); returns P1 H100-equivalent GPUs (average), GPU-hours by
    /// use and rental revenue.
    fn close_gpus(
        &mut self,
        now: SimTime,
        i: usize,
        gpu_ws: &mut Vec<[f64; 7]>,
    ) -> (f64, PerGpuUse<f64>, f64) {
        let dt = self.step.as_secs_f64();
        let hours = dt / 3600.0;
        gpu_ws.clear();
        gpu_ws.resize(self.sites.len(), [0.0; 7]);
        let mut p1_gpus = 0.0;
        let mut rental_usd = 0.0;
        let mut gpu_hours = PerGpuUse::<f64>::default();
        for pool in &mut self.pools {
            for (u, integral) in pool.power.iter_mut().enumerate() {
                gpu_ws[pool.site][u] += integral.take(now);
            }
            let p1 = pool.p1_gpus.take(now) / dt;
            p1_gpus += p1 * pool.spec.job_speed;
            gpu_hours.p1 += p1 * hours;
            for (class, busy) in WorkloadClass::JOBS.into_iter().zip(&mut pool.busy_gpus) {
                if let Some(h) = gpu_hours.get_mut(GpuUse::of_class(class)) {
                    *h += busy.take(now) / 3600.0;
                }
            }
            let listed = pool.rental_gpus.take(now) / dt;
            gpu_hours.rental += listed * hours;
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
                view.p99_wait_ms = Some(outcome.p99_wait_ms).filter(|ms| ms.is_finite());
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
                self.figures.interval_usd.p1 += self.ledger.usage(
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
                self.figures.sla(WorkloadClass::P1, r * dt, met);
            }
        }
    }
}
