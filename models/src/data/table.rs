//! [`Table`]: a CSV or Parquet file read into named columns, with typed
//! accessors whose errors point at the offending cell.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use super::error::{DataError, Location};

/// One column's cells, as the file stored them.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    /// Text cells (every CSV column; Parquet string columns).
    Text(Vec<String>),
    /// Numeric cells (Parquet float and integer columns); `None` is null.
    Float(Vec<Option<f64>>),
    /// Timestamp cells without a zone (Parquet timestamp columns).
    Timestamp(Vec<Option<NaiveDateTime>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Timestamp(v) => v.len(),
        }
    }
}

/// Whether positions are CSV lines (header = line 1) or Parquet rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Csv,
    Parquet,
}

/// A file read into named columns of equal length.
///
/// Accessors convert cells on demand and fail with a [`DataError`] naming
/// the file, the line (CSV, header = line 1) or row (Parquet), the column
/// and what is wrong.
#[derive(Debug, Clone)]
pub struct Table {
    path: PathBuf,
    layout: Layout,
    headers: Vec<String>,
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// Reads a `.csv` or `.parquet` file (chosen by extension; anything else
    /// is read as CSV).
    ///
    /// # Errors
    /// The file cannot be read, is not valid CSV/Parquet, has no data rows,
    /// repeats a header or has rows of unequal length.
    pub fn read(path: &Path) -> Result<Table, DataError> {
        let is_parquet = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
        if is_parquet {
            super::parquet::read(path)
        } else {
            let bytes = std::fs::read(path).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Table::from_csv_bytes(path, &bytes)
        }
    }

    /// Parses CSV text; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn from_csv_bytes(path: &Path, bytes: &[u8]) -> Result<Table, DataError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(path, &e))?
            .iter()
            .map(str::to_owned)
            .collect();
        let mut columns: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {
                    for (column, cell) in columns.iter_mut().zip(record.iter()) {
                        column.push(cell.to_owned());
                    }
                }
                Ok(false) => break,
                Err(e) => return Err(csv_error(path, &e)),
            }
        }
        Table::new(
            path,
            Layout::Csv,
            headers,
            columns.into_iter().map(Column::Text).collect(),
        )
    }

    pub(crate) fn from_parquet_columns(
        path: &Path,
        headers: Vec<String>,
        columns: Vec<Column>,
    ) -> Result<Table, DataError> {
        Table::new(path, Layout::Parquet, headers, columns)
    }

    fn new(
        path: &Path,
        layout: Layout,
        headers: Vec<String>,
        columns: Vec<Column>,
    ) -> Result<Table, DataError> {
        if headers.is_empty() {
            return Err(DataError::file(path, "the file has no columns"));
        }
        for (i, header) in headers.iter().enumerate() {
            if header.is_empty() {
                return Err(DataError::file(
                    path,
                    format!("column {} has an empty header", i + 1),
                ));
            }
            if headers[..i].contains(header) {
                return Err(DataError::file(
                    path,
                    format!("the header '{header}' appears twice"),
                ));
            }
        }
        let rows = columns.first().map_or(0, Column::len);
        if rows == 0 {
            return Err(DataError::file(
                path,
                "the file has a header but no data rows",
            ));
        }
        if columns.iter().any(|c| c.len() != rows) {
            return Err(DataError::file(path, "columns have different lengths"));
        }
        Ok(Table {
            path: path.to_path_buf(),
            layout,
            headers,
            columns,
            rows,
        })
    }

    /// The file this table was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Always false: a table has at least one data row.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Column names in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Whether a column of that name exists.
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// The location of a cell given its 0-based data-row index.
    pub fn cell(&self, row: usize, column: &str) -> Location {
        let column = column.to_owned();
        match self.layout {
            Layout::Csv => Location::Cell {
                line: self.line_of(row),
                column,
            },
            Layout::Parquet => Location::RowCell {
                row: self.line_of(row),
                column,
            },
        }
    }

    /// The location of a whole row given its 0-based data-row index.
    pub fn row(&self, row: usize) -> Location {
        match self.layout {
            Layout::Csv => Location::Line(self.line_of(row)),
            Layout::Parquet => Location::Row(self.line_of(row)),
        }
    }

    /// The 1-based line (CSV, header = line 1) or row (Parquet) of a 0-based
    /// data-row index.
    pub fn line_of(&self, row: usize) -> usize {
        match self.layout {
            Layout::Csv => row + 2,
            Layout::Parquet => row + 1,
        }
    }

    /// "line" for CSV files, "row" for Parquet files: how positions read.
    pub fn position_word(&self) -> &'static str {
        match self.layout {
            Layout::Csv => "line",
            Layout::Parquet => "row",
        }
    }

    /// An error at a location of this table.
    pub fn error(&self, location: Location, problem: impl Into<String>) -> DataError {
        DataError::Invalid {
            path: self.path.clone(),
            location,
            problem: problem.into(),
        }
    }

    fn column(&self, name: &str) -> Result<&Column, DataError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .map(|i| &self.columns[i])
            .ok_or_else(|| {
                self.error(
                    Location::File,
                    format!(
                        "there is no column '{name}' (columns: {})",
                        self.headers.join(", ")
                    ),
                )
            })
    }

    /// A numeric column; empty cells are an error.
    ///
    /// # Errors
    /// The column is missing, or a cell is empty or not a finite number.
    pub fn f64_column(&self, name: &str) -> Result<Vec<f64>, DataError> {
        self.optional_f64_column(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.error(self.cell(i, name), "the cell is empty")))
            .collect()
    }

    /// A numeric column where empty (or null) cells are `None`.
    ///
    /// # Errors
    /// The column is missing, or a cell is not a finite number.
    pub fn optional_f64_column(&self, name: &str) -> Result<Vec<Option<f64>>, DataError> {
        match self.column(name)? {
            Column::Text(cells) => cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if cell.is_empty() {
                        return Ok(None);
                    }
                    match cell.parse::<f64>() {
                        Ok(v) if v.is_finite() => Ok(Some(v)),
                        _ => Err(self.error(
                            self.cell(i, name),
                            format!("'{cell}' is not a finite number"),
                        )),
                    }
                })
                .collect(),
            Column::Float(cells) => cells
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Some(x) if !x.is_finite() => {
                        Err(self.error(self.cell(i, name), format!("{x} is not a finite number")))
                    }
                    other => Ok(*other),
                })
                .collect(),
            Column::Timestamp(_) => Err(self.error(
                Location::Column(name.to_owned()),
                "expected numbers, found timestamps",
            )),
        }
    }

    /// A text column (numbers and timestamps are formatted as text).
    ///
    /// # Errors
    /// The column is missing.
    pub fn text_column(&self, name: &str) -> Result<Vec<String>, DataError> {
        Ok(match self.column(name)? {
            Column::Text(cells) => cells.clone(),
            Column::Float(cells) => cells
                .iter()
                .map(|v| v.map(|x| x.to_string()).unwrap_or_default())
                .collect(),
            Column::Timestamp(cells) => cells
                .iter()
                .map(|v| v.map(|t| t.to_string()).unwrap_or_default())
                .collect(),
        })
    }

    /// A column of naive date-times, parsed with the first of `formats`
    /// (chrono `strftime` syntax) that matches; Parquet timestamp columns
    /// are taken as they are.
    ///
    /// # Errors
    /// The column is missing, or a cell is empty or matches no format.
    pub fn datetime_column(
        &self,
        name: &str,
        formats: &[&str],
    ) -> Result<Vec<NaiveDateTime>, DataError> {
        match self.column(name)? {
            Column::Text(cells) => cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    formats
                        .iter()
                        .find_map(|f| NaiveDateTime::parse_from_str(cell, f).ok())
                        .or_else(|| {
                            // A bare date is midnight of that day.
                            formats.iter().find_map(|f| {
                                NaiveDate::parse_from_str(cell, f)
                                    .ok()
                                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                            })
                        })
                        .ok_or_else(|| {
                            self.error(
                                self.cell(i, name),
                                format!(
                                    "'{cell}' is not a date-time in the expected format ({})",
                                    formats.join(" or ")
                                ),
                            )
                        })
                })
                .collect(),
            Column::Timestamp(cells) => cells
                .iter()
                .enumerate()
                .map(|(i, v)| v.ok_or_else(|| self.error(self.cell(i, name), "the cell is empty")))
                .collect(),
            Column::Float(_) => Err(self.error(
                Location::Column(name.to_owned()),
                "expected date-times, found numbers",
            )),
        }
    }

    /// A column of calendar dates in `format` (e.g. `%Y-%m-%d`).
    ///
    /// # Errors
    /// The column is missing, or a cell is not a date in that format.
    pub fn date_column(&self, name: &str, format: &str) -> Result<Vec<NaiveDate>, DataError> {
        match self.column(name)? {
            Column::Timestamp(cells) => cells
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|t| t.date())
                        .ok_or_else(|| self.error(self.cell(i, name), "the cell is empty"))
                })
                .collect(),
            _ => self
                .text_column(name)?
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    NaiveDate::parse_from_str(cell, format).map_err(|_| {
                        self.error(
                            self.cell(i, name),
                            format!("'{cell}' is not a date in the format {format}"),
                        )
                    })
                })
                .collect(),
        }
    }
}

fn csv_error(path: &Path, error: &csv::Error) -> DataError {
    let location = error.position().map_or(Location::File, |p| {
        Location::Line(usize::try_from(p.line()).unwrap_or(usize::MAX))
    });
    let problem = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the text is not valid UTF-8".to_owned(),
        _ => format!("not a valid CSV file: {error}"),
    };
    DataError::Invalid {
        path: path.to_path_buf(),
        location,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table, DataError> {
        Table::from_csv_bytes(Path::new("prices.csv"), text.as_bytes())
    }

    #[test]
    fn reads_columns_and_parses_numbers() {
        let t = table("time,price\n2024-01-01 00:00:00,12.5\n2024-01-01 00:15:00,-3\n").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.f64_column("price").unwrap(), vec![12.5, -3.0]);
        let times = t.datetime_column("time", &["%Y-%m-%d %H:%M:%S"]).unwrap();
        assert_eq!(times[1].to_string(), "2024-01-01 00:15:00");
    }

    #[test]
    fn bad_number_names_file_line_and_column() {
        let t = table("time,price\na,1\nb,\"1,899.35\"\n").unwrap();
        let message = t.f64_column("price").unwrap_err().to_string();
        assert_eq!(
            message,
            "prices.csv: line 3, column 'price': '1,899.35' is not a finite number"
        );
    }

    #[test]
    fn empty_cells_are_errors_or_none() {
        let t = table("x,y\n1,\n2,3\n").unwrap();
        assert_eq!(t.optional_f64_column("y").unwrap(), vec![None, Some(3.0)]);
        let message = t.f64_column("y").unwrap_err().to_string();
        assert!(
            message.contains("line 2, column 'y': the cell is empty"),
            "{message}"
        );
    }

    #[test]
    fn missing_column_lists_the_columns() {
        let t = table("a,b\n1,2\n").unwrap();
        let message = t.f64_column("HB_WEST").unwrap_err().to_string();
        assert!(
            message.contains("there is no column 'HB_WEST' (columns: a, b)"),
            "{message}"
        );
    }

    #[test]
    fn ragged_rows_duplicate_headers_and_empty_files_are_rejected() {
        let ragged = table("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert!(
            ragged.contains("line 3") && ragged.contains("1 fields"),
            "{ragged}"
        );
        let dup = table("a,a\n1,2\n").unwrap_err().to_string();
        assert!(dup.contains("'a' appears twice"), "{dup}");
        let empty = table("a,b\n").unwrap_err().to_string();
        assert!(empty.contains("no data rows"), "{empty}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_file() {
        let err = Table::read(Path::new("/nonexistent/prices.csv")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/prices.csv: cannot read")
        );
    }
}
