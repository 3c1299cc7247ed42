//! The `mpc` policy: it rides out a one-interval spike that costs less than
//! a restart and curtails for a sustained one (where `breakeven` curtails
//! for both), its plan equals the step-by-step optimum when switching is
//! free, it is deterministic, and in the twin it is never clipped for the
//! cap and earns at least what mining-only earns.

mod common;

use std::path::Path;

use chrono::{TimeZone, Utc};
use hcp_contract::{
    Action, AsicCohortSpec, AsicCohortView, CohortId, Forecast, Observation, Policy, SiteId,
    SiteView, breakeven_usd_per_mwh,
};
use hcp_models::plant::{AsicSpec, PlantConfig, catalogs};
use hcp_models::twin::{ClipReason, MemorySink, RunResult, TwinSetup};
use hcp_models::world::WorldConfig;
use hcp_policies::PolicyConfig;
use hcp_policies::forecast::{SeasonalNaive, SeasonalNaiveParams};
use hcp_policies::mpc::{Mpc, MpcParams};

const HASHPRICE: f64 = 0.05;
const FEE: f64 = 0.025;
const STANDBY_W: f64 = 25.0;

fn spec(model: &str) -> AsicSpec {
    let (asic, _) = catalogs(&PlantConfig::default());
    asic.model(model).unwrap().clone()
}

/// One site of `cap_mw` (PUE 1), 5-minute intervals, hashprice $0.05,
/// a 2.5 % fee; per cohort (model, fast firmware, devices on of 1,000);
/// the price now and a forecast of the next 11 intervals.
fn observation(cap_mw: f64, cohorts: &[(&str, bool, u32)], now: f64, ahead: &[f64]) -> Observation {
    let mut o = Observation::empty(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    o.interval_s = 300.0;
    o.market.hashprice_usd_per_th_day = Some(HASHPRICE);
    o.market.pool_fee = FEE;
    let mut committed = 0.0;
    let site = SiteId::from("test");
    for (k, &(model, fast, on)) in cohorts.iter().enumerate() {
        let spec = spec(model);
        committed += f64::from(on) * spec.power_w + f64::from(1000 - on) * STANDBY_W;
        let mut view = AsicCohortView::new(
            AsicCohortSpec {
                site: site.clone(),
                model: spec.name.clone(),
                firmware: if fast { "luxos" } else { "stock" }.into(),
                curve: spec.curve(),
                installed: 1000,
                supports_power_target: fast,
                standby_w: STANDBY_W,
            },
            spec.power_w,
        );
        view.id = id(k);
        view.on = on;
        o.asic_cohorts.push(view);
    }
    let committed_mw = committed / 1e6;
    let mut view = SiteView::new(site.clone(), "HB_WEST".into(), cap_mw, 1.0, false);
    view.price_usd_per_mwh = Some(now);
    view.set_committed(committed_mw);
    view.last_power_mw = committed_mw;
    o.sites.push(view);
    o.forecast = Some(Forecast {
        price_usd_per_mwh: [(site, ahead.to_vec())].into_iter().collect(),
        hashprice_usd_per_th_day: vec![HASHPRICE; ahead.len()],
    });
    o
}

/// The id of the `k`-th cohort of an observation built here.
fn id(k: usize) -> CohortId {
    CohortId::from(format!("c{k}"))
}

/// Devices asked of `cohort`, if the actions name it.
fn asked_on(actions: &[Action], cohort: usize) -> Option<u32> {
    actions.iter().find_map(|a| match a {
        Action::Asic { cohort: c, on, .. } if *c == id(cohort) => Some(*on),
        _ => None,
    })
}
/// The plan of the first two cohorts (`c0`, `c1`), devices on.
fn plan_of(mpc: &Mpc) -> Vec<f64> {
    (0..2).filter_map(|k| mpc.planned_on(&id(k))).collect()
}

fn decide(policy: &mut dyn Policy, o: &Observation) -> Vec<Action> {
    let mut actions = Vec::new();
    policy.decide(o, &mut actions);
    actions
}

#[test]
fn rides_out_a_short_spike_and_curtails_for_a_long_one() {
    // 1,000 S21s on stock firmware, all hashing. A device earns
    // r = 0.05 × 0.975 ÷ 24 × 200 TH/s = $0.406 per hour. Switching it off
    // and on again costs the wear twice plus the hash lost in a 300 s
    // restart: 2 × 0.01 + r × 300 / 3600 = $0.0539.
    let s21 = spec("S21");
    let p = MpcParams::default();
    let revenue_h = HASHPRICE * (1.0 - FEE) / 24.0 * s21.hashrate_th;
    let round_trip = 2.0 * p.wear_usd_per_switch + revenue_h * p.stock_resume_s / 3600.0;
    assert!((round_trip - 0.0539).abs() < 1e-3, "{round_trip}");
    // The LP's breakeven counts the energy above standby.
    let extra_mwh = (s21.power_w - STANDBY_W) / 1e6 * 300.0 / 3600.0;
    let breakeven = revenue_h * 300.0 / 3600.0 / extra_mwh;
    let stock = breakeven_usd_per_mwh(s21.efficiency_j_per_th(), HASHPRICE, FEE, 1.0);
    assert!(
        breakeven > stock && breakeven < stock * 1.01,
        "{breakeven} vs {stock}"
    );
    // A spike $100 above breakeven for one interval loses $0.029 a device:
    // less than the round trip, so mpc keeps the miners on.
    let spike = breakeven + 100.0;
    let loss = (spike - breakeven) * extra_mwh;
    assert!(loss < round_trip && 12.0 * loss > round_trip, "{loss}");
    let short = observation(10.0, &[("S21", false, 1000)], spike, &[50.0; 11]);
    let mut mpc = Mpc::new(p);
    let actions = decide(&mut mpc, &short);
    assert!(
        asked_on(&actions, 0).is_none_or(|on| on == 1000),
        "{actions:?}"
    );
    assert!(
        (plan_of(&mpc)[0] - 1000.0).abs() < 1e-6,
        "{:?}",
        plan_of(&mpc)
    );
    // breakeven, myopic, curtails the same observation.
    let mut breakeven_policy = PolicyConfig::by_name("breakeven").unwrap().build();
    assert_eq!(
        asked_on(&decide(breakeven_policy.as_mut(), &short), 0),
        Some(0)
    );
    // The same spike for the whole hour loses 12 × $0.029 = $0.35: curtail.
    let long = observation(10.0, &[("S21", false, 1000)], spike, &[spike; 11]);
    let mut mpc = Mpc::new(p);
    assert_eq!(asked_on(&decide(&mut mpc, &long), 0), Some(0));
    // A spike $300 above breakeven loses $0.087 in one interval: curtail.
    let sharp = observation(
        10.0,
        &[("S21", false, 1000)],
        breakeven + 300.0,
        &[50.0; 11],
    );
    let mut mpc = Mpc::new(p);
    assert_eq!(asked_on(&decide(&mut mpc, &sharp), 0), Some(0));
}

#[test]
fn with_free_switching_the_plan_is_the_step_by_step_optimum() {
    let free = MpcParams {
        fast_resume_s: 0.0,
        stock_resume_s: 0.0,
        wear_usd_per_switch: 0.0,
        ..MpcParams::default()
    };
    // S21 (17.5 J/TH) breaks even near $116/MWh, S19 XP (21.5 J/TH) near
    // $94: at a flat $105 the S21s earn and the S19 XPs lose. The start is
    // the other way round, so the LP has to move both.
    let s21 = breakeven_usd_per_mwh(spec("S21").efficiency_j_per_th(), HASHPRICE, FEE, 1.0);
    let s19 = breakeven_usd_per_mwh(spec("S19 XP").efficiency_j_per_th(), HASHPRICE, FEE, 1.0);
    assert!(s19 < 100.0 && s21 > 110.0, "{s19} {s21}");
    let cohorts = [("S21", false, 0), ("S19 XP", false, 1000)];
    let o = observation(20.0, &cohorts, 105.0, &[105.0; 11]);
    let mut mpc = Mpc::new(free);
    let actions = decide(&mut mpc, &o);
    let plan = plan_of(&mpc);
    assert!(
        (plan[0] - 1000.0).abs() < 1e-6 && plan[1].abs() < 1e-6,
        "{plan:?}"
    );
    assert_eq!(asked_on(&actions, 1), Some(0));
    // Below both breakevens under a cap that holds 4 MW of ASIC power
    // above standby: the S21s (more TH per W) first, the S19 XPs get the
    // rest, exactly as the fractional knapsack says.
    let o = observation(4.0 + 2000.0 * STANDBY_W / 1e6, &cohorts, 40.0, &[40.0; 11]);
    let mut mpc = Mpc::new(free);
    let _ = decide(&mut mpc, &o);
    let per_s21 = spec("S21").power_w - STANDBY_W;
    let per_s19 = spec("S19 XP").power_w - STANDBY_W;
    let s19_on = (4.0e6 - 1000.0 * per_s21) / per_s19;
    assert!(s19_on > 100.0 && s19_on < 900.0, "{s19_on}");
    let plan = plan_of(&mpc);
    assert!((plan[0] - 1000.0).abs() < 1e-6, "{plan:?}");
    assert!((plan[1] - s19_on).abs() < 1e-6, "{plan:?} vs {s19_on}");
    // Above both: everything off.
    let o = observation(20.0, &cohorts, 300.0, &[300.0; 11]);
    let mut mpc = Mpc::new(free);
    let _ = decide(&mut mpc, &o);
    assert!(
        plan_of(&mpc).iter().all(|x| x.abs() < 1e-6),
        "{:?}",
        plan_of(&mpc)
    );
}

#[test]
fn same_inputs_give_the_same_actions() {
    let cohorts = [("S21", true, 600), ("S19 XP", false, 1000)];
    let prices = [
        60.0, 90.0, 130.0, 250.0, 80.0, 40.0, 140.0, 20.0, 95.0, 110.0, 70.0,
    ];
    let run = || {
        let mut mpc = Mpc::new(MpcParams::default());
        let mut all = Vec::new();
        for (k, &now) in prices.iter().enumerate() {
            let mut ahead = prices[k..].to_vec();
            ahead.resize(11, 50.0);
            let o = observation(5.0, &cohorts, now, &ahead);
            all.push(format!("{:?}", decide(&mut mpc, &o)));
        }
        all
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.iter().any(|a| a.contains("Asic")), "{first:?}");
}

fn play(setup: &TwinSetup, policy: Box<dyn Policy>) -> (RunResult, MemorySink) {
    let forecaster = Box::new(SeasonalNaive::new(SeasonalNaiveParams::default()));
    common::play(setup, 11, policy, forecaster)
}

#[test]
fn in_the_twin_mpc_is_never_clipped_and_beats_mining_only() {
    let world = WorldConfig {
        days: 3,
        ..WorldConfig::default()
    };
    let setup = TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap();
    let (mpc, sink) = play(&setup, PolicyConfig::by_name("mpc").unwrap().build());
    let cap_clips = sink
        .clips
        .iter()
        .filter(|c| c.reason == ClipReason::PowerCap)
        .count();
    assert_eq!(cap_clips, 0, "{:?}", &sink.clips[..cap_clips.min(5)]);
    assert_eq!(mpc.cap_violations, 0);
    assert!(mpc.decisions >= 3 * 288, "{}", mpc.decisions);
    let (mining, _) = play(
        &setup,
        PolicyConfig::by_name("mining-only").unwrap().build(),
    );
    assert!(
        mpc.ledger.profit_usd >= mining.ledger.profit_usd,
        "mpc {} < mining-only {}",
        mpc.ledger.profit_usd,
        mining.ledger.profit_usd
    );
    // Same seed, same run.
    let (again, _) = play(&setup, PolicyConfig::by_name("mpc").unwrap().build());
    assert_eq!(
        again.ledger.profit_usd.to_bits(),
        mpc.ledger.profit_usd.to_bits()
    );
}
