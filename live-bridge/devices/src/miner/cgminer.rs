//! Stock Antminer, Braiins OS and Whatsminer: telemetry on the lean path,
//! one request per reading on the 4028 API (`summary+stats`,
//! `summary+tunerstatus`, `summary`), parsed by [`super::replies`];
//! commands through `asic-rs` ([`AsicRsControl`]), whose handle is built
//! on the first command and kept, since each of these firmwares takes its
//! commands on another interface (web, its own API, an encrypted token
//! handshake).

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::asic_rs_control::AsicRsControl;
use super::replies;
use super::rpc::call;
use super::{Firmware, MinerControl, MinerReading, MinerTelemetry};
use crate::credentials::Login;
use crate::error::DeviceResult;

/// A stock Antminer, Braiins OS or Whatsminer miner.
#[derive(Debug)]
pub struct CgminerMiner {
    addr: SocketAddr,
    firmware: Firmware,
    login: Option<Login>,
    control: OnceCell<AsicRsControl>,
}

impl CgminerMiner {
    /// A driver for the miner at `addr` running `firmware` (anything but
    /// LuxOS, which has its own driver), with `login` for its commands.
    pub fn new(addr: SocketAddr, firmware: Firmware, login: Option<Login>) -> Self {
        CgminerMiner {
            addr,
            firmware,
            login,
            control: OnceCell::new(),
        }
    }

    /// The 4028 request of one reading.
    pub fn telemetry_command(firmware: Firmware) -> &'static str {
        match firmware {
            Firmware::AntminerStock => "summary+stats",
            Firmware::BraiinsOs => "summary+tunerstatus",
            Firmware::Whatsminer => "summary",
            Firmware::LuxOs => "summary+power+config",
        }
    }

    async fn control(&self, timeout: Duration) -> DeviceResult<&AsicRsControl> {
        self.control
            .get_or_try_init(|| {
                AsicRsControl::connect(self.addr, self.firmware, self.login.as_ref(), timeout)
            })
            .await
    }
}

#[async_trait]
impl MinerTelemetry for CgminerMiner {
    fn address(&self) -> SocketAddr {
        self.addr
    }

    fn firmware(&self) -> Firmware {
        self.firmware
    }

    async fn read(&self, timeout: Duration) -> DeviceResult<MinerReading> {
        let command = Self::telemetry_command(self.firmware);
        let reply = call(self.addr, command, None, timeout).await?;
        let device = self.addr.to_string();
        match self.firmware {
            Firmware::AntminerStock => replies::antminer(&device, &reply),
            Firmware::BraiinsOs => replies::braiins(&device, &reply),
            Firmware::Whatsminer => replies::whatsminer(&device, &reply),
            Firmware::LuxOs => replies::luxos(&device, &reply),
        }
    }
}

#[async_trait]
impl MinerControl for CgminerMiner {
    async fn curtail(&self, timeout: Duration) -> DeviceResult<()> {
        self.control(timeout).await?.curtail(timeout).await
    }

    async fn resume(&self, timeout: Duration) -> DeviceResult<()> {
        self.control(timeout).await?.resume(timeout).await
    }

    async fn set_power_target(&self, watts: f64, timeout: Duration) -> DeviceResult<()> {
        self.control(timeout)
            .await?
            .set_power_target(watts, timeout)
            .await
    }
}
