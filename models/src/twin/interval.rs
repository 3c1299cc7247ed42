//! The market interval: the boundary event that closes the interval that
//! ends ([`books`](super::books), then [`grid_settlement`](super::grid_settlement))
//! and opens the next — its prices, the policy's decision through the
//! [`DecisionLoop`](hcp_contract::DecisionLoop), P1 sizing and the
//! interval's job arrivals.

use hcp_contract::{GpuUse, Occasion};
use hcp_engine::simulation::Scheduler;
use hcp_engine::time::SimTime;

use super::gpu_pool::GpuPool;
use super::model::{SlaTally, TwinEvent, TwinModel};
use super::result::TwinSink;

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
            self.figures.sla_month = SlaTally::default();
        }
        if self.interval >= self.intervals {
            s.stop();
            return;
        }
        self.open_interval(s);
        s.schedule_in(self.step, TwinEvent::Interval);
    }

    fn open_interval(&mut self, s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        let jobs = &self.jobs;
        self.timeline.open(self.i(), |c| jobs.completes(c));
        for site in 0..self.sites.len() {
            self.committed_max_w[site] = 0.0;
            self.signals[site].price_usd_per_mwh = self.price(site);
        }
        self.refresh_observation(now);
        self.decisions.observe_interval(&self.observation);
        if let Some(trigger) = self
            .decisions
            .due(Occasion::IntervalStart, &self.observation)
        {
            self.decide(trigger, s);
        }
        self.size_p1(s);
        self.job_source
            .next_interval(&self.tape, &mut self.timeline.arrivals);
        self.track_committed();
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
}
