//! The `hcp` binary as a user runs it: commands, `--json` contracts, errors.

use std::process::Command;

fn hcp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(args)
        .output()
        .expect("the hcp binary runs")
}

/// The one JSON document a successful `hcp` command prints on stdout.
fn hcp_json(args: &[&str]) -> serde_json::Value {
    let out = hcp(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
fn bench_engine_json_has_the_documented_fields() {
    let doc = hcp_json(&[
        "bench",
        "engine",
        "--customers",
        "20000",
        "--repeats",
        "1",
        "--hold-pending",
        "10,1000",
        "--hold-events",
        "5000",
        "--json",
    ]);
    for field in [
        "events_per_sec",
        "baseline_events_per_sec",
        "ratio",
        "peak_rss_bytes",
        "customers",
    ] {
        assert!(doc.get(field).is_some(), "missing {field} in {doc}");
    }
    assert_eq!(doc["customers"], 20_000);
    assert_eq!(doc["events"], 40_000);
    assert_eq!(doc["identical_results"], true);
    assert!(doc["events_per_sec"].as_f64().unwrap() > 0.0);
    let ratio = doc["ratio"].as_f64().unwrap();
    let eps = doc["events_per_sec"].as_f64().unwrap();
    let base = doc["baseline_events_per_sec"].as_f64().unwrap();
    assert!((ratio - eps / base).abs() < 1e-9 * ratio);
    let hold = doc["hold"].as_array().expect("hold results");
    assert_eq!(hold.len(), 2);
    assert_eq!(hold[1]["pending"], 1000);
    assert_eq!(hold[1]["events"], 5000);
    assert_eq!(hold[1]["identical_results"], true);
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let out = hcp(&["bench", "engine", "--customers", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--customers must be at least 1"), "{err}");

    let out = hcp(&["bench", "engine", "--customers", "many"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'many'"), "{err}");
}

#[test]
fn there_are_no_placeholder_commands() {
    let out = hcp(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "validate",
        "calibrate",
        "sweep",
        "report",
        "schema",
        "bench",
        "fleet",
        "bridge",
        "view",
    ] {
        assert!(help.contains(command), "no {command}: {help}");
    }
}

#[test]
fn empty_hold_benchmarks_are_refused() {
    let out = hcp(&["bench", "engine", "--hold-pending", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--hold-pending sizes must be at least 1"),
        "{err}"
    );
}

#[test]
fn validate_market_json_is_an_array_of_checks_that_pass() {
    let out = hcp(&["validate", "market", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert!(checks.len() >= 10);
    for check in &checks {
        for field in [
            "group",
            "name",
            "value",
            "reference",
            "tolerance",
            "pass",
            "unit",
            "source",
        ] {
            assert!(check.get(field).is_some(), "missing {field} in {check}");
        }
        assert_eq!(check["pass"], true, "{check}");
    }
    // The hashprice formula on a cited day is among them.
    assert!(
        checks
            .iter()
            .any(|c| c["group"] == "market/hashprice" && c["name"] == "2025-12-01")
    );
}

#[test]
fn validate_refuses_a_missing_data_folder() {
    let out = hcp(&["validate", "grid", "--data", "/nonexistent/data"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the data folder /nonexistent/data does not exist"),
        "{err}"
    );
}

#[test]
fn calibrate_prints_a_toml_block_a_world_section_reads() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/azure_llm_inference_2023_code.csv"
    );
    let out = hcp(&["calibrate", "requests", data, "--name", "code"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[[demand.requests.services]]"), "{text}");
    let block: toml::Table = toml::from_str(&text).expect("valid TOML");
    let service = &block["demand"]["requests"]["services"][0];
    assert_eq!(service["name"].as_str(), Some("code"));
    // 8,819 requests over about an hour: ≈ 2.45 requests/s.
    let rate = service["stream"]["mean_rate_per_s"].as_float().unwrap();
    assert!((2.2..2.7).contains(&rate), "{rate}");
}

#[test]
fn calibrate_names_the_file_and_the_problem_on_bad_input() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/btc_price_daily_2016-2026.csv"
    );
    let out = hcp(&["calibrate", "grid", data, "--node", "HB_WEST"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("btc_price_daily_2016-2026.csv: unknown layout"),
        "{err}"
    );
    assert!(!err.contains("backtrace"), "{err}");
}

#[test]
fn bench_tape_json_has_the_documented_fields() {
    let doc = hcp_json(&["bench", "tape", "--days", "7", "--repeats", "1", "--json"]);
    assert_eq!(doc["intervals"], 7 * 288);
    assert_eq!(doc["price_nodes"], 3);
    assert!(doc["jobs"].as_u64().unwrap() >= 7 * 10_000);
    for field in ["tape_ms", "market_ms", "grid_ms", "demand_ms", "tape_bytes"] {
        assert!(doc[field].as_f64().unwrap() > 0.0, "{field}");
    }
}

#[test]
fn bench_twin_json_has_the_documented_fields() {
    let doc = hcp_json(&[
        "bench",
        "twin",
        "--scenario",
        "all",
        "--days",
        "2",
        "--repeats",
        "1",
        "--json",
    ]);
    let runs = doc.as_array().expect("one report per scenario");
    assert_eq!(runs.len(), 2);
    for (run, scenario, gpus, asics) in [
        (&runs[0], "reference", 1_152, 38_000),
        (&runs[1], "design-scale", 50_000, 250_000),
    ] {
        for field in [
            "scenario",
            "simulated_days",
            "wall_s",
            "events",
            "peak_rss_bytes",
            "jobs",
            "events_per_s",
        ] {
            assert!(run.get(field).is_some(), "missing {field} in {run}");
        }
        assert_eq!(run["scenario"], scenario);
        assert_eq!(run["simulated_days"], 2);
        assert_eq!(run["intervals"], 2 * 288);
        assert_eq!(run["gpus"], gpus);
        assert_eq!(run["asics"], asics);
        assert!(run["events"].as_u64().unwrap() > run["jobs"].as_u64().unwrap());
        assert!(run["wall_s"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(runs[1]["cap_mw"], 1_000.0);
    assert!(runs[0]["jobs"].as_u64().unwrap() > 2 * 10_000);
}

#[test]
fn validate_plant_checks_pass() {
    let out = hcp(&["validate", "plant", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(checks.len() >= 30, "{} checks", checks.len());
    assert!(
        checks
            .iter()
            .all(|c| c["group"] == "plant" && c["pass"] == true)
    );
    assert!(
        checks
            .iter()
            .any(|c| c["name"].as_str().unwrap().contains("breakeven"))
    );
}

/// A two-day scenario file for sweep tests.
fn small_scenario(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("small.toml");
    std::fs::write(
        &path,
        "name = \"small\"\n[world]\ndays = 2\n[sweep]\nreplications = 3\ndetail_replications = 1\n",
    )
    .unwrap();
    path
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hcp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `dir` but the shard manifests (which say who wrote
/// what, and differ by design), relative path → bytes, sorted.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "manifests") {
                    continue;
                }
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn sweep(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    all.push("--json");
    hcp_json(&all)
}

#[test]
fn sweep_is_identical_at_any_thread_count_and_any_sharding() {
    let base = temp_dir("sweep-det");
    let scenario = small_scenario(&base);
    let s = scenario.to_str().unwrap();
    let one = base.join("one");
    let two = base.join("two");
    let sharded = base.join("sharded");
    let a = sweep(&[s, "--threads", "1", "--out", one.to_str().unwrap()]);
    let b = sweep(&[s, "--threads", "2", "--out", two.to_str().unwrap()]);
    sweep(&[s, "--shard", "2/2", "--out", sharded.to_str().unwrap()]);
    let c = sweep(&[s, "--shard", "1/2", "--out", sharded.to_str().unwrap()]);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let files_one = files(&one);
    assert!(files_one.iter().any(|(p, _)| p.starts_with("runs")));
    assert!(files_one.iter().any(|(p, _)| p.starts_with("intervals")));
    assert_eq!(files_one, files(&two));
    assert_eq!(files_one, files(&sharded));
    // The summary pairs every policy with mining-only over 3 replications.
    assert_eq!(a["replications"], 3);
    let policies = a["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 6);
    assert_eq!(policies[0]["policy"], "mining-only");
    // The oracle bounds every run: % of oracle never above 100, regret
    // never negative, and the two agree with the bound's mean.
    let oracle = a["oracle_usd"]["mean"].as_f64().unwrap();
    for p in policies {
        let worst = p["worst_pct_of_oracle"].as_f64().unwrap();
        let pct = p["pct_of_oracle"]["mean"].as_f64().unwrap();
        assert!(worst <= pct && pct <= 100.0, "{p}");
        let regret = p["regret_usd"]["mean"].as_f64().unwrap();
        let profit = p["profit_usd"]["mean"].as_f64().unwrap();
        assert!(regret >= 0.0, "{p}");
        assert!(
            (profit + regret - oracle).abs() < 1e-6 * oracle.abs(),
            "{p}"
        );
    }
    assert!(policies[0]["uplift_usd"].is_null());
    for p in &policies[1..] {
        let uplift = &p["uplift_usd"];
        assert_eq!(uplift["n"], 3);
        let mean = uplift["mean"].as_f64().unwrap();
        let profit = p["profit_usd"]["mean"].as_f64().unwrap();
        let base_profit = policies[0]["profit_usd"]["mean"].as_f64().unwrap();
        assert!((mean - (profit - base_profit)).abs() < 1e-6 * profit.abs().max(1.0));
    }
    // The clairvoyant reference runs last and splits mpc's regret: the two
    // parts add up to the regret the mpc row reports.
    assert_eq!(policies[5]["policy"], "mpc-clairvoyant");
    let split = &a["mpc_regret_split"];
    let part = |k: &str| split[k]["mean"].as_f64().unwrap();
    let mpc_regret = policies[4]["regret_usd"]["mean"].as_f64().unwrap();
    assert!((part("regret_usd") - mpc_regret).abs() < 1e-6 * oracle.abs());
    assert!(
        (part("forecast_error_usd") + part("structure_and_relaxation_usd") - mpc_regret).abs()
            < 1e-6 * oracle.abs(),
        "{split}"
    );
    assert!(policies[5]["pct_of_clairvoyant"].is_null());
    assert_eq!(policies[4]["pct_of_clairvoyant"]["n"], 3);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_resumed_sweep_completes_what_was_lost() {
    let base = temp_dir("sweep-resume");
    let scenario = small_scenario(&base);
    let s = scenario.to_str().unwrap();
    let full = base.join("full");
    let cut = base.join("cut");
    let a = sweep(&[s, "--out", full.to_str().unwrap()]);
    sweep(&[s, "--out", cut.to_str().unwrap()]);
    // Lose replication 2's runs file, as if the sweep had been killed.
    let lost = cut.join("runs/scenario=small/part-r00002.parquet");
    std::fs::remove_file(&lost).unwrap();
    std::fs::write(
        cut.join("runs/scenario=small/part-r00002.parquet.tmp"),
        b"half",
    )
    .unwrap();
    let b = sweep(&[s, "--resume", "--out", cut.to_str().unwrap()]);
    assert!(lost.is_file());
    assert_eq!(a, b);
    let kept: Vec<_> = files(&cut)
        .into_iter()
        .filter(|(p, _)| {
            std::path::Path::new(p)
                .extension()
                .is_none_or(|e| e != "tmp")
        })
        .collect();
    assert_eq!(files(&full), kept);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn sweep_refuses_bad_arguments_with_a_message() {
    let base = temp_dir("sweep-bad");
    let scenario = small_scenario(&base);
    let s = scenario.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["sweep", s, "--shard", "3/2"],
            "i must lie between 1 and N",
        ),
        (&["sweep", s, "--replications", "0"], "at least 1"),
        (&["sweep", "no-such-scenario"], "reference"),
        (
            &["sweep", s, "--policies", "mining-only,oracle9"],
            "breakeven",
        ),
        (&["sweep", s, "--out", "/dev/null/out"], "/dev/null/out"),
    ];
    for (args, expected) in cases {
        let out = hcp(args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn schema_describes_scenario_files() {
    let out = hcp(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["world", "plant", "sweep", "policies", "forecaster"] {
        assert!(
            schema["properties"].get(key).is_some(),
            "no {key} in the schema"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
}

/// Width and height of a PNG, decoding every pixel.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG pixels decode");
    (info.width, info.height)
}

#[test]
fn sweep_writes_a_report_that_is_complete_and_self_contained() {
    let base = temp_dir("report");
    let scenario = small_scenario(&base);
    let out = base.join("out");
    let o = out.to_str().unwrap();
    sweep(&[scenario.to_str().unwrap(), "--threads", "2", "--out", o]);
    let report = out.join("report");
    let first = files(&report);
    // `hcp report` on the same files writes the same bytes.
    let doc = hcp_json(&["report", o, "--json"]);
    assert_eq!(first, files(&report));
    let written = doc["files"].as_array().unwrap();
    let scenarios = doc["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0]["scenario"], "small");
    assert!(scenarios[0]["notes"].as_array().unwrap().is_empty());
    let figures = scenarios[0]["figures"].as_array().unwrap();
    let names: Vec<&str> = figures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for expected in [
        "profit",
        "uplift",
        "cumulative",
        "power-",
        "hashprice",
        "sla",
    ] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(&format!("small-{expected}"))),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(written.len(), 2 * figures.len() + 2);
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for f in figures {
        let name = f["name"].as_str().unwrap();
        let svg = std::fs::read_to_string(report.join(format!("{name}.svg"))).unwrap();
        assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        let png = std::fs::read(report.join(format!("{name}.png"))).unwrap();
        let (w, h) = png_size(&png);
        assert!(
            (1000..=1400).contains(&w) && (500..=800).contains(&h),
            "{name}: {w}×{h}"
        );
        // The title states a computed finding and the page shows it.
        let title = f["title"].as_str().unwrap();
        assert!(!title.is_empty());
        assert!(html.contains(f["finding"].as_str().unwrap()));
    }
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        figures.len()
    );
    for external in ["src=\"http", "<link", "<script", "href=\"http", "url("] {
        assert!(!html.contains(external), "{external} in index.html");
    }
    // summary.md's numbers are those of the runs table.
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    let runs = hcp_reports::read_runs(&out).unwrap();
    assert_eq!(
        runs.len(),
        3 * 6,
        "3 replications of the 6 default policies"
    );
    for policy in ["mining-only", "breakeven", "mpc"] {
        let profits: Vec<f64> = runs
            .iter()
            .filter(|r| r.policy == policy)
            .map(|r| r.profit_usd)
            .collect();
        let mean = profits.iter().sum::<f64>() / profits.len() as f64;
        let cell = format!("| {policy} | {} [", hcp_reports::report::stats::musd(mean));
        assert!(md.contains(&cell), "{cell} not in summary.md:\n{md}");
        let listed = &doc["scenarios"][0]["summary"]["policies"];
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["policy"] == policy)
            .unwrap();
        let json_mean = entry["profit_usd"]["mean"].as_f64().unwrap();
        assert!((json_mean - mean).abs() <= 1e-9 * mean.abs().max(1.0));
    }
    for f in figures {
        assert!(md.contains(&format!("{}.png", f["name"].as_str().unwrap())));
    }
    assert!(md.contains("3 replications (0, 1, 2), master seed"));
    // --no-report leaves no report folder.
    let no_report = base.join("no-report");
    sweep(&[
        scenario.to_str().unwrap(),
        "--no-report",
        "--out",
        no_report.to_str().unwrap(),
    ]);
    assert!(!no_report.join("report").exists());
    let _ = std::fs::remove_dir_all(&base);
}

/// Rewrites a Parquet file with `hcp.schema_version` set to `version`,
/// keeping only the columns `keep` accepts.
fn rewrite_parquet(path: &std::path::Path, version: &str, keep: impl Fn(&str) -> bool) {
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<arrow_array::RecordBatch> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let indices: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| keep(schema.field(i).name()))
        .collect();
    let batches: Vec<_> = batches
        .iter()
        .map(|b| b.project(&indices).unwrap())
        .collect();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "hcp.schema_version".into(),
            version.to_owned(),
        )]))
        .build();
    let out = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(out, batches[0].schema(), Some(props)).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn report_says_plainly_what_is_wrong_with_its_input() {
    let base = temp_dir("report-bad");
    // Not a sweep's output.
    let empty = base.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let r = hcp(&["report", empty.to_str().unwrap()]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("no runs/ table under") && err.contains("hcp sweep --out"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // A partial sweep: replication 2's runs file lost, a .tmp left over.
    let scenario = small_scenario(&base);
    let out = base.join("out");
    let o = out.to_str().unwrap();
    sweep(&[scenario.to_str().unwrap(), "--no-report", "--out", o]);
    let runs = out.join("runs/scenario=small");
    std::fs::remove_file(runs.join("part-r00002.parquet")).unwrap();
    std::fs::write(runs.join("part-r00002.parquet.tmp"), b"half").unwrap();
    let doc = hcp_json(&["report", o, "--json"]);
    let s = &doc["scenarios"][0];
    assert_eq!(s["replications"], serde_json::json!([0, 1]));
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("replications 2 have invoices but no runs file"),
        "{notes}"
    );
    assert!(notes.contains("part-r00002.parquet.tmp"), "{notes}");
    let md = std::fs::read_to_string(out.join("report/summary.md")).unwrap();
    assert!(md.contains("What is missing"));
    // A truncated runs file is named and left out; the rest is reported.
    std::fs::write(runs.join("part-r00001.parquet"), b"PAR1 not really").unwrap();
    let doc = hcp_json(&["report", o, "--json"]);
    let notes = doc["scenarios"][0]["notes"].to_string();
    assert!(
        notes.contains("replication 1 left out") && notes.contains("part-r00001.parquet"),
        "{notes}"
    );
    // Older intervals (schema 1: no GPU revenue columns) and a runs file
    // of an unknown version: said so, and reported as far as possible.
    let intervals = out.join("intervals/scenario=small/policy=mining-only/part-r00000.parquet");
    rewrite_parquet(&intervals, "1", |c| {
        !(c.starts_with("gpu_") && c.ends_with("_usd"))
    });
    rewrite_parquet(&runs.join("part-r00000.parquet"), "99", |_| true);
    let doc = hcp_json(&["report", o, "--json"]);
    let s = &doc["scenarios"][0];
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("hcp.schema_version 99, unknown to this build"),
        "{notes}"
    );
    assert!(notes.contains("older hcp.schema_version 1"), "{notes}");
    let cumulative = s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "small-cumulative")
        .unwrap();
    assert!(
        cumulative["finding"]
            .as_str()
            .unwrap()
            .contains("schema version 1")
    );
    // No runs file readable at all: an error naming the folder.
    std::fs::remove_file(runs.join("part-r00000.parquet")).unwrap();
    let r = hcp(&["report", o]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("no readable runs file") && err.contains("runs"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&base);
}

/// Total bytes of the files under `dir`.
fn bytes_under(dir: &std::path::Path) -> usize {
    files(dir).iter().map(|(_, b)| b.len()).sum()
}

#[test]
fn a_failed_write_keeps_what_was_finished_and_resume_completes_it() {
    let base = temp_dir("sweep-full-disk");
    let scenario = small_scenario(&base);
    let s = scenario.to_str().unwrap();
    let full = base.join("full");
    let args = |out: &std::path::Path| {
        vec![
            "sweep".to_owned(),
            s.to_owned(),
            "--threads".to_owned(),
            "1".to_owned(),
            "--no-report".to_owned(),
            "--json".to_owned(),
            "--out".to_owned(),
            out.display().to_string(),
        ]
    };
    let run = |extra: &[&str], out: &std::path::Path| {
        let mut all = args(out);
        all.extend(extra.iter().map(|e| (*e).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        hcp(&refs)
    };
    let single = run(&[], &full);
    assert!(single.status.success());
    // A disk too small for the whole sweep: a tmpfs of about half its size
    // where the system lets us mount one (root), else a folder we may not
    // write (anyone else).
    let tight = base.join("tight");
    std::fs::create_dir_all(&tight).unwrap();
    let half_kib = (bytes_under(&full) / 2 / 1024).max(64);
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={half_kib}k"), "tmpfs"])
        .arg(&tight)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tight, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let out = tight.join("out");
    let failed = run(&[], &out);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(75), "{err}");
    assert!(err.contains(&tight.display().to_string()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    if mounted {
        assert!(err.contains("No space left on device"), "{err}");
    }
    // What was written is whole: no temporary file, every part readable.
    let written = if out.exists() {
        files(&out)
    } else {
        Vec::new()
    };
    assert!(
        written.iter().all(|(p, _)| std::path::Path::new(p)
            .extension()
            .is_none_or(|e| e != "tmp")),
        "{written:?}"
    );
    if mounted {
        let status = hcp(&["sweep", "status", out.to_str().unwrap(), "--json"]);
        let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(status.status.code(), Some(1), "{doc}");
        assert_eq!(doc[0]["verdict"], "incomplete");
        assert!(doc[0]["problems"].as_array().unwrap().is_empty(), "{doc}");
        assert!(doc[0]["present"].as_u64().unwrap() < 3, "{doc}");
    }
    // The cause fixed, --resume completes the sweep to the same bytes.
    if mounted {
        let grown = std::process::Command::new("mount")
            .args(["-o", "remount,size=64m"])
            .arg(&tight)
            .status()
            .unwrap();
        assert!(grown.success());
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tight, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let resumed = run(&["--resume"], &out);
    let resumed_err = String::from_utf8_lossy(&resumed.stderr).into_owned();
    let same_files = files(&out) == files(&full);
    let same_summary = resumed.stdout == single.stdout;
    if mounted {
        let _ = std::process::Command::new("umount").arg(&tight).status();
    }
    assert!(resumed.status.success(), "{resumed_err}");
    assert!(
        same_files,
        "the resumed sweep's files differ from a single run"
    );
    assert!(same_summary);
    let _ = std::fs::remove_dir_all(&base);
}
