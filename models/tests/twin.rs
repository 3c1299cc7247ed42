//! The twin end to end: the power cap under random actions, the books,
//! determinism, jobs and P1 served, switching quantiles, bad plants.

use std::path::Path;

use hcp_contract::{Action, GpuAllocation, Observation, Persistence, Policy, SiteId};
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use hcp_models::demand::WorkloadClass;
use hcp_models::ledger::Stream;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{ClipReason, FixedPolicy, MemorySink, RunResult, TwinSetup, run};
use hcp_models::world::WorldConfig;
use rand::RngExt;

fn setup(days: u32, plant: PlantConfig) -> TwinSetup {
    let world = WorldConfig {
        days,
        ..WorldConfig::default()
    };
    TwinSetup::prepare(world, plant, Path::new(".")).unwrap()
}

fn play(setup: &TwinSetup, seed: u64, policy: Box<dyn Policy>) -> (RunResult, MemorySink) {
    let streams = RngStreams::new(seed, 0);
    let tape = setup.tape(&streams);
    run(
        setup,
        tape,
        &streams,
        policy,
        Box::new(Persistence::default()),
        MemorySink::default(),
    )
}

/// Asks for anything at all: random counts far above the fleet, random
/// power targets in and out of range, garbage indices, NaN and negative
/// MW, admission flips.
struct RandomPolicy {
    rng: StreamRng,
}

impl RandomPolicy {
    fn new(seed: u64) -> Self {
        RandomPolicy {
            rng: RngStreams::new(seed, 0).stream(StreamId::named("test/random-policy")),
        }
    }

    fn count(&mut self, working: u32) -> u32 {
        match self.rng.random_range(0..4) {
            0 => 0,
            1 => working,
            2 => self.rng.random_range(0..=working.saturating_mul(3).max(1)),
            _ => self.rng.random_range(0..=working.max(1)),
        }
    }
}

impl RandomPolicy {
    /// A site of the observation, or one that does not exist.
    fn site(&mut self, o: &Observation) -> SiteId {
        let k = self.rng.random_range(0..o.sites.len() + 1);
        o.sites
            .get(k)
            .map_or_else(|| SiteId::from("nowhere"), |s| s.id.clone())
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> &'static str {
        "random"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        for view in &o.asic_cohorts {
            if self.rng.random::<f64>() < 0.5 {
                continue;
            }
            let on = self.count(view.installed);
            let power_target_w = match self.rng.random_range(0..4) {
                0 => None,
                1 => Some(view.curve.stock_power_w * self.rng.random_range(0.2..1.6)),
                2 => Some(f64::NAN),
                _ => Some(
                    view.power_range_w.0
                        + (view.power_range_w.1 - view.power_range_w.0) * self.rng.random::<f64>(),
                ),
            };
            actions.push(Action::Asic {
                cohort: view.id.clone(),
                on,
                power_target_w,
            });
        }
        for view in &o.gpu_pools {
            if self.rng.random::<f64>() < 0.5 {
                continue;
            }
            let n = view.installed;
            let allocation = GpuAllocation {
                p1: self.count(n / 4),
                p2: self.count(n / 4),
                p3: self.count(n / 4),
                p4: self.count(n / 4),
                rental: self.count(n / 8),
                idle: self.count(n / 8),
            };
            actions.push(Action::Gpu {
                pool: view.id.clone(),
                allocation,
            });
        }
        if self.rng.random::<f64>() < 0.05 {
            actions.push(Action::Asic {
                cohort: "nowhere/S21/stock".into(),
                on: 1,
                power_target_w: None,
            });
            actions.push(Action::Gpu {
                pool: "nowhere/H100".into(),
                allocation: GpuAllocation::default(),
            });
        }
        if self.rng.random::<f64>() < 0.05 {
            let class = [WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4]
                [self.rng.random_range(0..3)];
            actions.push(Action::Admission {
                class,
                open: self.rng.random::<f64>() < 0.7,
            });
        }
        for notice in &o.grid_notices {
            let mw = match self.rng.random_range(0..3) {
                0 => -5.0,
                1 => f64::NAN,
                _ => self.rng.random_range(0.0..200.0),
            };
            actions.push(Action::DemandResponse {
                event: notice.id,
                site: self.site(o),
                mw,
            });
        }
        if !o.market.ancillary_services.is_empty() && self.rng.random::<f64>() < 0.1 {
            let k = self
                .rng
                .random_range(0..o.market.ancillary_services.len() + 1);
            let service = o
                .market
                .ancillary_services
                .keys()
                .nth(k)
                .cloned()
                .unwrap_or_else(|| "no-such-service".into());
            actions.push(Action::Ancillary {
                site: self.site(o),
                service,
                mw: self.rng.random_range(-10.0..80.0),
            });
        }
    }
}

#[test]
fn random_actions_never_take_a_site_over_its_cap() {
    let setup = setup(10, PlantConfig::default());
    let (result, sink) = play(&setup, 3, Box::new(RandomPolicy::new(3)));
    assert_eq!(result.intervals, 10 * 288);
    assert_eq!(sink.intervals.len(), 10 * 288 * 3);
    for record in &sink.intervals {
        assert!(
            record.facility_mw <= record.cap_mw * (1.0 + 1e-12),
            "site {} interval {}: {} MW over the {} MW cap",
            record.site,
            record.interval,
            record.facility_mw,
            record.cap_mw
        );
        assert!(record.committed_mw_max <= record.cap_mw * (1.0 + 1e-12));
        assert!(record.facility_mw <= record.committed_mw_max * (1.0 + 1e-9) + 1e-9);
    }
    assert_eq!(result.cap_violations, 0);
    assert!(result.max_committed_share_of_cap <= 1.0 + 1e-12);
    // North Dakota's 15,000 S21s want more than its 50 MW: the cap binds.
    assert!(result.max_committed_share_of_cap > 0.95);
    for reason in [
        ClipReason::PowerCap,
        ClipReason::NotEnoughDevices,
        ClipReason::UnknownIndex,
        ClipReason::PowerTarget,
    ] {
        assert!(
            sink.clips.iter().any(|c| c.reason == reason),
            "no clip recorded for {reason:?}"
        );
    }
    assert_eq!(result.clips, sink.clips.len() as u64);
    assert!(result.switches[0] > 1_000, "{:?}", result.switches);
}

#[test]
fn the_books_balance_and_energy_is_price_times_power() {
    let setup = setup(40, PlantConfig::default());
    let (result, sink) = play(&setup, 5, Box::new(FixedPolicy::default()));
    let books = &result.ledger;
    let revenue: f64 = Stream::ALL
        .iter()
        .filter(|s| s.is_revenue())
        .map(|s| books.total(*s))
        .sum();
    let costs: f64 = Stream::ALL
        .iter()
        .filter(|s| !s.is_revenue())
        .map(|s| books.total(*s))
        .sum();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(
        close(revenue - costs, books.profit_usd),
        "{revenue} − {costs} vs {}",
        books.profit_usd
    );
    let hours = 5.0 / 60.0;
    let mut energy = 0.0;
    let mut mining = 0.0;
    for r in &sink.intervals {
        assert!(close(
            r.energy_usd,
            r.price_usd_per_mwh * r.facility_mw * hours
        ));
        energy += r.energy_usd;
        mining += r.mining_usd;
    }
    assert!(
        close(energy, books.total(Stream::Energy)),
        "{energy} vs {}",
        books.total(Stream::Energy)
    );
    assert!(close(mining, books.total(Stream::BtcMined)));
    // Mining earns; AI earns; energy is the big cost.
    assert!(books.total(Stream::BtcMined) > 1e6);
    assert!(books.total(Stream::AiInference) > 0.0);
    assert!(books.total(Stream::AiTraining) > 0.0);
    assert!(books.total(Stream::Energy) > 1e6);
    // Invoices add up to the customer streams less credits.
    let invoiced: f64 = result.invoices.iter().map(|i| i.net_usd).sum();
    let customer = books.total(Stream::AiInference)
        + books.total(Stream::AiTraining)
        + books.total(Stream::AiInterruptible)
        - books.total(Stream::SlaCredits)
        - books.total(Stream::PreemptionCredits);
    assert!(close(invoiced, customer), "{invoiced} vs {customer}");
    // Two calendar months (December and January) are invoiced.
    assert!(result.invoices.iter().any(|i| i.month == 1));
}

#[test]
fn jobs_run_and_p1_is_served() {
    let setup = setup(7, PlantConfig::default());
    let (result, _) = play(&setup, 7, Box::new(FixedPolicy::default()));
    let arrived: u64 = result.jobs.iter().map(|j| j.arrived).sum();
    assert!(arrived > 7 * 11_000, "{arrived} jobs in a week");
    for (k, jobs) in result.jobs.iter().enumerate() {
        assert!(jobs.completed > jobs.arrived / 2, "class {k}: {jobs:?}");
    }
    let [asked, served, dropped] = result.p1_requests;
    assert!(asked > 1e6);
    assert!((served + dropped - asked).abs() < 1e-6 * asked);
    assert!(served > 0.99 * asked, "{served} of {asked}");
    assert!(result.asic_utilisation > 0.5 && result.asic_utilisation <= 1.0);
    assert!(result.gpu_utilisation > 0.1 && result.gpu_utilisation <= 1.0);
    assert!(result.failures[0] > 0, "{:?}", result.failures);
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let setup = setup(3, PlantConfig::default());
    let (a, sink_a) = play(&setup, 11, Box::new(RandomPolicy::new(1)));
    let (b, sink_b) = play(&setup, 11, Box::new(RandomPolicy::new(1)));
    assert_eq!(a, b);
    assert_eq!(sink_a.intervals, sink_b.intervals);
    assert_eq!(sink_a.switches, sink_b.switches);
    let (c, _) = play(&setup, 12, Box::new(RandomPolicy::new(1)));
    assert_ne!(a.ledger.profit_usd, c.ledger.profit_usd);
}

#[test]
fn warm_switches_match_the_reference_quantiles() {
    let setup = setup(5, PlantConfig::default());
    let (result, _) = play(&setup, 4, Box::new(RandomPolicy::new(4)));
    assert!(result.switches[0] > 20_000, "{:?}", result.switches);
    let [p50, p99] = result.switch_ms;
    assert!((p50 / 442.0 - 1.0).abs() < 0.05, "p50 {p50} ms");
    assert!((p99 / 681.0 - 1.0).abs() < 0.05, "p99 {p99} ms");
}

fn refused(toml_text: &str) -> String {
    let plant: PlantConfig = match toml::from_str(toml_text) {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    match TwinSetup::prepare(
        WorldConfig {
            days: 1,
            ..WorldConfig::default()
        },
        plant,
        Path::new("."),
    ) {
        Ok(_) => panic!("accepted: {toml_text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn impossible_plants_are_refused_with_key_and_reason() {
    let site = |extra: &str| {
        format!("[[sites]]\nname = \"A\"\nnode = \"HB_NORTH\"\ncap_mw = 10.0\n{extra}")
    };
    let e = refused(&site("pue = 0.9\n"));
    assert!(
        e.contains("plant.sites[0].pue") && e.contains("at least 1"),
        "{e}"
    );
    let e = refused(&site("[[sites.gpus]]\ngpu = \"B200X\"\ncount = 8\n"));
    assert!(
        e.contains("plant.sites[0].gpus[0].gpu") && e.contains("H100"),
        "{e}"
    );
    let e = refused(&site("[[sites.asics]]\nmodel = \"S99\"\ncount = 8\n"));
    assert!(
        e.contains("plant.sites[0].asics[0].model") && e.contains("S21"),
        "{e}"
    );
    let e = refused(&site("[[sites.asics]]\nmodel = \"S21\"\ncount = -5\n"));
    assert!(e.contains("count") && e.contains("-5"), "{e}");
    let e = refused(&site(
        "cooling = \"air\"\n[[sites.asics]]\nmodel = \"S21\"\ncount = 3000000\nfirmware = \"stock\"\n",
    ));
    assert!(
        e.contains("plant.sites[0].cap_mw") && e.contains("curtailed"),
        "{e}"
    );
    let e = refused("[[sites]]\nname = \"A\"\nnode = \"HB_NORTH\"\ncap_mw = -1.0\n");
    assert!(
        e.contains("plant.sites[0].cap_mw") && e.contains("positive"),
        "{e}"
    );
    let e = refused(&site(
        "[[sites.asics]]\nmodel = \"S21\"\ncount = 10\npower_target_w = 9000.0\n",
    ));
    assert!(e.contains("power_target_w") && e.contains("range"), "{e}");
    let e = refused(&format!("{}{}", site(""), site("")));
    assert!(e.contains("plant.sites[1].name"), "{e}");
    let e = refused("[[sites]]\nname = \"A\"\nnode = \"XX_NOWHERE\"\ncap_mw = 10.0\n");
    assert!(e.contains("XX_NOWHERE"), "{e}");
    let e = refused(&site("voltage = 3\n"));
    assert!(e.contains("voltage"), "{e}");
}

/// Fixed shares, plus: commits every site's last power to each announced
/// grid event and curtails every ASIC for it; asks for a forecast and
/// checks what it gets.
struct GridCitizen {
    inner: FixedPolicy,
    curtail: bool,
    forecasts_seen: usize,
}

impl Policy for GridCitizen {
    fn name(&self) -> &'static str {
        "grid-citizen"
    }

    fn subscriptions(&self) -> hcp_contract::Subscriptions {
        hcp_contract::Subscriptions {
            forecast_steps: 12,
            ..Default::default()
        }
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        let forecast = o.forecast.as_ref().expect("a forecast was asked for");
        assert_eq!(forecast.hashprice_usd_per_th_day.len(), 12);
        assert_eq!(forecast.price_usd_per_mwh.len(), o.sites.len());
        for site in &o.sites {
            // Persistence: the last price seen, never the tape's future.
            let series = forecast.price(&site.id);
            assert_eq!(series.len(), 12);
            assert!(series.iter().all(|&p| Some(p) == site.price_usd_per_mwh));
        }
        self.forecasts_seen += 1;
        let in_event = o
            .grid_notices
            .iter()
            .any(|n| n.start <= o.time && o.time < n.end);
        for notice in &o.grid_notices {
            for view in &o.sites {
                if view.grid_events && notice.committed_at(&view.id) == 0.0 {
                    actions.push(Action::DemandResponse {
                        event: notice.id,
                        site: view.id.clone(),
                        mw: view.last_power_mw,
                    });
                }
            }
        }
        if self.curtail && in_event {
            for view in &o.asic_cohorts {
                if o.site(&view.site).is_some_and(|s| s.grid_events) && view.on > 0 {
                    actions.push(Action::Asic {
                        cohort: view.id.clone(),
                        on: 0,
                        power_target_w: None,
                    });
                }
            }
        } else {
            self.inner.decide(o, actions);
        }
    }
}

#[test]
fn demand_response_pays_for_load_actually_shed() {
    // June–September holds the 4CP alerts; ERS events come all year.
    let world = WorldConfig {
        start: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 0, 0, 0).unwrap(),
        days: 60,
        ..WorldConfig::default()
    };
    let setup = TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap();
    let dr = |curtail: bool| {
        let policy = GridCitizen {
            inner: FixedPolicy::default(),
            curtail,
            forecasts_seen: 0,
        };
        play(&setup, 21, Box::new(policy)).0
    };
    let shedding = dr(true);
    let promising = dr(false);
    let paid = |r: &RunResult| r.ledger.total(Stream::DemandResponse);
    assert!(paid(&shedding) > 0.0, "no DR payment");
    // Standby is paid either way; energy payments only for load shed.
    assert!(
        paid(&shedding) > paid(&promising),
        "{} vs {}",
        paid(&shedding),
        paid(&promising)
    );
    // The same failures hit both: failures do not depend on the policy.
    assert_eq!(shedding.failures, promising.failures);
}

#[test]
fn a_policy_deciding_hourly_is_asked_twelve_times_less() {
    struct Hourly(FixedPolicy);
    impl Policy for Hourly {
        fn name(&self) -> &'static str {
            "hourly"
        }
        fn subscriptions(&self) -> hcp_contract::Subscriptions {
            hcp_contract::Subscriptions {
                every_minutes: 60,
                grid_notices: false,
                ..Default::default()
            }
        }
        fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
            self.0.decide(o, actions);
        }
    }
    let setup = setup(2, PlantConfig::default());
    let (result, _) = play(&setup, 2, Box::new(Hourly(FixedPolicy::default())));
    assert_eq!(result.decisions, 2 * 24);
}

#[test]
fn shrinking_training_preempts_and_refunds_lost_progress() {
    let setup = setup(6, PlantConfig::default());
    let (result, _) = play(&setup, 9, Box::new(RandomPolicy::new(9)));
    assert!(result.jobs[1].preempted > 0, "{:?}", result.jobs[1]);
    assert!(result.ledger.total(Stream::PreemptionCredits) > 0.0);
    assert!(
        result.ledger.total(Stream::PreemptionCredits) < result.ledger.total(Stream::AiTraining)
    );
}

#[test]
fn replications_run_side_by_side_give_the_results_they_give_alone() {
    let setup = setup(2, PlantConfig::default());
    let alone: Vec<RunResult> = (0..2)
        .map(|seed| play(&setup, seed, Box::new(RandomPolicy::new(seed))).0)
        .collect();
    let side_by_side: Vec<RunResult> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|seed| {
                let setup = &setup;
                scope.spawn(move || play(setup, seed, Box::new(RandomPolicy::new(seed))).0)
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(alone, side_by_side);
    assert_ne!(alone[0], alone[1]);
}

#[test]
fn a_run_on_the_shared_job_list_equals_a_run_drawing_its_jobs() {
    let setup = setup(3, PlantConfig::default());
    let streams = RngStreams::new(5, 1);
    let shared = setup.shared_tape(&streams);
    assert!(
        shared.demand.jobs.len() > 20_000,
        "{}",
        shared.demand.jobs.len()
    );
    let streamed = setup.tape(&streams);
    assert!(streamed.demand.jobs.is_empty());
    let play_on = |tape| {
        run(
            &setup,
            tape,
            &streams,
            Box::new(RandomPolicy::new(3)),
            Box::new(Persistence::default()),
            MemorySink::default(),
        )
    };
    let (a, sink_a) = play_on(shared);
    let (b, sink_b) = play_on(streamed);
    let completed: u64 = a.jobs.iter().map(|j| j.completed).sum();
    assert!(completed > 1_000, "{:?}", a.jobs);
    assert_eq!(a, b);
    assert_eq!(sink_a.intervals, sink_b.intervals);
    assert_eq!(sink_a.switches, sink_b.switches);
}

/// Asks once, at the first decision, for more GPUs than the first pool has
/// and for a pool and a cohort that do not exist.
struct OverAsker {
    asked: bool,
}

impl Policy for OverAsker {
    fn name(&self) -> &'static str {
        "over-asker"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        if std::mem::replace(&mut self.asked, true) {
            return;
        }
        let pool = &o.gpu_pools[0];
        actions.push(Action::Gpu {
            pool: pool.id.clone(),
            allocation: GpuAllocation {
                p3: pool.installed + 100,
                ..GpuAllocation::default()
            },
        });
        actions.push(Action::Gpu {
            pool: "texas-north/B200".into(),
            allocation: GpuAllocation {
                p3: 8,
                ..GpuAllocation::default()
            },
        });
        actions.push(Action::Asic {
            cohort: "texas-north/S9/stock".into(),
            on: 5,
            power_target_w: None,
        });
    }
}

#[test]
fn a_gpu_action_beyond_the_working_gpus_is_clipped_once_and_unknown_ids_are_refused() {
    let setup = setup(1, PlantConfig::default());
    let (result, sink) = play(&setup, 5, Box::new(OverAsker { asked: false }));
    let at_start: Vec<_> = sink.clips.iter().filter(|c| c.time_us == 0).collect();
    let too_many: Vec<_> = at_start
        .iter()
        .filter(|c| c.reason == ClipReason::NotEnoughDevices)
        .collect();
    // One record, for action 0 — not a second one from the raising pass.
    assert_eq!(too_many.len(), 1, "{at_start:?}");
    assert_eq!(too_many[0].action, 0);
    assert!(sink.clips.iter().all(|c| c.action != usize::MAX));
    let refused: Vec<_> = at_start
        .iter()
        .filter(|c| c.reason == ClipReason::UnknownIndex)
        .map(|c| c.action)
        .collect();
    assert_eq!(refused, vec![1, 2], "{at_start:?}");
    // A refused action touches no other device: the only switch is pool 0's.
    assert!(
        sink.switches
            .iter()
            .filter(|s| s.time_us == 0)
            .all(|s| s.pool == 0)
    );
    assert_eq!(result.clips, sink.clips.len() as u64);
}

/// Fixed shares, decided also whenever a queue reaches 20 jobs; records
/// each queue-threshold observation's time and queue length.
struct QueueWatcher {
    inner: FixedPolicy,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(u64, u32, u64)>>>,
}

impl Policy for QueueWatcher {
    fn name(&self) -> &'static str {
        "queue-watcher"
    }
    fn subscriptions(&self) -> hcp_contract::Subscriptions {
        hcp_contract::Subscriptions {
            queue_threshold_jobs: Some(20),
            ..Default::default()
        }
    }
    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        if let hcp_contract::Trigger::QueueThreshold { class } = o.trigger {
            let jobs = o.queues.get(class).map_or(0, |q| q.jobs);
            self.seen
                .lock()
                .unwrap()
                .push((o.time.as_micros(), jobs, o.interval));
        }
        self.inner.decide(o, actions);
    }
}

#[test]
fn a_queue_threshold_wakes_the_policy_with_the_whole_observation_of_that_instant() {
    // GPUs mostly idle and P2 given few: queues grow past 20 jobs.
    let setup = setup(2, PlantConfig::default());
    let seen = std::sync::Arc::default();
    let policy = QueueWatcher {
        inner: FixedPolicy::new([0.05, 0.0, 0.0, 0.0, 0.0]),
        seen: std::sync::Arc::clone(&seen),
    };
    let (result, _) = play(&setup, 9, Box::new(policy));
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "no queue reached 20 jobs");
    let step_us = 300_000_000;
    for &(time_us, jobs, interval) in seen.iter() {
        // Exactly the threshold, at the arrival's own instant (inside the
        // interval the observation says), not at the interval's start.
        assert_eq!(jobs, 20);
        assert_eq!(time_us / step_us, interval, "{time_us} in {interval}");
    }
    assert!(seen.iter().any(|&(t, _, _)| t % step_us != 0));
    assert!(result.decisions > 2 * 288);
}

/// Fixed shares; records the job queues it is shown at each interval's
/// first decision.
struct QueuesAtIntervalStart {
    inner: FixedPolicy,
    seen: Seen,
}

/// (interval, jobs queued P2, P3, P4) of each interval's first decision.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(u64, [u64; 3])>>>;

impl Policy for QueuesAtIntervalStart {
    fn name(&self) -> &'static str {
        "queues-at-interval-start"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        if let Ok(mut seen) = self.seen.lock()
            && seen.last().is_none_or(|&(i, _)| i < o.interval)
        {
            let mut jobs = [0; 3];
            for (slot, (_, view)) in jobs.iter_mut().zip(o.queues.iter()) {
                *slot = u64::from(view.jobs);
            }
            seen.push((o.interval, jobs));
        }
        self.inner.decide(o, actions);
    }
}

#[test]
fn interval_records_mark_grid_events_and_carry_the_queues() {
    // June holds 4CP alerts; ERS events come all year.
    let world = WorldConfig {
        start: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 0, 0, 0).unwrap(),
        days: 30,
        ..WorldConfig::default()
    };
    let setup = TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let policy = QueuesAtIntervalStart {
        inner: FixedPolicy::default(),
        seen: std::sync::Arc::clone(&seen),
    };
    let streams = RngStreams::new(21, 0);
    let tape = setup.tape(&streams);
    let events = tape.grid.events.clone();
    let (_, sink) = run(
        &setup,
        tape,
        &streams,
        Box::new(policy),
        Box::new(Persistence::default()),
        MemorySink::default(),
    );
    let step = setup.world().horizon().step.as_micros();
    let sites = &setup.plant().sites;
    assert!(sites.iter().any(|s| s.grid_events) && !events.is_empty());
    let mut marked = 0;
    for r in &sink.intervals {
        let (t0, t1) = (r.interval * step, (r.interval + 1) * step);
        let standing = events.iter().any(|e| {
            let end = e.end().as_micros();
            e.notice_at.as_micros() < t1 && end > t0 && end > 0
        });
        let want = standing && sites[r.site].grid_events;
        assert_eq!(
            r.grid_event, want,
            "interval {} site {}",
            r.interval, r.site
        );
        marked += usize::from(r.grid_event);
        if r.site != 0 {
            assert_eq!(r.queued_jobs, [0; 3]);
        }
    }
    assert!(marked > 0 && marked < sink.intervals.len(), "{marked}");
    // The queues at an interval's end are what the next interval's first
    // decision sees (nothing happens between the two).
    let seen = seen.lock().unwrap();
    let mut compared = 0;
    let mut queued = 0;
    for r in sink.intervals.iter().filter(|r| r.site == 0) {
        if let Some((_, jobs)) = seen.iter().find(|(i, _)| *i == r.interval + 1) {
            assert_eq!(r.queued_jobs, *jobs, "interval {}", r.interval);
            compared += 1;
            queued += r.queued_jobs.iter().sum::<u64>();
        }
    }
    assert!(
        compared + 1 >= sink.intervals.len() / sites.len(),
        "{compared}"
    );
    assert!(queued > 0, "no job ever waited");
}
