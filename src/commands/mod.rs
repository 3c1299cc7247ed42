//! One module per subcommand of `hcp`.

pub mod bench;
mod bench_bridge;
mod bench_fleet;
mod bench_sweep;
mod bench_tape;
mod bench_twin;
mod bench_view;
pub mod bridge;
pub mod calibrate;
pub mod exit;
pub mod fleet;
mod output;
pub mod report;
pub mod schema;
pub mod sweep;
mod sweep_status;
pub mod validate;
pub mod view;
