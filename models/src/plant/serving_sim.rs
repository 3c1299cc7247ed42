//! A request-level simulation of a P1 serving pool on the engine, the
//! reference the closed-form serving model is validated against.
//!
//! Poisson arrivals (stream `gpu/serving_sim/arrivals`), one FCFS queue in
//! front of `slots` slots, each service time an output-token count drawn
//! from a demand-model quantile table (stream `gpu/serving_sim/service`)
//! divided by the per-sequence decode rate. Waits are recorded after a
//! warm-up, in integer microseconds, and their p99 read from the engine's
//! latency histogram. Inter-arrival gaps are unit exponentials scaled by the
//! mean gap, so runs at different rates on the same streams are coupled
//! (common random numbers): the wait of every request grows with the rate.
//! Units: seconds inside, milliseconds for the reported wait.

use std::collections::VecDeque;

use hcp_engine::queue::Event;
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use hcp_engine::simulation::{Model, Scheduler, Simulation};
use hcp_engine::stats::LatencyHistogram;
use hcp_engine::time::{SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::demand::QuantileTable;

/// Stream of the request-level run's inter-arrival gaps.
pub const SIM_ARRIVALS: StreamId = StreamId::named("gpu/serving_sim/arrivals");
/// Stream of the request-level run's token counts.
pub const SIM_SERVICE: StreamId = StreamId::named("gpu/serving_sim/service");

/// The events of the request-level run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestEvent {
    Arrival,
    Departure,
}

impl Event for RequestEvent {}

/// An M/G/c station whose service times come from a token table.
struct RequestLevelPool {
    slots: u32,
    busy: u32,
    /// Arrival time of each waiting request and whether it is measured.
    waiting: VecDeque<(SimTime, bool)>,
    tokens: QuantileTable,
    decode_tokens_per_s: f64,
    mean_gap_s: f64,
    arrivals: StreamRng,
    service: StreamRng,
    remaining: u64,
    warmup: u64,
    arrived: u64,
    waits: LatencyHistogram,
}

impl RequestLevelPool {
    fn service_time(&mut self) -> SimDuration {
        let tokens = self.tokens.sample(self.service.random::<f64>());
        SimDuration::from_secs_f64(tokens / self.decode_tokens_per_s)
    }

    fn next_arrival(&mut self, s: &mut Scheduler<RequestEvent>) {
        if self.remaining > 0 {
            self.remaining -= 1;
            let gap: f64 = Exp1.sample(&mut self.arrivals);
            s.schedule_in(
                SimDuration::from_secs_f64(gap * self.mean_gap_s),
                RequestEvent::Arrival,
            );
        }
    }
}

impl Model for RequestLevelPool {
    type Event = RequestEvent;

    fn start(&mut self, s: &mut Scheduler<RequestEvent>) {
        self.next_arrival(s);
    }

    fn handle(&mut self, event: RequestEvent, s: &mut Scheduler<RequestEvent>) {
        match event {
            RequestEvent::Arrival => {
                self.arrived += 1;
                let measured = self.arrived > self.warmup;
                if self.busy < self.slots {
                    self.busy += 1;
                    if measured {
                        self.waits.record(SimDuration::ZERO);
                    }
                    let d = self.service_time();
                    s.schedule_in(d, RequestEvent::Departure);
                } else {
                    self.waiting.push_back((s.now(), measured));
                }
                self.next_arrival(s);
            }
            RequestEvent::Departure => {
                if let Some((arrived, measured)) = self.waiting.pop_front() {
                    if measured {
                        self.waits.record(s.now().saturating_since(arrived));
                    }
                    let d = self.service_time();
                    s.schedule_in(d, RequestEvent::Departure);
                } else {
                    self.busy -= 1;
                }
            }
        }
    }
}

/// The 99th percentile of the wait for a slot, ms, in a request-level run
/// of `requests` Poisson arrivals at `arrival_rate_per_s` to `slots` slots,
/// each request generating a token count drawn from `tokens` at
/// `decode_tokens_per_s`; the first `warmup` requests are not measured.
pub fn simulate_p99_wait_ms(
    slots: u32,
    arrival_rate_per_s: f64,
    tokens: &QuantileTable,
    decode_tokens_per_s: f64,
    requests: u64,
    warmup: u64,
    streams: &RngStreams,
) -> f64 {
    let pool = RequestLevelPool {
        slots,
        busy: 0,
        waiting: VecDeque::with_capacity(1024),
        tokens: tokens.clone(),
        decode_tokens_per_s,
        mean_gap_s: 1.0 / arrival_rate_per_s,
        arrivals: streams.stream(SIM_ARRIVALS),
        service: streams.stream(SIM_SERVICE),
        remaining: requests,
        warmup,
        arrived: 0,
        waits: LatencyHistogram::new(),
    };
    let mut sim = Simulation::new(pool);
    sim.run();
    sim.model().waits.quantile(0.99).as_secs_f64() * 1_000.0
}
