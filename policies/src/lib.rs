//! The switching policies of HCP Twin and the forecasters they may use.
//!
//! # What a policy is
//!
//! A policy decides, at each decision epoch, what every device of the
//! plant does: how many ASICs of each cohort hash and at what power target,
//! how each GPU pool's working GPUs are split between P1 inference, P2
//! batch, P3 training, P4 background work, the rental market, idle and off,
//! which queues admit work, and what load is committed to grid events.
//!
//! # The contract
//!
//! A policy implements [`hcp_contract::Policy`]: it reads an
//! [`Observation`](hcp_contract::Observation) and pushes
//! [`Action`](hcp_contract::Action)s. It sees nothing else — no
//! wall clock, no simulator state, no randomness it does not own — so the
//! same object runs in the twin and in the live bridge. Its
//! [`Subscriptions`](hcp_contract::Subscriptions) say when it is
//! woken (every n-th market interval, grid notices, price spikes, queue
//! lengths) and how far ahead it wants the scenario's forecaster to look.
//! Actions are requests: the plant clips what does not fit. Every policy
//! here budgets its own increases against the observed headroom, so none
//! of its actions is ever clipped for the power cap.
//!
//! # The policies
//!
//! | name | file | idea |
//! |---|---|---|
//! | `mining-only` | [`mining_only`] | ASICs at stock up to the cap, GPUs off |
//! | `ai-first` | [`ai_first`] | every GPU serves AI demand, ASICs take the rest |
//! | `seed-threshold` | [`seed_threshold`] | move capacity when one use wins by > 10 % |
//! | `breakeven` | [`breakeven`] | curtail above breakeven, tune targets, demand response |
//! | `mpc` | [`mpc`] | rolling-horizon LP over the forecast, switching costs, acts on step 1 |
//!
//! The [`registry`] builds them by name from a scenario's TOML:
//!
//! ```
//! use hcp_policies::PolicyConfig;
//!
//! let config: PolicyConfig = toml::from_str("kind = \"breakeven\"\nhysteresis = 0.1").unwrap();
//! assert_eq!(config.name(), "breakeven");
//! let policy = config.build();
//! assert_eq!(policy.name(), "breakeven");
//! ```
//!
//! # Adding a policy
//!
//! 1. Write `src/<name>.rs`: a doc comment in the layout *What it does /
//!    When it wins / Parameters / Example*, a `<Name>Params` struct
//!    (`Serialize + Deserialize + Default`, `#[serde(deny_unknown_fields,
//!    default)]`, every field documented with its unit) and the policy
//!    implementing `Policy`. Use the helpers of `src/power.rs` so
//!    increases fit the cap.
//! 2. Add `mod <name>;` below and one variant to [`PolicyConfig`], with one
//!    line in `name`, `build` and `defaults`.
//! 3. Add a test in `tests/` that shows the behaviour the policy exists
//!    for; the registry tests cover the name and the TOML round trip.
//!
//! Forecasters ([`forecast`]) follow the same pattern with
//! [`ForecasterConfig`].

pub mod ai_first;
pub mod breakeven;
pub mod forecast;
pub mod mining_only;
pub mod mpc;
mod power;
pub mod registry;
pub mod seed_threshold;

pub use registry::{ForecasterConfig, PolicyConfig, UnknownPolicy};
