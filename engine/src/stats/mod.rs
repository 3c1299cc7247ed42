//! Statistics collected during a run, in the forms a simulation needs.
//!
//! - [`Tally`]: observations one at a time (waits, profits per replication):
//!   Welford's mean and variance, min, max, Student-t confidence intervals, and
//!   exact merging of tallies from parallel replications.
//! - [`TimeWeighted`]: a piecewise-constant signal over simulated time (queue
//!   length, power draw): its time average, min and max.
//! - [`LatencyHistogram`]: latency quantiles (p50/p95/p99) from an
//!   HdrHistogram with three significant digits.
//! - [`Counter`]: events counted, and their rate over simulated time.
//!
//! All of them reset in place (`reset`), which is how a warm-up period is
//! discarded, and none allocates per observation.

mod counter;
mod histogram;
mod tally;
mod time_weighted;

pub use counter::Counter;
pub use histogram::LatencyHistogram;
pub use tally::{ConfidenceInterval, Tally};
pub use time_weighted::TimeWeighted;
