//! The [`Policy`] trait, its [`Subscriptions`] and the [`DecisionLoop`]
//! that every driver (the twin, the live bridge, the viewer) runs it with.
//!
//! When a policy is asked, how its forecaster is fed and when its forecast
//! is written are decided here once, so that the same policy on the same
//! observations decides the same way whoever drives it: a driver reports
//! each [`Occasion`] (a market interval starts, a grid event is announced,
//! a job queue changed) with the observation it stands for, and the loop
//! says whether the policy is due ([`DecisionLoop::due`], a pure function
//! of the subscriptions, the occasion and the observation) and, if so,
//! asks it ([`DecisionLoop::decide`]).

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::class::WorkloadClass;
use crate::forecast::{Forecast, Forecaster};
use crate::observation::{Observation, Trigger};

/// What a policy wants to be woken for, besides every market interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscriptions {
    /// Decide at the first market interval start of every period of this
    /// many minutes (0, or anything up to the interval length: every
    /// interval). Minutes, not intervals, so a policy means the same on a
    /// 5- and a 15-minute market.
    pub every_minutes: u32,
    /// Decide when a grid event (demand response, 4CP alert) is announced.
    pub grid_notices: bool,
    /// Decide when a site's spot price reaches this level, USD/MWh
    /// (checked at every interval even between scheduled decisions; an
    /// unknown price never triggers).
    pub price_spike_usd_per_mwh: Option<f64>,
    /// Decide when a job queue (P2–P4) reaches this many jobs.
    pub queue_threshold_jobs: Option<u32>,
    /// Steps ahead the policy wants in [`Observation::forecast`] (0: none).
    pub forecast_steps: u32,
}

impl Default for Subscriptions {
    /// Every interval, grid notices on, no other triggers, no forecast.
    fn default() -> Self {
        Subscriptions {
            every_minutes: 0,
            grid_notices: true,
            price_spike_usd_per_mwh: None,
            queue_threshold_jobs: None,
            forecast_steps: 0,
        }
    }
}

/// A switching policy: reads an [`Observation`], returns [`Action`]s.
///
/// The same object runs in the twin and in the live bridge, so it must not
/// depend on anything but its inputs: no wall clock, no global state, no
/// unseeded randomness (a policy that randomises owns a generator seeded in
/// its constructor). State it keeps from one decision to the next is keyed
/// by id (site, cohort, pool, event), never by position, and stays bounded
/// however long it runs.
pub trait Policy: Send {
    /// A short stable name (`mining-only`, `breakeven`, …).
    fn name(&self) -> &str;

    /// The decision epochs the policy wants; read once before the run.
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::default()
    }

    /// Decides at one epoch: pushes the actions to take now onto `actions`
    /// (empty on entry). Devices not named keep their current setting.
    fn decide(&mut self, observation: &Observation, actions: &mut Vec<Action>);
}

/// Something that happened to the plant, which may make the policy due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Occasion {
    /// A market interval started (the observation is its first).
    IntervalStart,
    /// A grid event was announced.
    GridNotice {
        /// `GridNotice::id` of the event.
        event: u32,
    },
    /// A job of this class joined its queue.
    QueueGrew {
        /// P2, P3 or P4.
        class: WorkloadClass,
    },
}

/// A policy with its forecaster and subscriptions: the one decision loop
/// of the product.
pub struct DecisionLoop {
    policy: Box<dyn Policy>,
    forecaster: Box<dyn Forecaster>,
    subscriptions: Subscriptions,
    decisions: u64,
}

impl DecisionLoop {
    /// The loop of `policy`, fed by `forecaster` (its subscriptions are read
    /// now, once).
    pub fn new(policy: Box<dyn Policy>, forecaster: Box<dyn Forecaster>) -> DecisionLoop {
        let subscriptions = policy.subscriptions();
        DecisionLoop {
            policy,
            forecaster,
            subscriptions,
            decisions: 0,
        }
    }

    /// The policy's name.
    pub fn policy_name(&self) -> &str {
        self.policy.name()
    }

    /// What the policy subscribed to.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// Decisions taken so far.
    pub fn decisions(&self) -> u64 {
        self.decisions
    }

    /// Whether the policy is due on `occasion`, given the observation that
    /// stands for it, and why. Pure: the same subscriptions, occasion and
    /// observation give the same answer wherever it is asked.
    ///
    /// - A market interval starts: due at the first interval of every
    ///   `every_minutes` period (counted from interval 0), and between those
    ///   when a site's known price is at or above the spike level (the
    ///   first such site in the observation's order).
    /// - A grid event is announced: due if `grid_notices`.
    /// - A queue grew: due when it holds exactly `queue_threshold_jobs`.
    pub fn due(&self, occasion: Occasion, observation: &Observation) -> Option<Trigger> {
        let s = &self.subscriptions;
        match occasion {
            Occasion::IntervalStart => {
                if observation.interval.is_multiple_of(intervals_per_decision(
                    s.every_minutes,
                    observation.interval_s,
                )) {
                    return Some(Trigger::Interval);
                }
                let level = s.price_spike_usd_per_mwh?;
                observation
                    .sites
                    .iter()
                    .find(|site| site.price_usd_per_mwh.is_some_and(|p| p >= level))
                    .map(|site| Trigger::PriceSpike {
                        site: site.id.clone(),
                    })
            }
            Occasion::GridNotice { event } => {
                s.grid_notices.then_some(Trigger::GridNotice { event })
            }
            Occasion::QueueGrew { class } => {
                let threshold = s.queue_threshold_jobs?;
                let queue = observation.queues.get(class)?;
                (queue.jobs == threshold).then_some(Trigger::QueueThreshold { class })
            }
        }
    }

    /// Shows the forecaster the first observation of a market interval.
    /// Call it once per interval, in order, before any decision in it.
    pub fn observe_interval(&mut self, observation: &Observation) {
        self.forecaster.observe(observation);
    }

    /// Asks the policy at `trigger`: writes the trigger and, when the
    /// policy subscribed to one, the forecast into `observation`, then
    /// fills `actions` (cleared first) with what the policy asks.
    pub fn decide(
        &mut self,
        trigger: Trigger,
        observation: &mut Observation,
        actions: &mut Vec<Action>,
    ) {
        self.decisions += 1;
        observation.trigger = trigger;
        let steps = self.subscriptions.forecast_steps as usize;
        if steps > 0 {
            let forecast = observation.forecast.get_or_insert_with(Forecast::default);
            self.forecaster.forecast(steps, forecast);
        }
        actions.clear();
        self.policy.decide(observation, actions);
    }

    /// One occasion end to end: feeds the forecaster at an interval start,
    /// and decides if due. Returns the trigger when the policy was asked.
    pub fn step(
        &mut self,
        occasion: Occasion,
        observation: &mut Observation,
        actions: &mut Vec<Action>,
    ) -> Option<Trigger> {
        if occasion == Occasion::IntervalStart {
            self.observe_interval(observation);
        }
        let trigger = self.due(occasion, observation)?;
        self.decide(trigger.clone(), observation, actions);
        Some(trigger)
    }
}

/// Market intervals between scheduled decisions: `every_minutes` over the
/// interval's whole minutes (at least one interval).
// Interval lengths are whole, positive seconds far below 2^52.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn intervals_per_decision(every_minutes: u32, interval_s: f64) -> u64 {
    let step_minutes = ((interval_s / 60.0).floor().max(0.0) as u64).max(1);
    (u64::from(every_minutes) / step_minutes).max(1)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::forecast::Persistence;
    use crate::ids::SiteId;
    use crate::observation::SiteView;

    /// Counts its decisions; subscribes as told.
    struct Counter {
        subscriptions: Subscriptions,
        decided: u32,
    }

    impl Policy for Counter {
        fn name(&self) -> &'static str {
            "counter"
        }
        fn subscriptions(&self) -> Subscriptions {
            self.subscriptions
        }
        fn decide(&mut self, observation: &Observation, _: &mut Vec<Action>) {
            self.decided += 1;
            assert!(observation.forecast.is_some() == (self.subscriptions.forecast_steps > 0));
        }
    }

    fn decision_loop(subscriptions: Subscriptions) -> DecisionLoop {
        let policy = Counter {
            subscriptions,
            decided: 0,
        };
        DecisionLoop::new(Box::new(policy), Box::new(Persistence::default()))
    }

    /// Interval `i` of a 5-minute market with one site at `price`.
    fn at(i: u64, price: Option<f64>) -> Observation {
        let mut o = Observation::empty(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
        o.interval = i;
        o.interval_s = 300.0;
        let mut site = SiteView::new(SiteId::from("a"), "HB_WEST".into(), 10.0, 1.0, true);
        site.price_usd_per_mwh = price;
        o.sites.push(site);
        o
    }

    #[test]
    fn every_fifteen_minutes_on_a_five_minute_market_is_every_third_interval() {
        let l = decision_loop(Subscriptions {
            every_minutes: 15,
            ..Subscriptions::default()
        });
        let due: Vec<u64> = (0..10)
            .filter(|&i| l.due(Occasion::IntervalStart, &at(i, Some(40.0))).is_some())
            .collect();
        assert_eq!(due, vec![0, 3, 6, 9]);
        assert_eq!(intervals_per_decision(15, 900.0), 1);
        assert_eq!(intervals_per_decision(0, 300.0), 1);
        assert_eq!(intervals_per_decision(60, 300.0), 12);
    }

    #[test]
    fn a_known_price_at_the_spike_level_wakes_the_policy_between_its_epochs_and_an_unknown_one_never()
     {
        let l = decision_loop(Subscriptions {
            every_minutes: 60,
            price_spike_usd_per_mwh: Some(1000.0),
            ..Subscriptions::default()
        });
        assert_eq!(
            l.due(Occasion::IntervalStart, &at(5, Some(1000.0))),
            Some(Trigger::PriceSpike {
                site: SiteId::from("a")
            })
        );
        assert_eq!(l.due(Occasion::IntervalStart, &at(5, Some(999.0))), None);
        assert_eq!(l.due(Occasion::IntervalStart, &at(5, None)), None);
        assert_eq!(
            l.due(Occasion::IntervalStart, &at(12, None)),
            Some(Trigger::Interval)
        );
    }

    #[test]
    fn grid_notices_and_queue_thresholds_follow_the_subscriptions() {
        let quiet = decision_loop(Subscriptions {
            grid_notices: false,
            ..Subscriptions::default()
        });
        let grid = Occasion::GridNotice { event: 7 };
        let o = at(1, Some(40.0));
        assert_eq!(quiet.due(grid, &o), None);
        assert_eq!(
            decision_loop(Subscriptions::default()).due(grid, &o),
            Some(Trigger::GridNotice { event: 7 })
        );
        let queued = decision_loop(Subscriptions {
            queue_threshold_jobs: Some(3),
            ..Subscriptions::default()
        });
        let grew = Occasion::QueueGrew {
            class: WorkloadClass::P2,
        };
        let mut o = at(1, Some(40.0));
        o.queues.p2.jobs = 2;
        assert_eq!(queued.due(grew, &o), None);
        o.queues.p2.jobs = 3;
        assert_eq!(
            queued.due(grew, &o),
            Some(Trigger::QueueThreshold {
                class: WorkloadClass::P2
            })
        );
        let p1 = Occasion::QueueGrew {
            class: WorkloadClass::P1,
        };
        assert_eq!(queued.due(p1, &o), None);
    }

    #[test]
    fn a_step_feeds_the_forecaster_and_writes_the_forecast_before_the_policy_decides() {
        let mut l = decision_loop(Subscriptions {
            forecast_steps: 4,
            ..Subscriptions::default()
        });
        let mut actions = Vec::new();
        let mut o = at(0, Some(42.0));
        let trigger = l.step(Occasion::IntervalStart, &mut o, &mut actions);
        assert_eq!(trigger, Some(Trigger::Interval));
        assert_eq!(l.decisions(), 1);
        let forecast = o.forecast.as_ref().unwrap();
        assert_eq!(forecast.price(&SiteId::from("a")), &[42.0; 4]);
        assert_eq!(o.trigger, Trigger::Interval);
    }
}
