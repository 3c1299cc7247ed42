//! [`TwinSetup`] (a scenario's world and plant, checked together) and
//! [`run`] (one policy over one replication).

use std::path::Path;
use std::sync::Arc;

use hcp_engine::rng::{RngStreams, StreamId};

use super::asic_cohort::AsicCohort;
use super::gpu_pool::GpuPool;
use super::job_source::JobSource;
use super::jobs::{JobCounters, Jobs, SiteSignal};
use super::model::{Closing, Figures, Site, Streams, TwinModel};
use super::observe::Ids;
use super::p1;
use super::result::{JobFigures, RunResult, TwinSink};
use super::timeline::JobTimeline;
use crate::demand::{GpuModel, GpuPool as DemandPool, JobArrival, WorkloadClass};
use crate::ledger::{BillingMonths, Ledger};
use crate::plant::{
    AsicCatalog, GpuCatalog, PlantConfig, PlantError, ReliabilityParams, catalogs, check,
};
use crate::world::{World, WorldConfig, WorldError, WorldTape};
use hcp_contract::{DecisionLoop, Forecaster, Observation, Policy, SlaView};

/// What is wrong with a scenario's world or plant.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// The world section.
    #[error(transparent)]
    World(#[from] WorldError),
    /// The plant section.
    #[error(transparent)]
    Plant(#[from] PlantError),
}

/// A scenario's world and plant, checked together and ready to run.
#[derive(Debug, Clone)]
pub struct TwinSetup {
    world: World,
    plant: PlantConfig,
    asic: AsicCatalog,
    gpu: GpuCatalog,
}

fn demand_gpu_model(name: &str) -> GpuModel {
    match name {
        "A100" => GpuModel::A100,
        "L40S" => GpuModel::L40S,
        // Other models count towards the fleet size the job load is scaled to.
        _ => GpuModel::H100,
    }
}

impl TwinSetup {
    /// Checks the plant against the spec tables, derives the world's price
    /// nodes (the sites' nodes, in site order) and the GPU fleet the demand
    /// is sized against (the sites' pools), then prepares the world.
    ///
    /// # Errors
    /// An impossible plant (key path and problem), a served model without
    /// an inference spec, or a bad world section.
    pub fn prepare(
        mut world: WorldConfig,
        plant: PlantConfig,
        base_dir: &Path,
    ) -> Result<TwinSetup, TwinError> {
        let (asic, gpu) = catalogs(&plant);
        check(&plant, &asic, &gpu)?;
        world.price_nodes.clear();
        for site in &plant.sites {
            if !world.price_nodes.contains(&site.node) {
                world.price_nodes.push(site.node.clone());
            }
        }
        world.demand.fleet.pools = plant
            .sites
            .iter()
            .flat_map(|site| {
                site.gpus.iter().map(|pool| DemandPool {
                    site: site.name.clone(),
                    gpu: demand_gpu_model(&pool.gpu),
                    count: pool.count,
                })
            })
            .collect();
        let offerings = [
            ("p1_offerings", &world.demand.customers.p1_offerings),
            ("p2_offerings", &world.demand.customers.p2_offerings),
        ];
        for (key, list) in offerings {
            for (i, offering) in list.iter().enumerate() {
                gpu.inference(&offering.model, "H100")
                    .map_err(|e| WorldError::Invalid {
                        key: format!("demand.customers.{key}[{i}].model"),
                        problem: e.to_string(),
                    })?;
            }
        }
        let world = World::prepare(world, base_dir)?;
        Ok(TwinSetup {
            world,
            plant,
            asic,
            gpu,
        })
    }

    /// The prepared world (tapes come from here).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The checked plant.
    pub fn plant(&self) -> &PlantConfig {
        &self.plant
    }

    /// The ASIC spec table in force.
    pub fn asic_catalog(&self) -> &AsicCatalog {
        &self.asic
    }

    /// The GPU spec table in force.
    pub fn gpu_catalog(&self) -> &GpuCatalog {
        &self.gpu
    }

    /// The tape a run reads: the world's tape without its job list (the
    /// twin pulls jobs one interval at a time).
    pub fn tape(&self, streams: &RngStreams) -> Arc<WorldTape> {
        Arc::new(self.world.tape_without_jobs(streams))
    }

    /// The tape of a replication that several runs play (a sweep's
    /// policies and the oracle): with its job list, generated once for all
    /// of them, when the list takes at most [`SHARED_JOBS_MAX_BYTES`];
    /// otherwise as [`TwinSetup::tape`], each run drawing the jobs again.
    /// Runs give the same results on either tape.
    pub fn shared_tape(&self, streams: &RngStreams) -> Arc<WorldTape> {
        let mut tape = self.world.tape_without_jobs(streams);
        let generator = self.world.job_generator(&tape, streams);
        let bytes = generator.expected_jobs() * std::mem::size_of::<JobArrival>() as f64;
        if bytes <= SHARED_JOBS_MAX_BYTES as f64 {
            tape.demand.jobs = self.world.jobs(&tape, streams);
        }
        Arc::new(tape)
    }
}

/// Largest job list [`TwinSetup::shared_tape`] holds in memory, bytes: the
/// reference year's 4.4 million jobs take 140 MB; the designed scale's 36
/// million (1.2 GB) are drawn by each run instead.
pub const SHARED_JOBS_MAX_BYTES: usize = 512 << 20;

/// Plays one replication for one policy.
///
/// `tape` must come from [`TwinSetup::tape`] with the same `streams`.
///
/// # Panics
/// If a P1 customer serves a model without an inference spec (checked by
/// [`TwinSetup::prepare`]).
pub fn run<S: TwinSink + 'static>(
    setup: &TwinSetup,
    tape: Arc<WorldTape>,
    streams: &RngStreams,
    policy: Box<dyn Policy>,
    forecaster: Box<dyn Forecaster>,
    sink: S,
) -> (RunResult, S) {
    super::TwinRun::new(setup, tape, streams, policy, forecaster, sink).finish()
}

/// Sites, cohorts and pools of the plant, in configuration order.
fn plant_state(setup: &TwinSetup, tape: &WorldTape) -> (Vec<Site>, Vec<AsicCohort>, Vec<GpuPool>) {
    let plant = &setup.plant;
    let mut sites = Vec::new();
    let mut cohorts = Vec::new();
    let mut pools = Vec::new();
    for (s, site) in plant.sites.iter().enumerate() {
        let price_series = tape
            .grid
            .prices
            .iter()
            .position(|p| p.node == site.node)
            .unwrap_or_else(|| unreachable!("every site's node is on the tape"));
        sites.push(Site {
            name: site.name.clone(),
            node: site.node.clone(),
            price_series,
            cap_w: site.cap_mw * 1e6,
            pue: site.pue(),
            grid_events: site.grid_events,
        });
        for fleet in &site.asics {
            let (Ok(spec), Ok(firmware)) = (
                setup.asic.model(&fleet.model),
                setup.asic.firmware(&fleet.firmware),
            ) else {
                unreachable!("models were checked in prepare");
            };
            cohorts.push(AsicCohort::new(
                s,
                spec.clone(),
                firmware.clone(),
                fleet.count,
                fleet.power_target_w,
            ));
        }
        for pool in &site.gpus {
            let Ok(spec) = setup.gpu.gpu(&pool.gpu) else {
                unreachable!("models were checked in prepare");
            };
            pools.push(GpuPool::new(
                s,
                spec.clone(),
                pool.count,
                pool.prewarmed,
                plant.rental.utilisation,
            ));
        }
    }
    for pool in &mut pools {
        pool.rental_series = rental_series(tape, &pool.spec.name);
    }
    (sites, cohorts, pools)
}

/// The market's rental series for a GPU model: the one named after it
/// (`H100`, or `H100_SXM`-style names that start with it).
pub(super) fn rental_series(tape: &WorldTape, gpu: &str) -> Option<usize> {
    tape.market.gpu_rental.iter().position(|g| {
        g.model == gpu
            || g.model
                .strip_prefix(gpu)
                .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// Output tokens per H100-second of each customer's model (0 but for P2).
pub(super) fn p2_tokens_per_s(setup: &TwinSetup, tape: &WorldTape) -> Vec<f64> {
    tape.demand
        .customers
        .iter()
        .map(|c| {
            if c.class == WorkloadClass::P2 {
                setup
                    .gpu
                    .inference(p1::served_model(c), "H100")
                    .map_or(0.0, |spec| spec.output_tokens_per_s_per_gpu)
            } else {
                0.0
            }
        })
        .collect()
}

pub(super) fn build<S: TwinSink + 'static>(
    setup: &TwinSetup,
    tape: Arc<WorldTape>,
    streams: &RngStreams,
    policy: Box<dyn Policy>,
    forecaster: Box<dyn Forecaster>,
    sink: S,
) -> TwinModel<S> {
    let config = setup.world.config();
    let (sites, cohorts, pools) = plant_state(setup, &tape);
    let groups = p1::groups(&tape, &config.demand, &setup.gpu)
        .unwrap_or_else(|e| panic!("P1 models were checked in prepare: {e}"));
    let family = |name: &str, n: usize| -> Vec<_> {
        (0..n)
            .map(|i| streams.stream(StreamId::named(name).index(i as u64)))
            .collect()
    };
    let streams_set = Streams {
        asic_failures: family("plant/failures/asic", cohorts.len()),
        gpu_failures: family("plant/failures/gpu", pools.len()),
        firmware: family("plant/firmware", cohorts.len()),
        switching: family("plant/switching", pools.len()),
    };
    let months = BillingMonths::of(&tape.horizon);
    let (n_sites, n_cohorts, n_pools) = (sites.len(), cohorts.len(), pools.len());
    let horizon = tape.horizon;
    let reliability = &setup.gpu.reliability;
    TwinModel {
        config: setup.plant.clone(),
        switching: setup.gpu.switching.clone(),
        asic_reliability: setup.asic.reliability.clone(),
        gpu_reliability: ReliabilityParams {
            annual_failure_rate: reliability.annual_failure_rate,
            repair_median_hours: reliability.repair_median_hours,
            repair_sigma: reliability.repair_sigma,
        },
        step: horizon.step,
        intervals: horizon.intervals() as u64,
        interval: 0,
        jobs: Jobs::new(&pools),
        job_source: JobSource::new(setup, &tape, streams),
        timeline: JobTimeline::new(horizon.intervals(), horizon.step.as_micros()),
        p1: groups,
        p2_tokens_per_s: p2_tokens_per_s(setup, &tape),
        p2_input_ratio: input_ratio(&config.demand),
        p1_rates: Vec::new(),
        closing: Closing::default(),
        signals: vec![SiteSignal::default(); n_sites],
        ledger: Ledger::new(&tape.demand.customers, n_sites, months.len()),
        month: 0,
        months,
        decisions: DecisionLoop::new(policy, forecaster),
        observation: Observation::empty(horizon.epoch.start()),
        ids: Ids::default(),
        actions: Vec::new(),
        notices: Vec::new(),
        ancillary_mw: vec![vec![0.0; tape.grid.ancillary.len()]; n_sites],
        asic_failure_events: (0..n_cohorts).map(|_| None).collect(),
        gpu_failure_events: (0..n_pools).map(|_| None).collect(),
        streams: streams_set,
        figures: Figures::default(),
        committed_max_w: vec![0.0; n_sites],
        last_mw: vec![0.0; n_sites],
        fast_mw: vec![0.0; n_sites],
        sites,
        cohorts,
        pools,
        tape,
        sink,
    }
}

/// Input tokens per output token of batch work: the ratio of mean context
/// to mean generated tokens of the request services (P2 jobs are billed in
/// tokens at their model's throughput).
pub(super) fn input_ratio(demand: &crate::demand::DemandParams) -> f64 {
    let (mut input, mut output) = (0.0, 0.0);
    for service in &demand.requests.services {
        if let (Some(c), Some(g)) = (
            &service.stream.context_tokens,
            &service.stream.generated_tokens,
        ) {
            input += c.mean();
            output += g.mean();
        }
    }
    if output > 0.0 { input / output } else { 0.0 }
}

pub(super) fn summarise<S: TwinSink + 'static>(model: &TwinModel<S>, events: u64) -> RunResult {
    let counters: &JobCounters = &model.jobs.counters;
    let jobs = std::array::from_fn(|s| {
        let running = model.jobs.running(s) as u64;
        JobFigures {
            arrived: counters.arrived[s],
            rejected: counters.rejected[s],
            completed: counters.completed[s],
            preempted: counters.preempted[s],
            late: counters.late[s],
            unfinished: model.jobs.queues[s].len() as u64 + running,
        }
    });
    let f = &model.figures;
    let ms = |h: &hcp_engine::stats::LatencyHistogram, q: f64| {
        if h.count() == 0 {
            0.0
        } else {
            h.quantile(q).as_secs_f64() * 1000.0
        }
    };
    RunResult {
        policy: model.decisions.policy_name().to_owned(),
        intervals: model.interval,
        events,
        decisions: model.decisions.decisions(),
        ledger: model.ledger.summary(),
        invoices: model.ledger.invoices(),
        jobs,
        p1_requests: f.p1_requests,
        switches: [f.warm.count(), f.cold.count()],
        switch_ms: [ms(&f.warm, 0.5), ms(&f.warm, 0.99)],
        clips: f.clips,
        max_committed_share_of_cap: f.max_committed_share,
        cap_violations: f.cap_violations,
        asic_utilisation: if f.stock_hash_ths > 0.0 {
            f.hash_ths / f.stock_hash_ths
        } else {
            0.0
        },
        gpu_utilisation: if f.gpu_installed_s > 0.0 {
            f.gpu_busy_s / f.gpu_installed_s
        } else {
            0.0
        },
        failures: f.failures,
        sla_attainment_pct: [f.sla_run.p1, f.sla_run.p2]
            .map(|(met, total)| SlaView::attainment_pct(met, total)),
    }
}
