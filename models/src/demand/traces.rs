//! Loaders of the demand traces: request traces (a timestamp per request,
//! optional context/generated token counts, like the Azure LLM inference
//! trace), the Alibaba GenAI gateway QPS samples and the Alibaba GPU pod
//! list.
//!
//! Times come back in seconds (f64) from the first request or from the
//! trace's own origin; token counts in tokens; GPU requests in milli-GPUs.
//! Every loader checks what the models rely on (order, signs, ranges) and
//! names file, line and column on failure.

use std::path::Path;

use super::params::WorkloadClass;
use crate::data::{DataError, Location, Table};

/// How to read a request trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTraceOptions {
    /// Column holding each request's arrival time.
    pub time_column: String,
    /// chrono `strftime` format of that column (e.g. `%Y-%m-%d %H:%M:%S%.f`).
    pub format: String,
    /// Column of context (prompt) tokens, if the trace has one.
    pub context_column: Option<String>,
    /// Column of generated (output) tokens, if the trace has one.
    pub generated_column: Option<String>,
}

impl RequestTraceOptions {
    /// The layout of the Azure LLM inference traces.
    pub fn azure() -> Self {
        RequestTraceOptions {
            time_column: "TIMESTAMP".to_owned(),
            format: "%Y-%m-%d %H:%M:%S%.f".to_owned(),
            context_column: Some("ContextTokens".to_owned()),
            generated_column: Some("GeneratedTokens".to_owned()),
        }
    }
}

/// A request trace: arrival offsets and optional token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTrace {
    /// Wall-clock time of the first request (naive, as in the file).
    pub start: chrono::NaiveDateTime,
    /// Arrival of each request in seconds after the first, non-decreasing.
    pub offsets_s: Vec<f64>,
    /// Context tokens per request, when the trace has them.
    pub context_tokens: Option<Vec<f64>>,
    /// Generated tokens per request, when the trace has them.
    pub generated_tokens: Option<Vec<f64>>,
}

impl RequestTrace {
    /// Span from the first to the last request, seconds.
    pub fn span_s(&self) -> f64 {
        self.offsets_s.last().copied().unwrap_or(0.0)
    }
}

/// Reads a request trace.
///
/// # Errors
/// Missing columns, unparsable times, rows out of time order, fewer than two
/// requests, negative or non-integer token counts.
pub fn read_request_trace(
    path: &Path,
    options: &RequestTraceOptions,
) -> Result<RequestTrace, DataError> {
    let table = Table::read(path)?;
    let times = table.datetime_column(&options.time_column, &[options.format.as_str()])?;
    if times.len() < 2 {
        return Err(table.error(
            Location::File,
            "a request trace needs at least two requests",
        ));
    }
    let start = times[0];
    let mut offsets_s = Vec::with_capacity(times.len());
    for (i, t) in times.iter().enumerate() {
        if i > 0 && *t < times[i - 1] {
            return Err(table.error(
                table.cell(i, &options.time_column),
                format!(
                    "{t} comes before the previous row's {}: rows must be sorted by time",
                    times[i - 1]
                ),
            ));
        }
        let micros = (*t - start).num_microseconds().unwrap_or(i64::MAX);
        offsets_s.push(micros as f64 * 1e-6);
    }
    let tokens = |column: &Option<String>| -> Result<Option<Vec<f64>>, DataError> {
        let Some(name) = column else { return Ok(None) };
        let values = table.f64_column(name)?;
        for (i, v) in values.iter().enumerate() {
            if *v < 0.0 || v.fract() != 0.0 {
                return Err(table.error(
                    table.cell(i, name),
                    format!("{v} is not a token count (a whole number ≥ 0)"),
                ));
            }
        }
        Ok(Some(values))
    };
    Ok(RequestTrace {
        start,
        offsets_s,
        context_tokens: tokens(&options.context_column)?,
        generated_tokens: tokens(&options.generated_column)?,
    })
}

/// Gateway QPS samples: per row a window stamp (Unix seconds) and a QPS
/// value of one container; the system QPS of a window is the sum of its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct QpsTrace {
    /// Window stamp of each row, Unix seconds, non-decreasing.
    pub stamps_s: Vec<f64>,
    /// QPS of each row, ≥ 0.
    pub values: Vec<f64>,
}

/// Reads the Alibaba GenAI QPS layout (`timestamp_anon`, `value`).
///
/// # Errors
/// Missing columns, non-numeric cells, negative QPS, unsorted stamps.
pub fn read_qps(path: &Path) -> Result<QpsTrace, DataError> {
    let table = Table::read(path)?;
    let stamps_s = table.f64_column("timestamp_anon")?;
    let values = table.f64_column("value")?;
    for i in 0..stamps_s.len() {
        if values[i] < 0.0 {
            return Err(table.error(table.cell(i, "value"), "a QPS value cannot be negative"));
        }
        if i > 0 && stamps_s[i] < stamps_s[i - 1] {
            return Err(table.error(
                table.cell(i, "timestamp_anon"),
                "rows must be sorted by time",
            ));
        }
    }
    Ok(QpsTrace { stamps_s, values })
}

/// One pod of the Alibaba GPU pod list that asked for GPUs and was scheduled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pod {
    /// Creation time, seconds from the trace origin.
    pub creation_s: f64,
    /// Runtime = deletion − scheduled, seconds (> 0).
    pub runtime_s: f64,
    /// GPUs requested, in milli-GPUs (num_gpu × gpu_milli; 460 = 0.46 GPU).
    pub gpu_milli: u32,
    /// Whether the pod was best-effort (`qos` = BE).
    pub best_effort: bool,
}

impl Pod {
    /// The workload class of the pod: best-effort → P4; otherwise runtime
    /// ≤ [`P2_MAX_RUNTIME_S`] → P2 batch, longer → P3 training.
    pub fn class(&self) -> WorkloadClass {
        if self.best_effort {
            WorkloadClass::P4
        } else if self.runtime_s <= P2_MAX_RUNTIME_S {
            WorkloadClass::P2
        } else {
            WorkloadClass::P3
        }
    }
}

/// Pods that are not best-effort and run at most this long (seconds) are
/// P2 batch jobs; longer ones are P3 training.
pub const P2_MAX_RUNTIME_S: f64 = 3_600.0;

/// The pod list: usable pods plus how many rows were dropped and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PodList {
    /// Pods with at least one GPU request that were scheduled, by creation.
    pub pods: Vec<Pod>,
    /// Rows without GPUs (CPU-only pods).
    pub dropped_no_gpu: usize,
    /// Rows never scheduled (no `scheduled_time`).
    pub dropped_unscheduled: usize,
}

/// Reads the Alibaba GPU pod-list layout.
///
/// # Errors
/// Missing columns, non-numeric cells, negative GPU requests, more than
/// 1,000 milli-GPU per GPU, deletion before scheduling, unsorted creation.
pub fn read_pods(path: &Path) -> Result<PodList, DataError> {
    let table = Table::read(path)?;
    let num_gpu = table.f64_column("num_gpu")?;
    let gpu_milli = table.f64_column("gpu_milli")?;
    let creation = table.f64_column("creation_time")?;
    let scheduled = table.optional_f64_column("scheduled_time")?;
    let deletion = table.f64_column("deletion_time")?;
    let qos = table.text_column("qos")?;
    let mut list = PodList {
        pods: Vec::new(),
        dropped_no_gpu: 0,
        dropped_unscheduled: 0,
    };
    for i in 0..table.len() {
        if i > 0 && creation[i] < creation[i - 1] {
            return Err(table.error(
                table.cell(i, "creation_time"),
                "rows must be sorted by creation time",
            ));
        }
        if num_gpu[i] < 0.0 || num_gpu[i] > 64.0 || num_gpu[i].fract() != 0.0 {
            return Err(table.error(
                table.cell(i, "num_gpu"),
                format!("{} is not a GPU count (0–64)", num_gpu[i]),
            ));
        }
        if !(0.0..=1000.0).contains(&gpu_milli[i]) {
            return Err(table.error(
                table.cell(i, "gpu_milli"),
                format!(
                    "{} is not a share of one GPU in milli-GPUs (0–1000)",
                    gpu_milli[i]
                ),
            ));
        }
        if num_gpu[i] == 0.0 || gpu_milli[i] == 0.0 {
            list.dropped_no_gpu += 1;
            continue;
        }
        let Some(start) = scheduled[i] else {
            list.dropped_unscheduled += 1;
            continue;
        };
        let runtime_s = deletion[i] - start;
        if runtime_s <= 0.0 {
            return Err(table.error(
                table.cell(i, "deletion_time"),
                format!("deletion {} is not after scheduling {start}", deletion[i]),
            ));
        }
        list.pods.push(Pod {
            creation_s: creation[i],
            runtime_s,
            // Exact: num_gpu ≤ 64 and gpu_milli ≤ 1000 are whole numbers.
            gpu_milli: (num_gpu[i] * gpu_milli[i]) as u32,
            best_effort: qos[i] == "BE",
        });
    }
    if list.pods.is_empty() {
        return Err(table.error(
            Location::File,
            "no pod both asked for GPUs and was scheduled",
        ));
    }
    Ok(list)
}
