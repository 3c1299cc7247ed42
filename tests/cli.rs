//! The `hcp` binary as a user runs it: commands, `--json` contracts, errors.

use std::process::Command;

fn hcp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(args)
        .output()
        .expect("the hcp binary runs")
}

#[test]
fn bench_engine_json_has_the_documented_fields() {
    let out = hcp(&[
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
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
    assert!(
        help.contains("validate") && help.contains("bench"),
        "{help}"
    );
    assert!(!help.contains("sweep"), "sweep does not exist yet: {help}");
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
    let out = hcp(&["bench", "tape", "--days", "7", "--repeats", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["intervals"], 7 * 288);
    assert_eq!(doc["price_nodes"], 3);
    assert!(doc["jobs"].as_u64().unwrap() >= 7 * 10_000);
    for field in ["tape_ms", "market_ms", "grid_ms", "demand_ms", "tape_bytes"] {
        assert!(doc[field].as_f64().unwrap() > 0.0, "{field}");
    }
}

#[test]
fn bench_twin_json_has_the_documented_fields() {
    let out = hcp(&[
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
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
