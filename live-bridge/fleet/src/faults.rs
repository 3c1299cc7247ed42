//! Faults a virtual device can be told to show, per device or at random:
//! the failures a driver must survive (design.md §7). A device reads its
//! fault at every request; tests and `hcp fleet serve --faults` set them.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// One way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fault {
    /// Behaves.
    None,
    /// Accepts the connection and never answers.
    NoAnswer,
    /// Answers after `delay_ms` of wall time.
    Slow {
        /// Wall-clock delay before the answer, ms.
        delay_ms: u64,
    },
    /// Refuses connections (the listener is closed).
    Refused,
    /// Answers with bytes that are not JSON.
    Malformed,
    /// Answers well-formed JSON with impossible readings (2,147,483,647 W,
    /// a negative hashrate).
    Impossible,
    /// Takes the next command, drops the connection without an answer and
    /// reboots (back after the firmware's resume time).
    RebootMidCommand,
    /// Refuses every credential and session.
    AuthFailure,
}

/// A device's current fault, shared between the fleet's control side and
/// the device's server task, which is woken when it changes (a miner told
/// to refuse connections closes its listener, and reopens it when told to
/// behave).
#[derive(Debug)]
pub struct FaultSlot {
    fault: Mutex<Fault>,
    changed: Notify,
}

impl Default for FaultSlot {
    fn default() -> Self {
        FaultSlot {
            fault: Mutex::new(Fault::None),
            changed: Notify::new(),
        }
    }
}

impl FaultSlot {
    /// The current fault.
    pub fn get(&self) -> Fault {
        *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets the fault and wakes the device's server.
    pub fn set(&self, fault: Fault) {
        *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
        self.changed.notify_waiters();
    }

    /// Takes a one-shot fault: returns it and puts [`Fault::None`] back.
    pub fn take_if(&self, wanted: Fault) -> bool {
        let mut slot = self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *slot == wanted {
            *slot = Fault::None;
            true
        } else {
            false
        }
    }

    /// Resolves at the next [`set`](Self::set).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}
