//! The viewer's reading API (`hcp_reports::dataset`) on a small sweep
//! written with the crate's own writers: a 2-day twin run of the reference
//! plant under the fixed policy, recorded and written as two policies
//! (`fixed` and the baseline `mining-only`) and two replications, read
//! back through `catalog`, `load_runs` and `read_run`; older files (schema
//! versions 1 and 2, rewritten without their newer columns) and missing
//! or foreign folders.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use hcp_contract::Persistence;
use hcp_engine::rng::RngStreams;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{
    FixedPolicy, IntervalRecord, MemorySink, RunResult, TwinSetup, TwinSink, run,
};
use hcp_models::world::WorldConfig;
use hcp_reports::dataset::{self, CatalogScenario};
use hcp_reports::report::{load, stats};
use hcp_reports::{
    DatasetMeta, OutputTable, ReportError, RunKey, RunRecorder, RunRow, part_path,
    write_run_records, write_runs,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

const DAYS: u32 = 2;
const SITES: usize = 3;
const STEP_US: i64 = 300_000_000;

struct Fixture {
    setup: TwinSetup,
    result: RunResult,
    /// The run's records, with grid events and queues set to a pattern
    /// (a 2-day world may have neither) so every value is checked.
    records: MemorySink,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let world = WorldConfig {
            days: DAYS,
            ..WorldConfig::default()
        };
        let setup = TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap();
        let streams = RngStreams::new(7, 1);
        let tape = setup.tape(&streams);
        let (result, mut records) = run(
            &setup,
            tape,
            &streams,
            Box::new(FixedPolicy::default()),
            Box::new(Persistence::default()),
            MemorySink::default(),
        );
        for r in &mut records.intervals {
            r.grid_event = r.interval % 7 == 3 && r.site != 2;
            if r.site == 0 {
                r.queued_jobs = [r.interval % 11, r.interval % 3, 7 + r.queued_jobs[0]];
            }
        }
        Fixture {
            setup,
            result,
            records,
        }
    })
}

fn recorder() -> RunRecorder {
    let f = fixture();
    let mut r = RunRecorder::new(&f.setup, true);
    f.records.intervals.iter().for_each(|x| r.interval(x));
    f.records.switches.iter().for_each(|x| r.switch(x));
    f.records.clips.iter().for_each(|x| r.clip(x));
    r
}

fn key(policy: &str, replication: u64) -> RunKey {
    RunKey {
        scenario: "reference".into(),
        policy: policy.into(),
        replication,
        seed: 0xDEAD_BEEF,
    }
}

fn meta() -> DatasetMeta {
    DatasetMeta {
        scenario_hash: "4f2a9c".into(),
        master_seed: 7,
        crate_version: "0.1.0".into(),
        git_revision: "abc1234".into(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hcp-reading-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Scenario `reference`: replications 0 and 1 of `fixed` and
/// `mining-only` (the runs files list `fixed` first); detail tables for
/// replication 0 of both and replication 1 of `fixed`. Scenario `other`:
/// one replication, no detail.
fn write_sweep(dir: &Path) {
    let f = fixture();
    for replication in [0, 1] {
        let mut rows = Vec::new();
        for (k, policy) in ["fixed", "mining-only"].into_iter().enumerate() {
            let key = key(policy, replication);
            if replication == 0 || policy == "fixed" {
                write_run_records(dir, &key, recorder(), &f.result, &meta()).unwrap();
            } else {
                let summary = RunRecorder::summary_only(&f.setup);
                write_run_records(dir, &key, summary, &f.result, &meta()).unwrap();
            }
            let mut row = RunRow::from_result(&key, &f.result, None);
            row.profit_usd -= 1000.0 * k as f64 + replication as f64;
            rows.push(row);
        }
        write_runs(dir, "reference", replication, &rows, &meta()).unwrap();
    }
    let other = RunKey {
        scenario: "other".into(),
        ..key("mining-only", 0)
    };
    let row = RunRow::from_result(&other, &f.result, None);
    write_runs(dir, "other", 0, &[row], &meta()).unwrap();
}

fn intervals_path(dir: &Path, policy: &str, replication: u64) -> PathBuf {
    part_path(
        dir,
        OutputTable::Intervals,
        "reference",
        policy,
        replication,
    )
    .unwrap()
}

#[test]
fn the_catalog_lists_scenarios_policies_and_detail_from_the_folders() {
    let dir = temp_dir("catalog");
    write_sweep(&dir);
    let catalog = dataset::catalog(&dir).unwrap();
    let names: Vec<&str> = catalog.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["other", "reference"]);
    assert_eq!(
        catalog.scenarios[1],
        CatalogScenario {
            name: "reference".into(),
            policies: vec!["mining-only".into(), "fixed".into()],
            detail: BTreeMap::from([
                ("mining-only".into(), BTreeSet::from([0])),
                ("fixed".into(), BTreeSet::from([0, 1])),
            ]),
            replications: BTreeSet::from([0, 1]),
        }
    );
    let other = &catalog.scenarios[0];
    assert_eq!(other.policies, ["mining-only"]);
    assert_eq!(other.replications, BTreeSet::from([0]));
    assert!(other.detail.values().all(BTreeSet::is_empty));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_runs_reads_what_load_does_without_the_detail() {
    let dir = temp_dir("load-runs");
    write_sweep(&dir);
    let quick = dataset::load_runs(&dir).unwrap();
    let full = load::load(&dir).unwrap();
    assert_eq!(quick.len(), 2);
    for (q, f) in quick.iter().zip(&full) {
        assert_eq!(q.name, f.name);
        assert_eq!(q.runs, f.runs);
        assert_eq!(q.policies, f.policies);
        assert_eq!(q.replications, f.replications);
        assert_eq!(q.seed, Some(7));
        assert!(q.detail.is_none());
        assert_eq!(stats::summary(q), stats::summary(f));
    }
    let reference = &quick[1];
    assert_eq!(reference.policies, ["mining-only", "fixed"]);
    assert_eq!(reference.runs.len(), 4);
    assert_eq!(reference.step_s, Some(300.0));
    assert_eq!(full[1].step_s, Some(300.0));
    assert!(full[1].detail.is_some());
    assert!(reference.notes.is_empty(), "{:?}", reference.notes);
    let days = stats::horizon_days(reference).unwrap();
    assert!((days - f64::from(DAYS)).abs() < 1e-9, "{days}");
    // No intervals at all: said so, and the horizon is unknown.
    assert_eq!(quick[0].step_s, None);
    assert!(
        quick[0].notes.iter().any(|n| n.contains("no intervals")),
        "{:?}",
        quick[0].notes
    );
    fs::remove_dir_all(&dir).unwrap();
}

fn site_records(site: usize) -> Vec<&'static IntervalRecord> {
    fixture()
        .records
        .intervals
        .iter()
        .filter(|r| r.site == site)
        .collect()
}

#[test]
fn read_run_gives_back_every_column_written() {
    let dir = temp_dir("read-run");
    write_sweep(&dir);
    let f = fixture();
    let detail = dataset::read_run(&dir, "reference", "fixed", 1).unwrap();
    assert!(detail.notes.is_empty(), "{:?}", detail.notes);
    assert_eq!(detail.step_s, Some(300.0));
    let iv = &detail.intervals;
    assert_eq!(iv.first_interval, 0);
    assert_eq!(iv.sites.len(), SITES);
    let start = f.setup.world().horizon().epoch.start().timestamp_micros();
    for (s, series) in iv.sites.iter().enumerate() {
        let records = site_records(s);
        assert_eq!(series.name, f.setup.plant().sites[s].name);
        assert_eq!(series.price.len(), DAYS as usize * 288);
        let col =
            |get: fn(&IntervalRecord) -> f64| records.iter().map(|r| get(r)).collect::<Vec<_>>();
        assert_eq!(series.price, col(|r| r.price_usd_per_mwh));
        assert_eq!(series.hashprice, col(|r| r.hashprice_usd_per_th_day));
        assert_eq!(series.facility_mw, col(|r| r.facility_mw));
        assert_eq!(series.asic_mw, col(|r| r.asic_mw));
        for (k, gpu) in series.gpu_mw.iter().enumerate() {
            let want: Vec<f64> = records.iter().map(|r| r.gpu_mw[k]).collect();
            assert_eq!(*gpu, want, "site {s} gpu use {k}");
        }
        assert_eq!(series.hashrate_phs, col(|r| r.hashrate_phs));
        assert_eq!(series.committed_mw, col(|r| r.committed_mw_max));
        assert_eq!(series.cap_mw, col(|r| r.cap_mw));
        assert_eq!(series.mining_usd, col(|r| r.mining_usd));
        assert_eq!(series.energy_usd, col(|r| r.energy_usd));
        let flags: Vec<bool> = records.iter().map(|r| r.grid_event).collect();
        assert_eq!(series.grid_event.as_ref(), Some(&flags));
        assert_eq!(flags.iter().any(|&b| b), s != 2);
        let times: Vec<i64> = records
            .iter()
            .map(|r| start + i64::try_from(r.interval).unwrap() * STEP_US)
            .collect();
        assert_eq!(series.time_us, times);
    }
    let plant = site_records(0);
    let by_use = iv.ai_use_usd.as_ref().expect("version 3 has gpu_<use>_usd");
    let queued = iv.queued_jobs.as_ref().expect("version 3 has the queues");
    let total = iv.ai_usd.as_ref().unwrap();
    for (i, r) in plant.iter().enumerate() {
        for (k, (series, &usd)) in by_use.iter().zip(&r.ai_usd).enumerate() {
            assert_eq!(series[i], usd, "interval {i} use {k}");
        }
        for (k, (series, &jobs)) in queued.iter().zip(&r.queued_jobs).enumerate() {
            assert_eq!(series[i], jobs as f64, "interval {i} class {k}");
        }
        let sum: f64 = r.ai_usd.iter().sum();
        assert!((total[i] - sum).abs() <= 1e-9 * sum.abs().max(1.0));
    }

    assert_eq!(detail.switches.len(), f.records.switches.len());
    assert!(!detail.switches.is_empty());
    for (row, rec) in detail.switches.iter().zip(&f.records.switches) {
        assert_eq!(row.time_us, start + i64::try_from(rec.time_us).unwrap());
        assert_eq!(row.pool as usize, rec.pool);
        assert_eq!(row.to_use, rec.to.name());
        assert_eq!((row.gpus, row.cold), (rec.gpus, rec.cold));
        assert_eq!((row.max_ms, row.mean_ms), (rec.max_ms, rec.mean_ms));
    }
    let pool_sites: Vec<u32> = f
        .setup
        .plant()
        .sites
        .iter()
        .enumerate()
        .flat_map(|(s, site)| site.gpus.iter().map(move |_| u32::try_from(s).unwrap()))
        .collect();
    assert!(
        detail
            .switches
            .iter()
            .all(|r| r.site == pool_sites[r.pool as usize])
    );
    assert_eq!(detail.clips.len(), f.records.clips.len());
    for (row, rec) in detail.clips.iter().zip(&f.records.clips) {
        assert_eq!(row.time_us, start + i64::try_from(rec.time_us).unwrap());
        assert_eq!(row.action as usize, rec.action);
        assert_eq!((row.requested, row.applied), (rec.requested, rec.applied));
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// Rewrites a Parquet file as an older writer would have: only the
/// columns `keep` accepts, `hcp.schema_version` = `version`.
fn rewrite(path: &Path, version: &str, keep: impl Fn(&str) -> bool) {
    let file = fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let indices: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| keep(schema.field(i).name()))
        .collect();
    let batches: Vec<RecordBatch> = batches
        .iter()
        .map(|b| b.project(&indices).unwrap())
        .collect();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "hcp.schema_version".into(),
            version.to_owned(),
        )]))
        .build();
    let out = fs::File::create(path).unwrap();
    let mut writer =
        ArrowWriter::try_new(out, Arc::clone(&batches[0].schema()), Some(props)).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

fn is_v3(column: &str) -> bool {
    column == "grid_event" || column.ends_with("_queued_jobs")
}

fn is_v2(column: &str) -> bool {
    column.starts_with("gpu_") && column.ends_with("_usd")
}

#[test]
fn older_files_read_with_what_they_lack_as_none() {
    let dir = temp_dir("older");
    write_sweep(&dir);
    let v3 = dataset::read_run(&dir, "reference", "fixed", 0).unwrap();
    rewrite(&intervals_path(&dir, "fixed", 0), "2", |c| !is_v3(c));
    let v2 = dataset::read_run(&dir, "reference", "fixed", 0).unwrap();
    assert!(v2.intervals.sites.iter().all(|s| s.grid_event.is_none()));
    assert!(v2.intervals.queued_jobs.is_none());
    assert_eq!(v2.intervals.ai_use_usd, v3.intervals.ai_use_usd);
    assert_eq!(v2.intervals.ai_usd, v3.intervals.ai_usd);
    assert_eq!(v2.intervals.sites[1].price, v3.intervals.sites[1].price);
    assert_eq!(
        v2.intervals.sites[1].committed_mw,
        v3.intervals.sites[1].committed_mw
    );
    assert_eq!(v2.step_s, Some(300.0));
    assert_eq!(v2.switches, v3.switches);
    assert!(
        v2.notes
            .iter()
            .any(|n| n.contains("older hcp.schema_version 2")),
        "{:?}",
        v2.notes
    );

    rewrite(&intervals_path(&dir, "mining-only", 0), "1", |c| {
        !is_v3(c) && !is_v2(c)
    });
    let v1 = dataset::read_run(&dir, "reference", "mining-only", 0).unwrap();
    assert!(v1.intervals.ai_usd.is_none() && v1.intervals.ai_use_usd.is_none());
    assert!(v1.intervals.queued_jobs.is_none());
    assert_eq!(
        v1.intervals.sites[0].energy_usd,
        v3.intervals.sites[0].energy_usd
    );
    // The report still reads them.
    let full = load::load(&dir).unwrap();
    let detail = full[1].detail.as_ref().unwrap();
    assert_eq!(detail.by_policy.len(), 2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_intervals_file_is_an_error_naming_it_and_missing_events_a_note() {
    let dir = temp_dir("missing");
    write_sweep(&dir);
    let path = intervals_path(&dir, "mining-only", 1);
    let e = dataset::read_run(&dir, "reference", "mining-only", 1).unwrap_err();
    assert!(matches!(e, ReportError::Missing { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    let e = dataset::read_run(&dir, "nowhere", "fixed", 0).unwrap_err();
    assert!(matches!(e, ReportError::Missing { .. }), "{e:?}");
    let e = dataset::read_run(&dir, "../up", "fixed", 0).unwrap_err();
    assert!(matches!(e, ReportError::Name { .. }), "{e:?}");
    // An unreadable intervals file names the file.
    let broken = intervals_path(&dir, "fixed", 1);
    fs::write(&broken, b"PAR1 truncated").unwrap();
    let msg = dataset::read_run(&dir, "reference", "fixed", 1)
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&broken.display().to_string()), "{msg}");
    // Switches and clips are optional: an empty table and a note.
    let switches = part_path(&dir, OutputTable::Switches, "reference", "fixed", 0).unwrap();
    fs::remove_file(&switches).unwrap();
    let clips = part_path(&dir, OutputTable::Clips, "reference", "fixed", 0).unwrap();
    fs::write(&clips, b"not parquet").unwrap();
    let detail = dataset::read_run(&dir, "reference", "fixed", 0).unwrap();
    assert!(detail.switches.is_empty() && detail.clips.is_empty());
    assert_eq!(detail.notes.len(), 2, "{:?}", detail.notes);
    assert!(detail.notes[0].contains(&switches.display().to_string()));
    assert!(detail.notes[1].contains("clips left out"));
    assert!(detail.notes[1].contains(&clips.display().to_string()));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_that_is_not_a_sweep_is_refused() {
    let dir = temp_dir("not-a-sweep");
    fs::create_dir_all(dir.join("intervals")).unwrap();
    for e in [
        dataset::catalog(&dir).unwrap_err(),
        dataset::load_runs(&dir).unwrap_err(),
    ] {
        assert!(matches!(e, ReportError::NotASweep { .. }), "{e:?}");
        assert!(e.to_string().contains("no runs/ table"), "{e}");
    }
    let e = dataset::catalog(&dir.join("absent")).unwrap_err();
    assert!(matches!(e, ReportError::NotASweep { .. }), "{e:?}");
    fs::remove_dir_all(&dir).unwrap();
}

/// Times `catalog`, `load_runs` and `read_run` of one (policy,
/// replication) on the sweep under `HCP_TIMING_SWEEP` (e.g. a CI sweep);
/// prints the figures and asserts nothing about them. Skipped without it.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a test that reports wall-clock timings; no output file sees them"
)]
fn timing_on_a_real_sweep() {
    let Some(dir) = std::env::var_os("HCP_TIMING_SWEEP").map(PathBuf::from) else {
        eprintln!("HCP_TIMING_SWEEP not set: timing skipped");
        return;
    };
    let t = std::time::Instant::now();
    let catalog = dataset::catalog(&dir).unwrap();
    let catalog_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let runs = dataset::load_runs(&dir).unwrap();
    let load_s = t.elapsed().as_secs_f64();
    for s in &runs {
        let _ = stats::summary(s);
    }
    for scenario in &catalog.scenarios {
        let Some((policy, reps)) = scenario.detail.iter().rev().find(|(_, r)| !r.is_empty()) else {
            continue;
        };
        let replication = *reps.iter().next().unwrap();
        let t = std::time::Instant::now();
        let detail = dataset::read_run(&dir, &scenario.name, policy, replication).unwrap();
        let read_s = t.elapsed().as_secs_f64();
        let rows: usize = detail.intervals.sites.iter().map(|s| s.price.len()).sum();
        eprintln!(
            "timing {}: catalog {catalog_s:.3} s, load_runs {load_s:.3} s, read_run({policy}, {replication}) {read_s:.3} s for {rows} interval rows, {} switches, {} clips",
            scenario.name,
            detail.switches.len(),
            detail.clips.len()
        );
    }
}
