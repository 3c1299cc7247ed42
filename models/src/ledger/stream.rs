//! The money streams of a twin run and their compensated totals.
//!
//! Every dollar the ledger books belongs to one [`Stream`]: seven revenue
//! streams (BTC mined, three AI classes, GPU rental, demand response,
//! ancillary services) and three cost streams (energy, SLA credits,
//! preemption credits). Amounts are USD; costs are held as positive amounts
//! (energy bought at a negative price is a negative cost).
//!
//! Totals are kept in a [`CompensatedSum`] (Neumaier's variant of Kahan
//! summation): a year of 10^7 postings of mixed magnitude sums to within a
//! few units in the last place of the exact total, so the books balance to
//! far better than 1e-9 relative whatever order the postings arrive in.

use serde::{Deserialize, Serialize};

/// A stream of money of a twin run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Pool payouts for hashing (PPS, net of the pool fee), USD at the
    /// interval's BTC price.
    BtcMined,
    /// P1 real-time and P2 batch inference, billed per token.
    AiInference,
    /// P3 training, billed per GPU-hour.
    AiTraining,
    /// P4 interruptible work, billed per GPU-hour.
    AiInterruptible,
    /// Idle GPUs let on the rental market.
    GpuRental,
    /// Demand-response payments from the grid.
    DemandResponse,
    /// Ancillary-service payments (reserves, regulation).
    Ancillary,
    /// Electricity bought (cost; negative when prices are).
    Energy,
    /// SLA credits owed to customers for missed attainment (cost).
    SlaCredits,
    /// P3 progress lost to operator preemptions, refunded (cost).
    PreemptionCredits,
}

impl Stream {
    /// Every stream, revenue first, in a fixed order (the ledger's array index).
    pub const ALL: [Stream; 10] = [
        Stream::BtcMined,
        Stream::AiInference,
        Stream::AiTraining,
        Stream::AiInterruptible,
        Stream::GpuRental,
        Stream::DemandResponse,
        Stream::Ancillary,
        Stream::Energy,
        Stream::SlaCredits,
        Stream::PreemptionCredits,
    ];

    /// Whether the stream is revenue (otherwise it is a cost).
    pub fn is_revenue(self) -> bool {
        !matches!(
            self,
            Stream::Energy | Stream::SlaCredits | Stream::PreemptionCredits
        )
    }

    /// Stable snake_case name (the serde name; column stem of result files).
    pub fn name(self) -> &'static str {
        match self {
            Stream::BtcMined => "btc_mined",
            Stream::AiInference => "ai_inference",
            Stream::AiTraining => "ai_training",
            Stream::AiInterruptible => "ai_interruptible",
            Stream::GpuRental => "gpu_rental",
            Stream::DemandResponse => "demand_response",
            Stream::Ancillary => "ancillary",
            Stream::Energy => "energy",
            Stream::SlaCredits => "sla_credits",
            Stream::PreemptionCredits => "preemption_credits",
        }
    }

    /// Position in [`Stream::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A running sum with Neumaier compensation: the rounding error of every
/// addition is carried in a second term, so the result is as accurate as if
/// it had been summed in twice the precision.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds `x`. Adding zero (either sign) is skipped: on a finite sum it
    /// changes neither term (neither is ever −0), so it is a no-op anyway,
    /// and usage postings carry zeros in most of their fields.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x == 0.0 && self.sum.is_finite() {
            return;
        }
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated total.
    #[inline]
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::CompensatedSum;

    /// Neumaier's step as written, without the zero skip.
    fn add_always(s: &mut CompensatedSum, x: f64) {
        let t = s.sum + x;
        if s.sum.abs() >= x.abs() {
            s.compensation += (s.sum - t) + x;
        } else {
            s.compensation += (x - t) + s.sum;
        }
        s.sum = t;
    }

    #[test]
    fn skipping_zeros_leaves_both_terms_bit_identical() {
        let values = [
            0.0, -0.0, 1e16, 0.0, 1.0, -0.0, -1e16, 0.0, -1.0, -0.0, 0.1, 1e-300, 0.0, -0.1,
            -1e-300, -0.0, 3.5, -3.5, 0.0,
        ];
        let (mut skipping, mut always) = (CompensatedSum::default(), CompensatedSum::default());
        for (i, &x) in values.iter().cycle().take(1_000).enumerate() {
            let x = x * (1.0 + i as f64 * 1e-3);
            skipping.add(x);
            add_always(&mut always, x);
            assert_eq!(skipping.sum.to_bits(), always.sum.to_bits(), "step {i}");
            assert_eq!(
                skipping.compensation.to_bits(),
                always.compensation.to_bits(),
                "step {i}"
            );
        }
        assert_eq!(skipping.value().to_bits(), always.value().to_bits());
    }
}
