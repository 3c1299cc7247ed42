//! The one definition of every table's columns: names, Arrow types and
//! nullability. Writers build their record batches against these schemas
//! and readers check files against them, so a column cannot drift between
//! the two. Units are in the names (`_usd`, `_mwh`, `_mw`, `_usd_per_mwh`,
//! `_pct`, `_ms`); column names are stable (docs/output.md).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use hcp_contract::GpuUse;
use hcp_models::ledger::Stream;

/// Version of the column layout, written as `hcp.schema_version`: 1 had
/// no `gpu_<use>_usd` columns in `intervals`, 2 no `grid_event` and
/// `<class>_queued_jobs`.
pub const SCHEMA_VERSION: &str = "3";

/// The GPU uses whose revenue `intervals` carries (`gpu_<use>_usd`), in
/// [`hcp_models::twin::IntervalRecord::ai_usd`] order.
pub const REVENUE_USES: [GpuUse; 5] = [
    GpuUse::P1,
    GpuUse::P2,
    GpuUse::P3,
    GpuUse::P4,
    GpuUse::Rental,
];

/// The job classes of [`hcp_models::twin::RunResult::jobs`], in order.
pub const JOB_CLASSES: [&str; 3] = ["p2", "p3", "p4"];

/// The job counts kept per class, in [`hcp_models::twin::JobFigures`] order.
pub const JOB_FIGURES: [&str; 6] = [
    "arrived",
    "rejected",
    "completed",
    "preempted",
    "late",
    "unfinished",
];

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn f64s<'a>(names: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = Field> {
    names
        .into_iter()
        .map(|n| Field::new(n, DataType::Float64, false))
}

/// Column name of a money stream's total in `runs`: `<stream>_usd`.
pub fn stream_column(stream: Stream) -> String {
    format!("{}_usd", stream.name())
}

/// Column name of a job count in `runs`: `<class>_jobs_<figure>`.
pub fn job_column(class: &str, figure: &str) -> String {
    format!("{class}_jobs_{figure}")
}

/// Column name of GPU power in a use in `intervals`: `gpu_<use>_mw`.
pub fn gpu_use_column(gpu_use: GpuUse) -> String {
    format!("gpu_{}_mw", gpu_use.name())
}

/// Column name of GPU revenue of a use in `intervals`: `gpu_<use>_usd`.
pub fn gpu_revenue_column(gpu_use: GpuUse) -> String {
    format!("gpu_{}_usd", gpu_use.name())
}

/// Column name of a job class's queue length in `intervals`:
/// `<class>_queued_jobs`.
pub fn queued_jobs_column(class: &str) -> String {
    format!("{class}_queued_jobs")
}

/// `runs`: one row per (scenario, replication, policy); the scenario is
/// the partition key (`scenario=<s>` folder), not a column.
pub fn runs() -> SchemaRef {
    let mut fields = vec![
        Field::new("policy", DataType::Utf8, false),
        Field::new("replication", DataType::UInt64, false),
        Field::new("seed", DataType::UInt64, false),
    ];
    fields.extend(f64s(["profit_usd", "revenue_usd", "costs_usd"]));
    for stream in Stream::ALL {
        fields.push(Field::new(stream_column(stream), DataType::Float64, false));
    }
    fields.extend(f64s(["btc", "energy_mwh"]));
    for name in [
        "p1_served_pct",
        "p1_sla_pct",
        "p2_on_time_pct",
        "sla_attainment_min_pct",
    ] {
        fields.push(Field::new(name, DataType::Float64, true));
    }
    for class in JOB_CLASSES {
        for figure in JOB_FIGURES {
            fields.push(Field::new(
                job_column(class, figure),
                DataType::UInt64,
                false,
            ));
        }
    }
    for name in [
        "intervals",
        "decisions",
        "gpu_switches_warm",
        "gpu_switches_cold",
    ] {
        fields.push(Field::new(name, DataType::UInt64, false));
    }
    fields.extend(f64s(["switch_p50_ms", "switch_p99_ms"]));
    for name in ["clips", "cap_violations", "asic_failures", "gpu_failures"] {
        fields.push(Field::new(name, DataType::UInt64, false));
    }
    fields.extend(f64s([
        "max_committed_share_of_cap",
        "asic_utilisation",
        "gpu_utilisation",
    ]));
    fields.push(Field::new("pct_of_oracle", DataType::Float64, true));
    fields.push(Field::new("regret_usd", DataType::Float64, true));
    schema(fields)
}

/// `intervals`: one row per site per market interval of one run.
pub fn intervals() -> SchemaRef {
    let mut fields = vec![
        Field::new("replication", DataType::UInt64, false),
        Field::new("interval", DataType::UInt64, false),
        Field::new("time_utc", utc_micros(), false),
        Field::new("site", DataType::UInt32, false),
        Field::new("site_name", DataType::Utf8, false),
    ];
    fields.extend(f64s([
        "price_usd_per_mwh",
        "hashprice_usd_per_th_day",
        "facility_mw",
        "asic_mw",
    ]));
    for gpu_use in GpuUse::ALL {
        fields.push(Field::new(
            gpu_use_column(gpu_use),
            DataType::Float64,
            false,
        ));
    }
    fields.extend(f64s([
        "hashrate_phs",
        "committed_mw_max",
        "cap_mw",
        "mining_usd",
        "energy_usd",
    ]));
    for gpu_use in REVENUE_USES {
        fields.push(Field::new(
            gpu_revenue_column(gpu_use),
            DataType::Float64,
            false,
        ));
    }
    fields.push(Field::new("grid_event", DataType::Boolean, false));
    for class in JOB_CLASSES {
        fields.push(Field::new(
            queued_jobs_column(class),
            DataType::UInt64,
            false,
        ));
    }
    schema(fields)
}

/// `switches`: one row per batch of GPUs of one pool starting a switch.
pub fn switches() -> SchemaRef {
    schema(vec![
        Field::new("replication", DataType::UInt64, false),
        Field::new("time_utc", utc_micros(), false),
        Field::new("pool", DataType::UInt32, false),
        Field::new("site", DataType::UInt32, false),
        Field::new("to_use", DataType::Utf8, false),
        Field::new("gpus", DataType::UInt32, false),
        Field::new("cold", DataType::UInt32, false),
        Field::new("max_ms", DataType::Float64, false),
        Field::new("mean_ms", DataType::Float64, false),
    ])
}

/// `clips`: one row per action the plant did not carry out as asked.
pub fn clips() -> SchemaRef {
    schema(vec![
        Field::new("replication", DataType::UInt64, false),
        Field::new("time_utc", utc_micros(), false),
        Field::new("action", DataType::UInt32, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("requested", DataType::Float64, false),
        Field::new("applied", DataType::Float64, false),
    ])
}

/// `invoices`: one row per customer per billing month with activity.
pub fn invoices() -> SchemaRef {
    let mut fields = vec![
        Field::new("replication", DataType::UInt64, false),
        Field::new("customer", DataType::UInt32, false),
        Field::new("customer_name", DataType::Utf8, false),
        Field::new("month", DataType::UInt32, false),
        Field::new("month_start", DataType::Date32, false),
    ];
    fields.extend(f64s([
        "input_tokens",
        "output_tokens",
        "gpu_hours",
        "gross_usd",
    ]));
    fields.push(Field::new("attainment_pct", DataType::Float64, true));
    fields.extend(f64s([
        "sla_credit_usd",
        "preempted_gpu_hours",
        "preemption_credit_usd",
        "net_usd",
    ]));
    schema(fields)
}
