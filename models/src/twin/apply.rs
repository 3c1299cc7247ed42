//! Carrying out a policy's actions: every request is checked against the
//! devices in working order, the firmware's power range and the site's
//! power cap, and clipped (or refused) with a record when it does not fit.
//!
//! Actions are applied in two passes so that a policy can move power
//! within a site in one decision: first every reduction (curtailments,
//! lower targets, GPUs released), then every increase, each clipped to the
//! headroom left. The cap is kept on *committed* power — every device at
//! the draw its state allows at most, devices still winding down included —
//! so the facility's actual power can never exceed it, whatever happens
//! inside the interval.

use hcp_engine::simulation::Scheduler;
use hcp_engine::time::SimTime;

use super::jobs::class_slot;
use super::model::{TwinEvent, TwinModel};
use super::result::{ClipReason, ClipRecord, SwitchRecord, TwinSink};
use hcp_contract::{Action, GpuAllocation, GpuUse, SiteId, Trigger, WorkloadClass};

impl<S: TwinSink + 'static> TwinModel<S> {
    /// Asks the policy through the decision loop and applies its actions.
    pub(crate) fn decide(&mut self, trigger: Trigger, s: &mut Scheduler<TwinEvent>) {
        let mut actions = std::mem::take(&mut self.actions);
        self.decisions
            .decide(trigger, &mut self.observation, &mut actions);
        self.apply(&actions, s);
        self.actions = actions;
        self.track_committed();
    }

    fn clip(
        &mut self,
        now: SimTime,
        action: usize,
        reason: ClipReason,
        requested: f64,
        applied: f64,
    ) {
        self.figures.clips += 1;
        self.sink.clip(&ClipRecord {
            time_us: now.as_micros(),
            action,
            reason,
            requested,
            applied,
        });
    }

    /// The allocation asked for, cut to the pool's working GPUs.
    fn fitted_allocation(
        &mut self,
        now: SimTime,
        k: usize,
        p: usize,
        asked: &GpuAllocation,
    ) -> GpuAllocation {
        let working = self.pools[p].working();
        let mut allocation = *asked;
        if allocation.powered() > working {
            self.clip(
                now,
                k,
                ClipReason::NotEnoughDevices,
                f64::from(allocation.powered()),
                f64::from(working),
            );
            allocation.cut(asked.powered() - working);
        }
        allocation
    }

    pub(crate) fn apply(&mut self, actions: &[Action], s: &mut Scheduler<TwinEvent>) {
        let now = s.now();
        let mut released = vec![0u32; self.pools.len()];
        // Each GPU action's allocation cut to its pool's working GPUs, found
        // (and clipped, once) in pass 1 and raised to in pass 2.
        let mut fitted: Vec<Option<GpuAllocation>> = vec![None; actions.len()];
        // Pass 1: everything that lowers power.
        for (k, action) in actions.iter().enumerate() {
            match action {
                &Action::Asic {
                    ref cohort,
                    on,
                    power_target_w,
                } => {
                    let Some(&cohort) = self.ids.cohorts.get(cohort) else {
                        self.clip(now, k, ClipReason::UnknownIndex, f64::from(on), 0.0);
                        continue;
                    };
                    self.lower_asic(now, k, cohort, on, power_target_w, s);
                }
                Action::Gpu { pool, allocation } => {
                    let Some(&pool) = self.ids.pools.get(pool) else {
                        let asked = f64::from(allocation.powered());
                        self.clip(now, k, ClipReason::UnknownIndex, asked, 0.0);
                        continue;
                    };
                    let desired = self.fitted_allocation(now, k, pool, allocation);
                    fitted[k] = Some(desired);
                    for use_ in GpuUse::ALL {
                        let target = self.pools[pool].target.get(use_);
                        let want = desired.get(use_);
                        if use_ != GpuUse::Off && want < target {
                            released[pool] += target - want;
                            self.take_gpus(pool, use_, target - want, s);
                        }
                    }
                }
                &Action::Admission { class, open } => {
                    if class == WorkloadClass::P1 {
                        // P1 admission is contractual: not switchable.
                        self.clip(now, k, ClipReason::UnknownIndex, 1.0, 0.0);
                    } else {
                        self.jobs.admitting[class_slot(class)] = open;
                    }
                }
                &Action::DemandResponse {
                    event,
                    ref site,
                    mw,
                } => {
                    self.commit_dr(now, k, event, site, mw);
                }
                Action::Ancillary { site, service, mw } => {
                    self.offer_ancillary(now, k, site, service, *mw);
                }
            }
        }
        // Pass 2: everything that raises power, within the headroom.
        for (k, action) in actions.iter().enumerate() {
            match action {
                &Action::Asic {
                    ref cohort,
                    on,
                    power_target_w,
                } => {
                    if let Some(&cohort) = self.ids.cohorts.get(cohort) {
                        self.raise_asic(now, k, cohort, on, power_target_w, s);
                    }
                }
                Action::Gpu { pool, .. } => {
                    if let (Some(&pool), Some(desired)) = (self.ids.pools.get(pool), fitted[k]) {
                        self.raise_gpu(now, k, pool, desired, &mut released[pool], s);
                    }
                }
                _ => {}
            }
        }
    }

    /// Pass 1 of an ASIC action: a lower target, and devices curtailed
    /// through the firmware's latency; what asks too much is clipped.
    fn lower_asic(
        &mut self,
        now: SimTime,
        k: usize,
        cohort: usize,
        on: u32,
        power_target_w: Option<f64>,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let c = &self.cohorts[cohort];
        let working = c.working();
        if on > working {
            self.clip(
                now,
                k,
                ClipReason::NotEnoughDevices,
                f64::from(on),
                f64::from(working),
            );
        }
        if let Some(w) = power_target_w {
            let c = &self.cohorts[cohort];
            let clamped = c.spec.clamp_power_w(w);
            if c.firmware.supports_power_target {
                if !w.is_finite() || (clamped - w).abs() > 1e-9 {
                    self.clip(now, k, ClipReason::PowerTarget, w, clamped);
                }
                if clamped < self.cohorts[cohort].target_w {
                    self.cohorts[cohort].set_target(now, clamped);
                }
            } else if !w.is_finite() || (w - c.target_w).abs() > 0.5 {
                self.clip(now, k, ClipReason::PowerTarget, w, c.target_w);
            }
        }
        let c = &self.cohorts[cohort];
        let desired = on.min(working);
        let current = c.on;
        if desired < current {
            let latency = c
                .firmware
                .curtail_latency(&mut self.streams.firmware[cohort]);
            let done = now + latency;
            if self.cohorts[cohort].curtail(now, current - desired, done) > 0 {
                s.schedule_at(done, TwinEvent::AsicDone(cohort as u32));
            }
        }
    }

    fn raise_asic(
        &mut self,
        now: SimTime,
        k: usize,
        cohort: usize,
        on: u32,
        power_target_w: Option<f64>,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let site = self.cohorts[cohort].site;
        let pue = self.sites[site].pue;
        if let Some(w) = power_target_w {
            let c = &self.cohorts[cohort];
            let asked = c.spec.clamp_power_w(w);
            if c.firmware.supports_power_target && asked > c.target_w {
                let devices = f64::from(c.on + c.curtailing);
                let room = self.headroom_w(site) / pue;
                let fits = if devices > 0.0 {
                    (c.target_w + room / devices).min(asked)
                } else {
                    asked
                };
                if fits < asked - 1e-9 {
                    self.clip(now, k, ClipReason::PowerCap, asked, fits);
                }
                self.cohorts[cohort].set_target(now, fits);
            }
        }
        let c = &self.cohorts[cohort];
        let desired = on.min(c.working());
        let current = c.on;
        if desired > current {
            let per_device = (c.target_w - c.firmware.standby_w).max(0.0) * pue;
            let room = self.headroom_w(site);
            let wanted = (desired - current).min(c.standby());
            let fits = if per_device > 0.0 {
                ((room / per_device).floor().min(f64::from(u32::MAX)) as u32).min(wanted)
            } else {
                wanted
            };
            if fits < desired - current {
                let reason = if fits < wanted {
                    ClipReason::PowerCap
                } else {
                    ClipReason::NotEnoughDevices
                };
                self.clip(
                    now,
                    k,
                    reason,
                    f64::from(desired),
                    f64::from(current + fits),
                );
            }
            if fits > 0 {
                let c = &self.cohorts[cohort];
                let latency = c
                    .firmware
                    .resume_latency(&mut self.streams.firmware[cohort]);
                let done = now + latency;
                self.cohorts[cohort].resume(now, fits, done);
                s.schedule_at(done, TwinEvent::AsicDone(cohort as u32));
            }
        }
    }

    fn raise_gpu(
        &mut self,
        now: SimTime,
        k: usize,
        p: usize,
        mut desired: GpuAllocation,
        warm: &mut u32,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let pool = &self.pools[p];
        let site = pool.site;
        let mut grow = GpuAllocation::default();
        for use_ in GpuUse::ALL {
            let target = pool.target.get(use_);
            grow.set(use_, desired.get(use_).saturating_sub(target));
        }
        let per_gpu = (pool.spec.max_power_per_gpu_w() - pool.spec.off_power_per_gpu_w()).max(0.0)
            * self.sites[site].pue;
        let from_off = grow.powered().saturating_sub(*warm);
        let fits = if per_gpu > 0.0 {
            ((self.headroom_w(site) / per_gpu)
                .floor()
                .min(f64::from(u32::MAX)) as u32)
                .min(from_off)
        } else {
            from_off
        };
        if fits < from_off {
            let asked = f64::from(desired.powered());
            grow.cut(from_off - fits);
            for use_ in GpuUse::ALL {
                desired.set(use_, self.pools[p].target.get(use_) + grow.get(use_));
            }
            self.clip(
                now,
                k,
                ClipReason::PowerCap,
                asked,
                f64::from(desired.powered()),
            );
        }
        for use_ in GpuUse::ALL {
            let n = grow.get(use_);
            if use_ == GpuUse::Off || n == 0 {
                continue;
            }
            let warm_n = n.min(*warm);
            *warm -= warm_n;
            self.start_switch(p, use_, n, n - warm_n, s);
        }
    }

    /// Takes `count` GPUs from `use_` on pool `p`, preempting the jobs that
    /// would no longer fit.
    pub(crate) fn take_gpus(
        &mut self,
        p: usize,
        use_: GpuUse,
        count: u32,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let ready_taken = self.pools[p].ready_taken_by_release(use_, count);
        self.preempt_to_fit(p, use_, ready_taken, s);
        self.pools[p].release(use_, count);
        let now = s.now();
        self.pools[p].refresh(now);
        self.jobs.placement.stale = true;
    }

    /// Moves `count` GPUs of pool `p` from one use to another (warm).
    pub(crate) fn move_gpus(
        &mut self,
        p: usize,
        from: GpuUse,
        to: GpuUse,
        count: u32,
        s: &mut Scheduler<TwinEvent>,
    ) {
        self.take_gpus(p, from, count, s);
        self.start_switch(p, to, count, 0, s);
    }

    /// Starts switching `count` GPUs of pool `p` into `to`, `cold` of them
    /// from a powered-down state: samples each GPU's switch, and the batch
    /// is ready when the slowest is.
    fn start_switch(
        &mut self,
        p: usize,
        to: GpuUse,
        count: u32,
        cold: u32,
        s: &mut Scheduler<TwinEvent>,
    ) {
        let now = s.now();
        let prewarmed = self.pools[p].prewarmed;
        let rng = &mut self.streams.switching[p];
        let mut longest = hcp_engine::time::SimDuration::ZERO;
        let mut total_ms = 0.0;
        let mut cold_n = 0;
        for g in 0..count {
            let warm = g >= cold && prewarmed;
            let sample = self.switching.sample(rng, warm);
            if warm {
                self.figures.warm.record(sample.total);
            } else {
                self.figures.cold.record(sample.total);
                cold_n += 1;
            }
            total_ms += sample.total.as_secs_f64() * 1000.0;
            longest = longest.max(sample.total);
        }
        let done = now + longest;
        self.pools[p].add(to, count, done);
        self.pools[p].refresh(now);
        self.jobs.placement.stale = true;
        s.schedule_at(done, TwinEvent::SwitchDone(p as u32));
        self.sink.switch(&SwitchRecord {
            time_us: now.as_micros(),
            pool: p,
            to,
            gpus: count,
            cold: cold_n,
            max_ms: longest.as_secs_f64() * 1000.0,
            mean_ms: total_ms / f64::from(count.max(1)),
        });
    }

    fn commit_dr(&mut self, now: SimTime, k: usize, event: u32, site: &SiteId, mw: f64) {
        let Some(n) = self.notices.iter().position(|n| n.event == event as usize) else {
            self.clip(now, k, ClipReason::UnknownIndex, mw, 0.0);
            return;
        };
        let Some(&site) = self
            .ids
            .sites
            .get(site)
            .filter(|&&s| self.sites[s].grid_events)
        else {
            self.clip(now, k, ClipReason::UnknownIndex, mw, 0.0);
            return;
        };
        let applied = self.commitment(now, k, mw, self.last_mw[site]);
        self.notices[n].committed_mw[site] = applied;
    }

    fn offer_ancillary(&mut self, now: SimTime, k: usize, site: &SiteId, service: &str, mw: f64) {
        let (Some(&site), Some(&service)) =
            (self.ids.sites.get(site), self.ids.services.get(service))
        else {
            self.clip(now, k, ClipReason::UnknownIndex, mw, 0.0);
            return;
        };
        if !self.sites[site].grid_events {
            self.clip(now, k, ClipReason::UnknownIndex, mw, 0.0);
            return;
        }
        // Only load that firmware can shed within seconds qualifies.
        let pue = self.sites[site].pue;
        let fast: f64 = self
            .cohorts
            .iter()
            .filter(|c| c.site == site && c.firmware.sheds_for_ancillary())
            .map(|c| f64::from(c.hashing()) * c.target_w * pue / 1e6)
            .sum();
        let others: f64 = self.ancillary_mw[site]
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != service)
            .map(|(_, &m)| m)
            .sum();
        let applied = self.commitment(now, k, mw, (fast - others).max(0.0));
        self.ancillary_mw[site][service] = applied;
    }

    /// `mw` within [0, `most`] (0 when not a number), clipping on record.
    fn commitment(&mut self, now: SimTime, k: usize, mw: f64, most: f64) -> f64 {
        let applied = if mw.is_finite() {
            mw.clamp(0.0, most)
        } else {
            0.0
        };
        if applied != mw {
            self.clip(now, k, ClipReason::Commitment, mw, applied);
        }
        applied
    }
}
