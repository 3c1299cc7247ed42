//! The registry: every policy and forecaster by name, as the scenario's
//! TOML writes it (`kind = "breakeven"` plus the policy's parameters).
//!
//! [`PolicyConfig`] and [`ForecasterConfig`] are serde-tagged enums with
//! one variant per file of this crate; adding a policy is one variant here
//! plus one line in each `match`.

use hcp_contract::{Forecaster, Persistence, Policy};
use serde::{Deserialize, Serialize};

use crate::ai_first::{AiFirst, AiFirstParams};
use crate::breakeven::{Breakeven, BreakevenParams};
use crate::forecast::{Autoregressive, AutoregressiveParams, SeasonalNaive, SeasonalNaiveParams};
use crate::mining_only::{MiningOnly, MiningOnlyParams};
use crate::mpc::{Mpc, MpcParams};
use crate::seed_threshold::{SeedThreshold, SeedThresholdParams};

/// A name the registry does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`: expected one of {}", valid.join(", "))]
pub struct UnknownPolicy {
    /// `policy` or `forecaster`.
    pub what: &'static str,
    /// The name asked for.
    pub name: String,
    /// The names the registry knows.
    pub valid: Vec<&'static str>,
}

/// A policy and its parameters, as a scenario names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PolicyConfig {
    /// Every ASIC at stock, every GPU off.
    MiningOnly(MiningOnlyParams),
    /// GPUs serve all AI demand, ASICs take the rest.
    AiFirst(AiFirstParams),
    /// Moves capacity when one use beats the other by a threshold.
    SeedThreshold(SeedThresholdParams),
    /// Curtails above breakeven, tunes targets, joins demand response.
    Breakeven(BreakevenParams),
    /// Plans a rolling horizon over the forecast with an LP.
    Mpc(MpcParams),
    /// `mpc` fed the true future instead of a forecast: a diagnostic
    /// yardstick between the online policies and the oracle, never
    /// deployable (the sweep gives it a forecaster that reads the tape).
    MpcClairvoyant(MpcParams),
}

impl PolicyConfig {
    /// The policy's stable name.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyConfig::MiningOnly(_) => "mining-only",
            PolicyConfig::AiFirst(_) => "ai-first",
            PolicyConfig::SeedThreshold(_) => "seed-threshold",
            PolicyConfig::Breakeven(_) => "breakeven",
            PolicyConfig::Mpc(_) => "mpc",
            PolicyConfig::MpcClairvoyant(_) => crate::mpc::CLAIRVOYANT_NAME,
        }
    }

    /// A fresh policy object with these parameters.
    pub fn build(&self) -> Box<dyn Policy> {
        match *self {
            PolicyConfig::MiningOnly(p) => Box::new(MiningOnly::new(p)),
            PolicyConfig::AiFirst(p) => Box::new(AiFirst::new(p)),
            PolicyConfig::SeedThreshold(p) => Box::new(SeedThreshold::new(p)),
            PolicyConfig::Breakeven(p) => Box::new(Breakeven::new(p)),
            PolicyConfig::Mpc(p) => Box::new(Mpc::new(p)),
            PolicyConfig::MpcClairvoyant(p) => Box::new(Mpc::clairvoyant(p)),
        }
    }

    /// Whether the policy is a diagnostic that must be shown the true
    /// future (a forecaster reading the world's tape) rather than the
    /// scenario's forecaster. Such a policy cannot drive a fleet.
    pub fn sees_the_future(&self) -> bool {
        matches!(self, PolicyConfig::MpcClairvoyant(_))
    }

    /// Why the policy cannot drive a fleet, when it cannot: it is a
    /// diagnostic that reads the simulated future.
    pub fn undeployable_reason(&self) -> Option<String> {
        self.sees_the_future().then(|| {
            format!(
                "`{}` is a diagnostic that reads the simulated future; it cannot drive a fleet (use `mpc`)",
                self.name()
            )
        })
    }

    /// Every policy with its default parameters, in registry order.
    pub fn defaults() -> Vec<PolicyConfig> {
        vec![
            PolicyConfig::MiningOnly(MiningOnlyParams::default()),
            PolicyConfig::AiFirst(AiFirstParams::default()),
            PolicyConfig::SeedThreshold(SeedThresholdParams::default()),
            PolicyConfig::Breakeven(BreakevenParams::default()),
            PolicyConfig::Mpc(MpcParams::default()),
            PolicyConfig::MpcClairvoyant(MpcParams::default()),
        ]
    }

    /// The policy called `name`, with default parameters.
    ///
    /// # Errors
    /// [`UnknownPolicy`], listing the valid names.
    pub fn by_name(name: &str) -> Result<PolicyConfig, UnknownPolicy> {
        let all = PolicyConfig::defaults();
        let valid = all.iter().map(PolicyConfig::name).collect();
        all.into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownPolicy {
                what: "policy",
                name: name.to_owned(),
                valid,
            })
    }
}

/// A forecaster and its parameters, as a scenario names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ForecasterConfig {
    /// Every future interval equals the last one seen.
    Persistence,
    /// Each future interval equals the same interval one period back.
    SeasonalNaive(SeasonalNaiveParams),
    /// AR(p) around a rolling daily profile.
    Autoregressive(AutoregressiveParams),
}

impl Default for ForecasterConfig {
    /// Seasonal-naive with a one-day period.
    fn default() -> Self {
        ForecasterConfig::SeasonalNaive(SeasonalNaiveParams::default())
    }
}

impl ForecasterConfig {
    /// The forecaster's stable name.
    pub fn name(&self) -> &'static str {
        match self {
            ForecasterConfig::Persistence => "persistence",
            ForecasterConfig::SeasonalNaive(_) => "seasonal-naive",
            ForecasterConfig::Autoregressive(_) => "autoregressive",
        }
    }

    /// A fresh forecaster with these parameters.
    pub fn build(&self) -> Box<dyn Forecaster> {
        match *self {
            ForecasterConfig::Persistence => Box::new(Persistence::default()),
            ForecasterConfig::SeasonalNaive(p) => Box::new(SeasonalNaive::new(p)),
            ForecasterConfig::Autoregressive(p) => Box::new(Autoregressive::new(p)),
        }
    }

    /// Every forecaster with its default parameters.
    pub fn defaults() -> Vec<ForecasterConfig> {
        vec![
            ForecasterConfig::Persistence,
            ForecasterConfig::SeasonalNaive(SeasonalNaiveParams::default()),
            ForecasterConfig::Autoregressive(AutoregressiveParams::default()),
        ]
    }

    /// The forecaster called `name`, with default parameters.
    ///
    /// # Errors
    /// [`UnknownPolicy`] (what = `forecaster`), listing the valid names.
    pub fn by_name(name: &str) -> Result<ForecasterConfig, UnknownPolicy> {
        let all = ForecasterConfig::defaults();
        let valid = all.iter().map(ForecasterConfig::name).collect();
        all.into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownPolicy {
                what: "forecaster",
                name: name.to_owned(),
                valid,
            })
    }
}
