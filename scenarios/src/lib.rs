//! Scenarios of HCP Twin: the scenario file ([`Scenario`]), the built-in
//! scenarios, the loader that lays a file over the reference scenario and
//! names the file, key and problem of every error, and the JSON Schema of
//! the file.
//!
//! ```no_run
//! let loaded = hcp_scenarios::builtin("ercot-2021-uri")?;
//! let setup = loaded.prepare()?; // world and plant checked, replays loaded
//! # Ok::<(), hcp_scenarios::ScenarioError>(())
//! ```

pub mod load;
pub mod memory;
pub mod scenario;
pub mod schema;
pub mod sweep;

pub use load::{LoadedScenario, ScenarioError, builtin, builtin_names, load};
pub use scenario::{Scenario, SweepConfig};
pub use schema::json_schema;
