//! The contract is an API boundary, checked as a test rather than a review
//! rule: the contract crate links none of the twin's data stack (arrow,
//! parquet, csv, toml, schemars), and the policies link no arrow, parquet
//! or csv — so a policy, the live bridge and the viewer can use them without
//! the twin. `cargo tree` over normal dependencies (what a user of the crate
//! links) tells.

use std::process::Command;

/// The crates `package` links, one name per line.
fn linked(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--package",
            package,
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{lib}",
            "--offline",
            "--locked",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim().trim_end_matches(" (*)").to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn assert_free_of(package: &str, banned: &[&str]) {
    let crates = linked(package);
    assert!(crates.len() > 3, "{package}: {crates:?}");
    let found: Vec<&String> = crates
        .iter()
        .filter(|c| {
            banned
                .iter()
                .any(|b| c.as_str() == *b || c.starts_with(&format!("{b}_")))
        })
        .collect();
    assert!(found.is_empty(), "{package} links {found:?}");
}

#[test]
fn the_contract_links_only_the_engine_serde_and_chrono_of_what_matters() {
    assert_free_of(
        "hcp-contract",
        &["arrow", "parquet", "csv", "toml", "schemars", "hcp_models"],
    );
    let crates = linked("hcp-contract");
    for needed in ["hcp_engine", "serde", "chrono"] {
        assert!(crates.iter().any(|c| c == needed), "{crates:?}");
    }
}

#[test]
fn the_policies_link_the_contract_and_not_the_twin() {
    assert_free_of("hcp-policies", &["arrow", "parquet", "csv", "hcp_models"]);
    assert!(linked("hcp-policies").iter().any(|c| c == "hcp_contract"));
}

#[test]
fn the_drivers_link_neither_the_twin_nor_the_virtual_fleet() {
    assert_free_of(
        "hcp-devices",
        &[
            "arrow",
            "parquet",
            "csv",
            "hcp_models",
            "hcp_fleet",
            "hcp_scenarios",
            "hcp_reports",
        ],
    );
    let crates = linked("hcp-devices");
    for needed in ["hcp_contract", "asic_rs", "nvml_wrapper"] {
        assert!(
            crates.iter().any(|c| c == needed),
            "hcp-devices should use {needed}: {crates:?}"
        );
    }
}

#[test]
fn the_bridge_links_the_policies_and_drivers_but_not_the_twin_or_the_fleet() {
    assert_free_of(
        "hcp-bridge",
        &[
            "arrow",
            "parquet",
            "hcp_models",
            "hcp_fleet",
            "hcp_scenarios",
            "hcp_reports",
        ],
    );
    let crates = linked("hcp-bridge");
    for needed in [
        "hcp_contract",
        "hcp_policies",
        "hcp_devices",
        "prometheus_client",
        "axum",
    ] {
        assert!(
            crates.iter().any(|c| c == needed),
            "hcp-bridge should use {needed}: {crates:?}"
        );
    }
}
