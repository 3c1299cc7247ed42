//! [`GpuPool`]: GPUs of one model at one site, kept as counts per use
//! (ready, switching in, off, failed) plus the milli-GPUs busy with jobs
//! per class — the jobs themselves live in the router.
//!
//! Power per GPU follows the spec's curve (idle to TDP with the server's
//! share): P1 GPUs at the serving pool's utilisation, job GPUs at full load
//! while busy and idle otherwise, rented GPUs at the rental utilisation,
//! idle and switching GPUs at idle, off GPUs at the powered-down draw. The
//! cap is budgeted on *committed* power: every powered GPU at full load.

use hcp_engine::time::SimTime;

use super::integral::Integral;
use crate::plant::GpuSpec;
use hcp_contract::{GpuAllocation, GpuUse, WorkloadClass};

/// GPUs switching into a use, ready at `done`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SwitchBatch {
    pub(crate) done: SimTime,
    pub(crate) use_: GpuUse,
    pub(crate) count: u32,
}

/// One pool's state.
#[derive(Debug, Clone)]
pub(crate) struct GpuPool {
    pub(crate) site: usize,
    pub(crate) spec: GpuSpec,
    pub(crate) prewarmed: bool,
    pub(crate) installed: u32,
    pub(crate) failed: u32,
    /// GPUs per use, including those still switching in.
    pub(crate) target: GpuAllocation,
    /// GPUs ready per use (P1, P2, P3, P4, rental, idle).
    pub(crate) ready: [u32; 6],
    /// Switch batches in flight.
    pub(crate) switches: Vec<SwitchBatch>,
    /// Milli-GPUs busy with jobs, P2, P3, P4.
    pub(crate) busy_milli: [u64; 3],
    /// Utilisation of the P1 GPUs this interval.
    pub(crate) p1_utilisation: f64,
    /// Utilisation of a rented GPU.
    pub(crate) rental_utilisation: f64,
    /// Power per use (P1, P2, P3, P4, rental, idle incl. switching, off), W.
    pub(crate) power: [Integral; 7],
    /// Index of the market's rental price series for this GPU model.
    pub(crate) rental_series: Option<usize>,
    /// Whether the pool's GPUs are H100s (jobs may require them).
    pub(crate) is_h100: bool,
    /// Wall power per GPU at full load and at idle, W.
    pub(crate) full_w: f64,
    pub(crate) idle_w: f64,
    /// GPUs busy with jobs, P2, P3, P4.
    pub(crate) busy_gpus: [Integral; 3],
    /// P1 GPUs ready (for the interval's average serving capacity).
    pub(crate) p1_gpus: Integral,
    /// Rental GPUs ready.
    pub(crate) rental_gpus: Integral,
}

/// Index of a job class's use in `busy_milli` (P2 = 0).
/// The GPU use that serves the job class of slot `slot` (0 = P2, 1 = P3,
/// 2 = P4).
pub(crate) fn slot_use(slot: usize) -> GpuUse {
    GpuUse::of_class(WorkloadClass::JOBS[slot])
}

pub(crate) fn job_slot(use_: GpuUse) -> Option<usize> {
    match use_ {
        GpuUse::P2 => Some(0),
        GpuUse::P3 => Some(1),
        GpuUse::P4 => Some(2),
        _ => None,
    }
}

impl GpuPool {
    pub(crate) fn new(
        site: usize,
        spec: GpuSpec,
        installed: u32,
        prewarmed: bool,
        rental_utilisation: f64,
    ) -> Self {
        let full_w = spec.power_per_gpu_w(1.0);
        let idle_w = spec.power_per_gpu_w(0.0);
        let mut pool = GpuPool {
            rental_series: None,
            is_h100: spec.name == "H100",
            full_w,
            idle_w,
            site,
            spec,
            prewarmed,
            installed,
            failed: 0,
            target: GpuAllocation {
                idle: installed,
                ..GpuAllocation::default()
            },
            ready: [0, 0, 0, 0, 0, installed],
            switches: Vec::new(),
            busy_milli: [0; 3],
            p1_utilisation: 0.0,
            rental_utilisation,
            power: [Integral::default(); 7],
            busy_gpus: [Integral::default(); 3],
            p1_gpus: Integral::default(),
            rental_gpus: Integral::default(),
        };
        pool.refresh(SimTime::ZERO);
        pool
    }

    /// GPUs in working order.
    pub(crate) fn working(&self) -> u32 {
        self.installed - self.failed
    }

    /// Working GPUs powered off.
    pub(crate) fn off(&self) -> u32 {
        self.working() - self.target.powered()
    }

    /// GPUs switching now.
    pub(crate) fn switching(&self) -> u32 {
        self.switches.iter().map(|s| s.count).sum()
    }

    /// Free milli-GPUs of a job class's ready GPUs.
    pub(crate) fn free_milli(&self, slot: usize) -> u64 {
        u64::from(self.ready[slot_use(slot).index()]) * 1000
            - self.busy_milli[slot].min(u64::from(self.ready[slot_use(slot).index()]) * 1000)
    }

    /// IT power the pool may draw at most now, W: every powered GPU at
    /// full load, the others at the powered-down draw (failed GPUs too, so
    /// a repair never raises it).
    pub(crate) fn committed_w(&self) -> f64 {
        let powered = self.target.powered();
        f64::from(powered) * self.spec.max_power_per_gpu_w()
            + f64::from(self.installed.saturating_sub(powered)) * self.spec.off_power_per_gpu_w()
    }

    /// Updates the power of one job class after its busy GPUs changed
    /// (the only change a job start or finish makes).
    #[inline]
    pub(crate) fn refresh_jobs(&mut self, now: SimTime, slot: usize) {
        let ready = f64::from(self.ready[slot_use(slot).index()]);
        let busy = (self.busy_milli[slot] as f64 / 1000.0).min(ready);
        let rate = busy * self.full_w + (ready - busy) * self.idle_w;
        self.power[slot_use(slot).index()].set(now, rate);
        self.busy_gpus[slot].set(now, busy);
    }

    /// Updates the power integrals after a state change.
    pub(crate) fn refresh(&mut self, now: SimTime) {
        let p = |u: f64| self.spec.power_per_gpu_w(u);
        let idle = self.idle_w;
        let mut rates = [0.0; 7];
        rates[0] = f64::from(self.ready[0]) * p(self.p1_utilisation);
        let mut busy = [0.0; 3];
        for slot in 0..3 {
            let ready = f64::from(self.ready[slot_use(slot).index()]);
            busy[slot] = (self.busy_milli[slot] as f64 / 1000.0).min(ready);
            rates[slot_use(slot).index()] = busy[slot] * self.full_w + (ready - busy[slot]) * idle;
        }
        rates[4] = f64::from(self.ready[4]) * p(self.rental_utilisation);
        // A switching GPU draws half-load power (as `switch_energy_j` books it).
        rates[5] = f64::from(self.ready[5]) * idle + f64::from(self.switching()) * p(0.5);
        rates[6] = f64::from(self.off()) * self.spec.off_power_per_gpu_w();
        for (integral, rate) in self.power.iter_mut().zip(rates) {
            integral.set(now, rate);
        }
        for (integral, gpus) in self.busy_gpus.iter_mut().zip(busy) {
            integral.set(now, gpus);
        }
        self.p1_gpus.set(now, f64::from(self.ready[0]));
        self.rental_gpus.set(now, f64::from(self.ready[4]));
    }

    /// Takes `count` GPUs away from `use_`: GPUs still switching in first
    /// (newest batch first), then ready ones. Returns how many ready GPUs
    /// left. The caller frees their jobs first.
    pub(crate) fn release(&mut self, use_: GpuUse, count: u32) -> u32 {
        let count = count.min(self.target.get(use_));
        let mut left = count;
        for batch in self.switches.iter_mut().rev() {
            if left == 0 {
                break;
            }
            if batch.use_ == use_ {
                let take = batch.count.min(left);
                batch.count -= take;
                left -= take;
            }
        }
        self.switches.retain(|b| b.count > 0);
        let i = use_.index();
        self.ready[i] -= left;
        self.target.set(use_, self.target.get(use_) - count);
        left
    }

    /// Ready GPUs of `use_` that [`release`](Self::release) of `count` would
    /// take (those not covered by GPUs still switching in).
    pub(crate) fn ready_taken_by_release(&self, use_: GpuUse, count: u32) -> u32 {
        let pending = self.target.get(use_) - self.ready[use_.index()];
        count.min(self.target.get(use_)).saturating_sub(pending)
    }

    /// Adds `count` GPUs to `use_`, ready at `done`.
    pub(crate) fn add(&mut self, use_: GpuUse, count: u32, done: SimTime) {
        if count == 0 {
            return;
        }
        self.target.set(use_, self.target.get(use_) + count);
        self.switches.push(SwitchBatch { done, use_, count });
    }

    /// Completes the switches due at `now`.
    pub(crate) fn switches_done(&mut self, now: SimTime) {
        for batch in &self.switches {
            if batch.done <= now {
                self.ready[batch.use_.index()] += batch.count;
            }
        }
        self.switches.retain(|b| b.done > now);
        self.refresh(now);
    }

    /// One working GPU fails; `pick` ∈ [0, 1) chooses it in proportion to
    /// the uses (switching GPUs and off GPUs included). Returns the use that
    /// lost a ready GPU, if any (its jobs may need preempting).
    pub(crate) fn fail_one(&mut self, now: SimTime, pick: f64) -> Option<GpuUse> {
        let working = self.working();
        let mut k = ((pick * f64::from(working)) as u32).min(working.saturating_sub(1));
        let mut lost = None;
        let mut found = false;
        for use_ in GpuUse::ALL {
            let n = if use_ == GpuUse::Off {
                self.off()
            } else {
                self.target.get(use_)
            };
            if k < n {
                if use_ != GpuUse::Off {
                    let pending = self.target.get(use_) - self.ready[use_.index()];
                    if k < pending {
                        self.release(use_, 1);
                    } else {
                        self.ready[use_.index()] -= 1;
                        self.target.set(use_, self.target.get(use_) - 1);
                        lost = Some(use_);
                    }
                }
                found = true;
                break;
            }
            k -= n;
        }
        if found {
            self.failed += 1;
        }
        self.refresh(now);
        lost
    }

    /// One failed GPU is repaired; it comes back powered off.
    pub(crate) fn repair_one(&mut self, now: SimTime) {
        self.failed = self.failed.saturating_sub(1);
        self.refresh(now);
    }
}
