//! The GPU side of the oracle: a Lagrangian bound on what the GPU fleet
//! can earn over the whole horizon from P1 inference, P2–P4 jobs and
//! rental, net of its energy.
//!
//! **The relaxed problem.** Every GPU-hour of every pool is spent busy in
//! P1, busy on a job, listed for rental, idle or off (switches take no
//! time, no GPU fails). P1 in an interval serves at most its requests: a
//! group of requests needs `gpus_busy(rate)` H100-equivalent GPUs at full
//! load and pays its tokens; fewer GPUs serve a proportional share (the
//! twin's serving model never serves more per GPU). A job customer's work
//! — the H100 GPU-hours of every job it submits over the horizon — may be
//! done at any time and on any pool (arrival times, deadlines, queue
//! limits and model pinning are dropped); a GPU-hour on pool p earns the
//! contract's price (P3, P4: per GPU-hour of occupancy; P2: tokens per
//! H100-second × speed) and uses `speed_p` H100 GPU-hours of that work.
//! SLA and preemption credits are left out (they only reduce revenue).
//!
//! **The bound.** Work constraints couple the intervals; each gets a
//! multiplier λ_c ≥ 0 (USD per H100 GPU-hour), after which the problem
//! splits into one small problem per interval (a greedy match of P1's
//! request groups, most valuable per GPU first, to the pools where a GPU's
//! next-best use is worth least — exact for its linear programme). By weak
//! duality the dual value Σ_t V_t(λ) + Σ_c λ_c W_c bounds the relaxed
//! problem for every λ ≥ 0; the multipliers are searched by a
//! per-customer step rule on every `STRIDE`-th interval, and the bound is
//! the dual evaluated on every interval at the best multipliers found.
//!
//! Units: USD per interval per GPU inside the interval problem, USD per
//! GPU-hour for prices and multipliers, H100 GPU-hours for work.

use super::super::p1::P1Group;

/// Intervals between the ones the multiplier search looks at.
const STRIDE: usize = 16;
/// Rounds of the search over every GPU model.
const ROUNDS: usize = 3;
/// Golden-section steps per model and round.
const GOLDEN_STEPS: usize = 24;

/// One pool as the bound sees it.
#[derive(Debug, Clone)]
pub(crate) struct PoolTerms {
    /// GPUs installed.
    pub(crate) gpus: f64,
    /// Job speed relative to an H100.
    pub(crate) speed: f64,
    /// Index of the site (for its price and PUE).
    pub(crate) site: usize,
    /// Facility W per GPU: off, idle, full load, rented.
    pub(crate) off_w: f64,
    pub(crate) idle_w: f64,
    pub(crate) full_w: f64,
    pub(crate) rented_w: f64,
    /// Rental revenue per listed GPU-hour, per interval (occupancy and fee
    /// applied); empty when the market lists no price for the model.
    pub(crate) rental_usd_per_h: Vec<f64>,
}

/// A job customer: its work and what a GPU-hour of it earns per pool.
#[derive(Debug, Clone)]
pub(crate) struct JobCustomer {
    /// H100 GPU-hours submitted over the horizon.
    pub(crate) work_h100_h: f64,
    /// USD per GPU-hour on each pool.
    pub(crate) usd_per_gpu_h: Vec<f64>,
}

/// Everything the GPU bound reads, prepared once per tape.
#[derive(Debug, Clone)]
pub(crate) struct GpuTerms {
    pub(crate) pools: Vec<PoolTerms>,
    pub(crate) customers: Vec<JobCustomer>,
    /// Per interval and P1 group: (USD per H100-equivalent GPU over the
    /// interval if fully served, H100-equivalent GPUs busy), most valuable
    /// first; groups with no requests left out.
    pub(crate) p1: Vec<Vec<(f64, f64)>>,
    /// Site prices per interval, USD/MWh (site order).
    pub(crate) prices: Vec<Vec<f64>>,
    /// Site PUEs.
    pub(crate) pue: Vec<f64>,
    /// Interval length, hours.
    pub(crate) hours: f64,
}

/// P1's per-interval terms of `groups`: `revenue(g, i)` is what group g's
/// requests of interval i pay if all are served, USD.
pub(crate) fn p1_terms(
    groups: &[P1Group],
    intervals: usize,
    rate: impl Fn(usize, usize) -> f64,
    revenue: impl Fn(usize, usize) -> f64,
) -> Vec<Vec<(f64, f64)>> {
    (0..intervals)
        .map(|i| {
            let mut terms: Vec<(f64, f64)> = groups
                .iter()
                .enumerate()
                .filter_map(|(g, group)| {
                    let busy = group.gpus_busy(rate(g, i));
                    let usd = revenue(g, i);
                    (busy > 0.0 && usd > 0.0).then(|| (usd / busy, busy))
                })
                .collect();
            terms.sort_by(|a, b| b.0.total_cmp(&a.0));
            terms
        })
        .collect()
}

impl GpuTerms {
    /// The Lagrangian bound over the whole horizon.
    ///
    /// The interval problems see the multipliers only through what a job
    /// GPU-hour is worth on each pool, J_p = max_c(α_c(p) − λ_c·speed_p);
    /// for given values J the least multipliers are
    /// λ_c = max(0, max_p (α_c(p) − J_p) / speed_p). The search is
    /// therefore over J, one value per GPU model (pools of equal speed
    /// share it): a few rounds of golden-section search per model, each
    /// dual evaluated on every `STRIDE`-th interval.
    pub(crate) fn bound(&self) -> f64 {
        let mut models: Vec<f64> = Vec::new();
        for pool in &self.pools {
            if !models.contains(&pool.speed) {
                models.push(pool.speed);
            }
        }
        let top = self
            .customers
            .iter()
            .flat_map(|c| c.usd_per_gpu_h.iter().copied())
            .fold(0.0_f64, f64::max);
        let mut values = vec![top; models.len()];
        let share = 1.0 / STRIDE as f64;
        let at = |values: &[f64], stride: usize, share: f64| {
            self.dual(&self.multipliers(&models, values), stride, share)
        };
        for _ in 0..ROUNDS {
            for m in 0..models.len() {
                // Golden-section search of J_m over [0, top].
                let (mut lo, mut hi) = (0.0, top);
                let ratio = (5.0_f64.sqrt() - 1.0) / 2.0;
                let probe = |x: f64, values: &mut Vec<f64>| {
                    values[m] = x;
                    at(values, STRIDE, share)
                };
                let (mut a, mut b) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
                let (mut fa, mut fb) = (probe(a, &mut values), probe(b, &mut values));
                for _ in 0..GOLDEN_STEPS {
                    if fa <= fb {
                        hi = b;
                        (b, fb) = (a, fa);
                        a = hi - ratio * (hi - lo);
                        fa = probe(a, &mut values);
                    } else {
                        lo = a;
                        (a, fa) = (b, fb);
                        b = lo + ratio * (hi - lo);
                        fb = probe(b, &mut values);
                    }
                }
                values[m] = if fa <= fb { a } else { b };
            }
        }
        at(&values, 1, 1.0)
    }

    /// The least multipliers that hold a job GPU-hour on each pool to its
    /// model's value in `values` (`models` lists the speeds).
    fn multipliers(&self, models: &[f64], values: &[f64]) -> Vec<f64> {
        self.customers
            .iter()
            .map(|c| {
                c.usd_per_gpu_h
                    .iter()
                    .zip(&self.pools)
                    .map(|(&usd, pool)| {
                        let m = models.iter().position(|&s| s == pool.speed).unwrap_or(0);
                        (usd - values[m]) / pool.speed
                    })
                    .fold(0.0_f64, f64::max)
            })
            .collect()
    }

    /// The dual value at `lambda` over every `stride`-th interval, the
    /// work scaled by `share`.
    fn dual(&self, lambda: &[f64], stride: usize, share: f64) -> f64 {
        // What a job GPU-hour is worth on each pool at these multipliers.
        let jobs: Vec<f64> = (0..self.pools.len())
            .map(|p| {
                let speed = self.pools[p].speed;
                self.customers
                    .iter()
                    .zip(lambda)
                    .filter(|(c, _)| c.work_h100_h > 0.0)
                    .map(|(c, &l)| c.usd_per_gpu_h[p] - l * speed)
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let mut value: f64 = self
            .customers
            .iter()
            .zip(lambda)
            .map(|(c, &l)| l * c.work_h100_h * share)
            .sum();
        // (cost of an H100-equivalent of P1, H100-equivalents) per pool.
        let mut pools: Vec<(f64, f64)> = Vec::with_capacity(self.pools.len());
        for i in (0..self.p1.len()).step_by(stride) {
            pools.clear();
            for (pool, &job) in self.pools.iter().zip(&jobs) {
                let per_w = self.prices[pool.site][i] * self.pue[pool.site] / 1e6 * self.hours;
                let rental = pool.rental_usd_per_h.get(i).copied().unwrap_or(0.0) * self.hours;
                let alt = (-per_w * pool.off_w)
                    .max(-per_w * pool.idle_w)
                    .max(rental - per_w * pool.rented_w)
                    .max(job * self.hours - per_w * pool.full_w);
                value += alt * pool.gpus;
                // A P1 GPU costs its energy plus the use it leaves.
                let cost = (per_w * pool.full_w + alt) / pool.speed;
                pools.push((cost, pool.gpus * pool.speed));
            }
            pools.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Match the most valuable requests with the cheapest GPUs.
            let mut groups = self.p1[i].iter().copied();
            let mut group = groups.next();
            let mut left_group = group.map_or(0.0, |g| g.1);
            for &(cost, units) in &pools {
                let mut left = units;
                while left > 0.0 {
                    let Some((usd_per_unit, _)) = group else {
                        break;
                    };
                    if usd_per_unit <= cost {
                        break;
                    }
                    let take = left.min(left_group);
                    value += take * (usd_per_unit - cost);
                    left -= take;
                    left_group -= take;
                    if left_group <= 0.0 {
                        group = groups.next();
                        left_group = group.map_or(0.0, |g| g.1);
                    }
                }
            }
        }
        value
    }
}
