//! What the bridge knows of each device's health: when it last answered
//! well, how many calls in a row have failed and why. A device with no good
//! reading yet is [`Health::Unknown`]; one whose last good reading is older
//! than the staleness limit, or that has just failed, is
//! [`Health::Stale`] — the observation then counts it as unresponsive
//! rather than trusting an old value.

use crate::error::{DeviceError, FailureKind};

/// A device's health at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Answered well within the limit and not failed since.
    Fresh,
    /// Its last good answer is too old, or its last call failed.
    Stale,
    /// Never answered well.
    Unknown,
}

/// One device's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceHealth {
    /// Seconds (on the bridge's clock) of the last good answer.
    pub last_good_s: Option<f64>,
    /// Failed calls since the last good one.
    pub consecutive_failures: u32,
    /// The last failure's kind.
    pub last_failure: Option<FailureKind>,
}

impl DeviceHealth {
    /// Records a call's result at `now_s`.
    pub fn record<T>(&mut self, result: &Result<T, DeviceError>, now_s: f64) {
        match result {
            Ok(_) => {
                self.last_good_s = Some(now_s);
                self.consecutive_failures = 0;
                self.last_failure = None;
            }
            Err(e) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.last_failure = Some(e.kind());
            }
        }
    }

    /// The health at `now_s` with readings older than `stale_after_s` stale.
    pub fn health(&self, now_s: f64, stale_after_s: f64) -> Health {
        match self.last_good_s {
            None => Health::Unknown,
            Some(t) if self.consecutive_failures > 0 || now_s - t > stale_after_s => Health::Stale,
            Some(_) => Health::Fresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_or_age_makes_a_device_stale() {
        let mut h = DeviceHealth::default();
        assert_eq!(h.health(0.0, 30.0), Health::Unknown);
        h.record(&Ok::<(), DeviceError>(()), 10.0);
        assert_eq!(h.health(20.0, 30.0), Health::Fresh);
        assert_eq!(h.health(41.0, 30.0), Health::Stale);
        h.record(
            &Err::<(), _>(DeviceError::protocol("d", "summary", "garbled")),
            21.0,
        );
        assert_eq!(
            (h.health(22.0, 30.0), h.consecutive_failures, h.last_failure),
            (Health::Stale, 1, Some(FailureKind::Protocol))
        );
        h.record(&Ok::<(), DeviceError>(()), 23.0);
        assert_eq!(h.health(23.0, 30.0), Health::Fresh);
    }
}
