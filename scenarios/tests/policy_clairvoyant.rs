//! The clairvoyant reference (`mpc-clairvoyant`): its forecast is the
//! future the twin then plays, interval for interval; it stays under the
//! oracle's bound; and the sweep's summary splits mpc's regret at it into
//! parts that add up, replication by replication.

mod common;

use std::sync::{Arc, Mutex};

use common::setup;
use hcp_contract::{Action, Observation, Policy, SiteId, Subscriptions};
use hcp_engine::rng::RngStreams;
use hcp_models::twin::{MemorySink, RunKey, oracle, run};
use hcp_policies::{ForecasterConfig, PolicyConfig};
use hcp_scenarios::sweep::{CLAIRVOYANT, RunFigures, forecaster_for, summarise};

/// Every interval: the prices and hashprice observed, and the forecast.
type Seen = Arc<
    Mutex<
        Vec<(
            u64,
            Vec<(SiteId, f64)>,
            f64,
            Vec<(SiteId, Vec<f64>)>,
            Vec<f64>,
        )>,
    >,
>;

/// Decides nothing; wants `steps` intervals of forecast and keeps it.
struct Watcher {
    steps: u32,
    seen: Seen,
}

impl Policy for Watcher {
    fn name(&self) -> &'static str {
        "watcher"
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            forecast_steps: self.steps,
            grid_notices: false,
            ..Subscriptions::default()
        }
    }

    fn decide(&mut self, o: &Observation, _actions: &mut Vec<Action>) {
        let prices = o
            .sites
            .iter()
            .map(|s| (s.id.clone(), s.price_usd_per_mwh.unwrap_or(f64::NAN)))
            .collect();
        let f = o.forecast.clone().unwrap_or_default();
        let ahead = o
            .sites
            .iter()
            .map(|s| (s.id.clone(), f.price(&s.id).to_vec()))
            .collect();
        self.seen.lock().unwrap().push((
            o.interval,
            prices,
            o.market.hashprice_usd_per_th_day.unwrap_or(f64::NAN),
            ahead,
            f.hashprice_usd_per_th_day.clone(),
        ));
    }
}

/// How many forecast values (of prices and hashprice, over every
/// decision) differ from what the twin showed the policy when the interval
/// came, and how many were compared.
fn forecast_misses(forecaster: &ForecasterConfig, as_policy: &PolicyConfig) -> (usize, usize) {
    let setup = setup(2);
    let streams = RngStreams::new(5, 0);
    let tape = setup.tape(&streams);
    let seen = Seen::default();
    let watcher = Watcher {
        steps: 12,
        seen: Arc::clone(&seen),
    };
    let forecaster = forecaster_for(as_policy, forecaster, &tape);
    let _ = run(
        &setup,
        tape,
        &streams,
        Box::new(watcher),
        forecaster,
        MemorySink::default(),
    );
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2 * 288 - 1, "{} decisions", seen.len());
    let (mut misses, mut compared) = (0, 0);
    for (t, (interval, _, _, ahead, hash_ahead)) in seen.iter().enumerate() {
        assert_eq!(*interval, t as u64, "one decision per interval");
        for (k, later) in seen[t + 1..].iter().take(12).enumerate() {
            for ((site, price), (same, values)) in later.1.iter().zip(ahead) {
                assert_eq!(site, same);
                compared += 1;
                misses += usize::from(values[k] != *price);
            }
            compared += 1;
            misses += usize::from(hash_ahead[k] != later.2);
        }
    }
    (misses, compared)
}

#[test]
fn the_clairvoyant_forecast_is_the_future_the_twin_plays() {
    let seasonal = ForecasterConfig::default();
    let clairvoyant = PolicyConfig::by_name(CLAIRVOYANT).unwrap();
    let (misses, compared) = forecast_misses(&seasonal, &clairvoyant);
    assert_eq!(misses, 0, "{misses} of {compared} values differ");
    // Two days, 575 decisions with up to 12 steps ahead, 3 sites + hashprice.
    assert!(compared > 20_000, "{compared} compared");
    // The scenario's forecaster, given to any other policy, does not.
    let mpc = PolicyConfig::by_name("mpc").unwrap();
    let (misses, compared) = forecast_misses(&seasonal, &mpc);
    assert!(
        misses > compared / 2,
        "seasonal-naive missed only {misses} of {compared}"
    );
}

#[test]
fn clairvoyant_mpc_stays_under_the_oracle_and_splits_mpc_regret_exactly() {
    let setup = setup(7);
    let seed = 11;
    let policies: Vec<PolicyConfig> = ["mining-only", "mpc", CLAIRVOYANT]
        .map(|n| PolicyConfig::by_name(n).unwrap())
        .to_vec();
    let forecaster = ForecasterConfig::default();
    let mut figures = Vec::new();
    let mut by_replication = Vec::new();
    for replication in 0..3 {
        let streams = RngStreams::new(seed, replication);
        let tape = setup.tape(&streams);
        let bound = oracle(&setup, &tape, &streams).profit_usd;
        let mut profits = Vec::new();
        for policy in &policies {
            let key = RunKey {
                scenario: "week".into(),
                policy: policy.name().into(),
                replication,
                seed,
            };
            let (result, _) = run(
                &setup,
                Arc::clone(&tape),
                &streams,
                policy.build(),
                forecaster_for(policy, &forecaster, &tape),
                MemorySink::default(),
            );
            assert!(
                result.ledger.profit_usd <= bound,
                "replication {replication}: {} earns {:.0} > oracle {bound:.0}",
                policy.name(),
                result.ledger.profit_usd
            );
            profits.push(result.ledger.profit_usd);
            figures.push(RunFigures::of(&key, &result, 7.0, Some(bound)));
        }
        by_replication.push((bound, profits[1], profits[2]));
    }
    let names: Vec<String> = policies.iter().map(|p| p.name().to_owned()).collect();
    let summary = summarise("week", seed, &names, &figures, "mining-only");
    let split = summary
        .mpc_regret_split
        .expect("mpc, clairvoyant and oracle ran");
    let mean = |f: fn(&(f64, f64, f64)) -> f64| {
        by_replication.iter().map(f).sum::<f64>() / by_replication.len() as f64
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(close(split.regret_usd.mean, mean(|(o, m, _)| o - m)));
    assert!(close(
        split.forecast_error_usd.mean,
        mean(|(_, m, c)| c - m)
    ));
    assert!(close(
        split.structure_and_relaxation_usd.mean,
        mean(|(o, _, c)| o - c)
    ));
    assert!(close(
        split.regret_usd.mean,
        split.forecast_error_usd.mean + split.structure_and_relaxation_usd.mean
    ));
    assert_eq!(split.regret_usd.n, 3);
    // Every policy but the reference itself is measured against it.
    for p in &summary.policies {
        assert_eq!(
            p.pct_of_clairvoyant.is_some(),
            p.policy != CLAIRVOYANT,
            "{}",
            p.policy
        );
    }
    let mpc = &summary.policies[1];
    let gap = mpc.gap_to_clairvoyant_usd.unwrap();
    assert!(close(gap.mean, split.forecast_error_usd.mean));
}
