//! The LuxOS driver, all on the 4028 API: one `summary+power+config`
//! request per reading; commands through a session — reused while it lives
//! (LuxOS keeps one session per miner, lapsing a minute after its last
//! use), opened with `logon` or taken over with `session`, and opened
//! afresh once when the miner says the session is no longer valid.
//! A power target is the nearest power profile at or below it
//! (`profiles`, then `profileset`), so the miner never draws more than
//! asked. The session id is never written to an error or a log.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::replies::{self, number};
use super::rpc::call;
use super::{Firmware, MinerControl, MinerReading, MinerTelemetry};
use crate::error::{DeviceError, DeviceResult};

/// A miner running LuxOS.
#[derive(Debug)]
pub struct LuxOsMiner {
    addr: SocketAddr,
    session: Mutex<Option<String>>,
    profiles: Mutex<Option<Vec<(String, f64)>>>,
}

impl LuxOsMiner {
    /// A driver for the miner at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        LuxOsMiner {
            addr,
            session: Mutex::new(None),
            profiles: Mutex::new(None),
        }
    }

    fn cached_session(&self) -> Option<String> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn remember_session(&self, id: Option<String>) {
        *self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = id;
    }

    /// Opens a session with `logon`; if the miner has one already (a
    /// session of this driver it forgot, or of another tool), takes it
    /// over with `session`. Sessions are coordination, not security
    /// (Luxor's session docs), so taking one over is how LuxOS tools work.
    async fn open_session(&self, timeout: Duration) -> DeviceResult<String> {
        let device = self.addr.to_string();
        let id = match call(self.addr, "logon", None, timeout).await {
            Ok(logon) => session_id(&logon)
                .ok_or_else(|| DeviceError::protocol(&device, "logon", "no SessionID in reply"))?,
            Err(DeviceError::Protocol { .. }) => {
                let current = call(self.addr, "session", None, timeout).await?;
                session_id(&current).ok_or_else(|| {
                    DeviceError::protocol(
                        &device,
                        "session",
                        "logon refused and no session to take over",
                    )
                })?
            }
            Err(e) => return Err(e),
        };
        self.remember_session(Some(id.clone()));
        Ok(id)
    }

    /// Runs `command` with `session,argument`, opening a session if needed
    /// and once more if the miner has dropped it.
    async fn with_session(
        &self,
        command: &str,
        argument: &str,
        timeout: Duration,
    ) -> DeviceResult<Value> {
        let run = async {
            let id = match self.cached_session() {
                Some(id) => id,
                None => self.open_session(timeout).await?,
            };
            match call(
                self.addr,
                command,
                Some(&format!("{id},{argument}")),
                timeout,
            )
            .await
            {
                Err(DeviceError::Unauthorised { .. }) => {
                    self.remember_session(None);
                    let id = self.open_session(timeout).await?;
                    call(
                        self.addr,
                        command,
                        Some(&format!("{id},{argument}")),
                        timeout,
                    )
                    .await
                }
                other => other,
            }
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(DeviceError::Timeout {
                device: self.addr.to_string(),
                what: command.to_owned(),
                after: timeout,
            }),
        }
    }

    async fn profiles(&self, timeout: Duration) -> DeviceResult<Vec<(String, f64)>> {
        if let Some(p) = self
            .profiles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok(p);
        }
        let reply = call(self.addr, "profiles", None, timeout).await?;
        let parsed = parse_profiles(&reply);
        if parsed.is_empty() {
            return Err(DeviceError::protocol(
                &self.addr.to_string(),
                "profiles",
                "no profiles with Watts",
            ));
        }
        *self
            .profiles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(parsed.clone());
        Ok(parsed)
    }
}

fn session_id(reply: &Value) -> Option<String> {
    replies::record(reply, None, "SESSION")?
        .get("SessionID")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The `(name, watts)` of each profile in a `profiles` reply.
pub fn parse_profiles(reply: &Value) -> Vec<(String, f64)> {
    reply
        .get("PROFILES")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some((
                        p.get("Profile Name")?.as_str()?.to_owned(),
                        p.get("Watts").and_then(number)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The profile to run for a target of `watts`: the highest at or below
/// it, or the lowest there is when every profile is above it.
pub fn profile_for(profiles: &[(String, f64)], watts: f64) -> Option<&(String, f64)> {
    profiles
        .iter()
        .filter(|(_, w)| *w <= watts + 1e-6)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .or_else(|| profiles.iter().min_by(|a, b| a.1.total_cmp(&b.1)))
}

#[async_trait]
impl MinerTelemetry for LuxOsMiner {
    fn address(&self) -> SocketAddr {
        self.addr
    }

    fn firmware(&self) -> Firmware {
        Firmware::LuxOs
    }

    async fn read(&self, timeout: Duration) -> DeviceResult<MinerReading> {
        let reply = call(self.addr, "summary+power+config", None, timeout).await?;
        replies::luxos(&self.addr.to_string(), &reply)
    }
}

#[async_trait]
impl MinerControl for LuxOsMiner {
    async fn curtail(&self, timeout: Duration) -> DeviceResult<()> {
        self.with_session("curtail", "sleep", timeout)
            .await
            .map(drop)
    }

    async fn resume(&self, timeout: Duration) -> DeviceResult<()> {
        self.with_session("curtail", "wakeup", timeout)
            .await
            .map(drop)
    }

    async fn set_power_target(&self, watts: f64, timeout: Duration) -> DeviceResult<()> {
        let profiles = self.profiles(timeout).await?;
        let (name, _) = profile_for(&profiles, watts).ok_or_else(|| {
            DeviceError::protocol(&self.addr.to_string(), "profiles", "no profile")
        })?;
        self.with_session("profileset", name, timeout)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_picks_the_highest_profile_not_above_it() {
        let p = vec![
            ("default".to_owned(), 3_500.0),
            ("-1".to_owned(), 3_325.0),
            ("-2".to_owned(), 3_150.0),
            ("+1".to_owned(), 3_675.0),
        ];
        assert_eq!(profile_for(&p, 3_400.0).unwrap().0, "-1");
        assert_eq!(profile_for(&p, 3_500.0).unwrap().0, "default");
        assert_eq!(profile_for(&p, 9_000.0).unwrap().0, "+1");
        assert_eq!(
            profile_for(&p, 100.0).unwrap().0,
            "-2",
            "below every profile: the lowest"
        );
        assert!(profile_for(&[], 100.0).is_none());
    }
}
