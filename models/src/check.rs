//! [`Check`]: one line of `hcp validate` — a statistic of a generator (or a
//! formula) next to its real-data reference, a tolerance and the verdict.
//!
//! The JSON field names (`group`, `name`, `value`, `reference`,
//! `tolerance`, `tolerance_kind`, `pass`, `unit`, `source`) are stable.

use serde::Serialize;

/// How a check's tolerance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToleranceKind {
    /// |value − reference| ≤ tolerance · |reference|.
    Relative,
    /// |value − reference| ≤ tolerance.
    Absolute,
}

/// One validated statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The generator or formula checked, e.g. `grid/HB_WEST` or `hashprice`.
    pub group: String,
    /// The statistic, e.g. `p99` or `lag1_autocorrelation`.
    pub name: String,
    /// What the model gives.
    pub value: f64,
    /// What the real data (or a cited public figure) gives.
    pub reference: f64,
    /// Allowed deviation, relative or absolute per `tolerance_kind`.
    pub tolerance: f64,
    /// Whether `tolerance` is relative or absolute.
    pub tolerance_kind: ToleranceKind,
    /// Whether the value is within tolerance of the reference.
    pub pass: bool,
    /// Unit of `value` and `reference` (`$/MWh`, `share`, `1`…).
    pub unit: String,
    /// Where the reference comes from (a file of `data/`, a cited index).
    pub source: String,
}

impl Check {
    /// A check passing when |value − reference| ≤ tolerance · |reference|.
    pub fn relative(
        group: &str,
        name: &str,
        value: f64,
        reference: f64,
        tolerance: f64,
        unit: &str,
        source: &str,
    ) -> Check {
        let pass = (value - reference).abs() <= tolerance * reference.abs();
        Check::build(
            group,
            name,
            value,
            reference,
            tolerance,
            ToleranceKind::Relative,
            pass,
            unit,
            source,
        )
    }

    /// A check passing when |value − reference| ≤ tolerance.
    pub fn absolute(
        group: &str,
        name: &str,
        value: f64,
        reference: f64,
        tolerance: f64,
        unit: &str,
        source: &str,
    ) -> Check {
        let pass = (value - reference).abs() <= tolerance;
        Check::build(
            group,
            name,
            value,
            reference,
            tolerance,
            ToleranceKind::Absolute,
            pass,
            unit,
            source,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        group: &str,
        name: &str,
        value: f64,
        reference: f64,
        tolerance: f64,
        tolerance_kind: ToleranceKind,
        pass: bool,
        unit: &str,
        source: &str,
    ) -> Check {
        Check {
            group: group.to_owned(),
            name: name.to_owned(),
            value,
            reference,
            tolerance,
            tolerance_kind,
            // NaN never passes.
            pass: pass && value.is_finite(),
            unit: unit.to_owned(),
            source: source.to_owned(),
        }
    }

    /// The deviation in the check's own terms: relative or absolute.
    pub fn deviation(&self) -> f64 {
        match self.tolerance_kind {
            ToleranceKind::Relative => (self.value - self.reference) / self.reference.abs(),
            ToleranceKind::Absolute => self.value - self.reference,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_tolerances() {
        assert!(Check::relative("g", "mean", 114.0, 100.0, 0.15, "$", "x").pass);
        assert!(!Check::relative("g", "mean", 116.0, 100.0, 0.15, "$", "x").pass);
        assert!(Check::relative("g", "mean", -90.0, -100.0, 0.15, "$", "x").pass);
        assert!(Check::absolute("g", "corr", 0.93, 0.95, 0.05, "1", "x").pass);
        assert!(!Check::absolute("g", "corr", f64::NAN, 0.95, 0.05, "1", "x").pass);
        let c = Check::relative("g", "mean", 110.0, 100.0, 0.15, "$", "x");
        assert!((c.deviation() - 0.10).abs() < 1e-12);
    }
}
