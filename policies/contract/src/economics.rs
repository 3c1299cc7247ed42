//! The economic figures a policy reads or a driver derives for it, defined
//! once: a miner's breakeven power price, its revenue per hour, and the
//! recent value of a GPU-hour in each use ([`GpuHourValue`]), which the
//! twin and the live bridge both keep from their own billing.

use serde::{Deserialize, Serialize};

use crate::class::{GpuUse, PerGpuUse};

/// MWh of energy per (J/TH × TH/s × day): 86,400 s / 3.6e9 J per MWh.
pub const MWH_PER_JTH_DAY: f64 = 86_400.0 / 3.6e9;

/// The power price at which a miner's revenue equals its energy cost,
/// USD/MWh: hashprice × (1 − fee) ÷ (J/TH × PUE × 0.024 MWh per PH/s-day).
pub fn breakeven_usd_per_mwh(
    efficiency_j_per_th: f64,
    hashprice_usd_per_th_day: f64,
    pool_fee: f64,
    pue: f64,
) -> f64 {
    hashprice_usd_per_th_day * (1.0 - pool_fee) / (efficiency_j_per_th * pue * MWH_PER_JTH_DAY)
}

/// USD earned per busy GPU-hour in each use, exponentially weighted over
/// about a day: revenue and GPU-hours decay alike. The twin records each
/// market interval's billing; the live bridge records its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuHourValue {
    usd: PerGpuUse<f64>,
    gpu_hours: PerGpuUse<f64>,
}

impl GpuHourValue {
    /// The weight the past keeps after `interval_s` seconds: e^(−interval/day).
    pub fn keep_after(interval_s: f64) -> f64 {
        (-interval_s / 86_400.0).exp()
    }

    /// Adds an interval's revenue and busy GPU-hours by use after decaying
    /// the past by `keep` ([`GpuHourValue::keep_after`]).
    pub fn record(&mut self, keep: f64, usd: &PerGpuUse<f64>, gpu_hours: &PerGpuUse<f64>) {
        for use_ in PerGpuUse::<f64>::EARNING {
            let (Some(total_usd), Some(total_hours)) =
                (self.usd.get_mut(use_), self.gpu_hours.get_mut(use_))
            else {
                continue;
            };
            *total_usd = *total_usd * keep + usd.get(use_).copied().unwrap_or(0.0);
            *total_hours = *total_hours * keep + gpu_hours.get(use_).copied().unwrap_or(0.0);
        }
    }

    /// USD per GPU-hour of `use_` (`None` where nothing has run).
    pub fn usd_per_gpu_hour(&self, use_: GpuUse) -> Option<f64> {
        let hours = *self.gpu_hours.get(use_)?;
        let usd = *self.usd.get(use_)?;
        (hours > 0.0).then(|| usd / hours)
    }

    /// Every earning use's USD per GPU-hour, as an observation shows it.
    pub fn view(&self) -> PerGpuUse<Option<f64>> {
        PerGpuUse {
            p1: self.usd_per_gpu_hour(GpuUse::P1),
            p2: self.usd_per_gpu_hour(GpuUse::P2),
            p3: self.usd_per_gpu_hour(GpuUse::P3),
            p4: self.usd_per_gpu_hour(GpuUse::P4),
            rental: self.usd_per_gpu_hour(GpuUse::Rental),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakeven_of_an_s21_at_50_usd_per_ph_day() {
        // $48.75/PH/day after a 2.5 % fee over (17.5 J/TH × 0.024 MWh per
        // PH/s-day) = $116.07/MWh.
        let b = breakeven_usd_per_mwh(17.5, 0.05, 0.025, 1.0);
        assert!((b - 48.75 / 0.42).abs() < 1e-9);
        assert!((MWH_PER_JTH_DAY - 2.4e-5).abs() < 1e-18);
    }

    #[test]
    fn a_gpu_hour_is_worth_its_decayed_revenue_over_its_decayed_hours() {
        let mut value = GpuHourValue::default();
        assert_eq!(value.usd_per_gpu_hour(GpuUse::P2), None);
        let usd = PerGpuUse {
            p2: 30.0,
            ..PerGpuUse::default()
        };
        let hours = PerGpuUse {
            p2: 10.0,
            ..PerGpuUse::default()
        };
        value.record(1.0, &usd, &hours);
        assert_eq!(value.usd_per_gpu_hour(GpuUse::P2), Some(3.0));
        // Half the weight on the past, then $10 over 10 h: (15 + 10) / (5 + 10).
        let usd = PerGpuUse {
            p2: 10.0,
            ..PerGpuUse::default()
        };
        value.record(0.5, &usd, &hours);
        assert!((value.usd_per_gpu_hour(GpuUse::P2).unwrap() - 25.0 / 15.0).abs() < 1e-12);
        assert_eq!(value.view().p1, None);
        assert!((GpuHourValue::keep_after(86_400.0) - (-1.0f64).exp()).abs() < 1e-15);
    }
}
