//! A Parquet file reads into the same table as its CSV twin, and its errors
//! name the row and column.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hcp_models::data::Table;
use parquet::arrow::ArrowWriter;

fn write_parquet(name: &str) -> PathBuf {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("price", DataType::Float64, true),
        Field::new("node", DataType::Utf8, false),
        Field::new("count", DataType::Int32, false),
    ]));
    // 2024-01-01 00:00 and 00:15 UTC in microseconds.
    let t0 = 1_704_067_200_000_000_i64;
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(TimestampMicrosecondArray::from(vec![
                t0,
                t0 + 900_000_000,
                t0 + 1_800_000_000,
            ])),
            Arc::new(Float64Array::from(vec![Some(25.5), None, Some(-3.25)])),
            Arc::new(StringArray::from(vec!["HB_WEST", "HB_WEST", "HB_WEST"])),
            Arc::new(Int32Array::from(vec![1, 2, 3])),
        ],
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("hcp-{}-{name}.parquet", std::process::id()));
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

#[test]
fn parquet_columns_read_as_numbers_text_and_times() {
    let path = write_parquet("columns");
    let table = Table::read(&path).unwrap();
    assert_eq!(table.len(), 3);
    assert_eq!(table.headers(), ["time", "price", "node", "count"]);
    assert_eq!(
        table.optional_f64_column("price").unwrap(),
        vec![Some(25.5), None, Some(-3.25)]
    );
    assert_eq!(table.f64_column("count").unwrap(), vec![1.0, 2.0, 3.0]);
    assert_eq!(table.text_column("node").unwrap()[2], "HB_WEST");
    let times = table.datetime_column("time", &[]).unwrap();
    assert_eq!(times[1].to_string(), "2024-01-01 00:15:00");
    let message = table.f64_column("price").unwrap_err().to_string();
    assert!(
        message.ends_with("row 2, column 'price': the cell is empty"),
        "{message}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_file_that_is_not_parquet_is_rejected_by_name() {
    let path = std::env::temp_dir().join(format!("hcp-{}-bad.parquet", std::process::id()));
    std::fs::write(&path, b"date,price\n2024-01-01,1\n").unwrap();
    let message = Table::read(&path).unwrap_err().to_string();
    assert!(
        message.contains("bad.parquet: not a valid Parquet file"),
        "{message}"
    );
    std::fs::remove_file(path).unwrap();
}
