//! [`TwinRun`]: one run of the twin driven a piece at a time — an engine
//! event, a market interval, up to an instant — instead of to the end in
//! one call, for a viewer that steps, pauses and plays a run as it
//! unfolds. [`run`](super::run) is a `TwinRun` played to its end, so a
//! stepped run and a plain one handle the same events in the same order
//! and give the same bits.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hcp_contract::{Forecaster, Observation, Policy};
use hcp_engine::rng::RngStreams;
use hcp_engine::simulation::Simulation;
use hcp_engine::time::SimTime;

use super::model::TwinModel;
use super::result::{RunResult, TwinSink};
use super::setup::{TwinSetup, build, summarise};
use crate::world::WorldTape;

/// One run of the twin, stepped from outside.
pub struct TwinRun<S: TwinSink + 'static> {
    simulation: Simulation<TwinModel<S>>,
    epoch: DateTime<Utc>,
}

impl<S: TwinSink + 'static> TwinRun<S> {
    /// A run of `policy` on `tape` (from [`TwinSetup::tape`] or
    /// [`TwinSetup::shared_tape`] with the same `streams`), at its start:
    /// the first interval is open and the policy has made its first
    /// decision.
    ///
    /// # Panics
    /// As [`run`](super::run): a P1 customer without an inference spec
    /// (checked by [`TwinSetup::prepare`]).
    pub fn new(
        setup: &TwinSetup,
        tape: Arc<WorldTape>,
        streams: &RngStreams,
        policy: Box<dyn Policy>,
        forecaster: Box<dyn Forecaster>,
        sink: S,
    ) -> TwinRun<S> {
        let epoch = tape.horizon.epoch.start();
        let mut model = build(setup, tape, streams, policy, forecaster, sink);
        (model.observation, model.ids) = model.initial_observation();
        TwinRun {
            simulation: Simulation::new(model),
            epoch,
        }
    }

    /// Whether the run is over (its last interval closed).
    pub fn is_finished(&self) -> bool {
        let m = self.simulation.model();
        m.interval >= m.intervals
    }

    /// Handles the events of the next instant with any (the engine's
    /// next event and whatever else falls at the same time: a job that
    /// finishes and the one it lets start are one step); false when the
    /// run was already over. The run loop does the work, as in a plain
    /// run, so the same events happen in the same order.
    pub fn step_event(&mut self) -> bool {
        if self.is_finished() {
            return false;
        }
        match self.simulation.next_event_time() {
            Some(t) => {
                self.simulation.run_until(t);
                true
            }
            None => false,
        }
    }

    /// Runs to the next market interval boundary (the current interval
    /// closed and booked, the next one opened).
    pub fn step_interval(&mut self) {
        let at = self.interval();
        while !self.is_finished() && self.interval() == at {
            if !self.step_event() {
                break;
            }
        }
    }

    /// Handles every event up to `t` (or to the end of the run).
    pub fn run_until(&mut self, t: SimTime) {
        if !self.is_finished() && t > self.now() {
            self.simulation.run_until(t);
        }
    }

    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.simulation.now()
    }

    /// The calendar instant of `t`.
    pub fn utc(&self, t: SimTime) -> DateTime<Utc> {
        self.epoch
            + chrono::Duration::microseconds(i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
    }

    /// The calendar instant now.
    pub fn utc_now(&self) -> DateTime<Utc> {
        self.utc(self.now())
    }

    /// Engine events handled so far.
    pub fn events(&self) -> u64 {
        self.simulation.events_handled()
    }

    /// The market interval open now (the count of intervals at the end).
    pub fn interval(&self) -> u64 {
        self.simulation.model().interval
    }

    /// Market intervals in the horizon.
    pub fn intervals(&self) -> u64 {
        self.simulation.model().intervals
    }

    /// The policy's latest observation (queues, notices, sites).
    pub fn observation(&self) -> &Observation {
        &self.simulation.model().observation
    }

    /// Site names, in plant order.
    pub fn site_names(&self) -> Vec<String> {
        self.simulation
            .model()
            .sites
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.simulation.model().sink
    }

    /// The sink, to drain what it holds.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.simulation.model_mut().sink
    }

    /// Plays what is left and closes the books: the run's figures and the sink.
    pub fn finish(mut self) -> (RunResult, S) {
        if !self.is_finished() {
            self.simulation.run();
        }
        let events = self.simulation.events_handled();
        let mut model = self.simulation.into_model();
        model.ledger.finish();
        let result = summarise(&model, events);
        (result, model.sink)
    }
}
