//! The statistics a report states, computed from the `runs` rows alone:
//! the sweep's own [`summarise`] (mean profit with 95 % CI, paired uplift
//! over the baseline on the same replications, CVaR 5 %, % of oracle), per
//! replication uplifts for the figures, the horizon's length, and the
//! number formats every text uses (USD in millions).

use std::collections::BTreeMap;

use hcp_scenarios::sweep::{RunFigures, Summary, summarise};

use hcp_scenarios::sweep::BASELINE;

use super::load::ScenarioData;

/// The sweep's summary of the scenario's runs.
pub fn summary(data: &ScenarioData) -> Summary {
    let days = horizon_days(data).unwrap_or(1.0);
    let figures: Vec<RunFigures> = data.runs.iter().map(|r| r.figures(days)).collect();
    summarise(
        &data.name,
        data.seed.unwrap_or(0),
        &data.policies,
        &figures,
        BASELINE,
    )
}

/// The horizon in days: intervals per run × the interval length (when
/// the dataset has intervals to measure it from).
pub fn horizon_days(data: &ScenarioData) -> Option<f64> {
    let step = data.step_s?;
    let intervals = data.runs.first()?.intervals;
    Some(intervals as f64 * step / 86_400.0)
}

/// Each policy's profits by replication, USD.
pub fn profits(data: &ScenarioData) -> BTreeMap<&str, BTreeMap<u64, f64>> {
    let mut out: BTreeMap<&str, BTreeMap<u64, f64>> = BTreeMap::new();
    for row in &data.runs {
        out.entry(row.policy.as_str())
            .or_default()
            .insert(row.replication, row.profit_usd);
    }
    out
}

/// A policy's profit less the baseline's, replication by replication
/// (the replications where both ran).
pub fn uplifts(data: &ScenarioData, policy: &str) -> Vec<f64> {
    let by = profits(data);
    let (Some(mine), Some(base)) = (by.get(policy), by.get(BASELINE)) else {
        return Vec::new();
    };
    mine.iter()
        .filter_map(|(r, p)| Some(p - base.get(r)?))
        .collect()
}

/// Mean of the values present (NaN when none).
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = values
        .into_iter()
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { s / f64::from(n) }
}

/// USD as `$43.8 M` (millions, one decimal below 100 M).
pub fn musd(usd: f64) -> String {
    let m = usd / 1e6;
    let sign = if m < 0.0 { "−" } else { "" };
    let a = m.abs();
    if a >= 100.0 {
        format!("{sign}${a:.0} M")
    } else if a >= 1.0 {
        format!("{sign}${a:.1} M")
    } else {
        format!("{sign}${a:.2} M")
    }
}

/// USD as a signed `+$43.8 M` / `−$1.2 M`.
pub fn signed_musd(usd: f64) -> String {
    if usd >= 0.0 {
        format!("+{}", musd(usd))
    } else {
        musd(usd)
    }
}

/// "per replication, N-day horizon" or "per replication".
pub fn per_run(data: &ScenarioData) -> String {
    horizon_days(data).map_or_else(
        || "per replication".to_owned(),
        |d| format!("per replication, {d:.0}-day horizon"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_in_millions() {
        assert_eq!(musd(43_812_345.0), "$43.8 M");
        assert_eq!(signed_musd(43_812_345.0), "+$43.8 M");
        assert_eq!(signed_musd(-1_234_567.0), "−$1.2 M");
        assert_eq!(musd(123_456_789.0), "$123 M");
        assert_eq!(musd(456_789.0), "$0.46 M");
    }
}
