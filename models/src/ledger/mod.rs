//! The ledger: every dollar of a twin run, booked to a [`Stream`].
//!
//! The twin posts as it simulates — BTC mined, energy bought per site,
//! customer usage (quantities, priced here by the customer's contract),
//! preemption losses, SLA outcomes, rental, demand-response and ancillary
//! payments — and at the end the ledger gives totals per stream, revenue,
//! costs and profit (USD), BTC mined, energy per site (MWh) and one
//! [`Invoice`] per customer and month with activity.
//!
//! Storage is flat and allocation-free after [`Ledger::new`]: stream totals
//! in an array indexed by [`Stream::index`], customer accounts in one `Vec`
//! indexed `[customer][month]`, customer ids mapped to their slot by a
//! `Vec`. Every total is a Neumaier-compensated sum ([`CompensatedSum`]),
//! so a year of 10^7 postings balances to ~1e-9 relative or better:
//!
//! - revenue − costs = profit, revenue and costs being the sums of the
//!   revenue and cost streams;
//! - Σ invoices' `net_usd` = (AI inference + AI training + AI
//!   interruptible) − (SLA credits + preemption credits);
//! - Σ invoices' `gross_usd` = the three AI streams.
//!
//! SLA credits are set when a month is closed ([`Ledger::close_month`]);
//! the rule is in [`sla`]. Closing recomputes the month's credits and books
//! only the change, so it is idempotent and a late posting to a closed month
//! is picked up by closing it again ([`Ledger::finish`] closes every month).
//!
//! Posting to an unknown customer, site or month, or posting a stream
//! through the wrong call, is a bug in the caller and panics.

pub mod invoice;
pub mod sla;
pub mod stream;

use std::collections::BTreeMap;

use serde::Serialize;

pub use invoice::{Account, BillingMonths, Invoice, Usage};
pub use sla::{Attainment, credit_pct, target_pct};
pub use stream::{CompensatedSum, Stream};

use crate::demand::{CreditBand, Customer, Price, WorkloadClass};

const NO_SLOT: u32 = u32::MAX;

/// A customer's contract terms, as the ledger applies them.
#[derive(Debug, Clone)]
struct Contract {
    id: u16,
    name: String,
    stream: Stream,
    price: Price,
    credits: Vec<CreditBand>,
    target: Option<f64>,
}

/// The books of one twin run.
#[derive(Debug, Clone)]
pub struct Ledger {
    totals: [CompensatedSum; 10],
    btc: CompensatedSum,
    energy_mwh: Vec<CompensatedSum>,
    contracts: Vec<Contract>,
    slot_of: Vec<u32>,
    months: usize,
    accounts: Vec<Account>,
}

/// The ledger's totals, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerSummary {
    /// USD per stream, by [`Stream::name`] (costs as positive amounts).
    pub streams: BTreeMap<&'static str, f64>,
    /// Sum of the revenue streams, USD.
    pub revenue_usd: f64,
    /// Sum of the cost streams, USD.
    pub costs_usd: f64,
    /// Revenue less costs, USD.
    pub profit_usd: f64,
    /// BTC mined.
    pub btc: f64,
    /// Energy bought per site, MWh.
    pub energy_mwh: Vec<f64>,
    /// Energy bought at all sites, MWh.
    pub energy_mwh_total: f64,
}

impl LedgerSummary {
    /// The total of one stream, USD (costs as positive amounts).
    pub fn total(&self, stream: Stream) -> f64 {
        self.streams.get(stream.name()).copied().unwrap_or(0.0)
    }
}

fn stream_of(class: WorkloadClass) -> Stream {
    match class {
        WorkloadClass::P1 | WorkloadClass::P2 => Stream::AiInference,
        WorkloadClass::P3 => Stream::AiTraining,
        WorkloadClass::P4 => Stream::AiInterruptible,
    }
}

impl Ledger {
    /// An empty ledger. `months`: calendar months the horizon touches
    /// (first is month 0, see [`BillingMonths`]), `sites`: number of sites,
    /// `customers`: the contracts.
    ///
    /// # Panics
    /// If two customers share an id.
    pub fn new(customers: &[Customer], sites: usize, months: usize) -> Ledger {
        let ids = customers.iter().map(|c| usize::from(c.id) + 1).max();
        let mut slot_of = vec![NO_SLOT; ids.unwrap_or(0)];
        let mut contracts = Vec::with_capacity(customers.len());
        for (slot, c) in customers.iter().enumerate() {
            let entry = &mut slot_of[usize::from(c.id)];
            assert!(
                *entry == NO_SLOT,
                "ledger: customer id {} appears twice",
                c.id
            );
            *entry = u32::try_from(slot).unwrap_or(NO_SLOT);
            contracts.push(Contract {
                id: c.id,
                name: c.name.clone(),
                stream: stream_of(c.class),
                price: c.price,
                credits: c.credits.clone(),
                target: target_pct(&c.sla),
            });
        }
        Ledger {
            totals: [CompensatedSum::default(); 10],
            btc: CompensatedSum::default(),
            energy_mwh: vec![CompensatedSum::default(); sites],
            accounts: vec![Account::default(); contracts.len() * months],
            contracts,
            slot_of,
            months,
        }
    }

    fn slot(&self, customer: u16) -> usize {
        match self.slot_of.get(usize::from(customer)) {
            Some(&s) if s != NO_SLOT => s as usize,
            _ => panic!("ledger: unknown customer {customer}"),
        }
    }

    fn account_index(&self, slot: usize, month: usize) -> usize {
        assert!(
            month < self.months,
            "ledger: month {month} outside the horizon's {} months",
            self.months
        );
        slot * self.months + month
    }

    /// Books BTC mined: `btc` coins worth `usd` (PPS, net of pool fee).
    #[inline]
    pub fn mined(&mut self, btc: f64, usd: f64) {
        debug_assert!(
            btc.is_finite() && usd.is_finite(),
            "ledger: non-finite amount"
        );
        self.btc.add(btc);
        self.totals[Stream::BtcMined.index()].add(usd);
    }

    /// Books energy bought at `site`: `mwh` at a cost of `usd` (negative
    /// when prices are).
    ///
    /// # Panics
    /// If `site` is not below the ledger's number of sites.
    #[inline]
    pub fn energy(&mut self, site: usize, mwh: f64, usd: f64) {
        debug_assert!(
            mwh.is_finite() && usd.is_finite(),
            "ledger: non-finite amount"
        );
        let sites = self.energy_mwh.len();
        let Some(e) = self.energy_mwh.get_mut(site) else {
            panic!("ledger: site {site} outside the {sites} sites");
        };
        e.add(mwh);
        self.totals[Stream::Energy.index()].add(usd);
    }

    /// Books a payment on a non-customer stream: GPU rental, demand
    /// response or ancillary services.
    ///
    /// # Panics
    /// For any other stream (they have their own calls).
    #[inline]
    pub fn post(&mut self, stream: Stream, usd: f64) {
        assert!(
            matches!(
                stream,
                Stream::GpuRental | Stream::DemandResponse | Stream::Ancillary
            ),
            "ledger: {} is not posted through Ledger::post",
            stream.name()
        );
        debug_assert!(usd.is_finite(), "ledger: non-finite amount");
        self.totals[stream.index()].add(usd);
    }

    /// Customer usage: tokens (P1/P2) or GPU-seconds (P3/P4), priced by the
    /// customer's contract (per million tokens, or per GPU-hour); returns
    /// the USD posted to the customer's class stream.
    ///
    /// # Panics
    /// If the customer is unknown or `month` is outside the horizon.
    #[inline]
    pub fn usage(&mut self, customer: u16, month: usize, usage: Usage) -> f64 {
        let slot = self.slot(customer);
        let index = self.account_index(slot, month);
        let contract = &self.contracts[slot];
        let usd = match contract.price {
            Price::PerMillionTokens { input, output } => {
                (usage.input_tokens * input + usage.output_tokens * output) / 1e6
            }
            Price::PerGpuHour(p) => usage.gpu_seconds / 3600.0 * p,
        };
        debug_assert!(usd.is_finite(), "ledger: non-finite usage");
        self.totals[contract.stream.index()].add(usd);
        let a = &mut self.accounts[index];
        a.input_tokens.add(usage.input_tokens);
        a.output_tokens.add(usage.output_tokens);
        a.gpu_seconds.add(usage.gpu_seconds);
        a.gross.add(usd);
        a.active = true;
        usd
    }

    /// P3 progress lost to a preemption, GPU-seconds: credited at the
    /// contract's GPU-hour price (a per-token contract has none: nothing is
    /// credited); returns the USD credited.
    ///
    /// # Panics
    /// If the customer is unknown or `month` is outside the horizon.
    #[inline]
    pub fn preemption_loss(&mut self, customer: u16, month: usize, gpu_seconds: f64) -> f64 {
        let slot = self.slot(customer);
        let index = self.account_index(slot, month);
        let usd = match self.contracts[slot].price {
            Price::PerGpuHour(p) => gpu_seconds / 3600.0 * p,
            Price::PerMillionTokens { .. } => 0.0,
        };
        debug_assert!(usd.is_finite(), "ledger: non-finite preemption loss");
        self.totals[Stream::PreemptionCredits.index()].add(usd);
        let a = &mut self.accounts[index];
        a.preempted_gpu_seconds.add(gpu_seconds);
        a.preemption_credit.add(usd);
        a.active = true;
        usd
    }

    /// SLA outcomes: P1 — one call per interval, `weight` = requests in the
    /// interval, `met` = whether its p99 wait met the target; P2 — one call
    /// per finished job, `weight` 1, `met` = on time.
    ///
    /// # Panics
    /// If the customer is unknown or `month` is outside the horizon.
    #[inline]
    pub fn sla_outcome(&mut self, customer: u16, month: usize, weight: f64, met: bool) {
        let slot = self.slot(customer);
        let index = self.account_index(slot, month);
        let a = &mut self.accounts[index];
        a.sla.record(weight, met);
        a.active = true;
    }

    /// Closes `month` for every customer: attainment against the contract
    /// target and credit bands ([`sla`]) sets the month's SLA credit as a
    /// share of its gross usage revenue, and the change since the last close
    /// is booked to [`Stream::SlaCredits`]. Idempotent.
    ///
    /// # Panics
    /// If `month` is outside the horizon.
    pub fn close_month(&mut self, month: usize) {
        for slot in 0..self.contracts.len() {
            let index = self.account_index(slot, month);
            let contract = &self.contracts[slot];
            let a = &mut self.accounts[index];
            let pct = credit_pct(&contract.credits, contract.target, a.sla.pct());
            let credit = a.gross.value() * pct / 100.0;
            let change = credit - a.sla_credit;
            if change != 0.0 {
                self.totals[Stream::SlaCredits.index()].add(change);
                a.sla_credit = credit;
            }
        }
    }

    /// Closes every month (see [`close_month`](Self::close_month)).
    pub fn finish(&mut self) {
        for month in 0..self.months {
            self.close_month(month);
        }
    }

    /// Total of `stream`, USD: revenue positive, costs as positive amounts.
    pub fn total(&self, stream: Stream) -> f64 {
        self.totals[stream.index()].value()
    }

    fn sum_where(&self, revenue: bool) -> f64 {
        let mut s = CompensatedSum::default();
        for stream in Stream::ALL {
            if stream.is_revenue() == revenue {
                s.add(self.total(stream));
            }
        }
        s.value()
    }

    /// Sum of the revenue streams, USD.
    pub fn revenue(&self) -> f64 {
        self.sum_where(true)
    }

    /// Sum of the cost streams, USD.
    pub fn costs(&self) -> f64 {
        self.sum_where(false)
    }

    /// Revenue less costs, USD.
    pub fn profit(&self) -> f64 {
        self.revenue() - self.costs()
    }

    /// BTC mined.
    pub fn btc(&self) -> f64 {
        self.btc.value()
    }

    /// Energy bought at `site`, MWh (0 for an unknown site).
    pub fn energy_mwh(&self, site: usize) -> f64 {
        self.energy_mwh.get(site).map_or(0.0, CompensatedSum::value)
    }

    /// Number of billing months.
    pub fn months(&self) -> usize {
        self.months
    }

    /// Invoices by (customer id, month), for months with activity.
    pub fn invoices(&self) -> Vec<Invoice> {
        let mut out = Vec::new();
        for &slot in &self.slot_of {
            if slot == NO_SLOT {
                continue;
            }
            let slot = slot as usize;
            let c = &self.contracts[slot];
            for month in 0..self.months {
                let a = &self.accounts[slot * self.months + month];
                if a.active {
                    out.push(a.invoice(c.id, &c.name, month));
                }
            }
        }
        out
    }

    /// The ledger's totals.
    pub fn summary(&self) -> LedgerSummary {
        let mut total_mwh = CompensatedSum::default();
        for e in &self.energy_mwh {
            total_mwh.add(e.value());
        }
        LedgerSummary {
            streams: Stream::ALL
                .iter()
                .map(|&s| (s.name(), self.total(s)))
                .collect(),
            revenue_usd: self.revenue(),
            costs_usd: self.costs(),
            profit_usd: self.profit(),
            btc: self.btc(),
            energy_mwh: self.energy_mwh.iter().map(CompensatedSum::value).collect(),
            energy_mwh_total: total_mwh.value(),
        }
    }
}
