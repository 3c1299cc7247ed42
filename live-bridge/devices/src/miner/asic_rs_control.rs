//! Commands through `asic-rs`, the field's driver library, for firmware
//! whose command path is not the 4028 API: stock Antminer sleeps and wakes
//! through its web interface (digest auth), Braiins OS pauses, resumes and
//! takes a power target through its own API, Whatsminer's writes need its
//! token handshake. [`AsicRsControl`] wraps the miner handle `asic-rs`
//! builds (`MinerFactory::get_miner`) behind this crate's [`MinerControl`]
//! with its timeouts and typed errors.
//!
//! `asic-rs` reports failures as text; that text is passed on only with
//! the login's password masked, so no credential reaches an error or log.

use std::net::SocketAddr;
use std::time::Duration;

use asic_rs::MinerFactory;
use asic_rs::core::traits::auth::MinerAuth;
use asic_rs::core::traits::miner::Miner;
use async_trait::async_trait;

use super::{Firmware, MinerControl};
use crate::credentials::Login;
use crate::error::{DeviceError, DeviceResult};

/// A miner commanded through `asic-rs`.
pub struct AsicRsControl {
    addr: SocketAddr,
    firmware: Firmware,
    miner: Box<dyn Miner>,
    mask: Option<String>,
}

impl std::fmt::Debug for AsicRsControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsicRsControl")
            .field("addr", &self.addr)
            .field("firmware", &self.firmware)
            .finish_non_exhaustive()
    }
}

impl AsicRsControl {
    /// Identifies the miner at `addr` with `asic-rs` (within `timeout`) and
    /// wraps its handle, logging in with `login` where given.
    ///
    /// # Errors
    /// [`DeviceError::Timeout`] or [`DeviceError::Protocol`] when `asic-rs`
    /// cannot identify a miner there.
    pub async fn connect(
        addr: SocketAddr,
        firmware: Firmware,
        login: Option<&Login>,
        timeout: Duration,
    ) -> DeviceResult<Self> {
        let device = addr.to_string();
        let mut factory = MinerFactory::new()
            .with_identification_timeout(timeout)
            .with_connectivity_retries(0);
        if let Some(login) = login {
            factory = factory
                .with_firmware_discovery_auth_by_name(
                    asic_rs_name(firmware),
                    MinerAuth::new(login.user.clone(), login.password.expose().to_owned()),
                )
                .map_err(|e| DeviceError::protocol(&device, "identify (asic-rs)", e.to_string()))?;
        }
        let miner = match factory.get_miner(addr.ip()).await {
            Ok(Some(miner)) => miner,
            Ok(None) => {
                return Err(DeviceError::Timeout {
                    device,
                    what: "identify (asic-rs)".into(),
                    after: timeout,
                });
            }
            Err(e) => {
                return Err(DeviceError::protocol(
                    &device,
                    "identify (asic-rs)",
                    e.to_string(),
                ));
            }
        };
        Ok(AsicRsControl {
            addr,
            firmware,
            miner,
            mask: login.map(|l| l.password.expose().to_owned()),
        })
    }

    /// The wrapped `asic-rs` handle (for reads `asic-rs` does well).
    pub fn miner(&self) -> &dyn Miner {
        self.miner.as_ref()
    }

    fn failed(&self, what: &str, e: &anyhow::Error) -> DeviceError {
        let mut text = format!("{e:#}");
        if let Some(secret) = self.mask.as_deref().filter(|s| !s.is_empty()) {
            text = text.replace(secret, "***");
        }
        let lower = text.to_lowercase();
        let device = self.addr.to_string();
        if lower.contains("not supported") {
            DeviceError::NotSupported {
                device,
                what: what.to_owned(),
                firmware: self.firmware.to_string(),
            }
        } else if lower.contains("401") || lower.contains("unauthor") || lower.contains("auth") {
            DeviceError::Unauthorised {
                device,
                what: what.to_owned(),
            }
        } else {
            DeviceError::protocol(&device, what, text)
        }
    }

    async fn run<F>(&self, what: &str, timeout: Duration, call: F) -> DeviceResult<()>
    where
        F: Future<Output = anyhow::Result<bool>> + Send,
    {
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(DeviceError::protocol(
                &self.addr.to_string(),
                what,
                "the miner did not confirm",
            )),
            Ok(Err(e)) => Err(self.failed(what, &e)),
            Err(_) => Err(DeviceError::Timeout {
                device: self.addr.to_string(),
                what: what.to_owned(),
                after: timeout,
            }),
        }
    }
}

/// The name `asic-rs` gives a firmware (its `Display`), for discovery auth.
fn asic_rs_name(firmware: Firmware) -> &'static str {
    match firmware {
        Firmware::AntminerStock => "AntMiner Stock",
        Firmware::LuxOs => "LuxOS",
        Firmware::BraiinsOs => "Braiins",
        Firmware::Whatsminer => "WhatsMiner Stock",
    }
}

#[async_trait]
impl MinerControl for AsicRsControl {
    async fn curtail(&self, timeout: Duration) -> DeviceResult<()> {
        if !self.miner.supports_pause() {
            return Err(DeviceError::NotSupported {
                device: self.addr.to_string(),
                what: "pause".into(),
                firmware: self.firmware.to_string(),
            });
        }
        self.run("pause", timeout, self.miner.pause(None)).await
    }

    async fn resume(&self, timeout: Duration) -> DeviceResult<()> {
        if !self.miner.supports_resume() {
            return Err(DeviceError::NotSupported {
                device: self.addr.to_string(),
                what: "resume".into(),
                firmware: self.firmware.to_string(),
            });
        }
        self.run("resume", timeout, self.miner.resume(None)).await
    }

    async fn set_power_target(&self, watts: f64, timeout: Duration) -> DeviceResult<()> {
        if !self.miner.supports_set_power_limit() {
            return Err(DeviceError::NotSupported {
                device: self.addr.to_string(),
                what: "set_power_limit".into(),
                firmware: self.firmware.to_string(),
            });
        }
        let limit = measurements::Power::from_watts(watts);
        self.run(
            "set_power_limit",
            timeout,
            self.miner.set_power_limit(limit),
        )
        .await
    }
}
