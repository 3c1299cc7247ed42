//! `hcp sweep [SCENARIO]`: every policy of a scenario over Monte Carlo
//! replications of its world, compared pairwise on the same worlds, written
//! as a Parquet dataset, summarised as a table (or one JSON document).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use hcp_models::twin::{RunKey, RunResult, TwinSetup};
use hcp_policies::PolicyConfig;
use hcp_reports::manifest::{ShardManifest, ShardState, count_rows};
use hcp_reports::{DatasetMeta, OutputTable, RunRecorder, RunRow};
use hcp_scenarios::LoadedScenario;
use hcp_scenarios::memory::{MemoryPlan, check as check_memory, memory_limit};
use hcp_scenarios::sweep::{
    BASELINE, CLAIRVOYANT, Estimate, ReplicationRuns, RunFigures, Shard, ShardOrigin, ShardRequest,
    Summary, SweepOutput, SweepPlan, SweepRun, detect_shard, run_sweep, summarise,
};

use super::exit::{Permanent, Terminated};
use indicatif::{ProgressBar, ProgressStyle};

/// Options of `hcp sweep`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
// Independent command-line flags, each a bool.
#[allow(clippy::struct_excessive_bools)]
pub struct SweepArgs {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// A built-in scenario name or a scenario TOML file (default: reference).
    scenario: Option<String>,
    /// Replications (default: the scenario's).
    #[arg(long)]
    replications: Option<u32>,
    /// Policies to compare, comma-separated (default: the scenario's;
    /// mining-only is always included as the baseline).
    #[arg(long, value_delimiter = ',')]
    policies: Option<Vec<String>>,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder of the Parquet dataset.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Run only shard i of N (replications r with r mod N = i − 1). Without
    /// it the shard comes from a Slurm array (SLURM_ARRAY_TASK_ID) or a
    /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX); docs/scale-out.md.
    #[arg(long, conflicts_with_all = ["shard_count", "shard_offset"])]
    shard: Option<Shard>,
    /// The sweep's number of shards, when the scheduler's index is used
    /// (default: HCP_SHARD_COUNT, else SLURM_ARRAY_TASK_COUNT).
    #[arg(long)]
    shard_count: Option<u32>,
    /// Added to the scheduler's 0-based index, for a sweep spread over
    /// several arrays (default: HCP_SHARD_OFFSET, else 0).
    #[arg(long)]
    shard_offset: Option<u32>,
    /// Refuse to start when the estimated peak memory exceeds this many
    /// GiB (default: the memory available to this process).
    #[arg(long)]
    memory_limit_gib: Option<f64>,
    /// Skip replications already written under --out (a sharded run always
    /// does).
    #[arg(long)]
    resume: bool,
    /// Master seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Do not write the per-interval table.
    #[arg(long)]
    no_intervals: bool,
    /// Do not compute the oracle's bound (no % of oracle, no regret).
    #[arg(long)]
    no_oracle: bool,
    /// Do not write the report (figures, HTML, summary) under --out/report
    /// at the end; `hcp report` writes it later from the files.
    #[arg(long)]
    no_report: bool,
    /// Print one JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// `hcp sweep status|merge DIR`.
#[derive(Debug, clap::Subcommand)]
enum SweepAction {
    /// Which shards and replications of the sweeps in DIR are present,
    /// missing or inconsistent (exit 0 complete, 1 incomplete, 2
    /// inconsistent).
    Status(super::sweep_status::StatusArgs),
    /// Once every shard is done: the report and the summary a single
    /// machine would have printed, byte for byte.
    Merge(super::sweep_status::MergeArgs),
}

/// A scenario by built-in name or file path (default: reference).
pub(crate) fn load(name: Option<&str>) -> Result<LoadedScenario> {
    let name = name.unwrap_or("reference");
    let path = Path::new(name);
    if path.extension().is_some_and(|e| e == "toml") || path.is_file() {
        Ok(hcp_scenarios::load(path)?)
    } else {
        Ok(hcp_scenarios::builtin(name)?)
    }
}

/// Writes each run's records and each replication's rows as they finish.
struct ParquetOutput<'a> {
    setup: &'a TwinSetup,
    out: &'a Path,
    meta: DatasetMeta,
    intervals: bool,
    detail_replications: u64,
    progress: ProgressBar,
}

impl SweepOutput<RunRecorder> for ParquetOutput<'_> {
    type Error = anyhow::Error;

    fn sink(&self, key: &RunKey) -> RunRecorder {
        if key.replication < self.detail_replications {
            RunRecorder::new(self.setup, self.intervals)
        } else {
            RunRecorder::summary_only(self.setup)
        }
    }

    fn run_done(&self, key: &RunKey, result: &RunResult, sink: RunRecorder) -> Result<()> {
        hcp_reports::write_run_records(self.out, key, sink, result, &self.meta)?;
        self.progress.inc(1);
        Ok(())
    }

    fn replication_done(&self, runs: &ReplicationRuns) -> Result<()> {
        let rows: Vec<RunRow> = runs
            .runs
            .iter()
            .map(|(key, result)| {
                RunRow::from_result(key, result, runs.oracle.map(|o| o.profit_usd))
            })
            .collect();
        let scenario = runs.runs.first().map_or("", |(k, _)| k.scenario.as_str());
        hcp_reports::write_runs(self.out, scenario, runs.replication, &rows, &self.meta)?;
        Ok(())
    }
}

/// Runs the sweep (or its `status` / `merge`).
// The sweep's steps in order (plan, shard, manifest, run, summary); to be
// split into a sweep-plan type.
#[allow(clippy::too_many_lines)]
pub fn run(args: &SweepArgs) -> Result<()> {
    match &args.action {
        Some(SweepAction::Status(a)) => return super::sweep_status::status(a),
        Some(SweepAction::Merge(a)) => return super::sweep_status::merge(a),
        None => {}
    }
    let loaded = load(args.scenario.as_deref()).map_err(Permanent::wrap)?;
    let scenario = &loaded.scenario;
    let name = scenario.name.clone();
    let replications = args.replications.unwrap_or(scenario.sweep.replications);
    if replications == 0 {
        return Err(Permanent::message("--replications must be at least 1"));
    }
    let seed = args.seed.unwrap_or(scenario.sweep.seed);
    let mut policies: Vec<PolicyConfig> = match &args.policies {
        None => scenario.policies.clone(),
        Some(names) => names
            .iter()
            .map(|n| {
                scenario
                    .policies
                    .iter()
                    .find(|p| p.name() == n)
                    .cloned()
                    .map_or_else(|| PolicyConfig::by_name(n), Ok)
            })
            .collect::<Result<_, _>>()
            .map_err(Permanent::wrap)?,
    };
    if !policies.iter().any(|p| p.name() == BASELINE) {
        policies.insert(0, PolicyConfig::by_name(BASELINE)?);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if threads == 0 {
        return Err(Permanent::message("--threads must be at least 1"));
    }
    let request = ShardRequest {
        explicit: args.shard,
        count: args.shard_count,
        offset: args.shard_offset,
    };
    let detected = detect_shard(&request, |k| std::env::var(k).ok()).map_err(Permanent::wrap)?;
    let intervals = scenario.sweep.intervals_output && !args.no_intervals;
    let estimate = fits_in_memory(
        args,
        &loaded,
        threads,
        replications,
        policies.len(),
        intervals,
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    let (shard, origin) = detected.unwrap_or((Shard::WHOLE, ShardOrigin::Flag));
    let sharded = detected.is_some();
    let meta = DatasetMeta {
        scenario_hash: loaded.hash.clone(),
        master_seed: seed,
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_revision: env!("HCP_GIT_REVISION").to_owned(),
    };
    let done: Vec<u64> = if args.resume || sharded {
        done_of_this_sweep(&args.out, &name, &meta)?
    } else {
        Vec::new()
    };
    let plan = SweepPlan::new(seed, u64::from(replications), Some(shard), &done);
    let setup = loaded.prepare().map_err(Permanent::wrap)?;
    let days = setup.world().horizon().length.as_secs_f64() / 86_400.0;
    let order: Vec<String> = policies.iter().map(|p| p.name().to_owned()).collect();
    let mut manifest = ShardManifest {
        manifest_version: hcp_reports::manifest::MANIFEST_VERSION,
        scenario: name.clone(),
        scenario_hash: meta.scenario_hash.clone(),
        seed,
        crate_version: meta.crate_version.clone(),
        git_revision: meta.git_revision.clone(),
        shard: shard.index,
        shards: shard.count,
        origin: if sharded { origin.name() } else { "whole" }.to_owned(),
        replications_total: u64::from(replications),
        replications: shard.replications(u64::from(replications)).collect(),
        policies: order.clone(),
        horizon_days: days,
        state: ShardState::Running,
        rows: None,
    };
    // A shard the scheduler started reports to its log only; one given by
    // --shard (or a whole sweep) summarises what is on disk, as before.
    let scheduled = sharded && origin != ShardOrigin::Flag;
    if sharded && plan.replications.is_empty() {
        eprintln!(
            "sweep {name}: shard {shard} is already complete in {} — nothing to do",
            args.out.display()
        );
        finish_manifest(&args.out, &mut manifest)?;
        if scheduled {
            return Ok(());
        }
    }
    if !plan.replications.is_empty() {
        manifest.write(&args.out)?;
    }
    let progress = if std::io::stderr().is_terminal() && !plan.replications.is_empty() {
        let bar = ProgressBar::new((plan.replications.len() * policies.len()) as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs ({elapsed}, about {eta} left)")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    eprintln!(
        "sweep {name}: {} replications ({} to run{}), {} policies, {threads} threads, seed {seed}, about {:.1} GiB → {}",
        replications,
        plan.replications.len(),
        if sharded {
            format!(" in shard {shard} from {}", origin.name())
        } else {
            String::new()
        },
        policies.len(),
        estimate.bytes as f64 / 1_073_741_824.0,
        args.out.display()
    );
    let stop = stop_on_signals();
    let output = ParquetOutput {
        setup: &setup,
        out: &args.out,
        meta,
        intervals,
        detail_replications: u64::from(scenario.sweep.detail_replications),
        progress,
    };
    let sweep = SweepRun {
        setup: &setup,
        scenario: &name,
        policies: &policies,
        forecaster: &scenario.forecaster,
        seed,
        replications: &plan.replications,
        threads,
        oracle: !args.no_oracle,
        stop: Some(&stop),
    };
    let finished = run_sweep(&sweep, &output)?;
    output.progress.finish_and_clear();
    if stop.load(Ordering::Relaxed) {
        return Err(Terminated {
            done: finished.len(),
            left: plan.replications.len() - finished.len(),
        }
        .into());
    }
    finish_manifest(&args.out, &mut manifest)?;
    if scheduled {
        eprintln!(
            "shard {shard} complete; `hcp sweep status {}` tells when every shard is",
            args.out.display()
        );
        return Ok(());
    }
    // Summarise everything on disk for this scenario: a resumed or sharded
    // sweep reports exactly what a single run would.
    let figures: Vec<RunFigures> = hcp_reports::read_runs(&args.out)?
        .into_iter()
        .filter(|row| row.scenario == name && row.seed == seed)
        .map(|row| row.figures(days))
        .collect();
    let summary = summarise(&name, seed, &order, &figures, BASELINE);
    finish(&args.out, args.no_report, args.json, &summary)
}

/// The sweep's estimated peak memory, refused (a permanent error) when it
/// exceeds `--memory-limit-gib` or the memory this process may use.
// The limit is a positive, finite number of GiB; the cast saturates.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn fits_in_memory(
    args: &SweepArgs,
    loaded: &LoadedScenario,
    threads: usize,
    replications: u32,
    policies: usize,
    intervals: bool,
) -> Result<hcp_scenarios::memory::MemoryEstimate> {
    let memory_plan = MemoryPlan {
        threads,
        replications_in_flight: threads.min(replications as usize),
        policies,
        keep_intervals: intervals,
        oracle: !args.no_oracle,
    };
    let estimate = loaded.memory_estimate(&memory_plan);
    let limit = match args.memory_limit_gib {
        Some(gib) if gib.is_finite() && gib > 0.0 => Some((gib * 1_073_741_824.0) as u64),
        Some(gib) => {
            return Err(Permanent::message(format!(
                "--memory-limit-gib {gib}: give a positive number of GiB"
            )));
        }
        None => memory_limit(),
    };
    if let Some(limit) = limit {
        check_memory(&estimate, limit).map_err(Permanent::wrap)?;
    }
    Ok(estimate)
}

/// Replications of `scenario` already written under `out` by this very
/// sweep (same scenario hash, seed and code revision). A part written by
/// another sweep is an error no retry can fix: the folder belongs to
/// someone else.
fn done_of_this_sweep(out: &Path, scenario: &str, meta: &DatasetMeta) -> Result<Vec<u64>> {
    let done = hcp_reports::done_replications(out, scenario)?;
    for &r in &done {
        let path = hcp_reports::part_path(out, OutputTable::Runs, scenario, "", r)?;
        let part = hcp_reports::part_meta(&path)?;
        if let Some(why) =
            part.differs_from(&meta.scenario_hash, meta.master_seed, &meta.git_revision)
        {
            return Err(Permanent::message(format!(
                "{} was written by another sweep ({why}): give this sweep its own --out",
                path.display()
            )));
        }
    }
    Ok(done.into_iter().collect())
}

/// Counts the shard's rows from its files and marks its manifest complete.
fn finish_manifest(out: &Path, manifest: &mut ShardManifest) -> Result<()> {
    manifest.rows = Some(count_rows(
        out,
        &manifest.scenario,
        &manifest.policies,
        &manifest.replications,
    )?);
    manifest.state = ShardState::Complete;
    // A finished shard run again changes no file.
    let path = manifest.path(out)?;
    let same = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<ShardManifest>(&text).ok())
        .is_some_and(|old| &old == manifest);
    if !same {
        manifest.write(out)?;
    }
    Ok(())
}

/// A flag set on SIGTERM (Slurm's pre-timeout signal, Kubernetes'
/// eviction) or SIGINT: the sweep starts no further run, writes what
/// finishes and exits 143.
fn stop_on_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    let spawned = std::thread::Builder::new()
        .name("hcp-signals".to_owned())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                eprintln!("signal received: finishing the runs under way, starting no more");
                set.store(true, Ordering::Relaxed);
            });
        });
    if spawned.is_err() {
        eprintln!("warning: no signal thread; SIGTERM will end the sweep abruptly");
    }
    flag
}

/// Writes the report (unless `no_report`) and prints the summary.
pub(super) fn finish(out: &Path, no_report: bool, json: bool, summary: &Summary) -> Result<()> {
    if !no_report {
        super::report::write(out)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
    } else {
        print_summary(summary);
    }
    Ok(())
}

fn print_summary(summary: &Summary) {
    let m = |usd: f64| usd / 1e6;
    let ci = |e: &Estimate| format!("{:.2} [{:.2}, {:.2}]", m(e.mean), m(e.ci_low), m(e.ci_high));
    println!(
        "{} — {} replications, seed {}, paired against {} (USD millions per replication, 95 % CI)",
        summary.scenario, summary.replications, summary.seed, summary.baseline
    );
    println!(
        "{:<16} {:>22} {:>24} {:>10} {:>13} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}",
        "policy",
        "profit",
        "uplift vs baseline",
        "CVaR 5%",
        "% oracle/worst",
        "mining",
        "AI",
        "energy",
        "P1 SLA",
        "GPU use",
        "switch/d"
    );
    for p in &summary.policies {
        let s = |k: &str| p.streams_usd.get(k).copied().unwrap_or(0.0);
        let ai = s("ai_inference") + s("ai_training") + s("ai_interruptible") + s("gpu_rental");
        let uplift = p.uplift_usd.map_or_else(
            || "—".to_owned(),
            |u| {
                format!(
                    "{:+.2} [{:+.2}, {:+.2}]",
                    m(u.mean),
                    m(u.ci_low),
                    m(u.ci_high)
                )
            },
        );
        let oracle = match (p.pct_of_oracle, p.worst_pct_of_oracle) {
            (Some(pct), Some(worst)) => format!("{:.1}/{:.1}", pct.mean, worst),
            _ => "—".to_owned(),
        };
        println!(
            "{:<16} {:>22} {:>24} {:>10.2} {:>13} {:>9.2} {:>9.2} {:>9.2} {:>6.1}% {:>6.1}% {:>9.0}",
            p.policy,
            ci(&p.profit_usd),
            uplift,
            m(p.cvar5_usd),
            oracle,
            m(s("btc_mined")),
            m(ai),
            m(s("energy")),
            p.p1_sla_pct,
            100.0 * p.gpu_utilisation,
            p.switches_per_day,
        );
    }
    if let Some(o) = summary.oracle_usd {
        println!(
            "{:<16} {:>22}   (upper bound: perfect foresight, free switching; not a deployable policy)",
            "oracle",
            ci(&o)
        );
    }
    if summary.policies.iter().any(|p| p.policy == CLAIRVOYANT) {
        println!(
            "{CLAIRVOYANT}: mpc shown the true future prices and hashprice (a diagnostic yardstick, not deployable)"
        );
        let pcts: Vec<String> = summary
            .policies
            .iter()
            .filter_map(|p| {
                let e = p.pct_of_clairvoyant?;
                Some(format!(
                    "{} {:.1} [{:.1}, {:.1}]",
                    p.policy, e.mean, e.ci_low, e.ci_high
                ))
            })
            .collect();
        if !pcts.is_empty() {
            println!("% of {CLAIRVOYANT}: {}", pcts.join(", "));
        }
    }
    if let Some(split) = &summary.mpc_regret_split {
        println!(
            "mpc's regret vs the oracle {} = forecast error {} + structure and relaxation {}",
            ci(&split.regret_usd),
            ci(&split.forecast_error_usd),
            ci(&split.structure_and_relaxation_usd)
        );
    }
}
