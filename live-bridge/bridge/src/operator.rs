//! What an operator may ask of a running bridge, independent of how the
//! request arrives: the operator API ([`crate::api`]) authenticates a
//! bearer token into an [`Actor`] with a [`Role`] and calls the bridge
//! through [`OperatorPort`]. Disarming and the emergency stop are always
//! allowed to an operator; arming is allowed only for sites whose
//! configuration permits it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a token may do. Ordered: a higher role may do everything a lower
/// one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads status, metrics and the live stream.
    Viewer,
    /// Also arms, disarms, stops, and pushes feed values.
    Operator,
    /// Also changes safety limits.
    Admin,
}

impl Role {
    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// The role's name in token files and logs.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// Who asked: the name a token was issued to, and its role. Never the
/// token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The name the token was issued to.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// A request to arm sites.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmRequest {
    /// Sites to arm by id (empty: every site the configuration allows).
    pub sites: Vec<String>,
}

/// A feed value pushed by an operator or an outside system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedPush {
    /// The value, in the feed's unit.
    pub value: f64,
    /// When it was true (default: the bridge's now, on its tape clock).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// A change of one safety limit by an admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitChange {
    /// The limit's key, as the configuration's `[safety]` table names it.
    pub key: String,
    /// Its new value.
    pub value: f64,
}

/// Why the bridge refused an operator's request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The request is well formed but not allowed (a site whose
    /// configuration forbids arming).
    #[error("{0}")]
    NotAllowed(String),
    /// The request names something that does not exist or has a bad value.
    #[error("{0}")]
    BadRequest(String),
}

/// The bridge as the operator API sees it.
pub trait OperatorPort: Send + Sync + 'static {
    /// Liveness and mode, for probes: small, no fleet data.
    fn health(&self) -> serde_json::Value;
    /// The current observation, the last decision, the envelope's state.
    fn status(&self) -> serde_json::Value;
    /// Arms sites (both the configuration and this act are needed).
    ///
    /// # Errors
    /// [`Refusal`] when a site is unknown or may not be armed.
    fn arm(&self, actor: &Actor, request: ArmRequest) -> Result<serde_json::Value, Refusal>;
    /// Disarms every site at once: always allowed.
    fn disarm(&self, actor: &Actor) -> serde_json::Value;
    /// Emergency stop: disarms, then curtails every miner (GPUs are not
    /// driven by the bridge yet). Always allowed; returns once started.
    fn emergency_stop(&self, actor: &Actor) -> serde_json::Value;
    /// A value for a pushed feed.
    ///
    /// # Errors
    /// [`Refusal::BadRequest`] for an unknown feed or a non-finite value.
    fn push_feed(
        &self,
        actor: &Actor,
        feed: &str,
        push: FeedPush,
    ) -> Result<serde_json::Value, Refusal>;
    /// Changes one safety limit.
    ///
    /// # Errors
    /// [`Refusal::BadRequest`] for an unknown key or an impossible value.
    fn change_limit(
        &self,
        actor: &Actor,
        change: LimitChange,
    ) -> Result<serde_json::Value, Refusal>;
    /// The live stream: one JSON document per event (epoch, decision,
    /// clip, command, fault, operator act), as the audit log writes them.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<str>>;
}
