//! Per-customer monthly accounts, the invoices they print as, and the
//! billing calendar.
//!
//! An [`Account`] accumulates one customer's month: quantities (tokens,
//! GPU-seconds), gross usage revenue (USD at the contract price), the
//! preemption credits (USD, GPU-seconds lost), the SLA outcomes and the SLA
//! credit set when the month is closed. An [`Invoice`] is its printed form:
//! `net_usd = gross_usd − sla_credit_usd − preemption_credit_usd`.
//!
//! Billing months are calendar months in UTC; [`BillingMonths`] maps
//! simulated time to the month index the ledger takes (month 0 is the month
//! the horizon starts in).

use chrono::{Datelike, NaiveDate};
use hcp_engine::time::SimTime;
use serde::Serialize;

use super::sla::Attainment;
use super::stream::CompensatedSum;
use crate::series::Horizon;

/// Usage of one customer in one posting: tokens for P1/P2, GPU-seconds for
/// P3/P4 (the contract's price decides which quantity is billed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Input (context) tokens.
    pub input_tokens: f64,
    /// Output (generated) tokens.
    pub output_tokens: f64,
    /// GPU-seconds of work done.
    pub gpu_seconds: f64,
}

/// One customer's month, as billed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    /// Customer number.
    pub customer: u16,
    /// Customer display name.
    pub name: String,
    /// Billing month index (0 = the month the horizon starts in).
    pub month: usize,
    /// Input tokens served.
    pub input_tokens: f64,
    /// Output tokens served.
    pub output_tokens: f64,
    /// GPU-hours of work done.
    pub gpu_hours: f64,
    /// Usage at the contract price, USD.
    pub gross_usd: f64,
    /// SLA attainment, % (`None` when no outcome was posted).
    pub attainment_pct: Option<f64>,
    /// SLA credit, USD (set when the month is closed).
    pub sla_credit_usd: f64,
    /// GPU-hours of progress lost to preemptions.
    pub preempted_gpu_hours: f64,
    /// Preemption credit, USD.
    pub preemption_credit_usd: f64,
    /// Gross less both credits, USD.
    pub net_usd: f64,
}

/// One customer's month in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Account {
    /// Input tokens.
    pub input_tokens: CompensatedSum,
    /// Output tokens.
    pub output_tokens: CompensatedSum,
    /// GPU-seconds billed.
    pub gpu_seconds: CompensatedSum,
    /// Gross usage revenue, USD.
    pub gross: CompensatedSum,
    /// GPU-seconds lost to preemptions.
    pub preempted_gpu_seconds: CompensatedSum,
    /// Preemption credit, USD.
    pub preemption_credit: CompensatedSum,
    /// SLA outcomes.
    pub sla: Attainment,
    /// SLA credit booked by the last close, USD.
    pub sla_credit: f64,
    /// Whether anything was posted.
    pub active: bool,
}

impl Account {
    /// The invoice of this account.
    pub fn invoice(&self, customer: u16, name: &str, month: usize) -> Invoice {
        let gross_usd = self.gross.value();
        let preemption_credit_usd = self.preemption_credit.value();
        Invoice {
            customer,
            name: name.to_owned(),
            month,
            input_tokens: self.input_tokens.value(),
            output_tokens: self.output_tokens.value(),
            gpu_hours: self.gpu_seconds.value() / 3600.0,
            gross_usd,
            attainment_pct: self.sla.pct(),
            sla_credit_usd: self.sla_credit,
            preempted_gpu_hours: self.preempted_gpu_seconds.value() / 3600.0,
            preemption_credit_usd,
            net_usd: gross_usd - self.sla_credit - preemption_credit_usd,
        }
    }
}

/// The calendar months (UTC) a horizon touches, for mapping simulated time
/// to the ledger's month index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingMonths {
    /// Simulated start of months 1, 2, … (month 0 starts at the horizon).
    starts: Vec<SimTime>,
    /// (year, month 1–12) of every month.
    labels: Vec<(i32, u32)>,
}

impl BillingMonths {
    /// The months of `horizon`: the one it starts in and every later one
    /// that begins before its end.
    pub fn of(horizon: &Horizon) -> BillingMonths {
        let start = horizon.epoch.start();
        let end = horizon.end();
        let mut label = (start.year(), start.month());
        let mut starts = Vec::new();
        let mut labels = vec![label];
        loop {
            label = if label.1 == 12 {
                (label.0 + 1, 1)
            } else {
                (label.0, label.1 + 1)
            };
            let Some(first) = NaiveDate::from_ymd_opt(label.0, label.1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
            else {
                break;
            };
            match horizon.epoch.to_sim(first) {
                Ok(t) if t < end => {
                    starts.push(t);
                    labels.push(label);
                }
                _ => break,
            }
        }
        BillingMonths { starts, labels }
    }

    /// Number of months (at least 1).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a horizon touches at least one month.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Month index of simulated time `t` (O(log months), no allocation).
    pub fn month(&self, t: SimTime) -> usize {
        self.starts.partition_point(|&s| s <= t)
    }

    /// Calendar (year, month 1–12) of month `index`, if in range.
    pub fn label(&self, index: usize) -> Option<(i32, u32)> {
        self.labels.get(index).copied()
    }
}
