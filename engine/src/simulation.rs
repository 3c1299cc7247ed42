//! The model API and run control: [`Model`], [`Scheduler`], [`Simulation`].
//!
//! A [`Model`] owns all mutable state of a simulated system and one event type
//! (usually an `enum` with a variant per kind of component). The
//! [`Simulation`] pops events in the order of [`crate::queue`] and hands each,
//! by value, to [`Model::handle`] together with a [`Scheduler`] through which
//! the model reads the clock and schedules or cancels further events. The
//! handler is a statically dispatched generic call: no allocation and no
//! virtual call per event.
//!
//! Run control covers the three ways a twin is driven: to a horizon
//! ([`Simulation::run_until`]), until a condition holds
//! ([`Simulation::run_until_condition`]), or one event at a time
//! ([`Simulation::step`], for a viewer that steps and pauses).
//! [`Observer`]s sample the model at fixed simulated intervals whichever way
//! it is driven.

use std::any::Any;

use crate::clock::{Clock, SyncStatus};
use crate::queue::{Event, EventHandle, EventId, EventQueue, Rank};
use crate::time::{SimDuration, SimTime};

/// A simulated system: its state and how it reacts to its events.
///
/// Models own their state (`'static`): data shared between replications,
/// such as a market tape, is held through an `Arc`.
pub trait Model: 'static {
    /// Every event this model can receive.
    type Event: Event;

    /// Schedules the model's first events; called once by [`Simulation::new`].
    fn start(&mut self, scheduler: &mut Scheduler<Self::Event>) {
        let _ = scheduler;
    }

    /// Reacts to `event`, which fires at `scheduler.now()`.
    fn handle(&mut self, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);
}

/// The model's view of the engine while it handles an event: the clock, and
/// the means to schedule and cancel events.
///
/// Scheduling methods take `impl Into<E>`, so a component with its own event
/// type (`enum SourceEvent`) schedules it directly when the model's event type
/// implements `From<SourceEvent>`.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    now: SimTime,
    stop_requested: bool,
    /// The latest time [`Scheduler::advance_to`] may move the clock to (the
    /// run's horizon or next observation); `None` outside [`Simulation::run`]
    /// and [`Simulation::run_until`].
    advance_limit: Option<SimTime>,
    /// Events handled in place by [`Scheduler::advance_to`].
    advanced: u64,
}

impl<E: Event> Scheduler<E> {
    fn new() -> Self {
        Scheduler {
            queue: EventQueue::with_capacity(64),
            now: SimTime::ZERO,
            stop_requested: false,
            advance_limit: None,
            advanced: 0,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// Panics if `time` is before [`now`](Self::now): the past cannot change.
    #[inline]
    pub fn schedule_at(&mut self, time: SimTime, event: impl Into<E>) -> EventId {
        self.refuse_past(time);
        self.queue.push(time, event.into())
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: impl Into<E>) -> EventId {
        self.queue.push(self.now + delay, event.into())
    }

    /// Schedules `event` at `time` and returns a handle that can cancel it.
    ///
    /// # Panics
    /// Panics if `time` is before [`now`](Self::now).
    pub fn schedule_cancellable_at(&mut self, time: SimTime, event: impl Into<E>) -> EventHandle {
        self.refuse_past(time);
        self.queue.push_cancellable(time, event.into())
    }

    #[inline]
    fn refuse_past(&self, time: SimTime) {
        assert!(
            time >= self.now,
            "event scheduled in the past ({time} < {})",
            self.now
        );
    }

    /// Schedules `event` after `delay` and returns a handle that can cancel it.
    pub fn schedule_cancellable_in(
        &mut self,
        delay: SimDuration,
        event: impl Into<E>,
    ) -> EventHandle {
        self.queue.push_cancellable(self.now + delay, event.into())
    }

    /// Cancels a pending event; `false` if it already fired or was cancelled.
    #[allow(clippy::needless_pass_by_value)] // consumed so that it cannot cancel twice
    pub fn cancel(&mut self, handle: EventHandle) -> bool {
        self.queue.cancel(handle)
    }

    /// Asks the running loop to return [`RunOutcome::Stopped`] once the
    /// current event is handled. The simulation can be resumed afterwards.
    pub fn stop(&mut self) {
        self.stop_requested = true;
    }

    /// The number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Handles an event of `rank` at `time` in place: when such an event,
    /// scheduled now, would be the very next one the run dispatches (no
    /// pending event, observation, horizon or stop comes first), moves the
    /// clock to `time`, counts one handled event and returns `true`; the
    /// caller then does what the event would have done. Otherwise returns
    /// `false` and changes nothing. The order of events is exactly that of
    /// scheduling it, without the queue's push and pop.
    #[inline]
    pub fn advance_to(&mut self, time: SimTime, rank: Rank) -> bool {
        if self.stop_requested
            || time < self.now
            || self.advance_limit.is_none_or(|limit| time > limit)
            || !self.queue.would_be_next(time, rank)
        {
            return false;
        }
        self.now = time;
        self.advanced += 1;
        true
    }
}

/// Samples a model's state at fixed simulated intervals.
///
/// Closures `FnMut(SimTime, &M)` are observers; so is any type implementing
/// this trait, which can then be read back with [`Simulation::observer`].
pub trait Observer<M>: Any {
    /// Called with the sample instant and the model as it stands once every
    /// event up to and including that instant has been handled.
    fn observe(&mut self, at: SimTime, model: &M);
}

impl<M, F: FnMut(SimTime, &M) + 'static> Observer<M> for F {
    fn observe(&mut self, at: SimTime, model: &M) {
        self(at, model);
    }
}

/// Identifies an observer added with [`Simulation::add_observer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObserverId(usize);

struct ObserverSlot<M> {
    every: SimDuration,
    next: SimTime,
    observer: Box<dyn Observer<M>>,
}

/// Why a run method returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// No event is pending.
    Exhausted,
    /// The horizon given to [`Simulation::run_until`] was reached.
    ReachedHorizon,
    /// The condition given to [`Simulation::run_until_condition`] held.
    ConditionMet,
    /// The model called [`Scheduler::stop`].
    Stopped,
}

/// One handled event, as reported by [`Simulation::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fired {
    /// When it fired.
    pub time: SimTime,
    /// Which event it was.
    pub id: EventId,
}

/// A model bound to its event queue, clock and observers.
pub struct Simulation<M: Model> {
    model: M,
    scheduler: Scheduler<M::Event>,
    observers: Vec<ObserverSlot<M>>,
    /// The earliest pending sample instant (`SimTime::MAX` if none).
    next_observation: SimTime,
    events_handled: u64,
}

impl<M: Model> Simulation<M> {
    /// Binds `model` to a fresh engine at time zero and lets it schedule its
    /// first events ([`Model::start`]).
    pub fn new(mut model: M) -> Self {
        let mut scheduler = Scheduler::new();
        model.start(&mut scheduler);
        Simulation {
            model,
            scheduler,
            observers: Vec::new(),
            next_observation: SimTime::MAX,
            events_handled: 0,
        }
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably (for a viewer or a live loop that injects state).
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Ends the simulation and returns the model.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The scheduler, to inject events from outside the model.
    pub fn scheduler_mut(&mut self) -> &mut Scheduler<M::Event> {
        self.scheduler.advance_limit = None;
        &mut self.scheduler
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.scheduler.now
    }

    /// The time of the next pending event, if any.
    pub fn next_event_time(&mut self) -> Option<SimTime> {
        self.scheduler.queue.peek_time()
    }

    /// How many events have been handled so far.
    pub fn events_handled(&self) -> u64 {
        self.events_handled + self.scheduler.advanced
    }

    /// Adds an observer that samples the model every `every`, starting now.
    ///
    /// The sample at instant `s` sees every event with time ≤ `s` handled and
    /// none later. Observers due at the same instant run in the order added.
    ///
    /// # Panics
    /// Panics if `every` is zero.
    pub fn add_observer(&mut self, every: SimDuration, observer: impl Observer<M>) -> ObserverId {
        assert!(!every.is_zero(), "an observer's interval must be positive");
        let next = self.scheduler.now;
        self.observers.push(ObserverSlot {
            every,
            next,
            observer: Box::new(observer),
        });
        self.next_observation = self.next_observation.min(next);
        ObserverId(self.observers.len() - 1)
    }

    /// The observer `id`, if it is of type `T`.
    pub fn observer<T: Observer<M>>(&self, id: ObserverId) -> Option<&T> {
        let slot = self.observers.get(id.0)?;
        let any: &dyn Any = &*slot.observer;
        any.downcast_ref::<T>()
    }

    /// Handles exactly one event (after any samples due before it).
    /// Returns `None` if no event is pending.
    pub fn step(&mut self) -> Option<Fired> {
        let next = self.scheduler.queue.peek_time()?;
        self.observe_before(next);
        self.scheduler.advance_limit = None;
        let s = self.scheduler.queue.pop()?;
        self.dispatch(s.time, s.event);
        // A step already stops after one event; a stop request must not
        // leak into the next run.
        self.scheduler.stop_requested = false;
        Some(Fired {
            time: s.time,
            id: s.id,
        })
    }

    /// Handles events until none is pending or the model stops.
    pub fn run(&mut self) -> RunOutcome {
        self.run_loop(SimTime::MAX, true, |_| false)
    }

    /// Handles every event with time ≤ `horizon`, then advances the clock to
    /// `horizon` (taking the samples due up to it).
    pub fn run_until(&mut self, horizon: SimTime) -> RunOutcome {
        self.run_loop(horizon, true, |_| false)
    }

    /// Handles every event with time ≤ `horizon` as [`run_until`] does,
    /// but first lets `clock` wait for each event's simulated time (a
    /// viewer's playback speed, a live loop's wall time). Returns how far
    /// behind the clock the run fell at worst, zero if it kept up.
    ///
    /// [`run_until`]: Simulation::run_until
    pub fn run_until_with_clock(
        &mut self,
        horizon: SimTime,
        clock: &mut impl Clock,
    ) -> (RunOutcome, SimDuration) {
        let mut behind = SimDuration::ZERO;
        loop {
            match self.scheduler.queue.peek_time() {
                Some(next) if next <= horizon => {
                    if let SyncStatus::OutOfSync(late) = clock.synchronize(next) {
                        behind = behind.max(late);
                    }
                    self.observe_before(next);
                    self.scheduler.advance_limit = None;
                    if let Some(e) = self.scheduler.queue.pop() {
                        self.dispatch(e.time, e.event);
                    }
                    if self.scheduler.stop_requested {
                        self.scheduler.stop_requested = false;
                        return (RunOutcome::Stopped, behind);
                    }
                }
                None if horizon == SimTime::MAX => return (RunOutcome::Exhausted, behind),
                _ => {
                    if horizon != SimTime::MAX {
                        let _ = clock.synchronize(horizon);
                    }
                    self.advance_idle_to(horizon);
                    return (RunOutcome::ReachedHorizon, behind);
                }
            }
        }
    }

    /// Handles events until `done(model)` holds after one of them, no event is
    /// pending, or the model stops.
    pub fn run_until_condition(&mut self, done: impl FnMut(&M) -> bool) -> RunOutcome {
        self.run_loop(SimTime::MAX, false, done)
    }

    #[inline]
    fn run_loop(
        &mut self,
        horizon: SimTime,
        advance: bool,
        mut done: impl FnMut(&M) -> bool,
    ) -> RunOutcome {
        loop {
            // Fast path: the next event is due before the horizon and before
            // the next sample (a sample at s follows every event at time ≤ s).
            let bound = horizon.min(self.next_observation);
            // Handling events in place is as good as dispatching them only
            // up to the same bound, and never with a condition to check
            // after each event.
            self.scheduler.advance_limit = advance.then_some(bound);
            if let Some(s) = self.scheduler.queue.pop_until(bound) {
                self.dispatch(s.time, s.event);
                if self.scheduler.stop_requested {
                    self.scheduler.stop_requested = false;
                    return RunOutcome::Stopped;
                }
                if done(&self.model) {
                    return RunOutcome::ConditionMet;
                }
                continue;
            }
            // Slow path: the queue is empty, past the horizon, or a sample is due.
            match self.scheduler.queue.peek_time() {
                Some(next) if next <= horizon => self.observe_before(next),
                None if horizon == SimTime::MAX => return RunOutcome::Exhausted,
                _ => {
                    self.advance_idle_to(horizon);
                    return RunOutcome::ReachedHorizon;
                }
            }
        }
    }

    #[inline]
    fn dispatch(&mut self, time: SimTime, event: M::Event) {
        self.scheduler.now = time;
        self.model.handle(event, &mut self.scheduler);
        self.events_handled += 1;
    }

    /// Moves the clock to `horizon` with no event in between.
    fn advance_idle_to(&mut self, horizon: SimTime) {
        self.observe_through(horizon);
        self.scheduler.now = self.scheduler.now.max(horizon);
    }

    /// Takes every sample due strictly before `t`.
    fn observe_before(&mut self, t: SimTime) {
        while self.next_observation < t {
            self.take_samples();
        }
    }

    /// Takes every sample due at or before `t`.
    fn observe_through(&mut self, t: SimTime) {
        while self.next_observation <= t && self.next_observation != SimTime::MAX {
            self.take_samples();
        }
    }

    /// Runs the observers due at `next_observation` and finds the next one.
    fn take_samples(&mut self) {
        let at = self.next_observation;
        let mut next = SimTime::MAX;
        for slot in &mut self.observers {
            if slot.next == at {
                slot.observer.observe(at, &self.model);
                slot.next = at.checked_add(slot.every).unwrap_or(SimTime::MAX);
            }
            next = next.min(slot.next);
        }
        self.next_observation = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Rank;

    /// A clock that ticks every 10 µs until 100 µs and counts its ticks.
    struct Ticker {
        ticks: u32,
        stop_at: Option<u32>,
        pending_alarm: Option<EventHandle>,
    }

    #[derive(Debug, Clone, Copy)]
    enum Tick {
        Tick,
        Alarm,
    }

    impl Event for Tick {
        fn rank(&self) -> Rank {
            match self {
                Tick::Alarm => 0,
                Tick::Tick => 1,
            }
        }
    }

    impl Model for Ticker {
        type Event = Tick;
        fn start(&mut self, s: &mut Scheduler<Tick>) {
            s.schedule_at(SimTime::ZERO, Tick::Tick);
            self.pending_alarm =
                Some(s.schedule_cancellable_at(SimTime::from_micros(1_000), Tick::Alarm));
        }
        fn handle(&mut self, e: Tick, s: &mut Scheduler<Tick>) {
            match e {
                Tick::Tick => {
                    self.ticks += 1;
                    if s.now() < SimTime::from_micros(100) {
                        s.schedule_in(SimDuration::from_micros(10), Tick::Tick);
                    } else if let Some(alarm) = self.pending_alarm.take() {
                        assert!(s.cancel(alarm));
                    }
                    if Some(self.ticks) == self.stop_at {
                        s.stop();
                    }
                }
                Tick::Alarm => panic!("the alarm was cancelled and must not fire"),
            }
        }
    }

    fn ticker() -> Ticker {
        Ticker {
            ticks: 0,
            stop_at: None,
            pending_alarm: None,
        }
    }

    #[test]
    fn run_until_stops_at_the_horizon_and_resumes() {
        let mut sim = Simulation::new(ticker());
        assert_eq!(
            sim.run_until(SimTime::from_micros(45)),
            RunOutcome::ReachedHorizon
        );
        assert_eq!(sim.model().ticks, 5); // 0, 10, 20, 30, 40
        assert_eq!(sim.now(), SimTime::from_micros(45));
        assert_eq!(sim.run(), RunOutcome::Exhausted);
        assert_eq!(sim.model().ticks, 11); // … 100
        assert_eq!(sim.events_handled(), 11);
    }

    #[test]
    fn step_handles_one_event_at_a_time() {
        let mut sim = Simulation::new(ticker());
        let first = sim.step().unwrap();
        let second = sim.step().unwrap();
        assert_eq!(first.time, SimTime::ZERO);
        assert_eq!(second.time, SimTime::from_micros(10));
        assert_eq!(sim.model().ticks, 2);
    }

    #[test]
    fn condition_and_stop_end_a_run_early() {
        let mut sim = Simulation::new(ticker());
        assert_eq!(
            sim.run_until_condition(|m| m.ticks == 3),
            RunOutcome::ConditionMet
        );
        assert_eq!(sim.now(), SimTime::from_micros(20));
        sim.model_mut().stop_at = Some(7);
        assert_eq!(sim.run(), RunOutcome::Stopped);
        assert_eq!(sim.model().ticks, 7);
        assert_eq!(sim.run(), RunOutcome::Exhausted);
    }

    #[test]
    fn a_stop_during_a_step_does_not_leak_into_the_next_run() {
        let mut sim = Simulation::new(ticker());
        sim.model_mut().stop_at = Some(1);
        sim.step();
        assert_eq!(sim.run(), RunOutcome::Exhausted);
        assert_eq!(sim.model().ticks, 11);
    }

    #[derive(Default)]
    struct Samples(Vec<(u64, u32)>);
    impl Observer<Ticker> for Samples {
        fn observe(&mut self, at: SimTime, m: &Ticker) {
            self.0.push((at.as_micros(), m.ticks));
        }
    }

    struct Other;
    impl Observer<Ticker> for Other {
        fn observe(&mut self, _: SimTime, _: &Ticker) {}
    }

    #[test]
    fn observers_sample_at_fixed_intervals_in_every_run_mode() {
        let mut sim = Simulation::new(ticker());
        let id = sim.add_observer(SimDuration::from_micros(25), Samples::default());
        sim.step();
        sim.step();
        sim.run_until(SimTime::from_micros(60));
        sim.run();
        sim.run_until(SimTime::from_micros(150));
        let samples = &sim.observer::<Samples>(id).unwrap().0;
        // A sample at s sees every tick at time ≤ s (ticks at 0, 10, …, 100).
        assert_eq!(
            samples,
            &vec![
                (0, 1),
                (25, 3),
                (50, 6),
                (75, 8),
                (100, 11),
                (125, 11),
                (150, 11)
            ]
        );
        assert!(sim.observer::<Other>(id).is_none(), "wrong type is refused");
    }

    /// A stream of arrivals (rank 2) at fixed instants, interleaved with
    /// ticks (rank 1, some at the same instants as arrivals) and a tick
    /// that stops the run; arrivals are either handled in place or
    /// scheduled one by one.
    struct Arrivals {
        at: Vec<u64>,
        next: usize,
        in_place: bool,
        trace: Vec<(u64, char)>,
    }

    #[derive(Debug, Clone, Copy)]
    enum Kind {
        Tick,
        Arrival,
        Stop,
    }

    impl Event for Kind {
        fn rank(&self) -> Rank {
            match self {
                Kind::Tick | Kind::Stop => 1,
                Kind::Arrival => 2,
            }
        }
    }

    impl Model for Arrivals {
        type Event = Kind;
        fn start(&mut self, s: &mut Scheduler<Kind>) {
            for t in [0, 7, 7, 12, 30, 31, 45] {
                s.schedule_at(SimTime::from_micros(t), Kind::Tick);
            }
            s.schedule_at(SimTime::from_micros(40), Kind::Stop);
            s.schedule_at(SimTime::from_micros(self.at[0]), Kind::Arrival);
        }
        fn handle(&mut self, event: Kind, s: &mut Scheduler<Kind>) {
            let now = s.now().as_micros();
            match event {
                Kind::Tick => self.trace.push((now, 't')),
                Kind::Stop => {
                    self.trace.push((now, 's'));
                    s.stop();
                }
                Kind::Arrival => loop {
                    let now = s.now().as_micros();
                    self.trace.push((now, 'a'));
                    self.next += 1;
                    let Some(&t) = self.at.get(self.next) else {
                        break;
                    };
                    let t = SimTime::from_micros(t);
                    if !(self.in_place && s.advance_to(t, Kind::Arrival.rank())) {
                        s.schedule_at(t, Kind::Arrival);
                        break;
                    }
                },
            }
        }
    }

    /// How many events each sample saw.
    #[derive(Default)]
    struct Seen(Vec<(u64, usize)>);
    impl Observer<Arrivals> for Seen {
        fn observe(&mut self, at: SimTime, m: &Arrivals) {
            self.0.push((at.as_micros(), m.trace.len()));
        }
    }

    #[test]
    fn events_handled_in_place_keep_the_order_of_scheduled_ones() {
        let run = |in_place: bool, horizon: Option<u64>| {
            let mut sim = Simulation::new(Arrivals {
                at: vec![1, 2, 7, 8, 9, 12, 13, 20, 35, 40, 41, 50],
                next: 0,
                in_place,
                trace: Vec::new(),
            });
            let id = sim.add_observer(SimDuration::from_micros(10), Seen::default());
            let mut outcomes = Vec::new();
            if let Some(h) = horizon {
                outcomes.push(sim.run_until(SimTime::from_micros(h)));
            }
            outcomes.push(sim.run());
            outcomes.push(sim.run());
            let samples = sim.observer::<Seen>(id).unwrap().0.clone();
            let handled = sim.events_handled();
            let advanced = sim.scheduler.advanced;
            (
                (sim.into_model().trace, samples, outcomes, handled),
                advanced,
            )
        };
        for horizon in [None, Some(8), Some(25)] {
            let (scheduled, none) = run(false, horizon);
            let (in_place, advanced) = run(true, horizon);
            assert_eq!(in_place, scheduled, "horizon {horizon:?}");
            assert_eq!(scheduled.0.len(), 20);
            assert_eq!(none, 0);
            assert!(advanced >= 3, "{advanced} handled in place");
        }
    }
}
