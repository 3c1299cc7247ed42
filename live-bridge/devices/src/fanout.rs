//! Fleet-wide calls: one call per device, at most `concurrency` in flight,
//! each retried per its [`RetryPolicy`], results in the devices' order. A
//! full telemetry poll and a curtail fan-out are this with a read or a
//! command; the bridge runs them on its poller task, so a decision reads
//! the last snapshot and never waits on a slow device.

use std::future::Future;

use futures::StreamExt;

use crate::error::DeviceResult;
use crate::retry::RetryPolicy;

/// One device's outcome: the result and the tries it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    /// The device's position in the list called.
    pub index: usize,
    /// What the last try gave.
    pub result: DeviceResult<T>,
    /// Tries made (1 = no retry).
    pub tries: u32,
}

/// Calls `call(i)` for every `i < n`, at most `concurrency` at once,
/// retrying per `retry`; the outcomes sorted by index.
pub async fn fan_out<T, F, Fut>(
    n: usize,
    concurrency: usize,
    retry: RetryPolicy,
    call: F,
) -> Vec<Outcome<T>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = DeviceResult<T>>,
{
    let call = &call;
    let mut outcomes: Vec<Outcome<T>> = futures::stream::iter(0..n)
        .map(|index| async move {
            let (result, tries) = retry.run(|| call(index)).await;
            Outcome {
                index,
                result,
                tries,
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_unstable_by_key(|o| o.index);
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DeviceError;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_order_kept() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let outcomes = fan_out(100, 7, RetryPolicy::default(), |i| {
            let (in_flight, peak) = (&in_flight, &peak);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                if i % 10 == 0 {
                    Err(DeviceError::Unauthorised {
                        device: i.to_string(),
                        what: "x".into(),
                    })
                } else {
                    Ok(i * 2)
                }
            }
        })
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 7);
        assert_eq!(outcomes.len(), 100);
        assert!(outcomes.iter().enumerate().all(|(i, o)| o.index == i));
        assert_eq!(outcomes[3].result, Ok(6));
        assert!(outcomes[10].result.is_err() && outcomes[10].tries == 1);
    }
}
