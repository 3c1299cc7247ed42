//! The ledger: a hand-computed two-customer scenario, the SLA credit bands,
//! P2 deadline attainment, month-close idempotence, the balance identities
//! under 10^4 random postings, compensated summation and the billing
//! calendar.

use chrono::{TimeZone, Utc};
use hcp_engine::rng::RngStreams;
use hcp_engine::time::SimTime;
use hcp_models::demand::{
    CreditBand, Customer, DemandParams, Price, Sla, WorkloadClass, customers,
};
use hcp_models::ledger::{
    BillingMonths, CompensatedSum, Invoice, Ledger, Stream, Usage, credit_pct,
};
use hcp_models::series::Horizon;
use proptest::prelude::*;

fn shipped() -> DemandParams {
    DemandParams::default()
}

fn customer(
    id: u16,
    class: WorkloadClass,
    sla: Sla,
    price: Price,
    credits: Vec<CreditBand>,
) -> Customer {
    Customer {
        id,
        name: format!("{class:?}-{id:03}"),
        class,
        workload: String::new(),
        sla,
        price,
        credits,
        service: None,
        base_rate_per_s: 0.0,
    }
}

/// P1 at 0.20 / 0.60 USD per M tokens, target 99.5 %, shipped P1 bands.
fn p1(id: u16) -> Customer {
    customer(
        id,
        WorkloadClass::P1,
        Sla::Latency {
            p99_ms: 50,
            attainment_pct: 99.5,
        },
        Price::PerMillionTokens {
            input: 0.2,
            output: 0.6,
        },
        shipped().customers.p1_credits,
    )
}

/// P2 at 0.10 / 0.30 USD per M tokens, 12 h deadline, shipped P2 bands.
fn p2(id: u16) -> Customer {
    customer(
        id,
        WorkloadClass::P2,
        Sla::Deadline { hours: 12.0 },
        Price::PerMillionTokens {
            input: 0.1,
            output: 0.3,
        },
        shipped().customers.p2_credits,
    )
}

fn p3(id: u16, usd_per_gpu_hour: f64) -> Customer {
    customer(
        id,
        WorkloadClass::P3,
        Sla::Checkpoint { minutes: 60 },
        Price::PerGpuHour(usd_per_gpu_hour),
        Vec::new(),
    )
}

fn p4(id: u16, usd_per_gpu_hour: f64) -> Customer {
    customer(
        id,
        WorkloadClass::P4,
        Sla::BestEffort,
        Price::PerGpuHour(usd_per_gpu_hour),
        Vec::new(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

fn tokens(input: f64, output: f64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        gpu_seconds: 0.0,
    }
}

fn gpu_hours(h: f64) -> Usage {
    Usage {
        gpu_seconds: h * 3600.0,
        ..Usage::default()
    }
}

/// Two customers, two months, every figure computed by hand:
/// P1 month 0: 100 M in × 0.2 + 50 M out × 0.6 = 50 USD, attainment
/// 985/1000 = 98.5 % < 99 → 10 % → 5 USD credit; month 1: 10 M × 0.2 +
/// 10 M × 0.6 = 8 USD, 92 % < 95 → 30 % → 2.40 USD.
/// P3 month 0: 400 GPU-h × 2.5 = 1000 USD, 2 GPU-h preempted → 5 USD;
/// month 1: 100 GPU-h → 250 USD.
#[test]
fn hand_computed_scenario_gives_every_invoice_figure() {
    let mut ledger = Ledger::new(&[p1(0), p3(1, 2.5)], 2, 2);
    assert_close!(ledger.usage(0, 0, tokens(100e6, 50e6)), 50.0);
    ledger.sla_outcome(0, 0, 985.0, true);
    ledger.sla_outcome(0, 0, 15.0, false);
    assert_close!(ledger.usage(1, 0, gpu_hours(400.0)), 1000.0);
    assert_close!(ledger.preemption_loss(1, 0, 7200.0), 5.0);
    assert_close!(ledger.usage(0, 1, tokens(10e6, 10e6)), 8.0);
    ledger.sla_outcome(0, 1, 920.0, true);
    ledger.sla_outcome(0, 1, 80.0, false);
    assert_close!(ledger.usage(1, 1, gpu_hours(100.0)), 250.0);
    ledger.mined(0.05, 3000.0);
    ledger.energy(0, 10.0, 400.0);
    ledger.energy(1, 2.0, -20.0);
    ledger.post(Stream::GpuRental, 100.0);
    ledger.post(Stream::DemandResponse, 50.0);
    ledger.post(Stream::Ancillary, 25.0);
    assert_eq!(
        ledger.total(Stream::SlaCredits),
        0.0,
        "credits wait for the close"
    );
    ledger.finish();

    let inv = ledger.invoices();
    let key: Vec<(u16, usize)> = inv.iter().map(|i| (i.customer, i.month)).collect();
    assert_eq!(key, [(0, 0), (0, 1), (1, 0), (1, 1)]);
    let check = |i: &Invoice, e: [f64; 8], att: Option<f64>| {
        assert_eq!(i.name, if i.customer == 0 { "P1-000" } else { "P3-001" });
        let got = [
            i.input_tokens,
            i.output_tokens,
            i.gpu_hours,
            i.gross_usd,
            i.sla_credit_usd,
            i.preempted_gpu_hours,
            i.preemption_credit_usd,
            i.net_usd,
        ];
        for (g, x) in got.iter().zip(e) {
            assert!(close(*g, x), "invoice {i:?}: {g} vs {x}");
        }
        match (i.attainment_pct, att) {
            (Some(a), Some(b)) => assert_close!(a, b),
            (a, b) => assert_eq!(a, b),
        }
    };
    check(
        &inv[0],
        [100e6, 50e6, 0.0, 50.0, 5.0, 0.0, 0.0, 45.0],
        Some(98.5),
    );
    check(
        &inv[1],
        [10e6, 10e6, 0.0, 8.0, 2.4, 0.0, 0.0, 5.6],
        Some(92.0),
    );
    check(
        &inv[2],
        [0.0, 0.0, 400.0, 1000.0, 0.0, 2.0, 5.0, 995.0],
        None,
    );
    check(
        &inv[3],
        [0.0, 0.0, 100.0, 250.0, 0.0, 0.0, 0.0, 250.0],
        None,
    );

    assert_close!(ledger.total(Stream::AiInference), 58.0);
    assert_close!(ledger.total(Stream::AiTraining), 1250.0);
    assert_eq!(ledger.total(Stream::AiInterruptible), 0.0);
    assert_close!(ledger.total(Stream::SlaCredits), 7.4);
    assert_close!(ledger.total(Stream::PreemptionCredits), 5.0);
    assert_close!(ledger.total(Stream::Energy), 380.0);
    assert_close!(
        ledger.revenue(),
        3000.0 + 58.0 + 1250.0 + 100.0 + 50.0 + 25.0
    );
    assert_close!(ledger.costs(), 380.0 + 7.4 + 5.0);
    assert_close!(ledger.profit(), 4483.0 - 392.4);
    assert_close!(ledger.btc(), 0.05);
    assert_close!(ledger.energy_mwh(0), 10.0);
    assert_close!(ledger.energy_mwh(1), 2.0);

    let s = ledger.summary();
    assert_eq!(s.streams.len(), 10);
    assert_eq!(s.streams["sla_credits"], ledger.total(Stream::SlaCredits));
    assert_eq!(s.profit_usd, ledger.profit());
    assert_eq!(s.energy_mwh, [ledger.energy_mwh(0), ledger.energy_mwh(1)]);
    assert_close!(s.energy_mwh_total, 12.0);
}

/// The lowest band reached applies, whatever order the bands are listed
/// in; "below" is strict; a met contract target earns nothing.
#[test]
fn credit_bands_pick_the_lowest_band_reached() {
    let bands = shipped().customers.p1_credits;
    let mut reversed = bands.clone();
    reversed.reverse();
    for (attainment, pct) in [
        (99.9, 0.0),
        (99.0, 0.0),
        (98.5, 10.0),
        (95.0, 10.0),
        (94.9, 30.0),
        (92.0, 30.0),
        (89.99, 100.0),
        (0.0, 100.0),
    ] {
        assert_eq!(
            credit_pct(&bands, None, Some(attainment)),
            pct,
            "{attainment} %"
        );
        assert_eq!(
            credit_pct(&reversed, None, Some(attainment)),
            pct,
            "{attainment} % reversed"
        );
    }
    assert_eq!(credit_pct(&bands, None, None), 0.0, "no outcome, no credit");
    let lax = [CreditBand {
        below_pct: 99.0,
        credit_pct: 10.0,
    }];
    assert_eq!(credit_pct(&lax, Some(95.0), Some(97.0)), 0.0, "target met");
    assert_eq!(
        credit_pct(&lax, Some(99.5), Some(97.0)),
        10.0,
        "target missed"
    );
}

/// P2: one outcome per finished job; 93/100 on time → 10 %, 88/100 → 25 %,
/// 95/100 → none (not strictly below 95). Each job: 1 M in + 1 M out at
/// 0.1/0.3 = 0.40 USD, 100 jobs = 40 USD a month.
#[test]
fn p2_deadline_attainment_from_job_outcomes() {
    let mut ledger = Ledger::new(&[p2(7)], 1, 3);
    for (month, on_time) in [(0, 93), (1, 88), (2, 95)] {
        for job in 0..100 {
            ledger.usage(7, month, tokens(1e6, 1e6));
            ledger.sla_outcome(7, month, 1.0, job < on_time);
        }
    }
    ledger.finish();
    let inv = ledger.invoices();
    assert_eq!(inv.len(), 3);
    for (i, (att, credit)) in inv.iter().zip([(93.0, 4.0), (88.0, 10.0), (95.0, 0.0)]) {
        assert_eq!(i.customer, 7);
        assert_close!(i.attainment_pct.unwrap_or(f64::NAN), att);
        assert_close!(i.gross_usd, 40.0);
        assert_close!(i.sla_credit_usd, credit);
        assert_close!(i.net_usd, 40.0 - credit);
    }
    assert_close!(ledger.total(Stream::AiInference), 120.0);
    assert_close!(ledger.total(Stream::SlaCredits), 14.0);
}

/// Closing twice changes nothing; a late posting to a closed month is
/// picked up by closing it again, and only the change is booked.
#[test]
fn month_close_is_idempotent_and_recomputes_late_postings() {
    let mut ledger = Ledger::new(&[p1(0)], 1, 2);
    ledger.usage(0, 0, tokens(100e6, 50e6));
    ledger.sla_outcome(0, 0, 985.0, true);
    ledger.sla_outcome(0, 0, 15.0, false);
    ledger.close_month(0);
    let once = (ledger.total(Stream::SlaCredits), ledger.invoices());
    ledger.close_month(0);
    ledger.finish();
    assert_eq!((ledger.total(Stream::SlaCredits), ledger.invoices()), once);
    assert_close!(once.0, 5.0);

    // 1000 more requests all late: 985/2000 = 49.25 % → 100 % of 50 USD.
    ledger.sla_outcome(0, 0, 1000.0, false);
    ledger.close_month(0);
    assert_close!(ledger.total(Stream::SlaCredits), 50.0);
    assert_close!(ledger.invoices()[0].net_usd, 0.0);
}

#[derive(Debug, Clone)]
enum Op {
    Mined(f64, f64),
    Energy(usize, f64, f64),
    Post(usize, f64),
    Usage(u16, usize, f64, f64, f64),
    Preempt(u16, usize, f64),
    Sla(u16, usize, f64, bool),
    Close(usize),
}

/// Amounts from 1e-3 to 1e6: mixed magnitudes stress the summation.
fn amount() -> impl Strategy<Value = f64> {
    (1.0f64..10.0, -3i32..6).prop_map(|(m, e)| m * 10f64.powi(e))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0.0f64..1.0, amount()).prop_map(|(b, u)| Op::Mined(b, u)),
        (0usize..3, 0.0f64..100.0, amount(), any::<bool>()).prop_map(|(s, m, u, neg)| Op::Energy(
            s,
            m,
            if neg { -u } else { u }
        )),
        (0usize..3, amount()).prop_map(|(s, u)| Op::Post(s, u)),
        (0u16..4, 0usize..3, amount(), amount(), amount()).prop_map(|(c, m, i, o, g)| Op::Usage(
            c,
            m,
            i * 1e3,
            o * 1e3,
            g
        )),
        (0u16..4, 0usize..3, amount()).prop_map(|(c, m, g)| Op::Preempt(c, m, g)),
        (0u16..4, 0usize..3, 0.0f64..1e4, any::<bool>())
            .prop_map(|(c, m, w, ok)| Op::Sla(c, m, w, ok)),
        (0usize..3).prop_map(Op::Close),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// 10^4 random postings: every stream equals an independent sum of what
    /// was posted, and the balance identities hold to 1e-9 relative.
    #[test]
    fn books_balance_under_random_postings(ops in prop::collection::vec(op(), 10_000)) {
        let contracts = [p1(0), p2(1), p3(2, 2.5), p4(3, 1.2)];
        let mut ledger = Ledger::new(&contracts, 3, 3);
        let mut expect = [0.0f64; 10];
        let mut scale = [0.0f64; 10];
        let mut book = |s: Stream, x: f64| {
            expect[s.index()] += x;
            scale[s.index()] += x.abs();
        };
        let other = [Stream::GpuRental, Stream::DemandResponse, Stream::Ancillary];
        for op in &ops {
            match *op {
                Op::Mined(b, u) => { ledger.mined(b, u); book(Stream::BtcMined, u); }
                Op::Energy(s, m, u) => { ledger.energy(s, m, u); book(Stream::Energy, u); }
                Op::Post(s, u) => { ledger.post(other[s], u); book(other[s], u); }
                Op::Usage(c, m, i, o, g) => {
                    let u = Usage { input_tokens: i, output_tokens: o, gpu_seconds: g };
                    let usd = ledger.usage(c, m, u);
                    let want = match c {
                        0 => (i * 0.2 + o * 0.6) / 1e6,
                        1 => (i * 0.1 + o * 0.3) / 1e6,
                        2 => g / 3600.0 * 2.5,
                        _ => g / 3600.0 * 1.2,
                    };
                    prop_assert!(close(usd, want));
                    let s = [Stream::AiInference, Stream::AiInference, Stream::AiTraining, Stream::AiInterruptible];
                    book(s[usize::from(c)], usd);
                }
                Op::Preempt(c, m, g) => {
                    let usd = ledger.preemption_loss(c, m, g);
                    book(Stream::PreemptionCredits, usd);
                }
                Op::Sla(c, m, w, ok) => ledger.sla_outcome(c, m, w, ok),
                Op::Close(m) => ledger.close_month(m),
            }
        }
        ledger.finish();
        let inv = ledger.invoices();
        let credits: f64 = inv.iter().map(|i| i.sla_credit_usd).sum();
        book(Stream::SlaCredits, credits);
        for s in Stream::ALL {
            let err = (ledger.total(s) - expect[s.index()]).abs();
            prop_assert!(err <= 1e-9 * scale[s.index()].max(1.0), "{}: {} vs {}", s.name(), ledger.total(s), expect[s.index()]);
        }
        let total_scale: f64 = scale.iter().sum::<f64>().max(1.0);
        let revenue: f64 = Stream::ALL.iter().filter(|s| s.is_revenue()).map(|&s| ledger.total(s)).sum();
        let costs: f64 = Stream::ALL.iter().filter(|s| !s.is_revenue()).map(|&s| ledger.total(s)).sum();
        prop_assert!((revenue - costs - ledger.profit()).abs() <= 1e-9 * total_scale);
        prop_assert!((ledger.revenue() - ledger.costs() - ledger.profit()).abs() <= 1e-9 * total_scale);
        let ai = ledger.total(Stream::AiInference) + ledger.total(Stream::AiTraining) + ledger.total(Stream::AiInterruptible);
        let gross: f64 = inv.iter().map(|i| i.gross_usd).sum();
        let net: f64 = inv.iter().map(|i| i.net_usd).sum();
        let customer_credits = ledger.total(Stream::SlaCredits) + ledger.total(Stream::PreemptionCredits);
        prop_assert!((gross - ai).abs() <= 1e-9 * total_scale);
        prop_assert!((net - (ai - customer_credits)).abs() <= 1e-9 * total_scale);
        for i in &inv {
            prop_assert!(i.sla_credit_usd >= 0.0 && i.sla_credit_usd <= i.gross_usd * (1.0 + 1e-12));
        }
    }
}

/// Neumaier summation keeps what plain summation loses.
#[test]
fn compensated_sum_is_exact_where_plain_sum_is_not() {
    let mut s = CompensatedSum::default();
    for x in [1e16, 1.0, -1e16] {
        s.add(x);
    }
    assert_eq!(s.value(), 1.0);
    assert_eq!(1e16 + 1.0 - 1e16, 0.0, "plain summation loses the 1");

    // 10^7 postings of 0.1: the exact sum of the f64 0.1 rounds to 1e6.
    let mut s = CompensatedSum::default();
    let mut plain = 0.0f64;
    for _ in 0..10_000_000 {
        s.add(0.1);
        plain += 0.1;
    }
    assert_eq!(s.value(), 1e6);
    assert!((plain - 1e6).abs() > 1e-4, "plain sum drifts: {plain}");
}

#[test]
fn stream_names_are_the_serde_names_and_split_seven_revenue_three_costs() {
    #[derive(serde::Serialize)]
    struct Row {
        stream: Stream,
    }
    for (i, s) in Stream::ALL.iter().enumerate() {
        assert_eq!(s.index(), i);
        let text = toml::to_string(&Row { stream: *s }).unwrap_or_default();
        assert_eq!(text.trim(), format!("stream = \"{}\"", s.name()));
    }
    let revenue = Stream::ALL.iter().filter(|s| s.is_revenue()).count();
    assert_eq!(revenue, 7);
    assert!(!Stream::Energy.is_revenue() && !Stream::SlaCredits.is_revenue());
    assert!(!Stream::PreemptionCredits.is_revenue() && Stream::GpuRental.is_revenue());
}

/// The shipped customer base: 100 contracts; one unit of usage each books
/// every class to its stream at its contract price.
#[test]
fn shipped_customers_are_billed_to_their_class_streams() {
    let p = shipped();
    let base = customers(&p.customers, &p.requests, &RngStreams::new(7, 0));
    assert_eq!(base.len(), 100);
    let mut ledger = Ledger::new(&base, 3, 12);
    assert!(ledger.invoices().is_empty());
    let mut want = [0.0f64; 10];
    for c in &base {
        let (stream, usd) = match (c.class, c.price) {
            (_, Price::PerMillionTokens { input, output }) => (Stream::AiInference, input + output),
            (WorkloadClass::P3, Price::PerGpuHour(x)) => (Stream::AiTraining, x),
            (_, Price::PerGpuHour(x)) => (Stream::AiInterruptible, x),
        };
        want[stream.index()] += usd;
        let u = Usage {
            input_tokens: 1e6,
            output_tokens: 1e6,
            gpu_seconds: 3600.0,
        };
        assert_close!(ledger.usage(c.id, 11, u), usd);
    }
    for s in [
        Stream::AiInference,
        Stream::AiTraining,
        Stream::AiInterruptible,
    ] {
        assert_close!(ledger.total(s), want[s.index()]);
    }
    assert!(want[Stream::AiTraining.index()] > 20.0 * 2.25);
    ledger.finish();
    assert_eq!(ledger.invoices().len(), 100);
    assert_eq!(
        ledger.total(Stream::SlaCredits),
        0.0,
        "no outcome, no credit"
    );
}

#[test]
#[should_panic(expected = "unknown customer 9")]
fn unknown_customer_is_rejected() {
    Ledger::new(&[p1(0)], 1, 1).usage(9, 0, tokens(1.0, 1.0));
}

#[test]
#[should_panic(expected = "month 2 outside the horizon's 2 months")]
fn month_outside_the_horizon_is_rejected() {
    Ledger::new(&[p3(0, 2.5)], 1, 2).preemption_loss(0, 2, 60.0);
}

#[test]
#[should_panic(expected = "energy is not posted through Ledger::post")]
fn energy_through_post_is_rejected() {
    Ledger::new(&[], 1, 1).post(Stream::Energy, 1.0);
}

#[test]
#[should_panic(expected = "site 2 outside the 2 sites")]
fn unknown_site_is_rejected() {
    Ledger::new(&[], 2, 1).energy(2, 1.0, 1.0);
}

#[test]
#[should_panic(expected = "customer id 3 appears twice")]
fn duplicate_customer_ids_are_rejected() {
    Ledger::new(&[p1(3), p3(3, 2.5)], 1, 1);
}

/// A horizon from 15 Jan 2024 for 60 days touches January, February (29
/// days, leap year) and March.
#[test]
fn billing_months_follow_the_utc_calendar() {
    let start = Utc
        .with_ymd_and_hms(2024, 1, 15, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let h = Horizon::days(start, 60, 5);
    let m = BillingMonths::of(&h);
    assert_eq!(m.len(), 3);
    let at = |y, mo, d, hh, mm| {
        let t = Utc
            .with_ymd_and_hms(y, mo, d, hh, mm, 0)
            .single()
            .unwrap_or_default();
        m.month(h.epoch.to_sim(t).unwrap_or(SimTime::MAX))
    };
    assert_eq!(m.month(SimTime::ZERO), 0);
    assert_eq!(at(2024, 1, 31, 23, 55), 0);
    assert_eq!(at(2024, 2, 1, 0, 0), 1);
    assert_eq!(at(2024, 2, 29, 23, 55), 1);
    assert_eq!(at(2024, 3, 1, 0, 0), 2);
    assert_eq!(m.label(2), Some((2024, 3)));
    assert_eq!(m.label(3), None);

    let year = Horizon::days(
        Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        365,
        5,
    );
    let months = BillingMonths::of(&year);
    assert_eq!(months.len(), 12);
    assert_eq!(months.month(year.time_of(year.intervals() - 1)), 11);
}
