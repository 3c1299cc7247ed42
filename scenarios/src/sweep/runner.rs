//! [`run_sweep`]: replications in parallel (rayon), every policy on the same
//! tape within a replication, results handed over in replication order;
//! a stop flag (SIGTERM) ends it between runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hcp_contract::Forecaster;
use hcp_engine::rng::RngStreams;
use hcp_models::twin::{
    Clairvoyant, OracleBound, RunKey, RunResult, TwinSetup, TwinSink, oracle, run,
};
use hcp_models::world::WorldTape;
use hcp_policies::{ForecasterConfig, PolicyConfig};
use rayon::prelude::*;

/// Every policy's run of one replication, in the policies' order.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationRuns {
    /// Replication index.
    pub replication: u64,
    /// (key, result) per policy.
    pub runs: Vec<(RunKey, RunResult)>,
    /// The oracle's upper bound on the replication's tape (when the sweep
    /// asked for it).
    pub oracle: Option<OracleBound>,
}

/// What a sweep reports to its caller as it goes (files are written here,
/// so a killed sweep keeps every replication it finished).
pub trait SweepOutput<S>: Sync {
    /// The error the output can fail with.
    type Error: Send;

    /// A fresh sink for one run's records.
    fn sink(&self, key: &RunKey) -> S;

    /// One run finished: its records are in `sink`.
    ///
    /// # Errors
    /// When its records cannot be written.
    fn run_done(&self, key: &RunKey, result: &RunResult, sink: S) -> Result<(), Self::Error>;

    /// Every policy of one replication finished.
    ///
    /// # Errors
    /// When the replication's summary cannot be written.
    fn replication_done(&self, runs: &ReplicationRuns) -> Result<(), Self::Error>;
}

/// The plan of a sweep: what to run, where.
#[derive(Debug, Clone, Copy)]
pub struct SweepRun<'a> {
    /// The scenario, checked.
    pub setup: &'a TwinSetup,
    /// Its name (for keys and files).
    pub scenario: &'a str,
    /// Policies, in report order.
    pub policies: &'a [PolicyConfig],
    /// The forecaster every policy sees the future through.
    pub forecaster: &'a ForecasterConfig,
    /// Master seed.
    pub seed: u64,
    /// Replications to run.
    pub replications: &'a [u64],
    /// Worker threads.
    pub threads: usize,
    /// Whether to compute the oracle's bound for every replication.
    pub oracle: bool,
    /// Once set, no further run starts: runs under way finish and are
    /// handed over, a replication with a run not started is left out
    /// whole (never half-reported), and [`run_sweep`] returns what is done.
    pub stop: Option<&'a AtomicBool>,
}

/// The forecaster `policy` plays with on `tape`: the scenario's
/// `forecaster`, or, for a diagnostic that sees the future
/// ([`PolicyConfig::sees_the_future`]), one that reads the tape.
pub fn forecaster_for(
    policy: &PolicyConfig,
    forecaster: &ForecasterConfig,
    tape: &Arc<WorldTape>,
) -> Box<dyn Forecaster> {
    if policy.sees_the_future() {
        Box::new(Clairvoyant::new(Arc::clone(tape)))
    } else {
        forecaster.build()
    }
}

/// Runs every policy over every replication of `plan` on its threads. Each
/// replication's tape is generated once and every policy plays it (and the
/// oracle bounds it, when asked); each run gets a fresh sink and
/// forecaster. `output` hears of each run and each
/// replication as they finish (from any thread, in any order); the return
/// value lists every replication in increasing order, whatever the thread
/// count — every one of them unless `plan.stop` was set, then those that
/// finished.
///
/// # Errors
/// The first error `output` returned, or a thread pool that cannot start.
pub fn run_sweep<S, O>(plan: &SweepRun<'_>, output: &O) -> Result<Vec<ReplicationRuns>, O::Error>
where
    S: TwinSink + Send + 'static,
    O: SweepOutput<S>,
    O::Error: From<rayon::ThreadPoolBuildError>,
{
    let SweepRun {
        setup,
        scenario,
        policies,
        forecaster,
        seed,
        replications,
        threads,
        oracle: with_oracle,
        stop,
    } = *plan;
    let stopped = || stop.is_some_and(|flag| flag.load(Ordering::Relaxed));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()?;
    pool.install(|| {
        replications
            .par_iter()
            .map(|&replication| {
                if stopped() {
                    return Ok(None);
                }
                let streams = RngStreams::new(seed, replication);
                let tape = setup.shared_tape(&streams);
                let (bound, runs) = rayon::join(
                    || with_oracle.then(|| oracle(setup, &tape, &streams)),
                    || {
                        policies
                            .par_iter()
                            .map(|policy| {
                                if stopped() {
                                    return Ok(None);
                                }
                                let key = RunKey {
                                    scenario: scenario.to_owned(),
                                    policy: policy.name().to_owned(),
                                    replication,
                                    seed,
                                };
                                let sink = output.sink(&key);
                                let (result, sink) = run(
                                    setup,
                                    Arc::clone(&tape),
                                    &streams,
                                    policy.build(),
                                    forecaster_for(policy, forecaster, &tape),
                                    sink,
                                );
                                output.run_done(&key, &result, sink)?;
                                Ok(Some((key, result)))
                            })
                            .collect::<Result<Option<Vec<_>>, O::Error>>()
                    },
                );
                let Some(runs) = runs? else {
                    return Ok(None);
                };
                let runs = ReplicationRuns {
                    replication,
                    runs,
                    oracle: bound,
                };
                output.replication_done(&runs)?;
                Ok(Some(runs))
            })
            .collect::<Result<Vec<_>, O::Error>>()
            .map(|done| done.into_iter().flatten().collect())
    })
}
