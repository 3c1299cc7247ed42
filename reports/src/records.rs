//! [`write_run_records`]: one run's record tables — `intervals` (when the
//! recorder kept them), `switches`, `clips` and `invoices` — each as one
//! file under `<table>/scenario=<s>/policy=<p>/`. Every row carries the
//! replication; scenario and policy are the partition keys.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, Date32Builder, Float64Builder, StringBuilder, TimestampMicrosecondBuilder,
    UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::SchemaRef;
use hcp_models::ledger::Invoice;
use hcp_models::twin::RunResult;

use crate::error::ReportError;
use crate::layout::{OutputTable, part_path};
use crate::recorder::{ClipColumns, IntervalColumns, RunRecorder, SwitchColumns};
use crate::write::write_atomic;
use crate::{DatasetMeta, RunKey};

fn utc(builder: &mut TimestampMicrosecondBuilder) -> ArrayRef {
    Arc::new(builder.finish().with_timezone("UTC"))
}

fn f64s(builder: &mut Float64Builder) -> ArrayRef {
    Arc::new(builder.finish())
}

fn u32s(builder: &mut UInt32Builder) -> ArrayRef {
    Arc::new(builder.finish())
}

fn strings(builder: &mut StringBuilder) -> ArrayRef {
    Arc::new(builder.finish())
}

fn batch(
    path: &Path,
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
) -> Result<RecordBatch, ReportError> {
    RecordBatch::try_new(schema, columns).map_err(|e| ReportError::Schema {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

fn replication_column(replication: u64, rows: usize) -> ArrayRef {
    Arc::new(UInt64Array::from_value(replication, rows))
}

fn interval_columns(c: &mut IntervalColumns, replication: u64) -> Vec<ArrayRef> {
    let rows = c.interval.len();
    let mut columns = vec![
        replication_column(replication, rows),
        Arc::new(c.interval.finish()) as ArrayRef,
        utc(&mut c.time_utc),
        u32s(&mut c.site),
        strings(&mut c.site_name),
    ];
    columns.extend(c.values.iter_mut().map(f64s));
    columns.push(Arc::new(c.grid_event.finish()));
    columns.extend(
        c.queued_jobs
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef),
    );
    columns
}

fn switch_columns(c: &mut SwitchColumns, replication: u64) -> Vec<ArrayRef> {
    vec![
        replication_column(replication, c.pool.len()),
        utc(&mut c.time_utc),
        u32s(&mut c.pool),
        u32s(&mut c.site),
        strings(&mut c.to_use),
        u32s(&mut c.gpus),
        u32s(&mut c.cold),
        f64s(&mut c.max_ms),
        f64s(&mut c.mean_ms),
    ]
}

fn clip_columns(c: &mut ClipColumns, replication: u64) -> Vec<ArrayRef> {
    vec![
        replication_column(replication, c.action.len()),
        utc(&mut c.time_utc),
        u32s(&mut c.action),
        strings(&mut c.reason),
        f64s(&mut c.requested),
        f64s(&mut c.applied),
    ]
}

fn invoice_columns(
    invoices: &[Invoice],
    month_starts: &[i32],
    replication: u64,
) -> Result<Vec<ArrayRef>, ReportError> {
    let n = invoices.len();
    let mut customer = UInt32Builder::with_capacity(n);
    let mut name = StringBuilder::with_capacity(n, n * 8);
    let mut month = UInt32Builder::with_capacity(n);
    let mut month_start = Date32Builder::with_capacity(n);
    let mut attainment = Float64Builder::with_capacity(n);
    let mut values: [Float64Builder; 8] = std::array::from_fn(|_| Float64Builder::with_capacity(n));
    for inv in invoices {
        let start = month_starts
            .get(inv.month)
            .ok_or_else(|| ReportError::Mismatch {
                problem: format!(
                    "invoice of customer {} is for month {}, outside the horizon's {} months",
                    inv.customer,
                    inv.month,
                    month_starts.len()
                ),
            })?;
        customer.append_value(u32::from(inv.customer));
        name.append_value(&inv.name);
        month.append_value(u32::try_from(inv.month).unwrap_or(u32::MAX));
        month_start.append_value(*start);
        attainment.append_option(inv.attainment_pct);
        let row = [
            inv.input_tokens,
            inv.output_tokens,
            inv.gpu_hours,
            inv.gross_usd,
            inv.sla_credit_usd,
            inv.preempted_gpu_hours,
            inv.preemption_credit_usd,
            inv.net_usd,
        ];
        for (builder, value) in values.iter_mut().zip(row) {
            builder.append_value(value);
        }
    }
    let [
        input,
        output,
        gpu_hours,
        gross,
        sla,
        preempted,
        preemption,
        net,
    ] = &mut values;
    Ok(vec![
        replication_column(replication, n),
        u32s(&mut customer),
        strings(&mut name),
        u32s(&mut month),
        Arc::new(month_start.finish()),
        f64s(input),
        f64s(output),
        f64s(gpu_hours),
        f64s(gross),
        f64s(&mut attainment),
        f64s(sla),
        f64s(preempted),
        f64s(preemption),
        f64s(net),
    ])
}

/// Writes one run's record tables: `intervals` (if `recorder` kept them),
/// `switches`, `clips` and `invoices` (from `result`), one file each under
/// `<dir>/<table>/scenario=<s>/policy=<p>/part-r<replication:05>.parquet`.
///
/// # Errors
/// A scenario or policy name that cannot be a partition value, an invoice
/// month outside the horizon, or a folder or file that cannot be written
/// (the error names the path and the OS error).
pub fn write_run_records(
    dir: &Path,
    key: &RunKey,
    mut recorder: RunRecorder,
    result: &RunResult,
    meta: &DatasetMeta,
) -> Result<(), ReportError> {
    let rep = key.replication;
    let path = |table| part_path(dir, table, &key.scenario, &key.policy, rep);
    let mut tables = Vec::with_capacity(4);
    if let Some(c) = recorder.intervals.as_mut() {
        tables.push((OutputTable::Intervals, interval_columns(c, rep)));
    }
    if recorder.events {
        tables.push((
            OutputTable::Switches,
            switch_columns(&mut recorder.switches, rep),
        ));
        tables.push((OutputTable::Clips, clip_columns(&mut recorder.clips, rep)));
    }
    tables.push((
        OutputTable::Invoices,
        invoice_columns(&result.invoices, &recorder.month_starts, rep)?,
    ));
    for (table, columns) in tables {
        let path = path(table)?;
        let batch = batch(&path, table.schema(), columns)?;
        write_atomic(&path, &batch, meta)?;
    }
    Ok(())
}
