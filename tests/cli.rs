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
