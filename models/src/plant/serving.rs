//! The P1 serving model: the latency a real-time inference customer sees is
//! the wait for a serving slot — the queueing delay before the request joins
//! a running batch — not the decode time, which the contract prices per
//! token.
//!
//! A model's serving pool has `replicas × concurrency_per_replica` slots;
//! each request holds a slot for its generation time (output tokens ÷ the
//! per-sequence decode rate). Arrivals are Poisson at the interval's rate,
//! so the pool is an M/G/c queue. Its wait is the M/M/c (Erlang C) wait
//! corrected for non-exponential service by Allen–Cunneen: the probability
//! of waiting stays Erlang C, the conditional wait stays exponential, and
//! its mean is scaled by (1 + C_s²)/2, so
//! p99 = (1 + C_s²)/2 · ln(C / 0.01) / (cμ − λ) when C > 1 %, else 0.
//!
//! Beyond a utilisation of [`RHO_MAX`] the pool is overloaded: it serves
//! `RHO_MAX` of its capacity (the router sheds the rest rather than let the
//! queue grow without bound) and the wait is infinite.
//!
//! Units: rates per second, waits in milliseconds.

use hcp_engine::queueing::closed_form::erlang_c;
use statrs::function::gamma::{gamma_ur, ln_gamma};

use super::inference::InferenceSpec;
use crate::demand::{QUANTILE_PROBS, QuantileTable};

/// Highest sustained utilisation of a serving pool; beyond it requests are
/// shed.
pub const RHO_MAX: f64 = 0.98;

/// Share of requests allowed above the reported wait (p99).
const TAIL: f64 = 0.01;

/// Pools up to this many slots use the engine's Erlang B recursion (O(c));
/// larger ones the incomplete-gamma form (O(√c)).
const RECURSION_MAX_SLOTS: u32 = 2_000;

/// A serving pool of one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServingPool {
    /// Sequences that can run at once (replicas × concurrency per replica).
    pub slots: u32,
    /// Requests per second one slot completes (decode rate ÷ mean tokens).
    pub slot_service_rate_per_s: f64,
    /// Squared coefficient of variation of the service time (that of the
    /// output-token count).
    pub service_scv: f64,
}

/// What a pool does in one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServingOutcome {
    /// Requests served per second.
    pub served_per_s: f64,
    /// Requests shed per second.
    pub dropped_per_s: f64,
    /// Share of slots busy.
    pub utilisation: f64,
    /// 99th percentile of the wait for a slot, ms (`f64::INFINITY` when
    /// overloaded).
    pub p99_wait_ms: f64,
}

/// Mean and squared coefficient of variation of a token count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenMoments {
    /// Mean tokens per request.
    pub mean: f64,
    /// Variance ÷ mean².
    pub scv: f64,
}

impl TokenMoments {
    /// The exact moments of a [`QuantileTable`] (piecewise-linear quantile
    /// function: E\[X²\] = Σ Δp·(q₀² + q₀q₁ + q₁²)/3).
    pub fn of(table: &QuantileTable) -> TokenMoments {
        let mean = table.mean();
        let second: f64 = table
            .0
            .windows(2)
            .zip(QUANTILE_PROBS.windows(2))
            .map(|(q, p)| (p[1] - p[0]) * (q[0] * q[0] + q[0] * q[1] + q[1] * q[1]) / 3.0)
            .sum();
        TokenMoments {
            mean,
            scv: (second / (mean * mean) - 1.0).max(0.0),
        }
    }
}

impl ServingPool {
    /// The pool of `replicas` replicas of `spec` serving requests whose
    /// output tokens have `tokens` moments.
    pub fn new(spec: &InferenceSpec, replicas: u32, tokens: TokenMoments) -> ServingPool {
        ServingPool {
            slots: replicas.saturating_mul(spec.concurrency_per_replica),
            slot_service_rate_per_s: spec.sequence_tokens_per_s() / tokens.mean,
            service_scv: tokens.scv,
        }
    }

    /// Requests per second the pool completes with every slot busy.
    #[inline]
    pub fn capacity_per_s(&self) -> f64 {
        f64::from(self.slots) * self.slot_service_rate_per_s
    }
}

/// The pool's outcome at `arrival_rate_per_s` (O(1) away from saturation).
pub fn serve(pool: &ServingPool, arrival_rate_per_s: f64) -> ServingOutcome {
    let lambda = arrival_rate_per_s;
    if lambda.is_nan() || lambda <= 0.0 {
        return ServingOutcome {
            served_per_s: 0.0,
            dropped_per_s: 0.0,
            utilisation: 0.0,
            p99_wait_ms: 0.0,
        };
    }
    let mu = pool.slot_service_rate_per_s;
    let capacity = pool.capacity_per_s();
    if capacity == f64::INFINITY && pool.slots > 0 {
        // Requests that take no time: served at once.
        return ServingOutcome {
            served_per_s: lambda,
            dropped_per_s: 0.0,
            utilisation: 0.0,
            p99_wait_ms: 0.0,
        };
    }
    let usable = capacity.is_finite() && capacity > 0.0;
    if !usable || lambda >= RHO_MAX * capacity {
        let served = if usable { RHO_MAX * capacity } else { 0.0 };
        return ServingOutcome {
            served_per_s: served,
            dropped_per_s: lambda - served,
            utilisation: if usable { RHO_MAX } else { 0.0 },
            p99_wait_ms: f64::INFINITY,
        };
    }
    let a = lambda / mu;
    let c = f64::from(pool.slots);
    let p99_wait_ms = if c - a > 6.0 * a.sqrt() + 10.0
        || (pool.slots <= RECURSION_MAX_SLOTS && erlang_c_at_most(pool.slots, a, SCREEN * TAIL))
    {
        0.0
    } else {
        let wait = prob_wait(pool.slots, a);
        if wait <= TAIL {
            0.0
        } else {
            0.5 * (1.0 + pool.service_scv) * (wait / TAIL).ln() / (capacity - lambda) * 1_000.0
        }
    };
    ServingOutcome {
        served_per_s: lambda,
        dropped_per_s: 0.0,
        utilisation: a / c,
        p99_wait_ms,
    }
}

/// Share of [`TAIL`] below which [`erlang_c_at_most`] lets [`serve`] skip
/// the exact Erlang C: the margin covers the rounding of the bound and of
/// the recursion (both well under 10⁻¹¹ relative up to
/// [`RECURSION_MAX_SLOTS`] slots), so the skip never changes a result.
const SCREEN: f64 = 0.999;

/// Whether Erlang C of `slots` servers at offered load `a` (0 < a < slots)
/// is certainly at most `limit`, by a bound that is usually far cheaper
/// than the exact O(c) recursion (one multiplication per term, no
/// division, and it stops as soon as it decides).
///
/// For N ~ Poisson(a), Erlang B = P(N = c) / P(N ≤ c) and
/// P(N ≤ c) / P(N = c) = Σ_{j=0..c} Π_{i<j} (c − i)/a; every partial sum
/// S of that series is a lower bound, so B ≤ 1/S. Erlang C = cB/(c − a + aB)
/// grows with B, so C ≤ `limit` once B ≤ B* = limit·(c − a)/(c − limit·a),
/// that is once S ≥ 1/B*. `false` means "not shown", not "above".
fn erlang_c_at_most(slots: u32, a: f64, limit: f64) -> bool {
    let c = f64::from(slots);
    if !(a > 0.0 && a < c && limit > 0.0 && limit < 1.0) {
        return false;
    }
    let need = (c - limit * a) / (limit * (c - a));
    let inv_a = 1.0 / a;
    let (mut term, mut sum, mut k) = (1.0_f64, 1.0_f64, c);
    while k >= 1.0 {
        term *= k * inv_a;
        sum += term;
        if sum >= need {
            return true;
        }
        // Past the mode the terms only shrink: stop once they no longer count.
        if k < a && term < sum * 1e-17 {
            return false;
        }
        k -= 1.0;
    }
    false
}

/// Erlang C: the probability that an arrival waits, for `slots` servers at
/// offered load `a` < slots.
pub fn prob_wait(slots: u32, a: f64) -> f64 {
    if slots <= RECURSION_MAX_SLOTS {
        return erlang_c(slots, a);
    }
    // Erlang B = P(N = c) / P(N ≤ c) for N ~ Poisson(a), and
    // P(N ≤ c) = Q(c + 1, a), the regularised upper incomplete gamma.
    let c = f64::from(slots);
    let b = (c * a.ln() - a - ln_gamma(c + 1.0)).exp() / gamma_ur(c + 1.0, a);
    c * b / (c - a * (1.0 - b))
}

#[cfg(test)]
mod tests {
    use hcp_engine::queueing::closed_form::MmcQueue;

    use super::*;

    fn pool(slots: u32, scv: f64) -> ServingPool {
        ServingPool {
            slots,
            slot_service_rate_per_s: 0.5,
            service_scv: scv,
        }
    }

    #[test]
    fn exponential_service_gives_the_mmc_quantile() {
        let p = pool(16, 1.0);
        let lambda = 0.9 * p.capacity_per_s();
        let reference = MmcQueue::new(lambda, 0.5, 16).unwrap().wait_quantile(0.99) * 1e3;
        let got = serve(&p, lambda);
        assert!(
            (got.p99_wait_ms - reference).abs() < 1e-9 * reference,
            "{got:?} vs {reference}"
        );
        assert!((got.utilisation - 0.9).abs() < 1e-12);
        // Deterministic service halves the wait's scale (Allen–Cunneen).
        let det = serve(&pool(16, 0.0), lambda);
        assert!((det.p99_wait_ms - 0.5 * reference).abs() < 1e-9 * reference);
    }

    #[test]
    fn far_from_saturation_waits_nothing() {
        let p = pool(10_000, 4.0);
        let got = serve(&p, 0.5 * p.capacity_per_s());
        assert_eq!(got.p99_wait_ms, 0.0);
        assert_eq!(got.dropped_per_s, 0.0);
        assert_eq!(serve(&p, 0.0).served_per_s, 0.0);
    }

    #[test]
    fn overload_sheds_above_the_margin() {
        let p = pool(64, 1.0);
        let got = serve(&p, 2.0 * p.capacity_per_s());
        assert!(got.p99_wait_ms.is_infinite());
        assert!((got.served_per_s - RHO_MAX * 32.0).abs() < 1e-9);
        assert!((got.served_per_s + got.dropped_per_s - 64.0).abs() < 1e-9);
        let none = serve(&pool(0, 1.0), 1.0);
        assert_eq!((none.served_per_s, none.dropped_per_s), (0.0, 1.0));
        let broken = ServingPool {
            slot_service_rate_per_s: f64::NAN,
            ..pool(8, 1.0)
        };
        assert_eq!(serve(&broken, 1.0).served_per_s, 0.0);
        let instant = ServingPool {
            slot_service_rate_per_s: f64::INFINITY,
            ..pool(8, 1.0)
        };
        assert_eq!(serve(&instant, 5.0).p99_wait_ms, 0.0);
    }

    #[test]
    fn incomplete_gamma_form_matches_the_recursion() {
        for (c, rho) in [(2_001u32, 0.99), (5_000, 0.995), (40_000, 0.999)] {
            let a = rho * f64::from(c);
            let (fast, exact) = (prob_wait(c, a), erlang_c(c, a));
            assert!(
                (fast - exact).abs() < 1e-6 * exact,
                "c = {c}: {fast} vs {exact}"
            );
        }
    }

    /// `serve` as it was before the Erlang C screen: exact Erlang C always.
    fn serve_unscreened(pool: &ServingPool, lambda: f64) -> ServingOutcome {
        let got = serve(pool, lambda);
        let a = lambda / pool.slot_service_rate_per_s;
        let c = f64::from(pool.slots);
        if got.p99_wait_ms.is_infinite() || lambda <= 0.0 || c - a > 6.0 * a.sqrt() + 10.0 {
            return got;
        }
        let wait = prob_wait(pool.slots, a);
        let p99_wait_ms = if wait <= TAIL {
            0.0
        } else {
            0.5 * (1.0 + pool.service_scv) * (wait / TAIL).ln() / (pool.capacity_per_s() - lambda)
                * 1_000.0
        };
        ServingOutcome { p99_wait_ms, ..got }
    }

    #[test]
    fn the_erlang_c_screen_never_changes_an_outcome() {
        let mut skipped = 0;
        let mut total = 0;
        for slots in (1..=120).chain((130..=2_000).step_by(29)) {
            let p = pool(slots, 1.7);
            for step in 1..400 {
                let lambda = p.capacity_per_s() * f64::from(step) / 400.0;
                let a = lambda / p.slot_service_rate_per_s;
                total += 1;
                if erlang_c_at_most(slots, a, SCREEN * TAIL) {
                    skipped += 1;
                    assert!(
                        erlang_c(slots, a) <= SCREEN * TAIL * (1.0 + 1e-9),
                        "c = {slots}, a = {a}"
                    );
                }
                let (got, want) = (serve(&p, lambda), serve_unscreened(&p, lambda));
                assert_eq!(got.p99_wait_ms.to_bits(), want.p99_wait_ms.to_bits());
                assert_eq!(got, want);
            }
        }
        // The screen decides most of the loads below saturation.
        assert!(skipped * 2 > total, "{skipped} of {total}");
    }

    #[test]
    fn the_erlang_c_screen_decides_square_root_staffing() {
        // c = a + 2.6·√a (the router's staffing rule): C ≈ 0.5 %, under 1 %.
        for (c, a) in [
            (10_u32, 4.0_f64),
            (69, 50.0),
            (452, 400.0),
            (1_601, 1_500.0),
        ] {
            assert_eq!(f64::from(c), (a + 2.6 * a.sqrt()).ceil());
            assert!(erlang_c(c, a) < SCREEN * TAIL);
            assert!(erlang_c_at_most(c, a, SCREEN * TAIL), "a = {a}");
        }
        // At c = a + √a, C ≈ 22 %: the bound cannot show 1 %.
        assert!(!erlang_c_at_most(1_032, 1_000.0, SCREEN * TAIL));
        assert!(!erlang_c_at_most(10, 12.0, 0.5));
    }

    #[test]
    fn token_moments_are_exact_for_a_uniform_table() {
        let table = QuantileTable(QUANTILE_PROBS.iter().map(|p| 100.0 * p).collect());
        let m = TokenMoments::of(&table);
        assert!((m.mean - 50.0).abs() < 1e-9);
        // Uniform on [0, 100]: variance 100²/12, scv = 1/3.
        assert!((m.scv - 1.0 / 3.0).abs() < 1e-9, "{m:?}");
    }
}
