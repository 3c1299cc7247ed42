//! ASIC miner specifications, the catalog of real models and the
//! power-target curve.
//!
//! Units: hashrate in TH/s, power in W at the wall, efficiency in J/TH
//! (= W per TH/s). Custom firmware lets a miner run at a power target `P`
//! in `[min_power_w, max_power_w]`; its hashrate follows
//! `H(P) = H0 · (P/P0)^β` with `(H0, P0)` the stock point and `0 < β ≤ 1`,
//! so the efficiency `P/H = (P0/H0) · (P/P0)^(1−β)` falls as the target is
//! lowered (underclocking also lowers the chips' voltage). The shipped
//! catalog is `models/params/asic.toml`; sources and the fit of β are in
//! `docs/models/asic.md`.

use hcp_contract::PowerCurve;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::firmware::FirmwareSpec;
use super::reliability::ReliabilityParams;

/// The shipped catalog (spec sheets, firmware latencies, reliability).
pub const DEFAULT_TOML: &str = include_str!("../../params/asic.toml");

/// One ASIC model: its stock operating point and its power-target curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsicSpec {
    /// Model name as the catalog knows it: "S21", "S19 XP", "M60S", …
    pub name: String,
    /// Manufacturer.
    pub maker: String,
    /// Stock hashrate, TH/s.
    pub hashrate_th: f64,
    /// Stock power at the wall, W.
    pub power_w: f64,
    /// Lowest power target custom firmware allows, W.
    pub min_power_w: f64,
    /// Highest power target custom firmware allows, W.
    pub max_power_w: f64,
    /// β in H = H0·(P/P0)^β (dimensionless, in (0, 1]).
    pub curve_exponent: f64,
    /// Where the stock figures come from (spec-sheet URL).
    pub source: String,
}

impl AsicSpec {
    /// Stock efficiency, J/TH.
    pub fn efficiency_j_per_th(&self) -> f64 {
        self.power_w / self.hashrate_th
    }

    /// The power-target curve a policy sees (the contract's copy of the
    /// stock point, window and exponent).
    pub fn curve(&self) -> PowerCurve {
        PowerCurve {
            stock_hashrate_th: self.hashrate_th,
            stock_power_w: self.power_w,
            min_power_w: self.min_power_w,
            max_power_w: self.max_power_w,
            exponent: self.curve_exponent,
        }
    }

    /// `w` clamped into `[min_power_w, max_power_w]`, W.
    pub fn clamp_power_w(&self, w: f64) -> f64 {
        self.curve().clamp_power_w(w)
    }

    /// Hashrate at power target `power_w` (clamped first), TH/s. O(1).
    pub fn hashrate_th_at(&self, power_w: f64) -> f64 {
        self.curve().hashrate_th_at(power_w)
    }

    /// Efficiency at power target `power_w` (clamped first), J/TH.
    pub fn efficiency_j_per_th_at(&self, power_w: f64) -> f64 {
        self.curve().efficiency_j_per_th_at(power_w)
    }

    /// Checks every range; a sentence naming the first problem.
    ///
    /// # Errors
    /// A non-positive hashrate or power, a power window that does not hold
    /// the stock power, a curve exponent outside (0, 1].
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.name;
        if !(self.hashrate_th.is_finite() && self.hashrate_th > 0.0) {
            return Err(format!(
                "ASIC model '{n}': hashrate_th must be positive, got {}",
                self.hashrate_th
            ));
        }
        if !(self.power_w.is_finite() && self.power_w > 0.0) {
            return Err(format!(
                "ASIC model '{n}': power_w must be positive, got {}",
                self.power_w
            ));
        }
        if !(self.min_power_w > 0.0
            && self.min_power_w <= self.power_w
            && self.power_w <= self.max_power_w
            && self.max_power_w.is_finite())
        {
            return Err(format!(
                "ASIC model '{n}': need 0 < min_power_w ≤ power_w ≤ max_power_w, got {} ≤ {} ≤ {}",
                self.min_power_w, self.power_w, self.max_power_w
            ));
        }
        if !(self.curve_exponent > 0.0 && self.curve_exponent <= 1.0) {
            return Err(format!(
                "ASIC model '{n}': curve_exponent must be in (0, 1], got {}",
                self.curve_exponent
            ));
        }
        Ok(())
    }
}

/// Every ASIC model, firmware and the reliability of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsicCatalog {
    /// The ASIC models.
    pub models: Vec<AsicSpec>,
    /// The firmware kinds (curtail/resume behaviour).
    pub firmware: Vec<FirmwareSpec>,
    /// Failures and repairs of an ASIC.
    pub reliability: ReliabilityParams,
}

/// A catalog that cannot be used, or a name it does not know.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A name absent from the catalog.
    #[error("unknown {kind} '{name}'; known: {}", known.join(", "))]
    Unknown {
        /// What was looked up: "ASIC model" or "firmware".
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names the catalog holds, in catalog order.
        known: Vec<String>,
    },
    /// The TOML text does not parse into a catalog.
    #[error("ASIC catalog: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range or a name is repeated.
    #[error("ASIC catalog: {0}")]
    Invalid(String),
}

impl Default for AsicCatalog {
    /// The shipped `models/params/asic.toml`.
    fn default() -> Self {
        AsicCatalog::from_toml(DEFAULT_TOML).unwrap_or_else(|e| panic!("asic.toml: {e}"))
    }
}

impl AsicCatalog {
    /// Parses and checks a TOML catalog.
    ///
    /// # Errors
    /// Unknown or missing keys, wrong types, out-of-range values, a name
    /// given twice.
    pub fn from_toml(text: &str) -> Result<AsicCatalog, SpecError> {
        let catalog: AsicCatalog = toml::from_str(text)?;
        catalog.validate().map_err(SpecError::Invalid)?;
        Ok(catalog)
    }

    /// Checks every model, firmware and the reliability parameters.
    ///
    /// # Errors
    /// The first invalid entry or repeated name, as a sentence.
    pub fn validate(&self) -> Result<(), String> {
        for (i, m) in self.models.iter().enumerate() {
            m.validate()?;
            if self.models[..i].iter().any(|o| o.name == m.name) {
                return Err(format!("ASIC model '{}' is listed twice", m.name));
            }
        }
        for (i, f) in self.firmware.iter().enumerate() {
            f.validate()?;
            if self.firmware[..i].iter().any(|o| o.name == f.name) {
                return Err(format!("firmware '{}' is listed twice", f.name));
            }
        }
        self.reliability.validate()
    }

    /// The model called `name`.
    ///
    /// # Errors
    /// [`SpecError::Unknown`] listing the known models.
    pub fn model(&self, name: &str) -> Result<&AsicSpec, SpecError> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| SpecError::Unknown {
                kind: "ASIC model",
                name: name.to_owned(),
                known: self.models.iter().map(|m| m.name.clone()).collect(),
            })
    }

    /// The firmware called `name`.
    ///
    /// # Errors
    /// [`SpecError::Unknown`] listing the known firmware.
    pub fn firmware(&self, name: &str) -> Result<&FirmwareSpec, SpecError> {
        self.firmware
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| SpecError::Unknown {
                kind: "firmware",
                name: name.to_owned(),
                known: self.firmware.iter().map(|f| f.name.clone()).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_closed_form() {
        let c = AsicCatalog::default();
        let s21 = c.model("S21").unwrap();
        // Half power: H = 200·0.5^β, J/TH = 17.5·0.5^(1−β).
        let p = 1750.0_f64.max(s21.min_power_w);
        let ratio: f64 = p / 3500.0;
        let h = 200.0 * ratio.powf(s21.curve_exponent);
        assert!((s21.hashrate_th_at(p) - h).abs() < 1e-9);
        assert!(
            (s21.efficiency_j_per_th_at(p) - 17.5 * ratio.powf(1.0 - s21.curve_exponent)).abs()
                < 1e-9
        );
    }

    #[test]
    fn bad_ranges_rejected() {
        let mut s = AsicCatalog::default().models[0].clone();
        s.min_power_w = s.power_w + 1.0;
        assert!(s.validate().unwrap_err().contains("min_power_w"));
        let mut s = AsicCatalog::default().models[0].clone();
        s.curve_exponent = 1.5;
        assert!(s.validate().unwrap_err().contains("curve_exponent"));
        let mut s = AsicCatalog::default().models[0].clone();
        s.power_w = -3500.0;
        assert!(
            s.validate()
                .unwrap_err()
                .contains("power_w must be positive")
        );
    }
}
