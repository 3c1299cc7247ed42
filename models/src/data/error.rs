//! The error every loader returns: which file, where in it, and what is wrong.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (an empty file, a missing column).
    File,
    /// A column as a whole.
    Column(String),
    /// One cell of a CSV file: its 1-based line (the header is line 1) and
    /// the column's name.
    Cell {
        /// 1-based line.
        line: usize,
        /// The column's header.
        column: String,
    },
    /// A whole line of a CSV file, 1-based.
    Line(usize),
    /// One cell of a Parquet file: its 1-based row and the column's name.
    RowCell {
        /// 1-based row.
        row: usize,
        /// The column's name.
        column: String,
    },
    /// A whole row of a Parquet file, 1-based.
    Row(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Column(column) => write!(f, "column '{column}': "),
            Location::Cell { line, column } => write!(f, "line {line}, column '{column}': "),
            Location::Line(line) => write!(f, "line {line}: "),
            Location::RowCell { row, column } => write!(f, "row {row}, column '{column}': "),
            Location::Row(row) => write!(f, "row {row}: "),
        }
    }
}

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file was read but its content is not usable.
    #[error("{}: {location}{problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where the problem is.
        location: Location,
        /// A plain sentence saying what is wrong.
        problem: String,
    },
}

impl DataError {
    /// A problem with the file as a whole.
    pub fn file(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.into(),
            location: Location::File,
            problem: problem.into(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        match self {
            DataError::Io { path, .. } | DataError::Invalid { path, .. } => path,
        }
    }
}
