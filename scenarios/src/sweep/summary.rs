//! [`summarise`]: what a sweep found, per policy — mean profit with a 95 %
//! confidence interval, the paired difference to the baseline policy on the
//! same worlds, CVaR 5 %, % of the oracle's bound (mean, CI, worst) and
//! regret, revenue by stream, energy, SLA attainment, utilisation and
//! switching.
//!
//! Statistics are computed from the runs in replication order, so they are
//! the same whatever the thread count or sharding. The paired difference
//! uses common random numbers: each replication's profit difference is one
//! observation, which removes the world's variance from the comparison.

use std::collections::BTreeMap;

use hcp_engine::stats::Tally;
use hcp_models::ledger::Stream;
use hcp_models::twin::{RunKey, RunResult};
use serde::Serialize;

/// A mean and its 95 % Student-t confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Lower end of the 95 % interval (the mean when n < 2).
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
    /// Observations.
    pub n: u64,
}

impl Estimate {
    fn of(values: impl IntoIterator<Item = f64>) -> Estimate {
        let mut tally = Tally::new();
        for v in values {
            tally.record(v);
        }
        let (ci_low, ci_high) = tally
            .confidence_interval(0.95)
            .map_or((tally.mean(), tally.mean()), |ci| (ci.low(), ci.high()));
        Estimate {
            mean: tally.mean(),
            ci_low,
            ci_high,
            n: tally.count(),
        }
    }
}

/// One policy over every replication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    /// Policy name.
    pub policy: String,
    /// Profit per replication, USD.
    pub profit_usd: Estimate,
    /// Profit minus the baseline's on the same world, USD (absent for the
    /// baseline itself or when the baseline did not run).
    pub uplift_usd: Option<Estimate>,
    /// Mean of the worst 5 % of replications' profits (at least one), USD.
    pub cvar5_usd: f64,
    /// Mean per replication of each revenue and cost stream, USD.
    pub streams_usd: BTreeMap<&'static str, f64>,
    /// Mean energy bought, MWh.
    pub energy_mwh: f64,
    /// Mean P1 SLA attainment, % (request-weighted).
    pub p1_sla_pct: f64,
    /// Mean P2 on-time share, %.
    pub p2_on_time_pct: f64,
    /// Mean share of installed ASIC hash capacity delivered.
    pub asic_utilisation: f64,
    /// Mean share of installed GPU-time busy.
    pub gpu_utilisation: f64,
    /// Mean GPUs switched per simulated day.
    pub switches_per_day: f64,
    /// Mean actions clipped per run.
    pub clips: f64,
    /// Profit as % of the oracle's bound on the same tape: mean and 95 %
    /// CI (absent when the sweep ran without the oracle).
    pub pct_of_oracle: Option<Estimate>,
    /// The lowest % of oracle over the replications.
    pub worst_pct_of_oracle: Option<f64>,
    /// Oracle's bound minus profit on the same tape, USD.
    pub regret_usd: Option<Estimate>,
    /// Profit as % of the clairvoyant reference's ([`CLAIRVOYANT`]) on the
    /// same tape: mean and 95 % CI (absent when it did not run).
    pub pct_of_clairvoyant: Option<Estimate>,
    /// The clairvoyant reference's profit minus this policy's on the same
    /// tape, USD: for `mpc`, what its forecast error costs.
    pub gap_to_clairvoyant_usd: Option<Estimate>,
}

/// What `mpc`'s regret against the oracle is made of, paired over the
/// replications where mpc, the clairvoyant reference and the oracle ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegretSplit {
    /// Oracle's bound minus mpc's profit, USD.
    pub regret_usd: Estimate,
    /// Clairvoyant mpc's profit minus mpc's, USD: the cost of forecast
    /// error (prices and hashprice; mpc sees no other future).
    pub forecast_error_usd: Estimate,
    /// Oracle's bound minus clairvoyant mpc's profit, USD: what the
    /// policy's structure (its horizon, its rules for GPUs and demand
    /// response, no ancillary offers) and the oracle's relaxations (free
    /// instant switching, fractional devices, no failures, jobs run at any
    /// time on any pool, AI demand known) leave between them.
    pub structure_and_relaxation_usd: Estimate,
}

/// The sweep's findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Replications summarised.
    pub replications: u64,
    /// The policy uplifts are measured against.
    pub baseline: String,
    /// The oracle's upper bound on profit, USD per replication (absent
    /// when the sweep ran without it).
    pub oracle_usd: Option<Estimate>,
    /// One entry per policy, in the sweep's order.
    pub policies: Vec<PolicySummary>,
    /// `mpc`'s regret split into forecast error and structure (absent
    /// unless mpc, its clairvoyant reference and the oracle all ran).
    pub mpc_regret_split: Option<RegretSplit>,
}

/// The figures of one run a summary reads — from a fresh `RunResult` or
/// from a row of the runs table on disk (so shards and resumed sweeps are
/// summarised from exactly what was written).
#[derive(Debug, Clone, PartialEq)]
pub struct RunFigures {
    /// Which run.
    pub key: RunKey,
    /// Profit, USD.
    pub profit_usd: f64,
    /// Each stream's total in [`Stream::ALL`] order, USD.
    pub streams_usd: [f64; 10],
    /// Energy bought, MWh.
    pub energy_mwh: f64,
    /// P1 and P2 SLA attainment, %.
    pub sla_pct: [f64; 2],
    /// ASIC and GPU utilisation, shares.
    pub utilisation: [f64; 2],
    /// GPUs switched per simulated day.
    pub switches_per_day: f64,
    /// Actions clipped.
    pub clips: u64,
    /// The oracle's bound on the same tape, USD.
    pub oracle_usd: Option<f64>,
}

impl RunFigures {
    /// The figures of a run over `days` simulated days, with the oracle's
    /// bound on its tape if known.
    pub fn of(key: &RunKey, result: &RunResult, days: f64, oracle_usd: Option<f64>) -> RunFigures {
        RunFigures {
            key: key.clone(),
            profit_usd: result.ledger.profit_usd,
            streams_usd: Stream::ALL.map(|s| result.ledger.total(s)),
            energy_mwh: result.ledger.energy_mwh_total,
            sla_pct: result.sla_attainment_pct,
            utilisation: [result.asic_utilisation, result.gpu_utilisation],
            switches_per_day: (result.switches[0] + result.switches[1]) as f64 / days.max(1e-9),
            clips: result.clips,
            oracle_usd,
        }
    }

    /// Profit as % of the oracle's bound (when the bound is positive).
    pub fn pct_of_oracle(&self) -> Option<f64> {
        self.oracle_usd
            .filter(|&o| o > 0.0)
            .map(|o| 100.0 * self.profit_usd / o)
    }
}

/// An estimate of the values, absent when there are none.
fn estimate(values: &[f64]) -> Option<Estimate> {
    (!values.is_empty()).then(|| Estimate::of(values.iter().copied()))
}

/// Mean of the lowest `ceil(5 %)` values (at least one).
fn cvar5(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // ceil(5 % of n) in integers: (n + 19) / 20.
    let k = sorted.len().div_ceil(20).clamp(1, sorted.len());
    sorted[..k].iter().sum::<f64>() / k as f64
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u64), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// The policy every other is compared with: the BTC-only operator.
pub const BASELINE: &str = "mining-only";

/// The clairvoyant reference: `mpc` shown the true future, a diagnostic.
pub const CLAIRVOYANT: &str = hcp_policies::mpc::CLAIRVOYANT_NAME;

/// The policy the clairvoyant reference is the clairvoyant version of.
const MPC: &str = "mpc";

/// An estimate of `f(mine, theirs)` over the replications where both ran.
fn paired(
    mine: &BTreeMap<u64, &RunFigures>,
    theirs: &BTreeMap<u64, &RunFigures>,
    f: impl Fn(&RunFigures, &RunFigures) -> Option<f64>,
) -> Option<Estimate> {
    let values: Vec<f64> = mine
        .iter()
        .filter_map(|(rep, r)| f(r, theirs.get(rep)?))
        .collect();
    estimate(&values)
}
/// Summarises `runs` (any order; several policies per replication),
/// policies in the order of `policies`, comparing each with `baseline`
/// replication by replication over the replications where both ran.
pub fn summarise(
    scenario: &str,
    seed: u64,
    policies: &[String],
    runs: &[RunFigures],
    baseline: &str,
) -> Summary {
    // (policy, replication) → figures, in a fixed order.
    let mut by_policy: BTreeMap<&str, BTreeMap<u64, &RunFigures>> = BTreeMap::new();
    for run in runs {
        by_policy
            .entry(run.key.policy.as_str())
            .or_default()
            .insert(run.key.replication, run);
    }
    let empty = BTreeMap::new();
    let base = by_policy.get(baseline).unwrap_or(&empty);
    let clairvoyant = by_policy.get(CLAIRVOYANT).unwrap_or(&empty);
    let replications = by_policy.values().map(BTreeMap::len).max().unwrap_or(0);
    let summaries = policies
        .iter()
        .map(|name| {
            let mine = by_policy.get(name.as_str()).unwrap_or(&empty);
            let profits: Vec<f64> = mine.values().map(|r| r.profit_usd).collect();
            let pcts: Vec<f64> = mine.values().filter_map(|r| r.pct_of_oracle()).collect();
            let regrets: Vec<f64> = mine
                .values()
                .filter_map(|r| Some(r.oracle_usd? - r.profit_usd))
                .collect();
            let uplift = (name != baseline && !base.is_empty()).then(|| {
                Estimate::of(
                    mine.iter()
                        .filter_map(|(rep, r)| Some(r.profit_usd - base.get(rep)?.profit_usd)),
                )
            });
            let (pct_of_clairvoyant, gap_to_clairvoyant_usd) = if name == CLAIRVOYANT {
                (None, None)
            } else {
                (
                    paired(mine, clairvoyant, |r, c| {
                        (c.profit_usd > 0.0).then(|| 100.0 * r.profit_usd / c.profit_usd)
                    }),
                    paired(mine, clairvoyant, |r, c| Some(c.profit_usd - r.profit_usd)),
                )
            };
            let streams_usd = Stream::ALL
                .iter()
                .enumerate()
                .map(|(k, s)| (s.name(), mean(mine.values().map(|r| r.streams_usd[k]))))
                .collect();
            PolicySummary {
                policy: name.clone(),
                profit_usd: Estimate::of(profits.iter().copied()),
                uplift_usd: uplift,
                cvar5_usd: cvar5(&profits),
                streams_usd,
                energy_mwh: mean(mine.values().map(|r| r.energy_mwh)),
                p1_sla_pct: mean(mine.values().map(|r| r.sla_pct[0])),
                p2_on_time_pct: mean(mine.values().map(|r| r.sla_pct[1])),
                asic_utilisation: mean(mine.values().map(|r| r.utilisation[0])),
                gpu_utilisation: mean(mine.values().map(|r| r.utilisation[1])),
                switches_per_day: mean(mine.values().map(|r| r.switches_per_day)),
                clips: mean(mine.values().map(|r| r.clips as f64)),
                pct_of_oracle: estimate(&pcts),
                worst_pct_of_oracle: pcts.iter().copied().reduce(f64::min),
                regret_usd: estimate(&regrets),
                pct_of_clairvoyant,
                gap_to_clairvoyant_usd,
            }
        })
        .collect();
    let mpc_regret_split = regret_split(by_policy.get(MPC).unwrap_or(&empty), clairvoyant);
    // The bound per replication, from any policy's run of it.
    let mut oracle: BTreeMap<u64, f64> = BTreeMap::new();
    for run in runs {
        if let Some(o) = run.oracle_usd {
            oracle.insert(run.key.replication, o);
        }
    }
    let oracle: Vec<f64> = oracle.into_values().collect();
    Summary {
        scenario: scenario.to_owned(),
        seed,
        replications: replications as u64,
        baseline: baseline.to_owned(),
        oracle_usd: estimate(&oracle),
        policies: summaries,
        mpc_regret_split,
    }
}

/// mpc's regret against the oracle, split at the clairvoyant reference,
/// over the replications where all three ran.
fn regret_split(
    mpc: &BTreeMap<u64, &RunFigures>,
    clairvoyant: &BTreeMap<u64, &RunFigures>,
) -> Option<RegretSplit> {
    let both = |f: fn(&RunFigures, &RunFigures, f64) -> f64| {
        paired(mpc, clairvoyant, |m, c| Some(f(m, c, m.oracle_usd?)))
    };
    Some(RegretSplit {
        regret_usd: both(|m, _, o| o - m.profit_usd)?,
        forecast_error_usd: both(|m, c, _| c.profit_usd - m.profit_usd)?,
        structure_and_relaxation_usd: both(|_, c, o| o - c.profit_usd)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvar_is_the_mean_of_the_worst_five_percent() {
        let values: Vec<f64> = (1..=40).map(f64::from).collect();
        // 5 % of 40 = 2 worst: (1 + 2) / 2.
        assert_eq!(cvar5(&values), 1.5);
        assert_eq!(cvar5(&[7.0, 3.0]), 3.0);
        assert_eq!(cvar5(&[]), 0.0);
    }

    #[test]
    fn estimates_match_the_student_t_interval() {
        let e = Estimate::of([1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // s = 1.29099, t(0.975, 3) = 3.18245: half width 2.05426.
        assert!((e.ci_high - e.mean - 2.054_26).abs() < 1e-4, "{e:?}");
        assert_eq!(e.n, 4);
    }
}
