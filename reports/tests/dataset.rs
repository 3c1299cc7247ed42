//! The dataset end to end: a 2-day twin run of the reference plant under
//! the fixed policy, recorded by `RunRecorder`, written as every table,
//! read back with the parquet arrow reader and checked against the schema,
//! the run's own figures and the rules (atomic, deterministic, resumable).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float64Type, TimestampMicrosecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use hcp_contract::Persistence;
use hcp_engine::rng::RngStreams;
use hcp_models::ledger::Stream;
use hcp_models::plant::PlantConfig;
use hcp_models::twin::{
    ClipReason, ClipRecord, FixedPolicy, IntervalRecord, MemorySink, RunResult, SwitchRecord,
    TwinSetup, TwinSink, run,
};
use hcp_models::world::WorldConfig;
use hcp_reports::{
    DatasetMeta, OutputTable, ReportError, RunKey, RunRecorder, RunRow, done_replications,
    part_path, read_runs, write_run_records, write_runs,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::reader::{FileReader, SerializedFileReader};

const DAYS: u32 = 2;
const SITES: usize = 3;

struct Fixture {
    setup: TwinSetup,
    result: RunResult,
    records: MemorySink,
}

/// Forwards every record to a recorder and to a memory sink.
struct Tee(RunRecorder, MemorySink);

impl TwinSink for Tee {
    fn interval(&mut self, r: &IntervalRecord) {
        self.0.interval(r);
        self.1.interval(r);
    }
    fn switch(&mut self, r: &SwitchRecord) {
        self.0.switch(r);
        self.1.switch(r);
    }
    fn clip(&mut self, r: &ClipRecord) {
        self.0.clip(r);
        self.1.clip(r);
    }
}

fn setup() -> TwinSetup {
    let world = WorldConfig {
        days: DAYS,
        ..WorldConfig::default()
    };
    TwinSetup::prepare(world, PlantConfig::default(), Path::new(".")).unwrap()
}

fn play<S: TwinSink + 'static>(setup: &TwinSetup, sink: S) -> (RunResult, S) {
    let streams = RngStreams::new(7, 1);
    let tape = setup.tape(&streams);
    run(
        setup,
        tape,
        &streams,
        Box::new(FixedPolicy::default()),
        Box::new(Persistence::default()),
        sink,
    )
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let setup = setup();
        let (result, records) = play(&setup, MemorySink::default());
        Fixture {
            setup,
            result,
            records,
        }
    })
}

/// A recorder fed the fixture's records, as the twin fed them.
fn recorder(intervals: bool) -> RunRecorder {
    let f = fixture();
    let mut r = RunRecorder::new(&f.setup, intervals);
    f.records.intervals.iter().for_each(|x| r.interval(x));
    f.records.switches.iter().for_each(|x| r.switch(x));
    f.records.clips.iter().for_each(|x| r.clip(x));
    r
}

fn key(policy: &str) -> RunKey {
    RunKey {
        scenario: "reference".into(),
        policy: policy.into(),
        replication: 1,
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
    let dir = std::env::temp_dir().join(format!("hcp-reports-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes every table of the fixture's run (policy "fixed", replication 1).
fn write_all(dir: &Path) -> RunRow {
    let f = fixture();
    write_run_records(dir, &key("fixed"), recorder(true), &f.result, &meta()).unwrap();
    let row = RunRow::from_result(&key("fixed"), &f.result, None);
    write_runs(dir, "reference", 1, std::slice::from_ref(&row), &meta()).unwrap();
    row
}

fn path(dir: &Path, table: OutputTable) -> PathBuf {
    part_path(dir, table, "reference", "fixed", 1).unwrap()
}

fn read(path: &Path) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let schema = std::sync::Arc::clone(builder.schema());
    let reader = builder.with_batch_size(1 << 20).build().unwrap();
    let mut batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert!(batches.len() <= 1, "files here hold one batch of rows");
    batches
        .pop()
        .unwrap_or_else(|| RecordBatch::new_empty(schema))
}

fn f64s(batch: &RecordBatch, name: &str) -> Vec<f64> {
    let a = batch
        .column_by_name(name)
        .unwrap()
        .as_primitive::<Float64Type>();
    a.values().to_vec()
}

fn u64_at(batch: &RecordBatch, name: &str, row: usize) -> u64 {
    batch
        .column_by_name(name)
        .unwrap()
        .as_primitive::<UInt64Type>()
        .value(row)
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn every_table_reads_back_with_its_schema_rows_and_metadata() {
    let dir = temp_dir("schema");
    write_all(&dir);
    let f = fixture();
    assert!(
        !f.records.switches.is_empty(),
        "the fixed policy switches GPUs at start"
    );
    let expected_rows = [
        (OutputTable::Runs, 1),
        (OutputTable::Intervals, DAYS as usize * 288 * SITES),
        (OutputTable::Switches, f.records.switches.len()),
        (OutputTable::Clips, f.records.clips.len()),
        (OutputTable::Invoices, f.result.invoices.len()),
    ];
    for (table, rows) in expected_rows {
        let file = path(&dir, table);
        let batch = read(&file);
        let want = table.schema();
        let got = batch.schema();
        let names = |s: &arrow_schema::Schema| {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&got), names(&want), "{}", table.name());
        assert_eq!(batch.num_rows(), rows, "{}", table.name());
        let reader = SerializedFileReader::new(fs::File::open(&file).unwrap()).unwrap();
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.created_by(), Some("hcp-reports 0.1.0"));
        let kv: Vec<(String, Option<String>)> = meta
            .key_value_metadata()
            .unwrap()
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone()))
            .collect();
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            kv[..5],
            [
                ("hcp.scenario_hash".into(), some("4f2a9c")),
                ("hcp.master_seed".into(), some("7")),
                ("hcp.crate_version".into(), some("0.1.0")),
                ("hcp.git_revision".into(), some("abc1234")),
                ("hcp.schema_version".into(), some("3")),
            ],
            "{}",
            table.name()
        );
        for group in reader.metadata().row_groups() {
            let codec = group.column(0).compression();
            assert!(matches!(codec, Compression::ZSTD(_)), "{}", table.name());
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_values_are_the_runs_figures() {
    let dir = temp_dir("values");
    let row = write_all(&dir);
    let f = fixture();
    let books = &f.result.ledger;

    let runs = read(&path(&dir, OutputTable::Runs));
    assert_eq!(f64s(&runs, "profit_usd"), [books.profit_usd]);
    assert_eq!(f64s(&runs, "energy_usd"), [books.total(Stream::Energy)]);
    assert_eq!(
        f64s(&runs, "btc_mined_usd"),
        [books.total(Stream::BtcMined)]
    );
    assert_eq!(f64s(&runs, "energy_mwh"), [books.energy_mwh_total]);
    assert_eq!(
        u64_at(&runs, "p3_jobs_completed", 0),
        f.result.jobs[1].completed
    );
    assert_eq!(
        u64_at(&runs, "p2_jobs_arrived", 0),
        f.result.jobs[0].arrived
    );
    assert_eq!(u64_at(&runs, "gpu_switches_warm", 0), f.result.switches[0]);
    assert_eq!(u64_at(&runs, "intervals", 0), 288 * u64::from(DAYS));
    assert_eq!(u64_at(&runs, "seed", 0), 0xDEAD_BEEF);
    assert!(runs.column_by_name("pct_of_oracle").unwrap().is_null(0));
    let streams: f64 = Stream::ALL
        .iter()
        .map(|&s| row.streams_usd[s.index()] * if s.is_revenue() { 1.0 } else { -1.0 })
        .sum();
    assert!(relative(streams, books.profit_usd) < 1e-9);
    assert!(row.profit_usd != 0.0 && row.streams_usd[Stream::Energy.index()] > 0.0);

    let iv = read(&path(&dir, OutputTable::Intervals));
    let energy: f64 = f64s(&iv, "energy_usd").iter().sum();
    assert!(
        relative(energy, books.total(Stream::Energy)) < 1e-9,
        "{energy}"
    );
    let mining: f64 = f64s(&iv, "mining_usd").iter().sum();
    assert!(
        relative(mining, books.total(Stream::BtcMined)) < 1e-9,
        "{mining}"
    );
    let start = f.setup.world().horizon().epoch.start().timestamp_micros();
    let times = iv
        .column_by_name("time_utc")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let index = iv
        .column_by_name("interval")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let sites = iv
        .column_by_name("site")
        .unwrap()
        .as_primitive::<UInt32Type>();
    let names = iv.column_by_name("site_name").unwrap().as_string::<i32>();
    for i in 0..iv.num_rows() {
        let interval = i64::try_from(index.value(i)).unwrap();
        assert_eq!(times.value(i), start + interval * 300_000_000);
        let site = &f.setup.plant().sites[sites.value(i) as usize];
        assert_eq!(names.value(i), site.name);
    }
    assert_eq!(index.value(iv.num_rows() - 1), 2 * 288 - 1);
    assert_eq!(
        f64s(&iv, "gpu_p3_mw"),
        f.records
            .intervals
            .iter()
            .map(|r| r.gpu_mw[2])
            .collect::<Vec<_>>()
    );

    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invoices_switches_and_clips_hold_the_runs_records() {
    let dir = temp_dir("records");
    let f = fixture();
    let books = &f.result.ledger;
    let mut r = recorder(false);
    r.clip(&ClipRecord {
        time_us: 600_000_000,
        action: 2,
        reason: ClipReason::PowerCap,
        requested: 120.0,
        applied: 96.0,
    });
    write_run_records(&dir, &key("fixed"), r, &f.result, &meta()).unwrap();

    let inv = read(&path(&dir, OutputTable::Invoices));
    let net: f64 = f64s(&inv, "net_usd").iter().sum();
    let ai = books.total(Stream::AiInference)
        + books.total(Stream::AiTraining)
        + books.total(Stream::AiInterruptible)
        - books.total(Stream::SlaCredits)
        - books.total(Stream::PreemptionCredits);
    assert!(relative(net, ai) < 1e-9, "{net} vs {ai}");
    let first = f.setup.world().horizon().epoch.start().date_naive();
    let month = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&first),
        chrono::Datelike::month(&first),
        1,
    )
    .unwrap();
    let days = (month - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
    let starts = inv
        .column_by_name("month_start")
        .unwrap()
        .as_primitive::<Date32Type>();
    let months = inv
        .column_by_name("month")
        .unwrap()
        .as_primitive::<UInt32Type>();
    for i in 0..inv.num_rows() {
        if months.value(i) == 0 {
            assert_eq!(i64::from(starts.value(i)), days);
        }
    }

    let sw = read(&path(&dir, OutputTable::Switches));
    let gpus = sw
        .column_by_name("gpus")
        .unwrap()
        .as_primitive::<UInt32Type>();
    let total: u64 = gpus.values().iter().map(|&g| u64::from(g)).sum();
    let recorded: u64 = f.records.switches.iter().map(|s| u64::from(s.gpus)).sum();
    assert_eq!(total, recorded);

    let clips = read(&path(&dir, OutputTable::Clips));
    assert_eq!(clips.num_rows(), f.records.clips.len() + 1);
    let last = clips.num_rows() - 1;
    let reasons = clips.column_by_name("reason").unwrap().as_string::<i32>();
    assert_eq!(reasons.value(last), "power_cap");
    let times = clips
        .column_by_name("time_utc")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let start = f.setup.world().horizon().epoch.start().timestamp_micros();
    assert_eq!(times.value(last), start + 600_000_000);
    assert_eq!(f64s(&clips, "applied")[last], 96.0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_runs_gives_back_the_rows_written() {
    let dir = temp_dir("roundtrip");
    let f = fixture();
    let mut rows = Vec::new();
    for replication in [2, 1] {
        let mut a = RunRow::from_result(
            &RunKey {
                replication,
                ..key("fixed")
            },
            &f.result,
            None,
        );
        let mut b = RunRow::from_result(
            &RunKey {
                replication,
                ..key("mining-only")
            },
            &f.result,
            None,
        );
        a.pct_of_oracle = Some(87.5);
        a.regret_usd = Some(1234.5);
        b.profit_usd -= 1.0;
        write_runs(
            &dir,
            "reference",
            replication,
            &[a.clone(), b.clone()],
            &meta(),
        )
        .unwrap();
        rows.push([a, b]);
    }
    let read = read_runs(&dir).unwrap();
    let want: Vec<RunRow> = rows.into_iter().rev().flatten().collect();
    assert_eq!(read, want, "by replication, then in the order written");
    assert_eq!(
        done_replications(&dir, "reference").unwrap(),
        BTreeSet::from([1, 2])
    );
    assert!(done_replications(&dir, "other").unwrap().is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_run_gives_byte_identical_files() {
    let a = temp_dir("bytes-a");
    let b = temp_dir("bytes-b");
    write_all(&a);
    // The second copy is recorded live: the recorder as the twin's sink.
    let f = fixture();
    let (result, tee) = play(
        &f.setup,
        Tee(RunRecorder::new(&f.setup, true), MemorySink::default()),
    );
    assert_eq!(result, f.result);
    write_run_records(&b, &key("fixed"), tee.0, &result, &meta()).unwrap();
    let row = RunRow::from_result(&key("fixed"), &result, None);
    write_runs(&b, "reference", 1, &[row], &meta()).unwrap();
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), 5);
    assert!(fa == fb, "files differ");
    // Another master seed in the metadata changes the bytes.
    let c = temp_dir("bytes-c");
    let other = DatasetMeta {
        master_seed: 8,
        ..meta()
    };
    write_run_records(&c, &key("fixed"), recorder(false), &f.result, &other).unwrap();
    assert!(
        !path(&c, OutputTable::Intervals).exists(),
        "intervals not kept"
    );
    let sw = path(&c, OutputTable::Switches);
    assert_ne!(
        fs::read(&sw).unwrap(),
        fs::read(path(&a, OutputTable::Switches)).unwrap()
    );
    for d in [a, b, c] {
        fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn an_unwritable_folder_names_the_path_and_the_os_error() {
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    fs::write(&file, b"not a folder").unwrap();
    let out = file.join("out");
    let f = fixture();
    let row = RunRow::from_result(&key("fixed"), &f.result, None);
    let e = write_runs(&out, "reference", 1, &[row], &meta()).unwrap_err();
    assert!(matches!(e, ReportError::Io { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&out.display().to_string()), "{msg}");
    assert!(msg.contains("Not a directory"), "{msg}");
    let e = write_run_records(&out, &key("fixed"), recorder(false), &f.result, &meta())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&out.display().to_string()) && e.contains("os error"),
        "{e}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftovers_and_broken_parts_are_not_done() {
    let dir = temp_dir("resume");
    let f = fixture();
    let folder = dir.join("runs/scenario=reference");
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join("part-r00004.parquet.tmp"), b"killed mid-write").unwrap();
    fs::write(folder.join("part-r00003.parquet"), b"PAR1 truncated").unwrap();
    assert!(done_replications(&dir, "reference").unwrap().is_empty());
    let e = read_runs(&dir).unwrap_err().to_string();
    assert!(e.contains("part-r00003.parquet"), "{e}");
    fs::remove_file(folder.join("part-r00003.parquet")).unwrap();

    let row = |replication| {
        RunRow::from_result(
            &RunKey {
                replication,
                ..key("fixed")
            },
            &f.result,
            None,
        )
    };
    write_runs(&dir, "reference", 2, &[row(2)], &meta()).unwrap();
    assert_eq!(
        done_replications(&dir, "reference").unwrap(),
        BTreeSet::from([2])
    );
    write_runs(&dir, "reference", 4, &[row(4)], &meta()).unwrap();
    assert!(
        !folder.join("part-r00004.parquet.tmp").exists(),
        "the leftover is overwritten"
    );
    assert_eq!(
        done_replications(&dir, "reference").unwrap(),
        BTreeSet::from([2, 4])
    );

    // A part with another table's columns is not a finished runs file.
    write_run_records(&dir, &key("fixed"), recorder(false), &f.result, &meta()).unwrap();
    fs::copy(
        path(&dir, OutputTable::Switches),
        folder.join("part-r00009.parquet"),
    )
    .unwrap();
    assert_eq!(
        done_replications(&dir, "reference").unwrap(),
        BTreeSet::from([2, 4])
    );
    let e = read_runs(&dir).unwrap_err().to_string();
    assert!(
        e.contains("part-r00009.parquet") && e.contains("column 0 is replication"),
        "{e}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_names_and_foreign_rows_are_refused() {
    let dir = temp_dir("names");
    let f = fixture();
    let row = RunRow::from_result(&key("fixed"), &f.result, None);
    let e = write_runs(&dir, "../escape", 1, &[], &meta())
        .unwrap_err()
        .to_string();
    assert!(e.contains("scenario name \"../escape\""), "{e}");
    let e = write_runs(&dir, "reference", 2, &[row], &meta())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("replication 1, not scenario reference replication 2"),
        "{e}"
    );
    let bad = RunKey {
        policy: "a/b".into(),
        ..key("fixed")
    };
    let e = write_run_records(&dir, &bad, recorder(false), &f.result, &meta())
        .unwrap_err()
        .to_string();
    assert!(e.contains("policy name \"a/b\""), "{e}");
    assert!(
        fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
    fs::remove_dir_all(&dir).unwrap();
}
