//! The golden test: a small fixed scenario (`tests/golden/scenario.toml`,
//! four days of the reference fleet, two replications, every policy) whose
//! `hcp sweep --json` summary and the SHA-256 of every file it writes are
//! stored in `tests/golden/expected.json`. Any change to a number the twin,
//! a policy or a writer produces fails here. To accept a change on purpose:
//!
//! ```text
//! HCP_UPDATE_GOLDEN=1 cargo test --test golden
//! ```
//!
//! and say in the commit why the numbers moved. The Parquet files' build
//! provenance (`hcp.git_revision`) is masked before hashing; the stored
//! digests assume a build from a git checkout (a 12-character revision).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every file under `dir`, by its path relative to `dir` (`/`-separated).
fn files(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        // Shard manifests say who wrote what (tested by .ci/k8s-indexed and
        // .ci/slurm-sweep); the golden bytes are the dataset's.
        if path.is_dir() && path.file_name().is_some_and(|n| n == "manifests") {
            continue;
        }
        if path.is_dir() {
            files(&path, base, out);
        } else {
            let bytes = without_revision(std::fs::read(&path).unwrap());
            let rel = path.strip_prefix(base).unwrap();
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let digest = Sha256::digest(&bytes);
            let hex = digest.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
            out.insert(key, hex);
        }
    }
}

/// The file's bytes with the build's git revision (Parquet's
/// `hcp.git_revision` provenance, which changes at every commit) replaced
/// by zeros of the same length, so the digest covers everything else.
fn without_revision(mut bytes: Vec<u8>) -> Vec<u8> {
    let revision = env!("HCP_GIT_REVISION").as_bytes();
    if revision.is_empty() {
        return bytes;
    }
    let mut i = 0;
    while i + revision.len() <= bytes.len() {
        if &bytes[i..i + revision.len()] == revision {
            bytes[i..i + revision.len()].fill(b'0');
            i += revision.len();
        } else {
            i += 1;
        }
    }
    bytes
}

#[test]
fn the_golden_scenario_writes_the_stored_summary_and_bytes() {
    let out = std::env::temp_dir().join(format!("hcp-golden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let scenario = golden_dir().join("scenario.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args([
            "sweep",
            scenario.to_str().unwrap(),
            "--no-report",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut hashes = BTreeMap::new();
    files(&out, &out, &mut hashes);
    let _ = std::fs::remove_dir_all(&out);
    assert!(hashes.len() >= 20, "{hashes:?}");
    let actual = serde_json::json!({ "summary": summary, "sha256": hashes });
    let expected_path = golden_dir().join("expected.json");
    if std::env::var_os("HCP_UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&expected_path, text).unwrap();
        return;
    }
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&expected_path)
            .expect("tests/golden/expected.json (HCP_UPDATE_GOLDEN=1 writes it)"),
    )
    .unwrap();
    assert!(
        actual["summary"] == expected["summary"],
        "the summary moved:\n{}",
        serde_json::to_string_pretty(&actual["summary"]).unwrap()
    );
    let (now, then) = (&actual["sha256"], &expected["sha256"]);
    let moved: Vec<&String> = hashes
        .keys()
        .filter(|k| now[k.as_str()] != then[k.as_str()])
        .collect();
    assert!(moved.is_empty(), "these files changed: {moved:?}");
    assert_eq!(now, then, "files were added or removed");
}
