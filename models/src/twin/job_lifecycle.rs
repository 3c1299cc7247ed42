//! The life of a P2–P4 job in the twin: arrival (and the queue-threshold
//! occasion it may raise), dispatch onto GPUs, completion, preemption when
//! its GPUs are taken or fail, and the billing of what it ran.

use hcp_contract::{GpuUse, Occasion, WorkloadClass};
use hcp_engine::queue::Rank;
use hcp_engine::simulation::Scheduler;
use hcp_engine::time::{SimDuration, SimTime};

use super::gpu_pool::job_slot;
use super::jobs::{Stop, Stopped, class_slot};
use super::model::{TwinEvent, TwinModel};
use super::result::TwinSink;
use super::timeline::JobEvent;
use crate::demand::{JobArrival, NO_CUSTOMER};
use crate::ledger::Usage;

impl<S: TwinSink + 'static> TwinModel<S> {
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
        if self
            .decisions
            .subscriptions()
            .queue_threshold_jobs
            .is_some()
        {
            // The queues alone say whether the policy is due; the whole
            // observation is refreshed only when it is.
            let class = job.class;
            self.refresh_queues(s.now());
            if let Some(trigger) = self
                .decisions
                .due(Occasion::QueueGrew { class }, &self.observation)
            {
                self.refresh_observation(s.now());
                self.decide(trigger, s);
            }
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
            self.figures.sla(WorkloadClass::P2, 1.0, on_time);
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
                self.figures.interval_usd.p2 += self.ledger.usage(
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
                let usd = self.ledger.usage(
                    job.customer,
                    self.month,
                    Usage {
                        gpu_seconds: stopped.occupancy_gpu_s,
                        ..Usage::default()
                    },
                );
                if let Some(earned) = self
                    .figures
                    .interval_usd
                    .get_mut(GpuUse::of_class(job.class))
                {
                    *earned += usd;
                }
                if stopped.lost_gpu_s > 0.0 {
                    self.ledger
                        .preemption_loss(job.customer, self.month, stopped.lost_gpu_s);
                }
            }
            WorkloadClass::P1 => {}
        }
    }
}
