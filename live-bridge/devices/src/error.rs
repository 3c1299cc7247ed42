//! Typed device failures. Every driver call ends in a reading, an
//! acknowledged command, or one of these: the caller (the bridge's poller
//! and its safety envelope) decides from the kind whether to retry, mark the
//! device stale, or quarantine it, and never has to parse a message.
//!
//! Errors name the device by its address and what was asked, never a
//! credential: drivers build them from the request's command word, and a
//! secret is never part of one (see [`crate::credentials`]).

use std::time::Duration;

/// What went wrong talking to one device.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    /// No complete answer within the call's timeout.
    #[error("{device}: no answer to '{what}' within {after:?}")]
    Timeout {
        /// The device's address.
        device: String,
        /// The request.
        what: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// The device closed or refused the connection.
    #[error("{device}: connection refused or dropped during '{what}': {detail}")]
    Refused {
        /// The device's address.
        device: String,
        /// The request.
        what: String,
        /// The operating system's words.
        detail: String,
    },
    /// An answer that breaks the protocol: not JSON, a missing field, an
    /// error status.
    #[error("{device}: protocol error in '{what}': {detail}")]
    Protocol {
        /// The device's address.
        device: String,
        /// The request.
        what: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// The firmware has no such command (stock firmware has no power target).
    #[error("{device}: '{what}' is not supported by {firmware}")]
    NotSupported {
        /// The device's address.
        device: String,
        /// The request.
        what: String,
        /// The firmware's name.
        firmware: String,
    },
    /// The device refused the credentials or the session.
    #[error("{device}: not authorised for '{what}'")]
    Unauthorised {
        /// The device's address.
        device: String,
        /// The request.
        what: String,
    },
    /// A well-formed answer with an impossible reading (a miner drawing
    /// 2,147,483,647 W, a negative hashrate): a fault, never a fact.
    #[error("{device}: impossible reading {field} = {value} (allowed {allowed})")]
    Implausible {
        /// The device's address.
        device: String,
        /// The reading's name.
        field: &'static str,
        /// What the device said.
        value: f64,
        /// The allowed range, as words.
        allowed: String,
    },
}

/// The kind of a [`DeviceError`], for counting and for retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// [`DeviceError::Timeout`].
    Timeout,
    /// [`DeviceError::Refused`].
    Refused,
    /// [`DeviceError::Protocol`].
    Protocol,
    /// [`DeviceError::NotSupported`].
    NotSupported,
    /// [`DeviceError::Unauthorised`].
    Unauthorised,
    /// [`DeviceError::Implausible`].
    Implausible,
}

impl DeviceError {
    /// The error's kind.
    pub fn kind(&self) -> FailureKind {
        match self {
            DeviceError::Timeout { .. } => FailureKind::Timeout,
            DeviceError::Refused { .. } => FailureKind::Refused,
            DeviceError::Protocol { .. } => FailureKind::Protocol,
            DeviceError::NotSupported { .. } => FailureKind::NotSupported,
            DeviceError::Unauthorised { .. } => FailureKind::Unauthorised,
            DeviceError::Implausible { .. } => FailureKind::Implausible,
        }
    }

    /// Whether asking again may help: a timeout, a refused connection, a
    /// garbled or impossible answer may be transient; a missing command or
    /// refused credentials are not.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self.kind(),
            FailureKind::NotSupported | FailureKind::Unauthorised
        )
    }

    /// A protocol error for `device`'s answer to `what`.
    pub fn protocol(device: &str, what: &str, detail: impl Into<String>) -> Self {
        DeviceError::Protocol {
            device: device.to_owned(),
            what: what.to_owned(),
            detail: detail.into(),
        }
    }
}

/// A device call's result.
pub type DeviceResult<T> = Result<T, DeviceError>;
