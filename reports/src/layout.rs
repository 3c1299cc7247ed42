//! Where each table's files live: hive partitions `scenario=<s>` (and
//! `policy=<p>` for the per-run tables) and one `part-r<replication:05>.parquet`
//! per replication, so a killed sweep loses only files it had not finished
//! and a resumed one can tell what is done from the files alone.

use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// The tables of the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputTable {
    /// One row per (scenario, replication, policy).
    Runs,
    /// One row per site per market interval.
    Intervals,
    /// One row per GPU switch batch.
    Switches,
    /// One row per clipped action.
    Clips,
    /// One row per customer per billing month.
    Invoices,
}

impl OutputTable {
    /// Every table.
    pub const ALL: [OutputTable; 5] = [
        OutputTable::Runs,
        OutputTable::Intervals,
        OutputTable::Switches,
        OutputTable::Clips,
        OutputTable::Invoices,
    ];

    /// The table's folder name under the output folder.
    pub fn name(self) -> &'static str {
        match self {
            OutputTable::Runs => "runs",
            OutputTable::Intervals => "intervals",
            OutputTable::Switches => "switches",
            OutputTable::Clips => "clips",
            OutputTable::Invoices => "invoices",
        }
    }

    /// The table's schema (see [`crate::schema`]).
    pub fn schema(self) -> arrow_schema::SchemaRef {
        match self {
            OutputTable::Runs => crate::schema::runs(),
            OutputTable::Intervals => crate::schema::intervals(),
            OutputTable::Switches => crate::schema::switches(),
            OutputTable::Clips => crate::schema::clips(),
            OutputTable::Invoices => crate::schema::invoices(),
        }
    }
}

/// Checks that `name` can be a partition value: non-empty, letters,
/// digits, `-`, `_` and `.`, not starting with `.`.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), ReportError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ReportError::Name {
            what,
            name: name.to_owned(),
        })
    }
}

/// The partition folder of `scenario`'s `runs` files.
pub(crate) fn runs_folder(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(OutputTable::Runs.name())
        .join(format!("scenario={scenario}"))
}

/// The file name of a replication's part.
pub(crate) fn part_name(replication: u64) -> String {
    format!("part-r{replication:05}.parquet")
}

/// The replication a finished part's file name stands for, if it is one
/// (`part-r<digits>.parquet`; a `.tmp` is not).
pub(crate) fn parse_part_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("part-r")?.strip_suffix(".parquet")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The file a table's part goes to: `runs` ignores `policy`; the per-run
/// tables are partitioned by scenario and policy.
///
/// # Errors
/// A scenario or policy name that cannot be a partition value.
pub fn part_path(
    dir: &Path,
    table: OutputTable,
    scenario: &str,
    policy: &str,
    replication: u64,
) -> Result<PathBuf, ReportError> {
    check_name("scenario", scenario)?;
    let folder = if table == OutputTable::Runs {
        runs_folder(dir, scenario)
    } else {
        check_name("policy", policy)?;
        dir.join(table.name())
            .join(format!("scenario={scenario}"))
            .join(format!("policy={policy}"))
    };
    Ok(folder.join(part_name(replication)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_round_trip_and_reject_temporaries() {
        assert_eq!(part_name(7), "part-r00007.parquet");
        assert_eq!(parse_part_name("part-r00007.parquet"), Some(7));
        assert_eq!(parse_part_name("part-r123456.parquet"), Some(123_456));
        assert_eq!(parse_part_name("part-r00007.parquet.tmp"), None);
        assert_eq!(parse_part_name("part-r.parquet"), None);
        assert_eq!(parse_part_name("part-r0x1.parquet"), None);
    }

    #[test]
    fn partition_names_are_checked() {
        assert!(check_name("policy", "seed-threshold").is_ok());
        assert!(check_name("scenario", "ercot-2021-uri").is_ok());
        for bad in ["", "..", ".hidden", "a/b", "a b", "x=y"] {
            let e = check_name("scenario", bad).unwrap_err().to_string();
            assert!(e.contains("scenario name"), "{bad}: {e}");
        }
        let p = part_path(
            Path::new("out"),
            OutputTable::Switches,
            "reference",
            "mpc",
            3,
        )
        .unwrap();
        assert_eq!(
            p,
            Path::new("out/switches/scenario=reference/policy=mpc/part-r00003.parquet")
        );
        let p = part_path(Path::new("out"), OutputTable::Runs, "reference", "", 3).unwrap();
        assert_eq!(
            p,
            Path::new("out/runs/scenario=reference/part-r00003.parquet")
        );
    }
}
