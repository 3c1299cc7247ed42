//! The contract reads back: observations and actions taken from real twin
//! runs, written as JSON lines (as the live bridge's audit log writes them)
//! and read again, are equal to the originals, and a fresh policy fed the
//! read-back observations makes the same decisions.

mod common;

use std::sync::{Arc, Mutex};

use hcp_contract::{Action, Observation, Persistence, Policy, Subscriptions};
use hcp_policies::PolicyConfig;
use hcp_policies::forecast::{SeasonalNaive, SeasonalNaiveParams};

/// Every (observation, actions) pair a policy was asked with.
type Log = Arc<Mutex<Vec<(Observation, Vec<Action>)>>>;

/// Runs the inner policy and keeps what it saw and asked.
struct Recorder {
    inner: Box<dyn Policy>,
    log: Log,
}

impl Policy for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn subscriptions(&self) -> Subscriptions {
        self.inner.subscriptions()
    }

    fn decide(&mut self, observation: &Observation, actions: &mut Vec<Action>) {
        self.inner.decide(observation, actions);
        if let Ok(mut log) = self.log.lock() {
            log.push((observation.clone(), actions.clone()));
        }
    }
}

fn recorded(policy: &str, days: u32) -> Vec<(Observation, Vec<Action>)> {
    let setup = common::setup(days);
    let log = Log::default();
    let recorder = Recorder {
        inner: PolicyConfig::by_name(policy).unwrap().build(),
        log: Arc::clone(&log),
    };
    let forecaster: Box<dyn hcp_contract::Forecaster> = if policy == "mpc" {
        Box::new(SeasonalNaive::new(SeasonalNaiveParams::default()))
    } else {
        Box::new(Persistence::default())
    };
    let _ = common::play(&setup, 7, Box::new(recorder), forecaster);
    let log = log.lock().unwrap();
    log.clone()
}

#[test]
fn observations_and_actions_of_a_twin_run_read_back_and_replay_to_the_same_decisions() {
    for policy in ["breakeven", "mpc", "seed-threshold", "ai-first"] {
        let log = recorded(policy, 2);
        assert!(log.len() >= 2 * 96, "{policy}: {} decisions", log.len());
        assert!(
            log.iter().any(|(_, actions)| !actions.is_empty()),
            "{policy} never acted"
        );
        // JSON lines: one observation, then its actions, per line.
        let mut lines = String::new();
        for (o, actions) in &log {
            lines.push_str(&serde_json::to_string(&(o, actions)).unwrap());
            lines.push('\n');
        }
        let back: Vec<(Observation, Vec<Action>)> = lines
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("{e}: {}", &line[line.len().min(4700)..line.len().min(4830)])
                })
            })
            .collect();
        assert_eq!(back.len(), log.len());
        for (k, (original, read)) in log.iter().zip(&back).enumerate() {
            assert!(
                original == read,
                "{policy}: record {k} reads back different"
            );
        }
        // A fresh policy on the read-back observations: the same actions.
        let mut fresh = PolicyConfig::by_name(policy).unwrap().build();
        let mut actions = Vec::new();
        for (k, (o, logged)) in back.iter().enumerate() {
            actions.clear();
            fresh.decide(o, &mut actions);
            assert_eq!(&actions, logged, "{policy}: decision {k}");
        }
    }
}

#[test]
fn the_wire_names_are_the_documented_ones() {
    let (o, _) = recorded("breakeven", 1).swap_remove(0);
    let json: serde_json::Value = serde_json::to_value(&o).unwrap();
    let site = &json["sites"][0];
    assert_eq!(site["id"], "Texas North");
    assert!(site["price_usd_per_mwh"].is_number());
    let cohort = &json["asic_cohorts"][0];
    assert_eq!(cohort["id"], "Texas North/S21/luxos");
    assert_eq!(cohort["site"], "Texas North");
    assert!(cohort["curve"]["exponent"].is_number());
    assert_eq!(json["gpu_pools"][0]["id"], "Texas North/H100");
    assert!(json["queues"]["p3"]["jobs"].is_number());
    assert!(json["sla"]["p1_pct"].is_number());
    assert_eq!(json["trigger"]["kind"], "interval");
    let action = serde_json::to_value(Action::Asic {
        cohort: "Texas North/S21/luxos".into(),
        on: 10,
        power_target_w: None,
    })
    .unwrap();
    assert_eq!(
        action,
        serde_json::json!({"kind": "asic", "cohort": "Texas North/S21/luxos", "on": 10, "power_target_w": null})
    );
}
