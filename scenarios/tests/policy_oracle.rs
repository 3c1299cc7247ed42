//! The oracle is a true upper bound: no built-in policy, and no policy
//! that grabs every grid and ancillary payment on offer, earns more on
//! the same tape.

mod common;

use common::setup;
use hcp_contract::{Action, Forecaster, Observation, Persistence, Policy};
use hcp_engine::rng::RngStreams;
use hcp_models::twin::{RunResult, TwinSetup, oracle};
use hcp_policies::{ForecasterConfig, PolicyConfig};
use hcp_scenarios::sweep::forecaster_for;

/// A policy under test: its name, the policy, and what it forecasts with.
type Contender = (String, Box<dyn Policy>, Box<dyn Forecaster>);

fn play(
    setup: &TwinSetup,
    seed: u64,
    policy: Box<dyn Policy>,
    forecaster: Box<dyn Forecaster>,
) -> RunResult {
    common::play(setup, seed, policy, forecaster).0
}

/// `breakeven`, plus every grid and ancillary payment it can reach: all
/// of its last power committed to every grid event, and its fast load
/// offered to the dearest ancillary service at every interval.
struct Grabber {
    inner: Box<dyn Policy>,
}

impl Policy for Grabber {
    fn name(&self) -> &'static str {
        "grabber"
    }

    fn decide(&mut self, o: &Observation, actions: &mut Vec<Action>) {
        self.inner.decide(o, actions);
        for notice in &o.grid_notices {
            for view in &o.sites {
                if view.grid_events {
                    actions.push(Action::DemandResponse {
                        event: notice.id,
                        site: view.id.clone(),
                        mw: view.last_power_mw,
                    });
                }
            }
        }
        let dearest = o
            .market
            .ancillary_services
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(name, _)| name.clone());
        if let Some(service) = dearest {
            for view in &o.sites {
                if view.grid_events {
                    actions.push(Action::Ancillary {
                        site: view.id.clone(),
                        service: service.clone(),
                        mw: view.last_power_mw,
                    });
                }
            }
        }
    }
}

#[test]
fn no_policy_beats_the_oracle() {
    let setup = setup(28);
    for seed in [3, 8] {
        let streams = RngStreams::new(seed, 0);
        let tape = setup.tape(&streams);
        let bound = oracle(&setup, &tape, &streams);
        assert!(bound.profit_usd.is_finite() && bound.profit_usd > 0.0);
        let mut best = f64::NEG_INFINITY;
        // Every policy with persistence, the clairvoyant reference with
        // the true future.
        let mut policies: Vec<Contender> = PolicyConfig::defaults()
            .iter()
            .map(|c| {
                let forecaster = forecaster_for(c, &ForecasterConfig::Persistence, &tape);
                (c.name().to_owned(), c.build(), forecaster)
            })
            .collect();
        policies.push((
            "grabber".into(),
            Box::new(Grabber {
                inner: PolicyConfig::by_name("breakeven").unwrap().build(),
            }),
            Box::new(Persistence::default()),
        ));
        for (name, policy, forecaster) in policies {
            let profit = play(&setup, seed, policy, forecaster).ledger.profit_usd;
            assert!(
                profit <= bound.profit_usd,
                "seed {seed}: {name} earns {profit:.0} > oracle {:.0} ({bound:?})",
                bound.profit_usd
            );
            best = best.max(profit);
        }
        // A bound, but not a loose one: the best policy reaches 80 %.
        assert!(
            best >= 0.8 * bound.profit_usd,
            "seed {seed}: best {best:.0} vs oracle {:.0} ({bound:?})",
            bound.profit_usd
        );
    }
}
