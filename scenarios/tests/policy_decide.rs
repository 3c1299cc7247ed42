//! Decisions on hand-built observations: breakeven curtails above breakeven
//! and not below, respects its dwell time and hysteresis; seed-threshold
//! moves nothing while the two uses are within 10 %.

use chrono::{TimeZone, Utc};
use hcp_contract::{
    Action, AsicCohortSpec, AsicCohortView, CohortId, GpuAllocation, GpuPoolView, Observation,
    PerGpuUse, Policy, SiteId, SiteView, breakeven_usd_per_mwh,
};
use hcp_engine::time::SimTime;
use hcp_models::plant::{PlantConfig, catalogs};
use hcp_policies::PolicyConfig;

/// One 10 MW site (PUE 1) with 1,000 S21s, all hashing at stock, and 100
/// H100-like GPUs idle; hashprice $0.05/TH/day, 2.5 % pool fee.
fn observation(price: f64, minutes: u64, power_targets: bool) -> Observation {
    let (asic, _) = catalogs(&PlantConfig::default());
    let spec = asic.model("S21").unwrap().clone();
    let mut o = Observation::empty(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    o.time = SimTime::from_micros(minutes * 60_000_000);
    o.interval_s = 900.0;
    o.market.hashprice_usd_per_th_day = Some(0.05);
    o.market.pool_fee = 0.025;
    let committed = (1000.0 * spec.power_w + 100.0 * 1000.0) / 1e6;
    let site = SiteId::from("test");
    let mut view = SiteView::new(site.clone(), "HB_WEST".into(), 10.0, 1.0, false);
    view.price_usd_per_mwh = Some(price);
    view.set_committed(committed);
    view.last_power_mw = committed;
    o.sites.push(view);
    let mut cohort = AsicCohortView::new(
        AsicCohortSpec {
            site: site.clone(),
            model: spec.name.clone(),
            firmware: if power_targets { "luxos" } else { "stock" }.into(),
            curve: spec.curve(),
            installed: 1000,
            supports_power_target: power_targets,
            standby_w: 25.0,
        },
        spec.power_w,
    );
    cohort.on = 1000;
    o.asic_cohorts.push(cohort);
    let mut pool = GpuPoolView::new(site, "H100".into(), 100, 1000.0, 1.0, true);
    pool.allocation = GpuAllocation {
        idle: 100,
        ..GpuAllocation::default()
    };
    o.gpu_pools.push(pool);
    o
}

/// The id of the one cohort.
fn cohort_id(power_targets: bool) -> CohortId {
    CohortId::from(if power_targets {
        "test/S21/luxos"
    } else {
        "test/S21/stock"
    })
}

/// Devices the policy asks of the one cohort, if it names it.
fn asked_on(actions: &[Action]) -> Option<u32> {
    cohort_0(actions).map(|(on, _)| on)
}

/// The devices and target the policy asks of the one cohort, if it names it.
fn cohort_0(actions: &[Action]) -> Option<(u32, Option<f64>)> {
    actions.iter().find_map(|a| match a {
        Action::Asic {
            cohort,
            on,
            power_target_w,
        } if *cohort == cohort_id(true) || *cohort == cohort_id(false) => {
            Some((*on, *power_target_w))
        }
        _ => None,
    })
}

/// What the plant would show next: cohort 0 at `on`, GPUs as asked.
fn applied(mut o: Observation, actions: &[Action], on: u32) -> Observation {
    o.asic_cohorts[0].on = on;
    for a in actions {
        if let Action::Gpu { allocation, .. } = a {
            o.gpu_pools[0].allocation = *allocation;
        }
    }
    o
}

#[test]
fn breakeven_curtails_above_breakeven_and_not_below() {
    let mut actions = Vec::new();
    let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
    policy.decide(&observation(500.0, 0, true), &mut actions);
    assert_eq!(asked_on(&actions), Some(0), "{actions:?}");

    for price in [-20.0, 20.0, 100.0] {
        let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
        actions.clear();
        policy.decide(&observation(price, 0, true), &mut actions);
        assert!(
            asked_on(&actions).is_none_or(|on| on == 1000),
            "{price}: {actions:?}"
        );
    }
}

#[test]
fn breakeven_lowers_the_power_target_when_power_is_dear() {
    let mut actions = Vec::new();
    let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
    // At $100/MWh an S21 at stock still earns, but less than at a lower target.
    policy.decide(&observation(100.0, 0, true), &mut actions);
    let target = actions.iter().find_map(|a| match *a {
        Action::Asic { power_target_w, .. } => power_target_w,
        _ => None,
    });
    assert!(target.is_some_and(|w| w < 3500.0), "{actions:?}");
    actions.clear();
    let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
    policy.decide(&observation(5.0, 0, true), &mut actions);
    let target = actions.iter().find_map(|a| match *a {
        Action::Asic { power_target_w, .. } => power_target_w,
        _ => None,
    });
    assert!(target.is_some_and(|w| w > 3500.0), "{actions:?}");
}

#[test]
fn under_a_binding_cap_breakeven_and_mpc_run_every_device_at_a_lower_target() {
    // 1,000 S21 want 3.5 MW at stock; the cap leaves 2.9 MW − 1,000 × 25 W
    // standby = 2.875 MW of IT power for them. Spreading it over every
    // device gives 2,875 W above standby each: a 2,900 W target.
    let mut o = observation(20.0, 0, true);
    o.sites[0].cap_mw = 2.9;
    let mut actions = Vec::new();
    // mpc plans the same way at every step of its horizon.
    for name in ["breakeven", "mpc"] {
        actions.clear();
        let mut policy = PolicyConfig::by_name(name).unwrap().build();
        policy.decide(&o, &mut actions);
        let (on, target) = cohort_0(&actions).expect("an ASIC action");
        assert_eq!(on, 1000, "{name}: {actions:?}");
        let target = target.expect("a lower target");
        assert!((target - 2900.0).abs() < 1.0, "{name}: {target}");
    }
    // Below the firmware's minimum it switches devices off instead.
    o.sites[0].cap_mw = 1.0;
    actions.clear();
    let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
    policy.decide(&o, &mut actions);
    let min_w = o.asic_cohorts[0].power_range_w.0;
    let (on, target) = cohort_0(&actions).expect("an ASIC action");
    assert_eq!(target, Some(min_w));
    assert!(
        on < 1000 && f64::from(on) * (min_w - 25.0) <= 0.975e6,
        "{on}"
    );
}

#[test]
fn breakeven_keeps_its_dwell_time_and_hysteresis() {
    // Stock firmware: breakeven is fixed at the stock efficiency.
    let b = breakeven_usd_per_mwh(17.5, 0.05, 0.025, 1.0);
    assert!((b - 116.07).abs() < 0.01, "{b}");
    let mut policy = PolicyConfig::by_name("breakeven").unwrap().build();
    let mut actions = Vec::new();
    policy.decide(&observation(200.0, 0, false), &mut actions);
    assert_eq!(asked_on(&actions), Some(0));
    // Ten minutes later the price is far below breakeven: still within the
    // 30-minute dwell, the cohort stays off.
    let stays = |policy: &mut Box<dyn Policy>, price: f64, minutes: u64| {
        let o = applied(observation(price, minutes, false), &[], 0);
        let mut actions = Vec::new();
        policy.decide(&o, &mut actions);
        asked_on(&actions).is_none_or(|on| on == 0)
    };
    assert!(stays(&mut policy, 20.0, 10));
    // Past the dwell but above breakeven × 0.95: hysteresis holds it off.
    assert!(stays(&mut policy, 0.97 * b, 45));
    assert!(!stays(&mut policy, 0.94 * b, 60));
}

#[test]
fn seed_threshold_moves_nothing_while_the_uses_are_within_ten_percent() {
    // Mining nets 116.07 − 20 = 96.07 USD per MW-hour. A GPU drawing 1 kW
    // nets 1000·v − 20 per MW-hour at v USD per GPU-hour.
    let mut policy = PolicyConfig::by_name("seed-threshold").unwrap().build();
    let mut o = observation(20.0, 0, false);
    o.market.gpu_usd_per_gpu_hour = PerGpuUse {
        p3: Some(0.05),
        ..PerGpuUse::default()
    };
    let mut actions = Vec::new();
    policy.decide(&o, &mut actions);
    // Mining wins: the GPUs go off.
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Gpu { allocation, .. } if allocation.powered() == 0)),
        "{actions:?}"
    );
    let mut o = applied(o, &actions, 1000);
    // AI now nets 96.5: better, but by less than 10 %.
    o.market.gpu_usd_per_gpu_hour.p3 = Some(0.1165);
    actions.clear();
    policy.decide(&o, &mut actions);
    assert!(actions.is_empty(), "{actions:?}");
    // AI nets 110: more than 10 % better, capacity moves.
    o.market.gpu_usd_per_gpu_hour.p3 = Some(0.13);
    policy.decide(&o, &mut actions);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Gpu { allocation, .. } if allocation.powered() == 100)),
        "{actions:?}"
    );
}

/// Whether any action names a device (an ASIC cohort or a GPU pool).
fn touches_devices(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::Asic { .. } | Action::Gpu { .. }))
}

#[test]
fn with_the_price_unknown_the_price_policies_hold_every_device_at_the_site() {
    // $500/MWh would curtail (breakeven $116); an unknown price is not $0
    // (which would switch everything on) nor $500: devices stay as they are.
    for name in ["breakeven", "mpc", "seed-threshold"] {
        for power_targets in [true, false] {
            let mut o = observation(500.0, 0, power_targets);
            o.sites[0].price_usd_per_mwh = None;
            o.sites[0].price_age_s = 3_600.0;
            let mut policy = PolicyConfig::by_name(name).unwrap().build();
            let mut actions = Vec::new();
            policy.decide(&o, &mut actions);
            assert!(!touches_devices(&actions), "{name}: {actions:?}");
            // Once the price is back, the policy acts on it at once.
            o.sites[0].price_usd_per_mwh = Some(500.0);
            actions.clear();
            policy.decide(&o, &mut actions);
            if name == "seed-threshold" {
                assert!(touches_devices(&actions), "{name}: {actions:?}");
            } else {
                assert_eq!(asked_on(&actions), Some(0), "{name}: {actions:?}");
            }
        }
    }
}

#[test]
fn with_the_hashprice_unknown_no_price_policy_switches_a_miner() {
    for name in ["breakeven", "mpc", "seed-threshold"] {
        let mut o = observation(500.0, 0, true);
        o.market.hashprice_usd_per_th_day = None;
        let mut policy = PolicyConfig::by_name(name).unwrap().build();
        let mut actions = Vec::new();
        policy.decide(&o, &mut actions);
        assert_eq!(asked_on(&actions), None, "{name}: {actions:?}");
    }
}

#[test]
fn mining_only_and_ai_first_do_not_read_prices_and_decide_the_same_when_they_are_unknown() {
    for name in ["mining-only", "ai-first"] {
        let known = observation(500.0, 0, true);
        let mut unknown = known.clone();
        unknown.sites[0].price_usd_per_mwh = None;
        unknown.market.hashprice_usd_per_th_day = None;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        PolicyConfig::by_name(name)
            .unwrap()
            .build()
            .decide(&known, &mut a);
        PolicyConfig::by_name(name)
            .unwrap()
            .build()
            .decide(&unknown, &mut b);
        assert_eq!(a, b, "{name}");
        assert!(touches_devices(&a), "{name}: {a:?}");
    }
}

#[test]
fn an_unresponsive_miner_is_not_planned_with() {
    // 1,000 S21 at $20/MWh all hash; 300 that do not answer are left out
    // of the plan (the policy asks for at most the 700 it can see).
    let mut o = observation(20.0, 0, false);
    o.asic_cohorts[0].on = 0;
    o.asic_cohorts[0].unresponsive = 300;
    let mut policy = PolicyConfig::by_name("mining-only").unwrap().build();
    let mut actions = Vec::new();
    policy.decide(&o, &mut actions);
    assert_eq!(asked_on(&actions), Some(700), "{actions:?}");
}

#[test]
fn breakeven_forgets_grid_events_once_their_notice_is_gone() {
    use hcp_contract::{GridEventKind, GridNotice, Payment};
    use hcp_policies::breakeven::{Breakeven, BreakevenParams};
    let mut policy = Breakeven::new(BreakevenParams::default());
    let mut actions = Vec::new();
    // A year of hourly notices, one at a time, each over before the next.
    for event in 0..8_760_u32 {
        let minutes = u64::from(event) * 60;
        let mut o = observation(20.0, minutes, true);
        o.sites[0].grid_events = true;
        o.grid_notices.push(GridNotice {
            id: event,
            kind: GridEventKind::Ers10,
            start: SimTime::from_micros((minutes + 10) * 60_000_000),
            end: SimTime::from_micros((minutes + 40) * 60_000_000),
            payment: Payment::default(),
            committed_mw: [(o.sites[0].id.clone(), 0.0)].into_iter().collect(),
        });
        actions.clear();
        policy.decide(&o, &mut actions);
        // Each new event is answered once, with the fast MW hashing.
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::DemandResponse { event: e, .. } if *e == event)),
            "{event}: {actions:?}"
        );
        assert!(policy.events_remembered() <= 1, "{event}");
    }
}
