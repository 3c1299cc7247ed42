//! The job side of the resource manager: queues P2–P4 with admission
//! control, running jobs in a slab, placement of jobs on pools by a
//! documented score, and preemption with checkpoint losses.
//!
//! Placement score of pool p for a job (docs/models/plant.md):
//! `w_free · free_p/ready_p + w_prewarmed · [p pre-warmed] + w_headroom ·
//! headroom_site/cap_site − w_price · price_site/100`, over the pools with
//! enough free milli-GPUs in the job's class allocation (and of the GPU
//! model the job requires); ties go to the lower pool index. A blocked
//! queue head lets the next `backfill_depth` jobs try.

use std::collections::VecDeque;

use hcp_engine::time::SimTime;

use super::gpu_pool::GpuPool;
use super::placement::Placement;
use super::timeline::Completion;
use crate::demand::{GpuModel, JobArrival, WorkloadClass};
use crate::plant::RouterConfig;

/// A job on GPUs.
#[derive(Debug)]
pub(crate) struct Running {
    /// The job, with its remaining work.
    pub(crate) job: JobArrival,
    pub(crate) pool: u32,
    pub(crate) started: SimTime,
    /// Start number, telling this run of the slot from earlier ones.
    pub(crate) generation: u64,
}

/// A start on a pool's list (see [`Jobs::victims`]).
#[derive(Debug, Clone, Copy)]
struct Start {
    started: SimTime,
    id: u32,
    generation: u64,
}

/// Why a job stopped running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Done,
    Preempted,
}

/// What a stopped job leaves to account for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopped {
    pub(crate) job: JobArrival,
    /// GPU-seconds of occupancy (billed for P3/P4).
    pub(crate) occupancy_gpu_s: f64,
    /// GPU-seconds of occupancy lost since the last checkpoint (P3).
    pub(crate) lost_gpu_s: f64,
    /// Work done and kept, GPU-seconds at H100 speed.
    pub(crate) progress_h100_s: f64,
}

/// Site state the placement score reads.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SiteSignal {
    pub(crate) headroom_share: f64,
    pub(crate) price_usd_per_mwh: f64,
}

/// Counters of the job side.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JobCounters {
    pub(crate) arrived: [u64; 3],
    pub(crate) rejected: [u64; 3],
    pub(crate) completed: [u64; 3],
    pub(crate) preempted: [u64; 3],
    pub(crate) late: [u64; 3],
}

/// Queues and running jobs.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    pub(crate) slots: Vec<Option<Running>>,
    free: Vec<u32>,
    /// Starts per pool per class, oldest first. A stopped job's entry stays
    /// until a victim search passes it or the list is compacted.
    by_pool: Vec<[Vec<Start>; 3]>,
    /// Jobs running per pool per class.
    running: Vec<[usize; 3]>,
    pub(crate) queues: [VecDeque<JobArrival>; 3],
    /// Milli-GPUs and H100 GPU-seconds of work queued, per class.
    pub(crate) queued_milli: [u64; 3],
    pub(crate) queued_work: [f64; 3],
    pub(crate) admitting: [bool; 3],
    pub(crate) counters: JobCounters,
    /// Largest job (milli-GPUs) each class can ever place, per GPU demand.
    pub(crate) max_milli_any: u64,
    pub(crate) max_milli_h100: u64,
    /// The placement score's inputs, flat.
    pub(crate) placement: Placement,
    /// Starts so far (the next start's generation).
    starts: u64,
    /// Per class, while its backfill window holds the same jobs: the least
    /// milli-GPUs a job of the window needs (any GPU, H100 only; `u64::MAX`
    /// for none). No job of the window fits while no pool has that much free.
    window_need: [Option<(u64, u64)>; 3],
}

/// Jobs a dispatch tries from the head of a queue: the head and the
/// `backfill_depth` behind it.
fn window(router: &RouterConfig) -> usize {
    router.backfill_depth as usize + 1
}

/// Index of a job class (P2 = 0, P3 = 1, P4 = 2).
pub(crate) fn class_slot(class: WorkloadClass) -> usize {
    match class {
        WorkloadClass::P1 | WorkloadClass::P2 => 0,
        WorkloadClass::P3 => 1,
        WorkloadClass::P4 => 2,
    }
}

impl Jobs {
    pub(crate) fn new(pools: &[GpuPool]) -> Jobs {
        let max = |h100: bool| {
            pools
                .iter()
                .filter(|p| !h100 || p.is_h100)
                .map(|p| u64::from(p.installed) * 1000)
                .max()
                .unwrap_or(0)
        };
        Jobs {
            placement: Placement::stale(),
            by_pool: pools.iter().map(|_| Default::default()).collect(),
            running: vec![[0; 3]; pools.len()],
            admitting: [true; 3],
            max_milli_any: max(false),
            max_milli_h100: max(true),
            ..Jobs::default()
        }
    }

    /// Admits (or turns away) an arriving job.
    pub(crate) fn arrive(&mut self, job: JobArrival, router: &RouterConfig) {
        let s = class_slot(job.class);
        self.counters.arrived[s] += 1;
        let limit = if job.gpu == Some(GpuModel::H100) {
            self.max_milli_h100
        } else {
            self.max_milli_any
        };
        if !self.admitting[s]
            || self.queues[s].len() >= router.max_queue_jobs as usize
            || u64::from(job.gpu_milli) > limit
        {
            self.counters.rejected[s] += 1;
            return;
        }
        self.queue_added(&job);
        self.queues[s].push_back(job);
        if self.queues[s].len() <= window(router) {
            self.window_need[s] = None;
        }
    }

    fn queue_added(&mut self, job: &JobArrival) {
        let s = class_slot(job.class);
        self.queued_milli[s] += u64::from(job.gpu_milli);
        self.queued_work[s] += f64::from(job.work_gpu_s);
    }

    fn queue_removed(&mut self, job: &JobArrival) {
        let s = class_slot(job.class);
        self.queued_milli[s] -= u64::from(job.gpu_milli);
        self.queued_work[s] = (self.queued_work[s] - f64::from(job.work_gpu_s)).max(0.0);
    }

    /// Places queued jobs of class `slot` while some fit; calls `start`
    /// for each placed job (which schedules its completion).
    pub(crate) fn dispatch(
        &mut self,
        slot: usize,
        pools: &mut [GpuPool],
        sites: &[SiteSignal],
        router: &RouterConfig,
        now: SimTime,
        mut schedule: impl FnMut(u32, u64, f64),
    ) {
        if self.queues[slot].is_empty() {
            return;
        }
        if self.placement.stale {
            self.placement.sync(pools, sites, &router.score);
        }
        if let Some((need_any, need_h100)) = self.window_need[slot] {
            let (any, h100) = self.placement.most_free(slot);
            if any < need_any && h100 < need_h100 {
                return;
            }
        }
        // With a backlog (or once a job found no room): the most free
        // milli-GPUs any pool (any H100 pool) has, so that jobs asking for
        // more are skipped without scoring every pool.
        let mut most: Option<(u64, u64)> =
            (self.queues[slot].len() > 1).then(|| self.placement.most_free(slot));
        if most == Some((0, 0)) {
            return;
        }
        // The least need of the jobs left in the window: every job the scan
        // passes over stays there, and it ends with the window scanned.
        let mut left = (u64::MAX, u64::MAX);
        let mut pass = |need: u64, h100_only: bool| {
            let least = if h100_only { &mut left.1 } else { &mut left.0 };
            *least = (*least).min(need);
        };
        let mut i = 0;
        while i < self.queues[slot].len() && i < window(router) {
            let job = self.queues[slot][i];
            let need = u64::from(job.gpu_milli);
            let h100_only = job.gpu == Some(GpuModel::H100);
            if let Some((any, h100)) = most
                && need > if h100_only { h100 } else { any }
            {
                pass(need, h100_only);
                i += 1;
                continue;
            }
            let Some(p) = self
                .placement
                .best(slot, need, h100_only, router.score.free)
            else {
                most = Some(self.placement.most_free(slot));
                pass(need, h100_only);
                i += 1;
                continue;
            };
            debug_assert!(
                pools[p].free_milli(slot) >= need,
                "placement cache out of date"
            );
            self.placement.free[slot][p] -= need;
            self.queues[slot].remove(i);
            self.queue_removed(&job);
            let pool = &mut pools[p];
            pool.busy_milli[slot] += u64::from(job.gpu_milli);
            pool.refresh_jobs(now, slot);
            let duration_s = f64::from(job.work_gpu_s) / (job.gpus() * pool.spec.job_speed);
            let id = self.free.pop().unwrap_or_else(|| {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            });
            let generation = self.starts;
            self.starts += 1;
            self.by_pool[p][slot].push(Start {
                started: now,
                id,
                generation,
            });
            self.running[p][slot] += 1;
            schedule(id, generation, duration_s);
            self.slots[id as usize] = Some(Running {
                job,
                pool: p as u32,
                started: now,
                generation,
            });
            if most.is_some() {
                most = Some(self.placement.most_free(slot));
            }
        }
        self.window_need[slot] = Some(left);
    }

    /// Whether the job of a timeline completion still runs (a preempted
    /// job's completion finds a later job, or none, in its slot).
    pub(crate) fn completes(&self, done: &Completion) -> bool {
        matches!(self.slots.get(done.id as usize), Some(Some(r)) if r.generation == done.generation)
    }

    /// Removes a running job from its slot and pool; returns what it leaves
    /// to account for. A preempted job goes back to the head of its queue
    /// with its remaining work.
    pub(crate) fn stop(
        &mut self,
        id: u32,
        why: Stop,
        pools: &mut [GpuPool],
        now: SimTime,
    ) -> Option<Stopped> {
        let running = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        let p = running.pool as usize;
        let slot = class_slot(running.job.class);
        self.running[p][slot] -= 1;
        let list = &mut self.by_pool[p][slot];
        if list.len() > 2 * self.running[p][slot] + 64 {
            let slots = &self.slots;
            list.retain(|start| started_runs(slots, start));
        }
        let pool = &mut pools[p];
        pool.busy_milli[slot] -= u64::from(running.job.gpu_milli);
        pool.refresh_jobs(now, slot);
        if let Some(free) = self.placement.free[slot].get_mut(p) {
            *free += u64::from(running.job.gpu_milli);
        }
        let gpus = running.job.gpus();
        let elapsed = (now - running.started).as_secs_f64();
        let occupancy = gpus * elapsed;
        let mut job = running.job;
        let (lost_s, progress) = match why {
            Stop::Done => (0.0, f64::from(job.work_gpu_s)),
            Stop::Preempted => {
                let lost_s = if job.class == WorkloadClass::P3 && job.checkpoint_s() > 0 {
                    elapsed % f64::from(job.checkpoint_s())
                } else {
                    0.0
                };
                let progress = ((elapsed - lost_s) * gpus * pool.spec.job_speed)
                    .min(f64::from(job.work_gpu_s));
                (lost_s, progress)
            }
        };
        match why {
            Stop::Done => self.counters.completed[slot] += 1,
            Stop::Preempted => {
                self.counters.preempted[slot] += 1;
                job.work_gpu_s = (f64::from(job.work_gpu_s) - progress).max(0.0) as f32;
                self.queue_added(&job);
                self.queues[slot].push_front(job);
                self.window_need[slot] = None;
            }
        }
        Some(Stopped {
            job: running.job,
            occupancy_gpu_s: occupancy,
            lost_gpu_s: gpus * lost_s,
            progress_h100_s: progress,
        })
    }

    /// Jobs of class `slot` running on any pool.
    pub(crate) fn running(&self, slot: usize) -> usize {
        self.running.iter().map(|r| r[slot]).sum()
    }

    /// Running job ids of class `slot` on pool `p` to preempt, newest
    /// first (the higher slab id first among jobs started together), until
    /// at most `allowed_milli` stay busy.
    pub(crate) fn victims(
        &mut self,
        p: usize,
        slot: usize,
        busy: u64,
        allowed_milli: u64,
    ) -> Vec<u32> {
        let mut out = Vec::new();
        let mut busy = busy;
        let slots = &self.slots;
        let list = &mut self.by_pool[p][slot];
        while list.last().is_some_and(|start| !started_runs(slots, start)) {
            list.pop();
        }
        // The list is in start order: walk back one start time at a time.
        let mut end = list.len();
        let mut together = Vec::new();
        while busy > allowed_milli && end > 0 {
            let started = list[end - 1].started;
            let begin = list[..end].partition_point(|start| start.started < started);
            together.clear();
            together.extend(
                list[begin..end]
                    .iter()
                    .filter(|start| started_runs(slots, start))
                    .map(|start| start.id),
            );
            together.sort_unstable_by(|a, b| b.cmp(a));
            for &id in &together {
                if busy <= allowed_milli {
                    break;
                }
                if let Some(Some(r)) = slots.get(id as usize) {
                    busy -= u64::from(r.job.gpu_milli);
                    out.push(id);
                }
            }
            end = begin;
        }
        out
    }
}

/// Whether the job of a list entry still runs.
fn started_runs(slots: &[Option<Running>], start: &Start) -> bool {
    matches!(slots.get(start.id as usize), Some(Some(r)) if r.generation == start.generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::GpuCatalog;

    fn p3_job(gpu_milli: u16) -> JobArrival {
        JobArrival {
            arrival: SimTime::ZERO,
            work_gpu_s: 3600.0,
            limit_s: 0,
            customer: crate::demand::NO_CUSTOMER,
            gpu_milli,
            class: WorkloadClass::P3,
            gpu: None,
            limit: crate::demand::JobLimit::None,
        }
    }

    /// Dispatches P3; returns the milli-GPUs of the jobs it started, with
    /// their slab ids.
    fn dispatch(jobs: &mut Jobs, pools: &mut [GpuPool], router: &RouterConfig) -> Vec<(u16, u32)> {
        let mut ids = Vec::new();
        jobs.dispatch(
            1,
            pools,
            &[SiteSignal::default()],
            router,
            SimTime::ZERO,
            |id, _, _| {
                ids.push(id);
            },
        );
        ids.iter()
            .map(|&id| {
                (
                    jobs.slots[id as usize]
                        .as_ref()
                        .map_or(0, |r| r.job.gpu_milli),
                    id,
                )
            })
            .collect()
    }

    #[test]
    fn a_blocked_window_waits_for_its_least_need_and_no_further_job() {
        let spec = GpuCatalog::default().gpu("H100").unwrap().clone();
        let mut pools = vec![GpuPool::new(0, spec, 8, true, 0.0)];
        pools[0].ready = [0, 0, 8, 0, 0, 0];
        let router = RouterConfig::default();
        assert_eq!(window(&router), 17);
        let mut jobs = Jobs::new(&pools);
        let arrive = |jobs: &mut Jobs, pools: &mut [GpuPool], milli: u16| {
            jobs.arrive(p3_job(milli), &router);
            dispatch(jobs, pools, &router)
        };
        // 7 of 8 GPUs taken by two jobs; then sixteen 5-GPU jobs, a 2-GPU
        // job last in the window and a 1-GPU job just behind it: none may
        // start.
        let big = arrive(&mut jobs, &mut pools, 6000);
        let small = arrive(&mut jobs, &mut pools, 1000);
        assert_eq!((big.len(), small.len()), (1, 1));
        for _ in 0..16 {
            assert!(arrive(&mut jobs, &mut pools, 5000).is_empty());
        }
        assert!(arrive(&mut jobs, &mut pools, 2000).is_empty());
        assert!(arrive(&mut jobs, &mut pools, 1000).is_empty());
        assert_eq!(jobs.window_need[1], Some((2000, u64::MAX)));
        // The 1-GPU job ends: 2 GPUs free, exactly the window's least need.
        jobs.stop(small[0].1, Stop::Done, &mut pools, SimTime::ZERO);
        let started: Vec<u16> = dispatch(&mut jobs, &mut pools, &router)
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(started, vec![2000]);
        // The 6-GPU job ends: a 5-GPU job, then the 1-GPU job now in the
        // window.
        jobs.stop(big[0].1, Stop::Done, &mut pools, SimTime::ZERO);
        let started: Vec<u16> = dispatch(&mut jobs, &mut pools, &router)
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(started, vec![5000, 1000]);
        assert_eq!(jobs.queues[1].len(), 15);
        // A preempted job goes back to the head: the window changed.
        let (_, id) = (0..jobs.slots.len() as u32)
            .filter_map(|id| {
                jobs.slots[id as usize]
                    .as_ref()
                    .map(|r| (r.job.gpu_milli, id))
            })
            .find(|&(milli, _)| milli == 2000)
            .unwrap();
        jobs.stop(id, Stop::Preempted, &mut pools, SimTime::ZERO);
        assert_eq!(jobs.window_need[1], None);
        let restarted: Vec<u16> = dispatch(&mut jobs, &mut pools, &router)
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(restarted, vec![2000]);
    }
}
