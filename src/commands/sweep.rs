//! `hcp sweep [SCENARIO]`: every policy of a scenario over Monte Carlo
//! replications of its world, compared pairwise on the same worlds, written
//! as a Parquet dataset, summarised as a table (or one JSON document).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use hcp_models::twin::{RunKey, RunResult, TwinSetup};
use hcp_policies::PolicyConfig;
use hcp_reports::{DatasetMeta, RunRecorder, RunRow};
use hcp_scenarios::LoadedScenario;
use hcp_scenarios::sweep::{
    BASELINE, ReplicationRuns, RunFigures, Shard, Summary, SweepOutput, SweepPlan, SweepRun,
    run_sweep, summarise,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Options of `hcp sweep`.
#[derive(Debug, Args)]
// Independent command-line flags, each a bool.
#[allow(clippy::struct_excessive_bools)]
pub struct SweepArgs {
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
    /// Run only shard i of N (replications r with r mod N = i − 1).
    #[arg(long)]
    shard: Option<Shard>,
    /// Skip replications already written under --out.
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

/// Runs the sweep.
pub fn run(args: &SweepArgs) -> Result<()> {
    let loaded = load(args.scenario.as_deref())?;
    let scenario = &loaded.scenario;
    let name = scenario.name.clone();
    let replications = args.replications.unwrap_or(scenario.sweep.replications);
    if replications == 0 {
        bail!("--replications must be at least 1");
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
            .collect::<Result<_, _>>()?,
    };
    if !policies.iter().any(|p| p.name() == BASELINE) {
        policies.insert(0, PolicyConfig::by_name(BASELINE)?);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    let done: Vec<u64> = if args.resume {
        hcp_reports::done_replications(&args.out, &name)?
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let plan = SweepPlan::new(seed, u64::from(replications), args.shard, &done);
    let setup = loaded.prepare()?;
    let days = setup.world().horizon().length.as_secs_f64() / 86_400.0;
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
        "sweep {name}: {} replications ({} to run), {} policies, {threads} threads, seed {seed} → {}",
        replications,
        plan.replications.len(),
        policies.len(),
        args.out.display()
    );
    let output = ParquetOutput {
        setup: &setup,
        out: &args.out,
        meta: DatasetMeta {
            scenario_hash: loaded.hash.clone(),
            master_seed: seed,
            crate_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_revision: env!("HCP_GIT_REVISION").to_owned(),
        },
        intervals: scenario.sweep.intervals_output && !args.no_intervals,
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
    };
    run_sweep(&sweep, &output)?;
    output.progress.finish_and_clear();
    // Summarise everything on disk for this scenario: a resumed or sharded
    // sweep reports exactly what a single run would.
    let figures: Vec<RunFigures> = hcp_reports::read_runs(&args.out)?
        .into_iter()
        .filter(|row| row.scenario == name && row.seed == seed)
        .map(|row| row.figures(days))
        .collect();
    let order: Vec<String> = policies.iter().map(|p| p.name().to_owned()).collect();
    let summary = summarise(&name, seed, &order, &figures, BASELINE);
    finish(args, &summary)
}

/// Writes the report (unless `--no-report`) and prints the summary.
fn finish(args: &SweepArgs, summary: &Summary) -> Result<()> {
    if !args.no_report {
        super::report::write(&args.out)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(summary)?);
    } else {
        print_summary(summary);
    }
    Ok(())
}

fn print_summary(summary: &Summary) {
    let m = |usd: f64| usd / 1e6;
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
            format!(
                "{:.2} [{:.2}, {:.2}]",
                m(p.profit_usd.mean),
                m(p.profit_usd.ci_low),
                m(p.profit_usd.ci_high)
            ),
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
            format!("{:.2} [{:.2}, {:.2}]", m(o.mean), m(o.ci_low), m(o.ci_high))
        );
    }
}
