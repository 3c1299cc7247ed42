//! Bounded retries with exponential backoff: a device call that fails in a
//! way that may pass ([`DeviceError::is_retryable`]) is tried again after
//! `base`, `2·base`, `4·base`… up to `attempts` tries in all, never longer
//! than `cap` between tries. Refused credentials and missing commands are
//! not retried: asking again cannot help.

use std::future::Future;
use std::time::Duration;

use crate::error::{DeviceError, DeviceResult};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, at least 1.
    pub attempts: u32,
    /// Wait before the second try.
    pub base: Duration,
    /// Longest wait between tries.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `failed` (1-based).
    pub fn backoff(&self, failed: u32) -> Duration {
        let factor = 1_u32
            .checked_shl(failed.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Runs `call` until it succeeds, fails for good, or the tries run out;
    /// the last error is returned with the number of tries made.
    ///
    /// # Errors
    /// The last try's error.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> (DeviceResult<T>, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = DeviceResult<T>>,
    {
        let attempts = self.attempts.max(1);
        let mut tries = 0;
        loop {
            tries += 1;
            match call().await {
                Ok(v) => return (Ok(v), tries),
                Err(e) if tries >= attempts || !e.is_retryable() => return (Err(e), tries),
                Err(_) => tokio::time::sleep(self.backoff(tries)).await,
            }
        }
    }
}

/// Whether an error should count against a device's health (anything but
/// a command the firmware lacks).
pub fn counts_as_fault(e: &DeviceError) -> bool {
    !matches!(e, DeviceError::NotSupported { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(700),
        };
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        assert_eq!(p.backoff(40), Duration::from_millis(700));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_and_refusals_are_not() {
        let p = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let (r, tries) = p
            .run(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(DeviceError::protocol("d", "summary", "garbled"))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!((r, tries), (Ok(7), 3));
        let (r, tries) = p
            .run(|| async {
                Err::<(), _>(DeviceError::Unauthorised {
                    device: "d".into(),
                    what: "curtail".into(),
                })
            })
            .await;
        assert!(r.is_err());
        assert_eq!(tries, 1);
        let (r, tries) = p
            .run(|| async { Err::<(), _>(DeviceError::protocol("d", "x", "y")) })
            .await;
        assert!(r.is_err());
        assert_eq!(tries, 3);
    }
}
