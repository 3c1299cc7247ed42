//! ASIC miners: what a driver reads from one ([`MinerReading`]), the two
//! traits every firmware driver implements ([`MinerTelemetry`] for reads,
//! [`MinerControl`] for commands), and the drivers of each firmware family.
//!
//! Every call takes its own timeout and ends in a reading, an acknowledged
//! command or a typed [`DeviceError`](crate::DeviceError); none blocks past
//! its timeout, so a poller can fan calls out and a decision never waits on
//! a slow device.

pub mod asic_rs_control;
pub mod cgminer;
pub mod luxos;
pub mod replies;
pub mod rpc;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::DeviceResult;

/// A miner's firmware family: which wire protocol the driver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Firmware {
    /// Bitmain's stock firmware: the cgminer-family JSON API on TCP 4028
    /// for reads; sleep and wake through its web interface.
    AntminerStock,
    /// Luxor's LuxOS: the cgminer-family API on 4028 with sessions
    /// (`logon`), `curtail`, power profiles and ATM.
    #[serde(rename = "luxos")]
    LuxOs,
    /// Braiins OS: the BOSminer cgminer-family API on 4028 for reads; pause,
    /// resume and power target through its public API.
    BraiinsOs,
    /// MicroBT's Whatsminer: its JSON API on 4028.
    Whatsminer,
}

impl Firmware {
    /// The name used in configuration files and logs.
    pub fn name(self) -> &'static str {
        match self {
            Firmware::AntminerStock => "antminer_stock",
            Firmware::LuxOs => "luxos",
            Firmware::BraiinsOs => "braiins_os",
            Firmware::Whatsminer => "whatsminer",
        }
    }

    /// Whether the firmware can run a miner at a power target (stock
    /// Antminer firmware runs at stock power or sleeps).
    pub fn supports_power_target(self) -> bool {
        !matches!(self, Firmware::AntminerStock)
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a miner is doing, as its firmware reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinerMode {
    /// Hashing.
    Hashing,
    /// Curtailed: asleep at standby draw, or paused.
    Curtailed,
    /// Not hashing for another reason (starting, hashboards off, no pool).
    Idle,
}

/// One range-checked telemetry reading of a miner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinerReading {
    /// Hashrate over the firmware's shortest window, TH/s.
    pub hashrate_th: f64,
    /// Power at the wall, W, where the firmware reports it (stock
    /// Antminer firmware does not).
    pub power_w: Option<f64>,
    /// The power target the firmware is running to, W, where it has one.
    pub power_target_w: Option<f64>,
    /// What the miner is doing.
    pub mode: MinerMode,
    /// Seconds since the mining process started.
    pub uptime_s: f64,
    /// Hottest chip or board temperature reported, °C.
    pub max_temp_c: Option<f64>,
}

/// Reads one miner.
#[async_trait]
pub trait MinerTelemetry: Send + Sync {
    /// The miner's address.
    fn address(&self) -> SocketAddr;
    /// The firmware family the driver speaks.
    fn firmware(&self) -> Firmware;
    /// One reading, within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError); an impossible value is
    /// [`Implausible`](crate::DeviceError::Implausible).
    async fn read(&self, timeout: Duration) -> DeviceResult<MinerReading>;
}

/// Commands one miner.
#[async_trait]
pub trait MinerControl: Send + Sync {
    /// Stops hashing and drops to standby draw, acknowledged within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError).
    async fn curtail(&self, timeout: Duration) -> DeviceResult<()>;
    /// Resumes hashing, acknowledged within `timeout`.
    ///
    /// # Errors
    /// Any [`DeviceError`](crate::DeviceError).
    async fn resume(&self, timeout: Duration) -> DeviceResult<()>;
    /// Runs at `watts` at the wall, acknowledged within `timeout`.
    ///
    /// # Errors
    /// [`NotSupported`](crate::DeviceError::NotSupported) where the firmware
    /// has no power target; any other [`DeviceError`](crate::DeviceError).
    async fn set_power_target(&self, watts: f64, timeout: Duration) -> DeviceResult<()>;
}

/// A driver that reads and commands one miner.
pub trait MinerDriver: MinerTelemetry + MinerControl {}

impl<T: MinerTelemetry + MinerControl> MinerDriver for T {}

/// The driver for a miner at `addr` running `firmware`, with the login for
/// its firmware from the bridge's credentials.
pub fn driver(
    addr: SocketAddr,
    firmware: Firmware,
    login: Option<crate::credentials::Login>,
) -> Box<dyn MinerDriver> {
    match firmware {
        Firmware::LuxOs => Box::new(luxos::LuxOsMiner::new(addr)),
        other => Box::new(cgminer::CgminerMiner::new(addr, other, login)),
    }
}
