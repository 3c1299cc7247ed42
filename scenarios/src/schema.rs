//! The JSON Schema of a scenario file, generated from the configuration
//! types so that it never drifts from what the loader accepts.
//!
//! It describes the complete scenario (every key, as [`Scenario`] holds
//! it); a file may leave out any key of a table, which then keeps the
//! reference scenario's value (see [`crate::load()`]). Unknown keys are
//! refused (`additionalProperties: false`).

use crate::scenario::Scenario;

/// The scenario's JSON Schema (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(Scenario).to_value()
}
