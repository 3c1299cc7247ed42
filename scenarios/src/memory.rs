//! The peak memory of a sweep, estimated from the scenario before anything
//! big is built ([`LoadedScenario::memory_estimate`]), the memory this
//! process may use ([`memory_limit`]) and the refusal of a sweep that would
//! not fit ([`check`]).
//!
//! Where a sweep's memory goes, measured on the built-in scenarios (peak
//! RSS of `hcp sweep --replications 1 --threads 1`, release build): every
//! replication in flight holds its tape — the market, grid and P1 series
//! (one value per market interval each) and, when it takes at most
//! [`SHARED_JOBS_MAX_BYTES`], its whole job list; every run in flight holds
//! its state (a calendar list per interval) and, when interval records are
//! kept, one row per site and interval in the recorder's column builders
//! until the run is written; a replayed file is read whole into text cells
//! once. The oracle's bound and the plant's cohorts and pools are small.
//! The figures below are those measurements divided out; the estimate is
//! linear in the horizon and within about ±25 % of the measured peak of
//! every built-in scenario (`builtin_estimates` in the tests prints them).

use std::path::Path;

use hcp_models::demand::JobArrival;
use hcp_models::twin::SHARED_JOBS_MAX_BYTES;

use crate::load::{LoadedScenario, ScenarioError};

/// Memory every sweep takes whatever its size: the binary, the thread
/// pool, the spec tables, the allocator's arenas (measured: 28 MB).
pub const BASE_BYTES: u64 = 28 << 20;
/// Bytes per market interval of a tape for each f64 series (market,
/// rental, node prices, ancillary services).
const SERIES_BYTES: u64 = 8;
/// Bytes per market interval of a P1 customer's rate series (f32).
const P1_SERIES_BYTES: u64 = 4;
/// Market series of every tape besides GPU rental and node prices (BTC,
/// hashrate, difficulty, fee share, two hashprices) plus the ancillary
/// services' prices.
const FIXED_SERIES: u64 = 6 + 5;
/// Blocks of a day (one every ten minutes) and the bytes of one.
const BLOCK_BYTES_PER_DAY: u64 = 144 * 32;
/// A job list grows by doubling: its peak is about 1.5 × its length.
const JOB_LIST_GROWTH: f64 = 1.5;
/// Bytes a run's own state takes per market interval (the calendar of
/// completions, the observation's history).
const RUN_BYTES_PER_INTERVAL: u64 = 64;
/// Bytes a run's job state takes per GPU of the plant (the running jobs'
/// slab, the queues, the P1 groups; measured on the designed scale's
/// 50,000 GPUs).
const RUN_BYTES_PER_GPU: u64 = 1_000;
/// Bytes an interval record takes per site and interval in the recorder's
/// column builders (measured: 0.36 MB a day for three sites at five
/// minutes, builders' doubling included).
const RECORD_BYTES: u64 = 420;
/// Bytes the oracle's bound takes per market interval.
const ORACLE_BYTES_PER_INTERVAL: u64 = 64;
/// A replayed CSV or Parquet file read into text cells, per byte of file.
const REPLAY_BYTES_PER_FILE_BYTE: u64 = 10;

/// What a sweep holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPlan {
    /// Worker threads: at most this many runs play at once.
    pub threads: usize,
    /// Replications whose tapes are alive at once (at most the threads,
    /// at most the replications to run).
    pub replications_in_flight: usize,
    /// Policies per replication (each a run on the replication's tape).
    pub policies: usize,
    /// Whether runs keep their interval records until they are written.
    pub keep_intervals: bool,
    /// Whether the oracle's bound is computed for each replication.
    pub oracle: bool,
}

/// The estimated peak memory of a sweep, bytes, and its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The scenario's file (or `builtin:NAME`).
    pub source: String,
    /// `world.days`.
    pub days: u32,
    /// `world.step_minutes`.
    pub step_minutes: u32,
    /// Market intervals of the horizon.
    pub intervals: u64,
    /// Replications in flight (tapes alive at once).
    pub replications_in_flight: u64,
    /// Runs in flight.
    pub runs_in_flight: u64,
    /// The whole estimate: the sum of the parts below.
    pub bytes: u64,
    /// The process itself.
    pub base: u64,
    /// Tapes (series and shared job lists) of the replications in flight.
    pub tapes: u64,
    /// The state of the runs in flight.
    pub runs: u64,
    /// Interval records the runs in flight hold (0 without them).
    pub interval_records: u64,
    /// The oracle's bounds being computed (0 without the oracle).
    pub oracle: u64,
    /// Replayed files read at preparation.
    pub replay_files: u64,
}

impl MemoryEstimate {
    /// The biggest part: its name and bytes.
    pub fn biggest(&self) -> (&'static str, u64) {
        let parts = [
            ("the tapes", self.tapes),
            ("the interval records", self.interval_records),
            ("the runs' state", self.runs),
            ("the oracle", self.oracle),
            ("the replayed files", self.replay_files),
            ("the process itself", self.base),
        ];
        parts
            .into_iter()
            .max_by_key(|(_, b)| *b)
            .unwrap_or(("the process itself", self.base))
    }

    /// What to change to make the sweep fit, for its biggest part.
    fn advice(&self) -> &'static str {
        match self.biggest().0 {
            "the tapes" => {
                "run fewer replications at once (--threads), or shorten the horizon \
                 (world.days) or coarsen it (world.step_minutes)"
            }
            "the interval records" => {
                "drop the interval records (--no-intervals, or sweep.intervals_output = false), \
                 run fewer threads (--threads), or shorten the horizon (world.days)"
            }
            "the runs' state" => {
                "run fewer threads (--threads) or shorten the horizon (world.days)"
            }
            "the oracle" => "skip the oracle (--no-oracle) or shorten the horizon (world.days)",
            "the replayed files" => "cut the replayed files (world.replay) to the horizon",
            _ => "raise the limit",
        }
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

impl std::fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "about {} (tapes {} for {} replication(s) in flight, interval records {}, \
             runs' state {} for {} run(s) in flight, oracle {}, replayed files {}, process {}; \
             world.days = {}, world.step_minutes = {}: {} intervals)",
            gib(self.bytes),
            gib(self.tapes),
            self.replications_in_flight,
            gib(self.interval_records),
            gib(self.runs),
            self.runs_in_flight,
            gib(self.oracle),
            gib(self.replay_files),
            gib(self.base),
            self.days,
            self.step_minutes,
            self.intervals
        )
    }
}

/// The message of [`ScenarioError::Memory`] after the file.
pub(crate) fn refusal(estimate: &MemoryEstimate, limit: u64) -> String {
    let (part, bytes) = estimate.biggest();
    format!(
        "the sweep would need {estimate}, above the memory limit of {}; the biggest part is \
         {part} ({}): {}, or raise the limit (--memory-limit-gib)",
        gib(limit),
        gib(bytes),
        estimate.advice()
    )
}

fn mul(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn scaled(bytes: f64) -> u64 {
    if bytes.is_finite() && bytes > 0.0 {
        bytes.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

impl LoadedScenario {
    /// The estimated peak memory of a sweep of this scenario under `plan`,
    /// computed from the scenario's values alone (and the sizes of its
    /// replayed files): nothing is generated or read. Linear in the
    /// horizon; an upper-ish bound within about ±50 % of the measured peak.
    pub fn memory_estimate(&self, plan: &MemoryPlan) -> MemoryEstimate {
        let s = &self.scenario;
        let world = &s.world;
        let days = u64::from(world.days);
        let step = u64::from(world.step_minutes.max(1));
        let intervals = mul(days, 1_440) / step;
        let mut nodes: Vec<&str> = s.plant.sites.iter().map(|x| x.node.as_str()).collect();
        nodes.sort_unstable();
        nodes.dedup();
        let series = FIXED_SERIES + world.market.gpu.len() as u64 + nodes.len() as u64;
        let p1 = u64::from(world.demand.customers.count[0]);
        let per_interval = series * SERIES_BYTES + p1 * P1_SERIES_BYTES;
        let blocks = mul(days, BLOCK_BYTES_PER_DAY);
        let jobs = &world.demand.jobs;
        let job_bytes = jobs.jobs_per_day
            * jobs.load_scale
            * days as f64
            * std::mem::size_of::<JobArrival>() as f64;
        let shared_jobs = if job_bytes <= SHARED_JOBS_MAX_BYTES as f64 {
            scaled(job_bytes * JOB_LIST_GROWTH)
        } else {
            0
        };
        let tape = mul(intervals, per_interval)
            .saturating_add(blocks)
            .saturating_add(shared_jobs);
        let replications = plan.replications_in_flight.max(1) as u64;
        let runs_in_flight = (plan.threads.max(1) as u64)
            .min(mul(replications, plan.policies.max(1) as u64))
            .max(1);
        let tapes = mul(tape, replications);
        let gpus: u64 = s
            .plant
            .sites
            .iter()
            .flat_map(|site| site.gpus.iter().map(|p| u64::from(p.count)))
            .sum();
        let run =
            mul(intervals, RUN_BYTES_PER_INTERVAL).saturating_add(mul(gpus, RUN_BYTES_PER_GPU));
        let runs = mul(run, runs_in_flight);
        let interval_records = if plan.keep_intervals {
            mul(
                mul(mul(intervals, s.plant.sites.len() as u64), RECORD_BYTES),
                runs_in_flight,
            )
        } else {
            0
        };
        let oracle = if plan.oracle {
            mul(mul(intervals, ORACLE_BYTES_PER_INTERVAL), replications)
        } else {
            0
        };
        let replay_files = self.replay_file_bytes();
        let bytes = [tapes, runs, interval_records, oracle, replay_files]
            .into_iter()
            .fold(BASE_BYTES, u64::saturating_add);
        MemoryEstimate {
            source: self.source.clone(),
            days: world.days,
            step_minutes: world.step_minutes,
            intervals,
            replications_in_flight: replications,
            runs_in_flight,
            bytes,
            base: BASE_BYTES,
            tapes,
            runs,
            interval_records,
            oracle,
            replay_files,
        }
    }

    /// The largest replayed file, read into cells (files are read one at a
    /// time); a file that cannot be read counts nothing (preparation says so).
    fn replay_file_bytes(&self) -> u64 {
        let replay = &self.scenario.world.replay;
        let size = |file: &Path| std::fs::metadata(self.base_dir.join(file)).map_or(0, |m| m.len());
        replay
            .prices
            .iter()
            .map(|p| size(&p.file))
            .chain(replay.btc.iter().map(|b| size(&b.file)))
            .max()
            .map_or(0, |b| mul(b, REPLAY_BYTES_PER_FILE_BYTE))
    }
}

/// The memory this process may use, bytes: the smallest of the cgroup v2
/// limit (`/sys/fs/cgroup/memory.max`, when it is a number), the cgroup v1
/// limit (`/sys/fs/cgroup/memory/memory.limit_in_bytes`) and the memory
/// available (`MemAvailable` of `/proc/meminfo`); `None` when none of them
/// can be read (not Linux).
pub fn memory_limit() -> Option<u64> {
    let number =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| meminfo_available(&text));
    [
        number("/sys/fs/cgroup/memory.max"),
        number("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
        available,
    ]
    .into_iter()
    .flatten()
    .min()
}

/// `MemAvailable` of a `/proc/meminfo` text, bytes.
fn meminfo_available(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Refuses an estimate above `limit` bytes.
///
/// # Errors
/// [`ScenarioError::Memory`]: the estimate and its parts, the limit, the
/// biggest part and what to change.
pub fn check(estimate: &MemoryEstimate, limit: u64) -> Result<(), ScenarioError> {
    if estimate.bytes <= limit {
        Ok(())
    } else {
        Err(ScenarioError::Memory {
            file: estimate.source.clone(),
            estimate: Box::new(estimate.clone()),
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::builtin;

    const GB22: u64 = 22_000_000_000;

    fn plan() -> MemoryPlan {
        MemoryPlan {
            threads: 1,
            replications_in_flight: 1,
            policies: 5,
            keep_intervals: true,
            oracle: true,
        }
    }

    fn with_days(days: u32) -> LoadedScenario {
        let mut loaded = builtin("reference").unwrap();
        loaded.scenario.world.days = days;
        loaded
    }

    #[test]
    fn the_estimate_grows_linearly_with_the_horizon() {
        let bytes = |days| with_days(days).memory_estimate(&plan()).bytes;
        let (d100, d200, d400) = (bytes(100), bytes(200), bytes(400));
        assert!(d200 > d100, "{d100} {d200}");
        assert_eq!(d400 - d200, 2 * (d200 - d100), "{d100} {d200} {d400}");
        // Past the shared job list's cap the jobs leave the tape; the rest
        // still grows in proportion.
        let (fifty_thousand, hundred_thousand) = (bytes(50_000), bytes(100_000));
        assert!(
            hundred_thousand > fifty_thousand
                && (bytes(150_000) - hundred_thousand) == hundred_thousand - fifty_thousand,
            "{fifty_thousand} {hundred_thousand}"
        );
    }

    #[test]
    fn a_100000_day_horizon_is_refused_against_22_gb_and_the_builtins_fit() {
        let estimate = with_days(100_000).memory_estimate(&plan());
        let message = check(&estimate, GB22).unwrap_err().to_string();
        assert!(message.starts_with("builtin:reference: "), "{message}");
        for part in [
            "world.days = 100000",
            "above the memory limit of 20.49 GiB",
            "the biggest part is the interval records",
            "--no-intervals",
        ] {
            assert!(message.contains(part), "'{part}' missing from: {message}");
        }
        let mut lean = plan();
        lean.keep_intervals = false;
        lean.threads = 4;
        lean.replications_in_flight = 4;
        let message = check(&with_days(100_000).memory_estimate(&lean), GB22)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("the biggest part is the tapes") && message.contains("--threads"),
            "{message}"
        );
        for name in crate::load::builtin_names() {
            let loaded = builtin(name).unwrap();
            let plan = MemoryPlan {
                threads: 2,
                replications_in_flight: 2,
                policies: loaded.scenario.policies.len(),
                keep_intervals: loaded.scenario.sweep.intervals_output,
                oracle: true,
            };
            let estimate = loaded.memory_estimate(&plan);
            check(&estimate, GB22).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn interval_records_are_the_biggest_part_of_a_wide_sweep() {
        let mut plan = plan();
        plan.threads = 64;
        plan.replications_in_flight = 64;
        let estimate = with_days(36_500).memory_estimate(&plan);
        let message = check(&estimate, GB22).unwrap_err().to_string();
        assert!(
            message.contains("the biggest part is the interval records")
                && message.contains("--no-intervals"),
            "{message}"
        );
        plan.keep_intervals = false;
        assert_eq!(with_days(36_500).memory_estimate(&plan).interval_records, 0);
    }

    /// The figures compared with measured peaks (`cargo test -p
    /// hcp-scenarios --lib -- --ignored --nocapture builtin_estimates`).
    #[test]
    #[ignore = "prints figures"]
    fn builtin_estimates() {
        for name in crate::load::builtin_names() {
            let loaded = builtin(name).unwrap();
            for keep_intervals in [true, false] {
                let plan = MemoryPlan {
                    threads: 1,
                    replications_in_flight: 1,
                    policies: loaded.scenario.policies.len(),
                    keep_intervals: keep_intervals && loaded.scenario.sweep.intervals_output,
                    oracle: true,
                };
                let e = loaded.memory_estimate(&plan);
                println!(
                    "{name} intervals={keep_intervals}: {:.1} MB",
                    e.bytes as f64 / 1e6
                );
            }
        }
    }

    #[test]
    fn meminfo_is_read_in_kib() {
        let text = "MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(meminfo_available(text), Some(8_000_000 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
        assert!(memory_limit().is_none_or(|l| l > 0));
    }
}
