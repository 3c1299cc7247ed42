//! Fuzz test of everything a user feeds a sweep: mutated scenario files and
//! mutated replay series go through [`hcp_scenarios::load`],
//! [`LoadedScenario::prepare`], the memory estimate and, when they load, a
//! short twin run (the horizon clipped to one day, at most
//! [`RUN_INTERVALS`] market intervals, at most [`RUN_EVENTS`] engine
//! events). No input may panic, hang or exhaust memory, and every refusal
//! must name the file and a key (a TOML key path, a TOML line and column,
//! or a series file's line, row or column).
//!
//! Deterministic: one master seed, each case drawn from its own seed. The
//! case count comes from `HCP_FUZZ_CASES` (default [`DEFAULT_CASES`], about
//! 40 s in a debug build); the full count is
//!
//! ```text
//! HCP_FUZZ_CASES=100000 cargo test --release -p hcp-scenarios --test fuzz_inputs -- --nocapture
//! ```
//!
//! `HCP_FUZZ_CASE=N` replays case N alone; `HCP_FUZZ_VERBOSE=1` prints each
//! case before it runs. A failing case's files are kept
//! under the temp folder and their path is printed with the case number.
// Test code: the mutator's index arithmetic casts freely, one runner
// function walks every case kind, and wall time only times the tally.
#![allow(
    clippy::assigning_clones,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::disallowed_methods,
    clippy::duration_suboptimal_units,
    clippy::too_many_lines
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hcp_engine::rng::RngStreams;
use hcp_models::data::default_data_dir;
use hcp_models::twin::{NoSink, TwinRun};
use hcp_scenarios::memory::{MemoryPlan, check};
use hcp_scenarios::{LoadedScenario, builtin, builtin_names, load};
use parquet::arrow::ArrowWriter;

/// Cases when `HCP_FUZZ_CASES` is not set.
const DEFAULT_CASES: u64 = 2_500;
/// The master seed.
const SEED: u64 = 0x4843_5046_555a_5a31;
/// Market intervals a short run plays at most.
const RUN_INTERVALS: u64 = 12;
/// Engine events a short run may handle (a runaway beyond it is a finding).
const RUN_EVENTS: u64 = 2_000_000;
/// Wall time one case may take before it counts as a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);
/// The worker thread's name.
const WORKER: &str = "fuzz-worker";
/// The memory limit the estimate is checked against (the CI runner's).
const MEMORY_LIMIT: u64 = 22 << 30;

// ---------------------------------------------------------------- the RNG

/// SplitMix64: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn case_seed(case: u64) -> u64 {
    let mut r = Rng::new(SEED ^ case.wrapping_mul(0xd6e8_feb8_6659_fd93));
    r.next_u64()
}

// ------------------------------------------------------------ the inputs

/// The clean material cases are mutated from.
struct Bases {
    /// Built-in name, its text as shipped and its full canonical TOML
    /// (every key), replay paths made absolute.
    scenarios: Vec<(String, String, toml::Table)>,
    /// Series extracts: (file stem, header, rows).
    rtm: Table,
    wide: Table,
    btc: Table,
    /// The Uri scenario cut to one day, replaying `prices.*` and `btc.*`.
    series_scenario: String,
}

#[derive(Clone)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn bases() -> Bases {
    let data = default_data_dir();
    let data_text = data.display().to_string();
    let mut scenarios = Vec::new();
    for name in builtin_names() {
        let text = hcp_scenarios::load::builtin_text(name)
            .unwrap_or_else(|| panic!("{name}"))
            .replace("file = \"", &format!("file = \"{data_text}/"));
        let loaded = builtin(name).unwrap_or_else(|e| panic!("{e}"));
        let mut full: toml::Table = toml::from_str(&loaded.canonical_toml().unwrap()).unwrap();
        absolute_replays(&mut full, &data);
        scenarios.push(((*name).to_owned(), text, full));
    }
    let rtm_text = std::fs::read_to_string(data.join("ercot_rtm_spp_hub_lz_2021-02_15min.csv"))
        .expect("the shipped Uri prices");
    let mut lines = rtm_text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|r: &Vec<String>| {
            (r[0] == "02/01/2021" || r[0] == "02/02/2021")
                && (r[4] == "HB_NORTH" || r[4] == "HB_SOUTH")
        })
        .collect();
    assert_eq!(rows.len(), 2 * 96 * 2);
    // The same prices in the wide layout: Central interval starts.
    let mut wide_rows: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in &rows {
        let (month, day) = (&r[0][0..2], &r[0][3..5]);
        let hour: u32 = r[1].parse().unwrap();
        let interval: u32 = r[2].parse().unwrap();
        let minutes = (hour - 1) * 60 + (interval - 1) * 15;
        let stamp = format!(
            "2021-{month}-{day} {:02}:{:02}:00",
            minutes / 60,
            minutes % 60
        );
        let entry = wide_rows.entry(stamp).or_default();
        if r[4] == "HB_NORTH" {
            entry.0.clone_from(&r[6]);
        } else {
            entry.1.clone_from(&r[6]);
        }
    }
    let wide = Table {
        header: vec!["datetime_col".into(), "HB_NORTH".into(), "HB_SOUTH".into()],
        rows: wide_rows
            .into_iter()
            .map(|(t, (n, s))| vec![t, n, s])
            .collect(),
    };
    let btc_text = std::fs::read_to_string(data.join("btc_price_daily_2016-2026.csv")).unwrap();
    let mut lines = btc_text.lines();
    let btc_header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let btc_rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| r[0].as_str() >= "2021-01-25" && r[0].as_str() <= "2021-02-10")
        .collect();
    let uri = hcp_scenarios::load::builtin_text("ercot-2021-uri").unwrap();
    let series_scenario = uri
        .replace("days = 28", "days = 1")
        .replace("ercot_rtm_spp_hub_lz_2021-02_15min.csv", "@PRICES@")
        .replace("btc_price_daily_2016-2026.csv", "@BTC@");
    assert!(series_scenario.contains("days = 1") && series_scenario.contains("@BTC@"));
    Bases {
        scenarios,
        rtm: Table { header, rows },
        wide,
        btc: Table {
            header: btc_header,
            rows: btc_rows,
        },
        series_scenario,
    }
}

fn absolute_replays(doc: &mut toml::Table, data: &Path) {
    let Some(toml::Value::Table(world)) = doc.get_mut("world") else {
        return;
    };
    let Some(toml::Value::Table(replay)) = world.get_mut("replay") else {
        return;
    };
    let fix = |t: &mut toml::Table| {
        if let Some(toml::Value::String(f)) = t.get_mut("file") {
            *f = data.join(&*f).display().to_string();
        }
    };
    if let Some(toml::Value::Array(prices)) = replay.get_mut("prices") {
        for p in prices {
            if let toml::Value::Table(t) = p {
                fix(t);
            }
        }
    }
    if let Some(toml::Value::Table(btc)) = replay.get_mut("btc") {
        fix(btc);
    }
}

/// One case: the files to write (name, bytes), the scenario's name among
/// them, what was done, and which series file (if any) was mutated.
struct Case {
    files: Vec<(String, Vec<u8>)>,
    scenario: String,
    mutations: Vec<String>,
    series: Option<String>,
}

// ------------------------------------------------- scenario mutations

/// Every key path of a TOML value, with a pointer-like path.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(value: &toml::Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(value: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
    let mut v = value;
    for step in path {
        v = match (step, v) {
            (Step::Key(k), toml::Value::Table(t)) => t.get_mut(k)?,
            (Step::Index(i), toml::Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// A replacement for a value: wrong types, edge numbers, non-finite ones.
fn odd_value(rng: &mut Rng, old: &toml::Value) -> toml::Value {
    use toml::Value as V;
    let scale = |x: f64| match old {
        V::Integer(i) => *i as f64 * x,
        V::Float(f) => f * x,
        _ => x,
    };
    match rng.below(26) {
        0 => V::String("many".into()),
        1 => V::String(String::new()),
        2 => V::Boolean(rng.chance(0.5)),
        3 => V::Array(vec![]),
        4 => V::Table(toml::Table::new()),
        5 => V::Integer(0),
        6 => V::Integer(-1),
        7 => V::Integer(i64::MAX),
        8 => V::Integer(i64::MIN),
        9 => V::Integer(i64::from(u32::MAX) + 1),
        10 => V::Float(f64::NAN),
        11 => V::Float(f64::INFINITY),
        12 => V::Float(f64::NEG_INFINITY),
        13 => V::Float(0.0),
        14 => V::Float(-0.5),
        15 => V::Float(1e308),
        16 => V::Float(5e-324),
        17 => V::Float(scale(-1.0)),
        18 => V::Float(scale(1000.0)),
        19 => V::Float(scale(1e6)),
        20 => V::Float(scale(1e-6)),
        21 => V::Integer(rng.below(5) as i64),
        22 => V::Integer((rng.next_u64() % 1_000_000_000) as i64),
        23 => match old {
            V::Integer(i) => V::Integer(i.saturating_mul(100)),
            V::Float(f) => V::Float(f * 2.0),
            other => other.clone(),
        },
        24 => V::Datetime("1970-01-01T00:00:00Z".parse().unwrap()),
        _ => V::Float(scale(1.0 + (rng.below(100) as f64) / 10.0)),
    }
}

/// Mutates a parsed scenario in place; returns what it did.
fn mutate_doc(rng: &mut Rng, doc: &mut toml::Value) -> String {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return "empty document".into();
    }
    let path = rng.pick(&all).clone();
    let (parent_path, last) = path.split_at(path.len() - 1);
    let shown = show(&path);
    match rng.below(10) {
        // Replace a value (most mutations).
        0..=5 => {
            let Some(v) = get_mut(doc, &path) else {
                return "nothing".into();
            };
            let new = odd_value(rng, v);
            let text = new.to_string();
            *v = new;
            format!("{shown} = {text}")
        }
        // Delete a key or an element.
        6 => {
            let Some(parent) = get_mut(doc, parent_path) else {
                return "nothing".into();
            };
            match (parent, &last[0]) {
                (toml::Value::Table(t), Step::Key(k)) => {
                    t.remove(k);
                }
                (toml::Value::Array(a), Step::Index(i)) => {
                    a.remove(*i);
                }
                _ => {}
            }
            format!("delete {shown}")
        }
        // An unknown key beside it.
        7 => {
            let Some(toml::Value::Table(t)) = get_mut(doc, parent_path) else {
                return "nothing".into();
            };
            t.insert("surprise_key".into(), toml::Value::Integer(3));
            format!("unknown key beside {shown}")
        }
        // A huge or empty array.
        8 => {
            let Some(parent) = get_mut(doc, parent_path) else {
                return "nothing".into();
            };
            match parent {
                toml::Value::Array(a) if !a.is_empty() => {
                    if rng.chance(0.3) {
                        a.clear();
                        format!("empty array at {}", show(parent_path))
                    } else {
                        let n = *rng.pick(&[10, 200, 5_000]);
                        let item = a[0].clone();
                        a.extend(std::iter::repeat_n(item, n));
                        format!("array at {} grown by {n}", show(parent_path))
                    }
                }
                _ => {
                    let Some(v) = get_mut(doc, &path) else {
                        return "nothing".into();
                    };
                    let item = v.clone();
                    *v = toml::Value::Array(vec![item; 3]);
                    format!("{shown} wrapped in an array")
                }
            }
        }
        // Absurd sizes where they matter most.
        _ => {
            let targets = [
                ("world.days", toml::Value::Integer(i64::from(u32::MAX))),
                ("world.days", toml::Value::Integer(100_000)),
                ("world.days", toml::Value::Integer(2_000_000)),
                ("world.step_minutes", toml::Value::Integer(1)),
                ("world.step_minutes", toml::Value::Integer(7)),
                (
                    "sweep.replications",
                    toml::Value::Integer(i64::from(u32::MAX)),
                ),
                ("world.demand.jobs.jobs_per_day", toml::Value::Float(1e12)),
                ("world.demand.jobs.load_scale", toml::Value::Float(1e9)),
                (
                    "world.demand.customers.count",
                    toml::Value::Array(vec![toml::Value::Integer(1_000_000); 4]),
                ),
                (
                    "world.start",
                    toml::Value::String("9999-12-31T00:00:00Z".into()),
                ),
                (
                    "world.start",
                    toml::Value::String("0001-01-01T00:00:00Z".into()),
                ),
                (
                    "world.start",
                    toml::Value::String("+262000-01-01T00:00:00Z".into()),
                ),
            ];
            let (key, value) = rng.pick(&targets).clone();
            set_path(doc, key, value.clone());
            format!("{key} = {value}")
        }
    }
}

fn set_path(doc: &mut toml::Value, dotted: &str, value: toml::Value) {
    let mut v = doc;
    let keys: Vec<&str> = dotted.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        let toml::Value::Table(t) = v else { return };
        if i + 1 == keys.len() {
            t.insert((*k).to_owned(), value);
            return;
        }
        v = t
            .entry((*k).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
}

/// Byte-level damage: truncation, flips, insertions.
fn damage_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) -> String {
    if bytes.is_empty() {
        bytes.push(b'[');
        return "one byte".into();
    }
    match rng.below(5) {
        0 => {
            let at = rng.below(bytes.len());
            bytes.truncate(at);
            format!("truncated at byte {at}")
        }
        1 => {
            let n = 1 + rng.below(8);
            for _ in 0..n {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            format!("{n} bit flips")
        }
        2 => {
            let at = rng.below(bytes.len());
            let junk = *rng.pick(&[
                &b"["[..],
                b"]",
                b"\"",
                b"=",
                b"\n",
                b"\n[[",
                b"\xff\xfe",
                b"\0",
                b"{",
                b"'''",
                b"\n[world]\n",
                b"nan",
                b"\r",
            ]);
            bytes.splice(at..at, junk.iter().copied());
            format!("inserted {junk:?} at byte {at}")
        }
        3 => {
            let at = rng.below(bytes.len());
            let len = (1 + rng.below(64)).min(bytes.len() - at);
            bytes.drain(at..at + len);
            format!("deleted {len} bytes at {at}")
        }
        _ => {
            let n = 1 + rng.below(256);
            let junk: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            let at = rng.below(bytes.len());
            bytes.splice(at..at, junk);
            format!("{n} random bytes at {at}")
        }
    }
}

fn scenario_case(rng: &mut Rng, bases: &Bases) -> Case {
    let (name, text, full) = rng.pick(&bases.scenarios);
    let mut mutations = vec![format!("base {name}")];
    let bytes = if rng.chance(0.25) {
        // Damage the text as shipped.
        let mut bytes = text.clone().into_bytes();
        let n = 1 + rng.below(3);
        for _ in 0..n {
            mutations.push(damage_bytes(rng, &mut bytes));
        }
        bytes
    } else {
        let mut doc = toml::Value::Table(full.clone());
        let n = 1 + rng.below(3);
        for _ in 0..n {
            mutations.push(mutate_doc(rng, &mut doc));
        }
        let mut text = toml::to_string(&doc).unwrap_or_else(|e| format!("# {e}\n"));
        if rng.chance(0.05) {
            let mut bytes = std::mem::take(&mut text).into_bytes();
            mutations.push(damage_bytes(rng, &mut bytes));
            bytes
        } else {
            text.into_bytes()
        }
    };
    Case {
        files: vec![("scenario.toml".into(), bytes)],
        scenario: "scenario.toml".into(),
        mutations,
        series: None,
    }
}

// --------------------------------------------------- series mutations

fn mutate_table(rng: &mut Rng, table: &mut Table) -> String {
    let rows = table.rows.len();
    let cols = table.header.len();
    if rows == 0 || cols == 0 {
        return "nothing".into();
    }
    let r = rng.below(rows);
    let c = rng.below(cols);
    match rng.below(16) {
        0 => {
            let keep = rng.below(rows);
            table.rows.truncate(keep);
            format!("kept the first {keep} rows")
        }
        1 => {
            let other = rng.below(rows);
            table.rows.swap(r, other);
            format!("swapped rows {r} and {other}")
        }
        2 => {
            table.rows.reverse();
            "reversed the rows".into()
        }
        3 => {
            let n = 1 + rng.below(3);
            let row = table.rows[r].clone();
            for _ in 0..n {
                table.rows.insert(r, row.clone());
            }
            format!("row {r} duplicated {n} times")
        }
        4 => {
            let cell = *rng.pick(&[
                "",
                "nan",
                "NaN",
                "inf",
                "-inf",
                "1e309",
                "abc",
                "1,5",
                "-",
                " ",
                "0",
                "-0",
                "1e308",
                "-1e308",
                "-5",
                "2021-13-45",
                "99/99/9999",
                "25:00",
                "Y",
                "\"",
            ]);
            if let Some(x) = table.rows[r].get_mut(c) {
                *x = cell.to_owned();
            }
            format!("row {r}, column {} = {cell:?}", table.header[c])
        }
        5 => {
            let n = 1 + rng.below(rows);
            for _ in 0..n {
                let rr = rng.below(rows);
                if let Some(x) = table.rows[rr].get_mut(c) {
                    x.clear();
                }
            }
            format!("{n} empty cells in column {}", table.header[c])
        }
        6 => {
            let name = table.header[c].clone();
            table.header.remove(c);
            for row in &mut table.rows {
                if c < row.len() {
                    row.remove(c);
                }
            }
            format!("column {name} deleted")
        }
        7 => {
            let new = *rng.pick(&["price", "", "HB_NORTH", "Unknown", "date", "PriceUSD"]);
            let old = std::mem::replace(&mut table.header[c], new.to_owned());
            format!("header {old} renamed {new:?}")
        }
        8 => {
            let unit = *rng.pick(&["$/kWh", "$/MWh", "EUR/MWh", ""]);
            table.header.push("Unit".into());
            for row in &mut table.rows {
                row.push(unit.to_owned());
            }
            format!("Unit column {unit:?}")
        }
        9 => {
            // Prices as $/kWh, or scaled absurdly.
            let factor = *rng.pick(&[1e-3, -1.0, 0.0, 1e300, 1e-300]);
            for row in &mut table.rows {
                if let Some(cell) = row.get_mut(c)
                    && let Ok(v) = cell.parse::<f64>()
                {
                    *cell = format!("{}", v * factor);
                }
            }
            format!("column {} × {factor}", table.header[c])
        }
        10 => {
            // Shift a time stamp off the grid or by a day.
            let Some(cell) = table.rows[r].get_mut(0) else {
                return "nothing".into();
            };
            let new = if cell.len() > 3 && rng.chance(0.5) {
                let mut s = cell.clone();
                s.replace_range(s.len() - 3.., ":07");
                s
            } else {
                format!("{cell}x")
            };
            *cell = new.clone();
            format!("row {r} stamp {new:?}")
        }
        11 => {
            let n = 1 + rng.below(rows / 2 + 1);
            let at = rng.below(rows);
            let end = (at + n).min(rows);
            table.rows.drain(at..end);
            format!("rows {at}..{end} deleted (a gap)")
        }
        12 => {
            table.rows[r].push("extra".into());
            format!("row {r} has an extra field")
        }
        13 => {
            table.rows[r].pop();
            format!("row {r} lost a field")
        }
        14 => {
            // Shuffle.
            for i in (1..rows).rev() {
                let j = rng.below(i + 1);
                table.rows.swap(i, j);
            }
            "shuffled".into()
        }
        _ => {
            // Repeat the whole table (many duplicates).
            let copy = table.rows.clone();
            table.rows.extend(copy);
            "every row twice".into()
        }
    }
}

fn csv_bytes(table: &Table) -> Vec<u8> {
    let mut s = table.header.join(",");
    s.push('\n');
    for row in &table.rows {
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

/// How a column is stored in Parquet.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Float,
    Int,
    Timestamp,
    Bool,
}

fn natural_kind(header: &str, cells: &[&str]) -> Kind {
    if header == "datetime_col" || header == "date" {
        return Kind::Timestamp;
    }
    if cells
        .iter()
        .all(|c| c.is_empty() || c.parse::<i64>().is_ok())
    {
        Kind::Int
    } else if cells
        .iter()
        .all(|c| c.is_empty() || c.parse::<f64>().is_ok())
    {
        Kind::Float
    } else {
        Kind::Text
    }
}

fn parse_stamp(cell: &str) -> Option<i64> {
    let t = chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(cell, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(t.and_utc().timestamp_micros())
}

fn parquet_bytes(rng: &mut Rng, table: &Table, mutations: &mut Vec<String>) -> Vec<u8> {
    let rows = table.rows.len();
    let cell = |r: usize, c: usize| table.rows[r].get(c).map_or("", String::as_str);
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let wrong = rng
        .chance(0.2)
        .then(|| rng.below(table.header.len().max(1)));
    for (c, header) in table.header.iter().enumerate() {
        let cells: Vec<&str> = (0..rows).map(|r| cell(r, c)).collect();
        let mut kind = natural_kind(header, &cells);
        if wrong == Some(c) {
            kind = *rng.pick(&[
                Kind::Text,
                Kind::Float,
                Kind::Int,
                Kind::Timestamp,
                Kind::Bool,
            ]);
            mutations.push(format!("column {header} stored as {kind:?}"));
        }
        let (data_type, array): (DataType, ArrayRef) = match kind {
            Kind::Text => (
                DataType::Utf8,
                Arc::new(StringArray::from(
                    cells.iter().map(|c| Some(*c)).collect::<Vec<_>>(),
                )),
            ),
            Kind::Float => (
                DataType::Float64,
                Arc::new(Float64Array::from(
                    cells
                        .iter()
                        .map(|c| c.parse::<f64>().ok())
                        .collect::<Vec<_>>(),
                )),
            ),
            Kind::Int => (
                DataType::Int64,
                Arc::new(Int64Array::from(
                    cells
                        .iter()
                        .map(|c| c.parse::<i64>().ok())
                        .collect::<Vec<_>>(),
                )),
            ),
            Kind::Timestamp => (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Arc::new(TimestampMicrosecondArray::from(
                    cells.iter().map(|c| parse_stamp(c)).collect::<Vec<_>>(),
                )),
            ),
            Kind::Bool => (
                DataType::Boolean,
                Arc::new(BooleanArray::from(
                    cells.iter().map(|c| Some(c.is_empty())).collect::<Vec<_>>(),
                )),
            ),
        };
        // Duplicate or empty headers are refused by the Parquet writer
        // itself for some layouts; keep them, the reader must cope.
        fields.push(Field::new(header, data_type, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    let written = RecordBatch::try_new(Arc::clone(&schema), arrays)
        .map_err(|e| e.to_string())
        .and_then(|batch| {
            let mut writer =
                ArrowWriter::try_new(&mut out, schema, None).map_err(|e| e.to_string())?;
            writer.write(&batch).map_err(|e| e.to_string())?;
            writer.close().map_err(|e| e.to_string())?;
            Ok(())
        });
    if let Err(e) = written {
        mutations.push(format!("the writer refused ({e}): garbage instead"));
        out = b"PAR1 this is not parquet".to_vec();
    }
    out
}

fn series_case(rng: &mut Rng, bases: &Bases) -> Case {
    let mut mutations = Vec::new();
    let parquet = rng.chance(0.4);
    let ext = if parquet { "parquet" } else { "csv" };
    let wide = rng.chance(0.4);
    let target_btc = rng.chance(0.35);
    let mut prices = if wide {
        bases.wide.clone()
    } else {
        bases.rtm.clone()
    };
    let mut btc = bases.btc.clone();
    mutations.push(format!(
        "{} {} {ext}",
        if target_btc { "btc" } else { "prices" },
        if wide { "wide" } else { "long" }
    ));
    let n = 1 + rng.below(3);
    for _ in 0..n {
        let table = if target_btc { &mut btc } else { &mut prices };
        mutations.push(mutate_table(rng, table));
    }
    let encode = |rng: &mut Rng, table: &Table, mutate: bool, mutations: &mut Vec<String>| {
        let mut bytes = if parquet {
            parquet_bytes(rng, table, mutations)
        } else {
            csv_bytes(table)
        };
        if mutate && rng.chance(0.25) {
            mutations.push(damage_bytes(rng, &mut bytes));
        }
        bytes
    };
    let price_bytes = encode(rng, &prices, !target_btc, &mut mutations);
    let btc_bytes = encode(rng, &btc, target_btc, &mut mutations);
    let prices_name = format!("prices.{ext}");
    let btc_name = format!("btc.{ext}");
    let mut scenario = bases
        .series_scenario
        .replace("@PRICES@", &prices_name)
        .replace("@BTC@", &btc_name);
    if rng.chance(0.15) {
        let max = *rng.pick(&[0_u64, 1, 4, 1_000_000, u64::from(u32::MAX)]);
        let repair = format!("\nrepair = {{ kind = \"forward-fill\", max_missing = {max} }}\n");
        let at = if target_btc {
            format!("file = \"{btc_name}\"")
        } else {
            format!("file = \"{prices_name}\"")
        };
        scenario = scenario.replacen(&at, &format!("{at}{repair}"), 1);
        mutations.push(format!("forward fill of {max}"));
    }
    if rng.chance(0.1) {
        let days = *rng.pick(&[2, 3, 20, 100_000]);
        scenario = scenario.replace("days = 1", &format!("days = {days}"));
        mutations.push(format!("days = {days}"));
    }
    let series = if target_btc {
        btc_name.clone()
    } else {
        prices_name.clone()
    };
    Case {
        files: vec![
            ("scenario.toml".into(), scenario.into_bytes()),
            (prices_name, price_bytes),
            (btc_name, btc_bytes),
        ],
        scenario: "scenario.toml".into(),
        mutations,
        series: Some(series),
    }
}

// ------------------------------------------------------------ one case

/// How a case ended.
enum Outcome {
    /// Loaded, prepared, ran (intervals played).
    Ran(u64),
    /// Refused with this kind and message.
    Refused(&'static str, String),
    /// Loaded, but its memory estimate is over the limit.
    TooBig(String),
}

fn kind_of(e: &hcp_scenarios::ScenarioError) -> &'static str {
    use hcp_models::twin::TwinError;
    use hcp_models::world::WorldError;
    use hcp_scenarios::ScenarioError as E;
    match e {
        E::Read { .. } => "read",
        E::Syntax { .. } => "syntax",
        E::Key { .. } => "key",
        E::UnknownBuiltin { .. } => "builtin",
        E::Memory { .. } => "memory",
        E::Setup { source, .. } => match &**source {
            TwinError::Plant(_) => "plant",
            TwinError::World(WorldError::Data { .. }) => "series",
            TwinError::World(WorldError::Grid(_)) => "grid",
            TwinError::World(WorldError::Invalid { key, .. }) if key.starts_with("replay") => {
                "series"
            }
            TwinError::World(_) => "world",
        },
    }
}

/// Loads, prepares, estimates and runs the scenario at `path`.
fn play(path: &Path, case: u64) -> Outcome {
    let loaded = match load(path) {
        Ok(l) => l,
        Err(e) => return Outcome::Refused(kind_of(&e), e.to_string()),
    };
    let plan = MemoryPlan {
        threads: 1,
        replications_in_flight: 1,
        policies: loaded.scenario.policies.len(),
        keep_intervals: loaded.scenario.sweep.intervals_output,
        oracle: false,
    };
    let estimate = loaded.memory_estimate(&plan);
    let too_big = check(&estimate, MEMORY_LIMIT).err().map(|e| e.to_string());
    if let Err(e) = loaded.prepare() {
        return Outcome::Refused(kind_of(&e), e.to_string());
    }
    if let Some(message) = too_big {
        return Outcome::TooBig(message);
    }
    short_run(loaded, case)
}

/// The scenario clipped to one day, one policy, a few intervals.
fn short_run(mut loaded: LoadedScenario, case: u64) -> Outcome {
    loaded.scenario.world.days = loaded.scenario.world.days.min(1);
    let setup = match loaded.prepare() {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(kind_of(&e), e.to_string()),
    };
    let policies = &loaded.scenario.policies;
    if policies.is_empty() {
        return Outcome::Ran(0);
    }
    let policy = &policies[(case as usize) % policies.len()];
    let streams = RngStreams::new(loaded.scenario.sweep.seed, case);
    let tape = setup.shared_tape(&streams);
    let mut run = TwinRun::new(
        &setup,
        tape,
        &streams,
        policy.build(),
        loaded.scenario.forecaster.build(),
        NoSink,
    );
    while !run.is_finished() && run.interval() < RUN_INTERVALS {
        if !run.step_event() {
            break;
        }
        assert!(
            run.events() <= RUN_EVENTS,
            "runaway run: {} events in {} intervals",
            run.events(),
            run.interval()
        );
    }
    let played = run.interval();
    if run.is_finished() {
        let (result, _) = run.finish();
        assert_eq!(result.intervals, played);
    }
    Outcome::Ran(played)
}

/// The refusal must name the scenario file and a key: a TOML key path
/// under a known section, a TOML line and column, or — for a replayed
/// series — the replay key and the series file.
fn check_message(kind: &str, message: &str, scenario: &Path, series: Option<&Path>) -> bool {
    let file = scenario.display().to_string();
    let Some(rest) = message.strip_prefix(&format!("{file}: ")) else {
        return false;
    };
    if kind == "syntax" {
        return rest.starts_with("line ") && rest.contains(", column ");
    }
    if kind == "read" {
        return false;
    }
    if kind == "memory" {
        return rest.starts_with("the sweep would need about ")
            && rest.contains("world.days = ")
            && rest.contains("above the memory limit of ")
            && rest.contains("the biggest part is ");
    }
    let key = rest.split(": ").next().unwrap_or("");
    let roots = [
        "world",
        "plant",
        "sweep",
        "policies",
        "forecaster",
        "name",
        "description",
        "(top level)",
    ];
    let key_ok = roots.iter().any(|root| {
        key == *root
            || key
                .strip_prefix(root)
                .is_some_and(|t| t.starts_with('.') || t.starts_with('['))
    }) && !key.contains(' ')
        || key == "(top level)";
    // An unknown key is named as the file spells it.
    let unknown = !key.is_empty()
        && !key.contains(' ')
        && rest.contains(&format!(
            "unknown field `{}`",
            key.rsplit(['.', ']']).next().unwrap_or(key)
        ));
    if !(key_ok || unknown) {
        return false;
    }
    if kind == "series" {
        // The replay's key and the series file's path (the mutated one, or
        // its clean companion when the horizon outgrows it).
        let Some(series) = series else { return true };
        let folder = series.parent().map(|d| d.display().to_string());
        let named = folder.is_some_and(|d| {
            ["prices.csv", "prices.parquet", "btc.csv", "btc.parquet"]
                .iter()
                .any(|f| message.contains(&format!("{d}/{f}: ")))
        });
        return key.starts_with("world.replay") && named;
    }
    true
}

fn write_case(dir: &Path, case: &Case) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in &case.files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(a panic without a message)".into())
}

#[derive(Default)]
struct Tally {
    cases: u64,
    scenario_cases: u64,
    series_cases: u64,
    accepted: u64,
    intervals: u64,
    refused: BTreeMap<&'static str, u64>,
    failures: Vec<String>,
}

#[test]
fn no_input_crashes_a_sweep() {
    let cases: u64 = std::env::var("HCP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let only: Option<u64> = std::env::var("HCP_FUZZ_CASE")
        .ok()
        .and_then(|v| v.parse().ok());
    // HCP_FUZZ_VERBOSE=1 prints each case before it runs (for a case
    // that aborts the process, which no catch_unwind can report).
    let verbose = std::env::var_os("HCP_FUZZ_VERBOSE").is_some();
    let root = std::env::temp_dir().join(format!("hcp-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let bases = bases();
    let started = Instant::now();

    // One worker plays the cases; this thread times each one.
    let (to_worker, jobs) = mpsc::channel::<(u64, PathBuf, Option<PathBuf>)>();
    let (to_main, results) = mpsc::channel::<(u64, Result<Outcome, String>)>();
    let worker = std::thread::Builder::new()
        .name(WORKER.into())
        .stack_size(64 << 20)
        .spawn(move || {
            for (case, path, _series) in jobs {
                let outcome = catch_unwind(AssertUnwindSafe(|| play(&path, case)))
                    .map_err(|p| panic_text(p.as_ref()));
                if to_main.send((case, outcome)).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    // The worker's panics are reported per case; keep the hook quiet there.
    let hook: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let default = Arc::clone(&hook);
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some(WORKER) {
            default(info);
        }
    }));

    let mut tally = Tally::default();
    let range = match only {
        Some(n) => n..n + 1,
        None => 0..cases,
    };
    for case in range {
        let mut rng = Rng::new(case_seed(case));
        let is_scenario = rng.chance(0.55);
        let input = if is_scenario {
            tally.scenario_cases += 1;
            scenario_case(&mut rng, &bases)
        } else {
            tally.series_cases += 1;
            series_case(&mut rng, &bases)
        };
        let dir = root.join("case");
        write_case(&dir, &input);
        let path = dir.join(&input.scenario);
        let series = input.series.as_ref().map(|s| dir.join(s));
        if verbose {
            eprintln!("case {case}: {}", input.mutations.join("; "));
        }
        to_worker
            .send((case, path.clone(), series.clone()))
            .unwrap();
        tally.cases += 1;
        let failure = match results.recv_timeout(CASE_TIMEOUT) {
            Err(_) => Some(format!("hung for over {CASE_TIMEOUT:?}")),
            Ok((_, Err(panic))) => Some(format!("panicked: {panic}")),
            Ok((_, Ok(Outcome::Ran(n)))) => {
                tally.accepted += 1;
                tally.intervals += n;
                None
            }
            Ok((_, Ok(Outcome::TooBig(message)))) => {
                *tally.refused.entry("memory estimate").or_default() += 1;
                check_message("memory", &message, &path, None)
                    .then_some(())
                    .map_or_else(
                        || Some(format!("unclear memory message: {message}")),
                        |()| None,
                    )
            }
            Ok((_, Ok(Outcome::Refused(kind, message)))) => {
                *tally.refused.entry(kind).or_default() += 1;
                if check_message(kind, &message, &path, series.as_deref()) {
                    None
                } else {
                    Some(format!("unclear {kind} message: {message}"))
                }
            }
        };
        if let Some(failure) = failure {
            let keep = root.join(format!("failed-{case}"));
            let _ = std::fs::remove_dir_all(&keep);
            let _ = std::fs::rename(&dir, &keep);
            let hung = failure.starts_with("hung");
            tally.failures.push(format!(
                "case {case} (seed {:#x}, HCP_FUZZ_CASE={case}): {failure}\n    mutations: {}\n    input kept in {}",
                case_seed(case),
                input.mutations.join("; "),
                keep.display()
            ));
            if hung || tally.failures.len() >= 20 {
                break;
            }
        }
    }
    drop(to_worker);
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| hook(info)));
    let hung = tally.failures.iter().any(|f| f.contains("hung for"));
    if !hung {
        let _ = worker.join();
    }

    let mut refused = String::new();
    for (kind, n) in &tally.refused {
        let _ = write!(refused, " {kind} {n},");
    }
    println!(
        "fuzz_inputs: {} cases ({} scenario, {} series) in {:.1} s: {} accepted and run \
         ({} intervals played), refused:{}",
        tally.cases,
        tally.scenario_cases,
        tally.series_cases,
        started.elapsed().as_secs_f64(),
        tally.accepted,
        tally.intervals,
        refused.trim_end_matches(',')
    );
    if tally.failures.is_empty() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        panic!(
            "{} failing case(s):\n{}",
            tally.failures.len(),
            tally.failures.join("\n")
        );
    }
}
