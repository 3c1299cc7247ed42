//! Determinism (design.md §4): the same seed gives a bit-identical event
//! trace, another seed a different one, and neither an unrelated RNG stream,
//! nor the way the run is driven, nor the event loop changes results.

use hcp_engine::prelude::*;
use hcp_engine::queueing::{
    MmcConfig, MmcEvent, MmcSystem, run_mmc, run_mmc_baseline, run_mmc_boxed,
};
use rand::RngExt;

fn config() -> MmcConfig {
    MmcConfig::mmc(8, 0.9, 50_000, 1_000)
}

/// Wraps a model and records every event it handles, with its time.
struct Traced<M: Model> {
    inner: M,
    trace: Vec<(SimTime, M::Event)>,
}

impl<M: Model> Model for Traced<M>
where
    M::Event: Copy,
{
    type Event = M::Event;
    fn start(&mut self, s: &mut Scheduler<M::Event>) {
        self.inner.start(s);
    }
    fn handle(&mut self, e: M::Event, s: &mut Scheduler<M::Event>) {
        self.trace.push((s.now(), e));
        self.inner.handle(e, s);
    }
}

/// The M/M/c system of `config()` on `streams`, recording its trace.
fn traced(streams: &RngStreams) -> Simulation<Traced<MmcSystem>> {
    Simulation::new(Traced {
        inner: MmcSystem::new(&config(), streams),
        trace: Vec::new(),
    })
}

/// The whole event trace of one run.
fn trace_with_streams(streams: &RngStreams) -> Vec<(SimTime, MmcEvent)> {
    let mut sim = traced(streams);
    sim.run();
    sim.into_model().trace
}

fn trace(seed: u64) -> Vec<(SimTime, MmcEvent)> {
    trace_with_streams(&RngStreams::new(seed, 0))
}

#[test]
fn same_seed_gives_a_bit_identical_trace_and_another_seed_does_not() {
    let a = trace(7);
    let b = trace(7);
    let c = trace(8);
    assert_eq!(a.len(), 100_000);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Differences start early, not just at the tail.
    assert_ne!(a[..100], c[..100]);
}

#[test]
fn engine_plain_heap_and_boxed_loops_agree_bit_for_bit() {
    let streams = RngStreams::new(3, 0);
    let engine = run_mmc(&config(), &streams);
    assert_eq!(engine.events, 100_000);
    for other in [
        run_mmc_baseline(&config(), &streams),
        run_mmc_boxed(&config(), &streams),
    ] {
        assert_eq!(engine.events, other.events);
        assert_eq!(engine.end_secs.to_bits(), other.end_secs.to_bits());
        // Every field is a non-NaN f64 or a u64, so equality here is bit equality.
        assert_eq!(engine.stats, other.stats);
    }
}

/// The M/M/c system plus an unrelated component with its own RNG stream and
/// its own events: a noisy sensor that fires at random times and draws a lot.
struct WithNoise {
    mmc: MmcSystem,
    noise: StreamRng,
    readings: u32,
    mmc_trace: Vec<(SimTime, MmcEvent)>,
}

#[derive(Clone, Copy, Debug)]
enum Composite {
    Mmc(MmcEvent),
    Sensor,
}

impl From<MmcEvent> for Composite {
    fn from(e: MmcEvent) -> Self {
        Composite::Mmc(e)
    }
}

impl Event for Composite {
    fn rank(&self) -> Rank {
        match self {
            // The sensor reads before anything else at the same instant.
            Composite::Sensor => 0,
            Composite::Mmc(e) => e.rank(),
        }
    }
}

impl Model for WithNoise {
    type Event = Composite;
    fn start(&mut self, s: &mut Scheduler<Composite>) {
        self.mmc.start_on(s);
        s.schedule_in(SimDuration::from_millis(1), Composite::Sensor);
    }
    fn handle(&mut self, e: Composite, s: &mut Scheduler<Composite>) {
        match e {
            Composite::Mmc(e) => {
                self.mmc_trace.push((s.now(), e));
                self.mmc.handle_on(e, s);
            }
            Composite::Sensor => {
                let draws: f64 = (0..5).map(|_| self.noise.random::<f64>()).sum();
                self.readings += 1;
                if self.readings < 20_000 {
                    s.schedule_in(SimDuration::from_secs_f64(draws), Composite::Sensor);
                }
            }
        }
    }
}

#[test]
fn an_unrelated_stream_and_component_leave_results_bit_identical() {
    let streams = RngStreams::new(11, 2);
    let alone = trace_with_streams(&streams);
    let mut sim = Simulation::new(WithNoise {
        mmc: MmcSystem::new(&config(), &streams),
        noise: streams.stream(StreamId::named("test.sensor_noise")),
        readings: 0,
        mmc_trace: Vec::new(),
    });
    sim.run();
    assert_eq!(
        sim.model().readings,
        20_000,
        "the noise component really ran"
    );
    let stats_alone = {
        let mut s = Simulation::new(MmcSystem::new(&config(), &streams));
        s.run();
        s.model().stats()
    };
    assert_eq!(sim.model().mmc_trace, alone);
    assert_eq!(sim.model().mmc.stats(), stats_alone);
}

#[test]
fn stepping_chunking_and_observing_do_not_change_the_trace() {
    let streams = RngStreams::new(5, 0);
    let whole = trace_with_streams(&streams);

    // One event at a time, with an observer sampling every simulated second.
    let mut stepped = traced(&streams);
    let samples = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let counter = samples.clone();
    stepped.add_observer(
        SimDuration::from_secs(1),
        move |_: SimTime, _: &Traced<MmcSystem>| {
            counter.set(counter.get() + 1);
        },
    );
    while stepped.step().is_some() {}
    assert!(
        samples.get() > 1_000,
        "observer ran {} times",
        samples.get()
    );
    assert_eq!(stepped.into_model().trace, whole);

    // In one-hour chunks.
    let mut chunked = traced(&streams);
    let mut horizon = SimTime::ZERO;
    while chunked.next_event_time().is_some() {
        horizon += SimDuration::from_hours(1);
        assert_eq!(chunked.run_until(horizon), RunOutcome::ReachedHorizon);
        assert_eq!(chunked.now(), horizon);
    }
    assert_eq!(chunked.into_model().trace, whole);
}
