//! [`ReportError`]: everything that can go wrong writing or reading the
//! dataset, each naming the file or folder concerned.

use std::path::PathBuf;

/// A failure to write or read sweep output.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The operating system refused a file or folder operation.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Parquet encoder or decoder failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        source: parquet::errors::ParquetError,
    },
    /// A file holds columns other than the table's schema says.
    #[error("{}: {problem}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// Which column and how it differs.
        problem: String,
    },
    /// A scenario or policy name that cannot be a partition folder.
    #[error(
        "{what} name {name:?} cannot name a partition: use letters, digits, '-', '_' or '.' (not first)"
    )]
    Name {
        /// "scenario" or "policy".
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// A file the reader needs is not there.
    #[error("{}: not found ({what})", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
        /// What it would have held, and why it may be missing.
        what: String,
    },
    /// The folder given to the report is not a sweep's output.
    #[error("no runs/ table under {} — is this a `hcp sweep --out` folder?", path.display())]
    NotASweep {
        /// The folder.
        path: PathBuf,
    },
    /// A figure could not be drawn.
    #[error("figure {name}: {problem}")]
    Figure {
        /// The figure's file name (without extension).
        name: String,
        /// What the plotting library said.
        problem: String,
    },
    /// Rows handed to a writer do not belong to the file being written.
    #[error("{problem}")]
    Mismatch {
        /// What does not match.
        problem: String,
    },
}

impl ReportError {
    /// An OS error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ReportError {
        let path = path.into();
        move |source| ReportError::Io { path, source }
    }

    /// A Parquet error on `path`.
    pub(crate) fn parquet(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(parquet::errors::ParquetError) -> ReportError {
        let path = path.into();
        move |source| ReportError::Parquet { path, source }
    }
}
