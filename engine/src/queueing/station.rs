//! The parts of a single-queue system: a Poisson [`Source`] of customers and a
//! FCFS multi-server [`Station`], with the statistics queueing theory predicts.
//!
//! Both are plain state machines: they say which delays to schedule and leave
//! the scheduling to their caller, so the engine model ([`super::mmc`]) and
//! the plain-heap baseline ([`super::baseline`]) run exactly the same logic
//! and differ only in how events are queued.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp};

use crate::rng::StreamRng;
use crate::stats::{Counter, LatencyHistogram, Tally, TimeWeighted};
use crate::time::{SimDuration, SimTime};

/// The distribution of service times, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceTime {
    /// Exponential with `rate` services per second (the "M" of M/M/c).
    Exponential {
        /// μ, per second.
        rate: f64,
    },
    /// Always `seconds` long (the "D" of M/D/1).
    Deterministic {
        /// The fixed service time.
        seconds: f64,
    },
}

impl ServiceTime {
    /// The mean service time, in seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            ServiceTime::Exponential { rate } => 1.0 / rate,
            ServiceTime::Deterministic { seconds } => seconds,
        }
    }

    /// The squared coefficient of variation (1 exponential, 0 deterministic).
    pub fn scv(&self) -> f64 {
        match self {
            ServiceTime::Exponential { .. } => 1.0,
            ServiceTime::Deterministic { .. } => 0.0,
        }
    }
}

/// Draws service times from a [`ServiceTime`].
#[derive(Clone, Debug)]
enum ServiceSampler {
    Exponential(Exp<f64>),
    Fixed(SimDuration),
}

impl ServiceSampler {
    /// # Panics
    /// Panics on a rate that is not positive and finite, or a fixed time that
    /// is negative or not finite: a silently altered queue would be worse.
    fn new(service: ServiceTime) -> Self {
        match service {
            ServiceTime::Exponential { rate } => ServiceSampler::Exponential(
                Exp::new(rate).expect("service rate must be positive and finite"),
            ),
            ServiceTime::Deterministic { seconds } => ServiceSampler::Fixed(
                SimDuration::try_from_secs_f64(seconds)
                    .expect("fixed service time must be finite and non-negative"),
            ),
        }
    }

    #[inline]
    fn sample(&self, rng: &mut StreamRng) -> SimDuration {
        match self {
            ServiceSampler::Exponential(exp) => SimDuration::from_secs_f64(exp.sample(rng)),
            ServiceSampler::Fixed(d) => *d,
        }
    }
}

/// A Poisson arrival process that stops after a fixed number of customers.
#[derive(Clone, Debug)]
pub struct Source {
    interarrival: Exp<f64>,
    rng: StreamRng,
    remaining: u64,
}

impl Source {
    /// `customers` arrivals at `rate` per second, drawn from `rng`.
    ///
    /// # Panics
    /// Panics if `rate` is not positive and finite.
    pub fn new(rate: f64, customers: u64, rng: StreamRng) -> Self {
        Source {
            interarrival: Exp::new(rate).expect("arrival rate must be positive and finite"),
            rng,
            remaining: customers,
        }
    }

    /// The gap to the next arrival, or `None` once every customer has arrived.
    #[inline]
    pub fn next_gap(&mut self) -> Option<SimDuration> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(SimDuration::from_secs_f64(
            self.interarrival.sample(&mut self.rng),
        ))
    }
}

/// A first-come first-served queue in front of `servers` identical servers.
#[derive(Clone, Debug)]
pub struct Station {
    servers: u32,
    busy: u32,
    /// Arrival times of waiting customers, oldest first.
    waiting: VecDeque<SimTime>,
    service: ServiceSampler,
    rng: StreamRng,
    /// Recording waits (after the warm-up).
    measuring: bool,
    /// Integrating time averages (from the warm-up to the last arrival).
    averaging: bool,
    waits: Tally,
    waited: Counter,
    wait_quantiles: LatencyHistogram,
    queue_length: TimeWeighted,
    busy_servers: TimeWeighted,
    window: (SimTime, SimTime),
}

/// What a [`Station`] measured.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct StationStats {
    /// Customers whose wait was recorded.
    pub customers: u64,
    /// Mean wait in queue, seconds.
    pub mean_wait: f64,
    /// Share of customers who waited at all.
    pub prob_wait: f64,
    /// Median wait in queue, seconds.
    pub wait_p50: f64,
    /// 95th percentile of the wait in queue, seconds.
    pub wait_p95: f64,
    /// 99th percentile of the wait in queue, seconds.
    pub wait_p99: f64,
    /// Time-average number of customers waiting.
    pub mean_queue_length: f64,
    /// Time-average share of servers busy.
    pub utilisation: f64,
    /// Length of the measurement window, seconds.
    pub window_secs: f64,
}

impl Station {
    /// An idle station with `servers` servers whose service times come from
    /// `service`, drawn from `rng`. Statistics are off until
    /// [`start_measuring`](Self::start_measuring).
    ///
    /// # Panics
    /// Panics if `service` has a rate that is not positive and finite or a
    /// fixed time that is negative or not finite.
    pub fn new(servers: u32, service: ServiceTime, rng: StreamRng) -> Self {
        Station {
            servers,
            busy: 0,
            waiting: VecDeque::with_capacity(1024),
            service: ServiceSampler::new(service),
            rng,
            measuring: false,
            averaging: false,
            waits: Tally::new(),
            waited: Counter::new(),
            wait_quantiles: LatencyHistogram::new(),
            queue_length: TimeWeighted::new(SimTime::ZERO, 0.0),
            busy_servers: TimeWeighted::new(SimTime::ZERO, 0.0),
            window: (SimTime::ZERO, SimTime::ZERO),
        }
    }

    /// A customer arrives at `now`; returns its service time if it starts
    /// service at once.
    #[inline]
    pub fn arrive(&mut self, now: SimTime) -> Option<SimDuration> {
        if self.busy < self.servers {
            self.busy += 1;
            self.track_busy(now);
            self.record_wait(SimDuration::ZERO);
            Some(self.service.sample(&mut self.rng))
        } else {
            self.waiting.push_back(now);
            self.track_queue(now);
            None
        }
    }

    /// A customer leaves at `now`; returns the service time of the next
    /// customer if one was waiting.
    #[inline]
    pub fn depart(&mut self, now: SimTime) -> Option<SimDuration> {
        if let Some(arrived) = self.waiting.pop_front() {
            self.track_queue(now);
            self.record_wait(now - arrived);
            Some(self.service.sample(&mut self.rng))
        } else {
            self.busy -= 1;
            self.track_busy(now);
            None
        }
    }

    /// Discards everything measured so far (the warm-up) and measures from `now`.
    pub fn start_measuring(&mut self, now: SimTime) {
        self.measuring = true;
        self.averaging = true;
        self.waits.reset();
        self.waited.reset();
        self.wait_quantiles.reset();
        self.queue_length = TimeWeighted::new(now, self.waiting.len() as f64);
        self.busy_servers = TimeWeighted::new(now, f64::from(self.busy));
        self.window = (now, now);
    }

    /// Closes the time averages at `now`; waits of customers already in the
    /// system are still recorded when they start service.
    pub fn stop_time_averages(&mut self, now: SimTime) {
        self.track_queue(now);
        self.track_busy(now);
        self.averaging = false;
        self.window.1 = now;
    }

    /// The statistics measured so far.
    pub fn stats(&self) -> StationStats {
        let end = self.window.1;
        let customers = self.waits.count();
        StationStats {
            customers,
            mean_wait: self.waits.mean(),
            prob_wait: self.waited.count() as f64 / customers as f64,
            wait_p50: self.wait_quantiles.quantile(0.50).as_secs_f64(),
            wait_p95: self.wait_quantiles.quantile(0.95).as_secs_f64(),
            wait_p99: self.wait_quantiles.quantile(0.99).as_secs_f64(),
            mean_queue_length: self.queue_length.mean(end),
            utilisation: self.busy_servers.mean(end) / f64::from(self.servers),
            window_secs: end.saturating_since(self.window.0).as_secs_f64(),
        }
    }

    #[inline]
    fn record_wait(&mut self, wait: SimDuration) {
        if self.measuring {
            self.waits.record(wait.as_secs_f64());
            self.wait_quantiles.record(wait);
            if !wait.is_zero() {
                self.waited.increment();
            }
        }
    }

    #[inline]
    fn track_queue(&mut self, now: SimTime) {
        if self.averaging {
            self.queue_length.set(now, self.waiting.len() as f64);
        }
    }

    #[inline]
    fn track_busy(&mut self, now: SimTime) {
        if self.averaging {
            self.busy_servers.set(now, f64::from(self.busy));
        }
    }
}
