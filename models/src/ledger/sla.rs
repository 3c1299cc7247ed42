//! Monthly SLA attainment and the credit it earns the customer.
//!
//! Attainment is a weighted share, in percent: P1 posts one outcome per
//! interval weighted by the interval's requests (met = the interval's p99
//! wait was within the contract's p99 target), so attainment is the share of
//! requests served in intervals that met the target; P2 posts one outcome
//! of weight 1 per finished job (met = done by its deadline), so attainment
//! is the share of jobs on time.
//!
//! The credit rule ([`credit_pct`]): a month with no outcome, or whose
//! attainment reaches the contract target (P1's `attainment_pct`; P2 has
//! none), earns no credit. Otherwise the credit is the `credit_pct` of the
//! *lowest* band reached — among the bands whose `below_pct` the attainment
//! falls strictly below, the one with the smallest `below_pct` — whatever
//! order the bands are listed in. With P1's bands (99 → 10 %, 95 → 30 %,
//! 90 → 100 %), 98.5 % earns 10 %, 92 % earns 30 % and 85 % earns 100 %.

use crate::demand::{CreditBand, Sla};

use super::stream::CompensatedSum;

/// Weighted SLA outcomes of one customer in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attainment {
    total: CompensatedSum,
    met: CompensatedSum,
}

impl Attainment {
    /// Records one outcome of weight `weight` (requests or jobs).
    #[inline]
    pub fn record(&mut self, weight: f64, met: bool) {
        self.total.add(weight);
        if met {
            self.met.add(weight);
        }
    }

    /// Total weight recorded.
    pub fn weight(&self) -> f64 {
        self.total.value()
    }

    /// Attainment, %; `None` when no positive weight was recorded.
    pub fn pct(&self) -> Option<f64> {
        let total = self.total.value();
        (total > 0.0).then(|| 100.0 * self.met.value() / total)
    }
}

/// The contract's attainment target, %: P1's `attainment_pct`; `None` for
/// the other classes (their bands alone decide).
pub fn target_pct(sla: &Sla) -> Option<f64> {
    match *sla {
        Sla::Latency { attainment_pct, .. } => Some(attainment_pct),
        Sla::Deadline { .. } | Sla::Checkpoint { .. } | Sla::BestEffort => None,
    }
}

/// Credit owed, % of the month's gross usage revenue, for `attainment`
/// (%, `None` = no outcome) against `target` and the credit `bands`
/// (the rule in the module docs).
pub fn credit_pct(bands: &[CreditBand], target: Option<f64>, attainment: Option<f64>) -> f64 {
    let Some(a) = attainment else {
        return 0.0;
    };
    if target.is_some_and(|t| a >= t) {
        return 0.0;
    }
    bands
        .iter()
        .filter(|b| a < b.below_pct)
        .min_by(|x, y| {
            x.below_pct
                .total_cmp(&y.below_pct)
                .then(y.credit_pct.total_cmp(&x.credit_pct))
        })
        .map_or(0.0, |b| b.credit_pct)
}
