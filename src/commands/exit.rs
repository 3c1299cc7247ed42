//! Exit codes a scheduler can act on. `hcp sweep` exits 0 when its work is
//! done, [`PERMANENT`] (2) for errors a retry cannot fix (a bad scenario or
//! flag, an output folder holding another sweep, a schema mismatch — a
//! Kubernetes `podFailurePolicy` fails the Job on it), [`TERMINATED`] (143)
//! when SIGTERM or SIGINT stopped it cleanly, [`IO`] (75, `EX_TEMPFAIL`)
//! when the file system failed, and 1 for anything else; every code but 0
//! and 2 is worth a retry.

use std::fmt;

/// An error no retry can fix.
pub const PERMANENT: u8 = 2;
/// An I/O failure (full disk, unwritable folder): retry once it is fixed.
pub const IO: u8 = 75;
/// Stopped by SIGTERM or SIGINT, cleanly: rerun to complete.
pub const TERMINATED: u8 = 143;

/// Marks an error as one a retry cannot fix.
#[derive(Debug)]
pub struct Permanent(anyhow::Error);

impl Permanent {
    /// A permanent error with this message.
    pub fn message(message: impl fmt::Display) -> anyhow::Error {
        anyhow::Error::new(Permanent(anyhow::anyhow!("{message}")))
    }

    /// Marks `error` permanent.
    pub fn wrap(error: impl Into<anyhow::Error>) -> anyhow::Error {
        anyhow::Error::new(Permanent(error.into()))
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Permanent {}

/// The sweep stopped on a signal after writing what had finished.
#[derive(Debug)]
pub struct Terminated {
    /// Replications written in this process.
    pub done: usize,
    /// Replications of its plan left to run.
    pub left: usize,
}

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stopped by a signal: {} replications written, {} left; run the same command again to complete it",
            self.done, self.left
        )
    }
}

impl std::error::Error for Terminated {}

/// Exits with a given code after printing nothing more (status verdicts).
#[derive(Debug)]
pub struct Verdict(pub u8);

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Verdict {}

/// The exit code of a failed command.
pub fn code(error: &anyhow::Error) -> u8 {
    if let Some(v) = error.downcast_ref::<Verdict>() {
        return v.0;
    }
    if error.downcast_ref::<Terminated>().is_some() {
        return TERMINATED;
    }
    if error.downcast_ref::<Permanent>().is_some() {
        return PERMANENT;
    }
    for cause in error.chain() {
        if let Some(report) = cause.downcast_ref::<hcp_reports::ReportError>() {
            return match report {
                hcp_reports::ReportError::Io { .. } | hcp_reports::ReportError::Parquet { .. } => {
                    IO
                }
                _ => PERMANENT,
            };
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return IO;
        }
    }
    1
}
