//! The M/M/c reference model on the engine (and M/M/1, M/D/1 as special cases).
//!
//! ```text
//!   Source ──Arrival──▶ ┌─────────────┐      ┌── server 1 ──┐
//!   Exp(λ) gaps         │ FCFS queue  │ ───▶ │     …        │ ──Departure──▶
//!   stream "source"     └─────────────┘      └── server c ──┘
//!                                             service: Exp(μ) or fixed,
//!                                             stream "service"
//! ```
//!
//! [`MmcSystem`] is written as a *component*: its handlers are generic over
//! the enclosing model's event type `E: From<MmcEvent>`, so it runs alone
//! (it implements [`Model`] with `E = MmcEvent`) or inside a larger model
//! whose event enum has an `Mmc(MmcEvent)` variant — still with static
//! dispatch and no allocation per event. That is the pattern every component
//! of the twin follows.
//!
//! Measurement: statistics start when the `warmup_customers`-th customer
//! arrives (the empty start is not steady state) and time averages stop at
//! the last arrival (the final drain is not either); every customer who
//! arrived in between has its wait recorded.

use serde::{Deserialize, Serialize};

use crate::queue::Event;
use crate::rng::{RngStreams, StreamId};
use crate::simulation::{Model, Scheduler, Simulation};
use crate::time::{SimDuration, SimTime};

use super::station::{ServiceTime, Source, Station, StationStats};

/// Stream of inter-arrival gaps.
pub const SOURCE_STREAM: StreamId = StreamId::named("queueing.source");
/// Stream of service times.
pub const SERVICE_STREAM: StreamId = StreamId::named("queueing.service");

/// A single queue with Poisson arrivals.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MmcConfig {
    /// c, the number of identical servers.
    pub servers: u32,
    /// λ, arrivals per second.
    pub arrival_rate: f64,
    /// Service-time distribution.
    pub service: ServiceTime,
    /// Customers that arrive in all (the run ends when they are all served).
    pub customers: u64,
    /// Customers that arrive before statistics start.
    pub warmup_customers: u64,
}

impl MmcConfig {
    /// The M/M/c queue of the engine benchmark: μ = 1, λ = ρ·c.
    pub fn mmc(servers: u32, utilisation: f64, customers: u64, warmup_customers: u64) -> Self {
        MmcConfig {
            servers,
            arrival_rate: utilisation * f64::from(servers),
            service: ServiceTime::Exponential { rate: 1.0 },
            customers,
            warmup_customers,
        }
    }

    /// Offered utilisation ρ = λ·E\[S\] / c.
    pub fn utilisation(&self) -> f64 {
        self.arrival_rate * self.service.mean() / f64::from(self.servers)
    }
}

/// The events of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MmcEvent {
    /// A customer arrives.
    Arrival,
    /// A server finishes a service.
    Departure,
}

impl Event for MmcEvent {}

/// What one run of the queue measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MmcResult {
    /// The station's statistics.
    pub stats: StationStats,
    /// Events handled (two per customer).
    pub events: u64,
    /// Simulated time at the end of the run, seconds.
    pub end_secs: f64,
}

/// Source and station together: the whole queueing system.
#[derive(Clone, Debug)]
pub struct MmcSystem {
    source: Source,
    station: Station,
    warmup_customers: u64,
    arrived: u64,
}

impl MmcSystem {
    /// The system of `config`, drawing from `streams`.
    pub fn new(config: &MmcConfig, streams: &RngStreams) -> Self {
        MmcSystem {
            source: Source::new(
                config.arrival_rate,
                config.customers,
                streams.stream(SOURCE_STREAM),
            ),
            station: Station::new(
                config.servers,
                config.service,
                streams.stream(SERVICE_STREAM),
            ),
            warmup_customers: config.warmup_customers,
            arrived: 0,
        }
    }

    /// The first arrival, as delays to schedule.
    pub(super) fn first_events(&mut self, mut schedule: impl FnMut(SimDuration, MmcEvent)) {
        if self.warmup_customers == 0 {
            self.station.start_measuring(SimTime::ZERO);
        }
        if let Some(gap) = self.source.next_gap() {
            schedule(gap, MmcEvent::Arrival);
        }
    }

    /// Reacts to `event` at `now`, reporting the delays to schedule. Shared by
    /// the engine model and the plain-heap baseline.
    #[inline]
    pub(super) fn react(
        &mut self,
        now: SimTime,
        event: MmcEvent,
        mut schedule: impl FnMut(SimDuration, MmcEvent),
    ) {
        match event {
            MmcEvent::Arrival => {
                self.arrived += 1;
                if self.arrived == self.warmup_customers {
                    self.station.start_measuring(now);
                }
                if let Some(service) = self.station.arrive(now) {
                    schedule(service, MmcEvent::Departure);
                }
                match self.source.next_gap() {
                    Some(gap) => schedule(gap, MmcEvent::Arrival),
                    None => self.station.stop_time_averages(now),
                }
            }
            MmcEvent::Departure => {
                if let Some(service) = self.station.depart(now) {
                    schedule(service, MmcEvent::Departure);
                }
            }
        }
    }

    /// Schedules the first arrival on an engine whose events include `MmcEvent`.
    pub fn start_on<E: Event + From<MmcEvent>>(&mut self, scheduler: &mut Scheduler<E>) {
        self.first_events(|delay, event| {
            scheduler.schedule_in(delay, event);
        });
    }

    /// Handles `event` on an engine whose events include `MmcEvent`.
    #[inline]
    pub fn handle_on<E: Event + From<MmcEvent>>(
        &mut self,
        event: MmcEvent,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        self.react(now, event, |delay, event| {
            scheduler.schedule_in(delay, event);
        });
    }

    /// The station's statistics.
    pub fn stats(&self) -> StationStats {
        self.station.stats()
    }
}

impl Model for MmcSystem {
    type Event = MmcEvent;

    fn start(&mut self, scheduler: &mut Scheduler<MmcEvent>) {
        self.start_on(scheduler);
    }

    #[inline]
    fn handle(&mut self, event: MmcEvent, scheduler: &mut Scheduler<MmcEvent>) {
        self.handle_on(event, scheduler);
    }
}

/// Runs `config` on the engine with the streams of `streams`.
pub fn run_mmc(config: &MmcConfig, streams: &RngStreams) -> MmcResult {
    let mut sim = Simulation::new(MmcSystem::new(config, streams));
    sim.run();
    MmcResult {
        stats: sim.model().stats(),
        events: sim.events_handled(),
        end_secs: sim.now().as_secs_f64(),
    }
}
