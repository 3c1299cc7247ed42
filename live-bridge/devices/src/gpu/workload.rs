//! An in-memory [`WorkloadSwitch`] with set sleep and wake times, for
//! exercising a control loop without an inference server.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{SleepLevel, WorkloadState, WorkloadSwitch};
use crate::error::{DeviceError, DeviceResult};

/// A virtual inference engine.
#[derive(Debug)]
pub struct VirtualWorkload {
    name: String,
    sleep_takes: Duration,
    wake_takes: Duration,
    state: Mutex<WorkloadState>,
}

impl VirtualWorkload {
    /// An awake engine named `name` whose sleep and wake take the given times.
    pub fn new(name: &str, sleep_takes: Duration, wake_takes: Duration) -> Self {
        VirtualWorkload {
            name: name.to_owned(),
            sleep_takes,
            wake_takes,
            state: Mutex::new(WorkloadState::Awake),
        }
    }

    fn set(&self, s: WorkloadState) {
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = s;
    }

    async fn take(&self, what: &str, takes: Duration, timeout: Duration) -> DeviceResult<()> {
        if takes > timeout {
            tokio::time::sleep(timeout).await;
            return Err(DeviceError::Timeout {
                device: self.name.clone(),
                what: what.to_owned(),
                after: timeout,
            });
        }
        tokio::time::sleep(takes).await;
        Ok(())
    }
}

#[async_trait]
impl WorkloadSwitch for VirtualWorkload {
    fn endpoint(&self) -> String {
        self.name.clone()
    }

    async fn sleep(&self, _level: SleepLevel, timeout: Duration) -> DeviceResult<()> {
        self.take("sleep", self.sleep_takes, timeout).await?;
        self.set(WorkloadState::Asleep);
        Ok(())
    }

    async fn wake(&self, timeout: Duration) -> DeviceResult<()> {
        self.take("wake_up", self.wake_takes, timeout).await?;
        self.set(WorkloadState::Awake);
        Ok(())
    }

    async fn state(&self, _timeout: Duration) -> DeviceResult<WorkloadState> {
        Ok(*self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;

    #[tokio::test(start_paused = true)]
    async fn sleep_and_wake_take_their_time_and_a_short_timeout_fails() {
        let w = VirtualWorkload::new(
            "gpu0",
            Duration::from_millis(300),
            Duration::from_millis(440),
        );
        let t0 = tokio::time::Instant::now();
        w.sleep(SleepLevel::Offload, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(t0.elapsed(), Duration::from_millis(300));
        assert_eq!(
            w.state(Duration::ZERO).await.unwrap(),
            WorkloadState::Asleep
        );
        let e = w.wake(Duration::from_millis(100)).await.unwrap_err();
        assert_eq!(e.kind(), FailureKind::Timeout);
        assert_eq!(
            w.state(Duration::ZERO).await.unwrap(),
            WorkloadState::Asleep
        );
        w.wake(Duration::from_secs(1)).await.unwrap();
        assert_eq!(w.state(Duration::ZERO).await.unwrap(), WorkloadState::Awake);
    }
}
