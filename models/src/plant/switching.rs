//! The switching state machine of a GPU (or slice) moving between workload
//! classes: five timed phases — pause, save state, context switch, activate
//! (from pre-warmed memory) and health check — each log-normal, whose sum
//! reproduces the reference totals p50 ≈ 442 ms and p99 ≈ 681 ms.
//!
//! Without pre-warming, the activate phase is replaced by a cold load of the
//! model or job image, uniform on `cold_start_ms` (5–12 s: only the range is
//! known, so every value in it is taken as equally likely).
//!
//! The phases' medians share a fixed split of the total and a common σ; the
//! scale and σ are fitted by deterministic Monte Carlo ([`fit_phases`]) and
//! shipped in `models/params/gpu.toml`. Every draw is capped at its
//! median·e^{5σ} (a 1-in-3.5-million normal tail), which bounds a switch
//! ([`SwitchingParams::max_total`]). Units: milliseconds in parameters,
//! [`SimDuration`] (integer µs) in samples, joules for energy.

use hcp_engine::rng::StreamRng;
use hcp_engine::time::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::gpu::{GpuSpec, GpuSpecError};
use crate::describe::quantile_sorted;

/// The phases, in order.
pub const PHASES: [&str; 5] = [
    "pause",
    "save_state",
    "context_switch",
    "activate",
    "health_check",
];

/// Index of the activate phase (replaced by a cold load when not pre-warmed).
pub const ACTIVATE: usize = 3;

/// Standard-normal cap of a phase draw: a phase never exceeds median·e^{TAIL_Z·σ}.
pub const TAIL_Z: f64 = 5.0;

/// One log-normal phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseParams {
    /// The phase's name (one of [`PHASES`], in order).
    pub name: String,
    /// Median duration, ms.
    pub median_ms: f64,
    /// σ of the log of the duration.
    pub sigma: f64,
}

/// The switching phases and the cold start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchingParams {
    /// The five phases, in the order of [`PHASES`].
    pub phases: Vec<PhaseParams>,
    /// Range of the cold load that replaces activate when not pre-warmed, ms.
    pub cold_start_ms: [f64; 2],
}

/// One simulated switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchSample {
    /// Duration of each phase, in the order of [`PHASES`].
    pub phases: [SimDuration; 5],
    /// Their sum.
    pub total: SimDuration,
}

/// The outcome of [`fit_phases`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseFit {
    /// Sum of the phases' medians, ms.
    pub scale_ms: f64,
    /// The common σ.
    pub sigma: f64,
}

impl SwitchingParams {
    /// Draws one switch from `rng` (five standard normals, plus one uniform
    /// when cold); allocates nothing.
    pub fn sample(&self, rng: &mut StreamRng, prewarmed: bool) -> SwitchSample {
        let mut phases = [SimDuration::ZERO; 5];
        let mut total = SimDuration::ZERO;
        for (i, (slot, p)) in phases.iter_mut().zip(&self.phases).enumerate() {
            let z: f64 = StandardNormal.sample(rng);
            let ms = if i == ACTIVATE && !prewarmed {
                let [lo, hi] = self.cold_start_ms;
                lo + (hi - lo) * rng.random::<f64>()
            } else {
                p.median_ms * (p.sigma * z.min(TAIL_Z)).exp()
            };
            *slot = SimDuration::from_secs_f64(ms / 1_000.0);
            total += *slot;
        }
        SwitchSample { phases, total }
    }

    /// The longest possible switch: every phase at its cap (the cold load at
    /// the top of its range).
    pub fn max_total(&self, prewarmed: bool) -> SimDuration {
        let mut total = SimDuration::ZERO;
        for (i, p) in self.phases.iter().enumerate() {
            let ms = if i == ACTIVATE && !prewarmed {
                self.cold_start_ms[1]
            } else {
                p.median_ms * (p.sigma * TAIL_Z).exp()
            };
            total += SimDuration::from_secs_f64(ms / 1_000.0);
        }
        total
    }

    pub(super) fn validate(&self) -> Result<(), GpuSpecError> {
        let fail = |problem: String| {
            Err(GpuSpecError::Invalid {
                what: "switching".into(),
                problem,
            })
        };
        let names: Vec<&str> = self.phases.iter().map(|p| p.name.as_str()).collect();
        if names != PHASES {
            return fail(format!(
                "phases must be {PHASES:?} in order, found {names:?}"
            ));
        }
        for p in &self.phases {
            let ok = p.median_ms.is_finite() && p.median_ms > 0.0;
            if !ok || !p.sigma.is_finite() || p.sigma < 0.0 {
                return fail(format!(
                    "phase {}: median_ms must be positive and sigma non-negative",
                    p.name
                ));
            }
        }
        let [lo, hi] = self.cold_start_ms;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
            return fail(format!(
                "cold_start_ms [{lo}, {hi}] is not a positive range"
            ));
        }
        Ok(())
    }
}

/// Energy of a switch, J: the GPU and its server share draw the wall power
/// at half utilisation — midway between idle and full load, since memory
/// copies and kernel launches keep the GPU partly busy while it serves
/// nothing — for the whole switch.
#[inline]
pub fn switch_energy_j(spec: &GpuSpec, total: SimDuration) -> f64 {
    spec.power_per_gpu_w(0.5) * total.as_secs_f64()
}

/// Fits the scale and common σ of five log-normal phases with the given
/// shares of the total median so that the sum has quantiles `p50_ms` and
/// `p99_ms`, by deterministic Monte Carlo on `samples` draws per phase from
/// `rng`: the ratio p99/p50 of the sum grows with σ (bisection), and the sum
/// scales linearly with the medians.
///
/// Returns `None` if the target ratio cannot be reached with σ ≤ 3 or the
/// inputs are not positive.
pub fn fit_phases(
    shares: &[f64; 5],
    p50_ms: f64,
    p99_ms: f64,
    samples: usize,
    rng: &mut StreamRng,
) -> Option<PhaseFit> {
    let total: f64 = shares.iter().sum();
    let valid = p50_ms > 0.0 && p99_ms > p50_ms && total > 0.0;
    if samples < 100 || !valid {
        return None;
    }
    let z: Vec<[f64; 5]> = (0..samples)
        .map(|_| std::array::from_fn(|_| StandardNormal.sample(rng)))
        .collect();
    let mut sums = vec![0.0; samples];
    let mut quantiles = |sigma: f64| {
        for (s, zi) in sums.iter_mut().zip(&z) {
            *s = shares
                .iter()
                .zip(zi)
                .map(|(w, z)| w / total * (sigma * z.min(TAIL_Z)).exp())
                .sum();
        }
        sums.sort_unstable_by(f64::total_cmp);
        (quantile_sorted(&sums, 0.50), quantile_sorted(&sums, 0.99))
    };
    let target = p99_ms / p50_ms;
    let (mut lo, mut hi) = (0.0, 3.0);
    let (a, b) = quantiles(hi);
    if b / a < target {
        return None;
    }
    for _ in 0..32 {
        let mid = f64::midpoint(lo, hi);
        let (a, b) = quantiles(mid);
        if b / a < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let sigma = f64::midpoint(lo, hi);
    let (median, _) = quantiles(sigma);
    Some(PhaseFit {
        scale_ms: p50_ms / median,
        sigma,
    })
}

#[cfg(test)]
mod tests {
    use hcp_engine::rng::{RngStreams, StreamId};

    use super::*;
    use crate::plant::gpu::GpuCatalog;

    /// Stream of the fit's draws.
    const FIT_STREAM: StreamId = StreamId::named("gpu/switch_fit");

    #[test]
    fn shipped_phases_are_the_fit_of_the_reference_totals() {
        let params = GpuCatalog::default().switching;
        let shares: [f64; 5] = std::array::from_fn(|i| params.phases[i].median_ms);
        let mut rng = RngStreams::new(1, 0).stream(FIT_STREAM);
        let fit = fit_phases(&shares, 442.0, 681.0, 200_000, &mut rng).unwrap();
        let shipped: f64 = shares.iter().sum();
        assert!(
            (fit.scale_ms - shipped).abs() < 0.01 * shipped,
            "{fit:?} vs {shipped}"
        );
        for p in &params.phases {
            assert!(
                (p.sigma - fit.sigma).abs() < 0.01 * fit.sigma,
                "{fit:?} vs {p:?}"
            );
        }
    }

    #[test]
    fn unreachable_targets_give_no_fit() {
        let mut rng = RngStreams::new(1, 0).stream(FIT_STREAM);
        assert!(fit_phases(&[1.0; 5], 442.0, 400.0, 1_000, &mut rng).is_none());
        assert!(fit_phases(&[1.0; 5], 442.0, 1e9, 1_000, &mut rng).is_none());
    }

    #[test]
    fn samples_sum_their_phases_and_respect_the_cap() {
        let params = GpuCatalog::default().switching;
        let mut rng = RngStreams::new(3, 0).stream(StreamId::named("gpu/switch"));
        for prewarmed in [true, false] {
            let cap = params.max_total(prewarmed);
            for _ in 0..10_000 {
                let s = params.sample(&mut rng, prewarmed);
                let sum = s.phases.iter().fold(SimDuration::ZERO, |a, &b| a + b);
                assert_eq!(sum, s.total);
                assert!(s.total <= cap, "{s:?} > {cap}");
            }
        }
    }

    #[test]
    fn phases_out_of_order_are_refused() {
        let mut params = GpuCatalog::default().switching;
        params.phases.swap(0, 1);
        let err = params.validate().unwrap_err().to_string();
        assert!(err.contains("phases must be"), "{err}");
        let mut params = GpuCatalog::default().switching;
        params.cold_start_ms = [12_000.0, 5_000.0];
        assert!(params.validate().is_err());
    }
}
