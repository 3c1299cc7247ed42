//! `hcp schema`: the JSON Schema of scenario files, generated from the
//! types the loader reads, so editors can complete and check scenarios.

use anyhow::Result;

/// Prints the schema on stdout.
pub fn run() -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(&hcp_scenarios::json_schema())?
    );
    Ok(())
}
