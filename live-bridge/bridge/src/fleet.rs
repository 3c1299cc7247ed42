//! The bridge's picture of its fleet: every miner with its driver, its last
//! reading, its health, what it was last told to do, its recent switches
//! and whether it is quarantined.
//!
//! [`Fleet::poll`] reads every miner at once (bounded concurrency, each
//! call with its timeout) and folds the results in: a good reading makes a
//! miner fresh and may verify its last command; a failure makes it stale
//! and counts towards quarantine. [`Fleet::miner_state`] classifies each
//! miner the way the contract counts devices (on, curtailing, asleep,
//! unresponsive) and says what it commits and draws.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use hcp_contract::{AsicCohortSpec, PowerCurve};
use hcp_devices::credentials::Credentials;
use hcp_devices::fanout::fan_out;
use hcp_devices::health::{DeviceHealth, Health};
use hcp_devices::miner::{Firmware, MinerDriver, MinerMode, MinerReading, driver};
use hcp_devices::retry::RetryPolicy;
use hcp_devices::{DeviceError, FailureKind};

use crate::config::{BridgeConfig, SafetyLimits};

/// A miner command.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Stop hashing (standby draw).
    Curtail,
    /// Hash again.
    Resume,
    /// Run at a power target, W.
    PowerTarget {
        /// W at the wall.
        watts: f64,
    },
}

impl Command {
    /// The command's name in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Command::Curtail => "curtail",
            Command::Resume => "resume",
            Command::PowerTarget { .. } => "power_target",
        }
    }

    /// Whether it switches the miner on or off.
    pub fn is_switch(self) -> bool {
        !matches!(self, Command::PowerTarget { .. })
    }
}

/// What the bridge last told a miner, and whether it has been seen to obey.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Commanded {
    /// Hashing (true) or curtailed.
    pub on: bool,
    /// Its power target, W.
    pub target_w: f64,
    /// When the last command was acknowledged, tape seconds.
    pub since_s: f64,
    /// Whether a reading has shown the command took effect.
    pub verified: bool,
}

/// One miner.
pub struct Miner {
    /// Its address.
    pub address: SocketAddr,
    /// Its cohort's index.
    pub cohort: usize,
    /// Its driver.
    pub driver: Box<dyn MinerDriver>,
    /// Health of its telemetry and commands.
    pub health: DeviceHealth,
    /// Its last good reading.
    pub last: Option<MinerReading>,
    /// What it was last told (learned from its first reading).
    pub commanded: Option<Commanded>,
    /// Tape seconds of its switches in the last hour.
    pub switches: VecDeque<f64>,
    /// Quarantined until this tape second.
    pub quarantined_until: Option<f64>,
}

/// Identical miners at one site.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The contract's view parts (site, model, label, curve, standby).
    pub spec: AsicCohortSpec,
    /// The wire protocol.
    pub firmware: Firmware,
    /// The site's index.
    pub site: usize,
    /// The miners' indices.
    pub miners: std::ops::Range<usize>,
    /// The target the cohort runs at, W.
    pub target_w: f64,
}

/// How the contract counts a miner now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinerState {
    /// Hashing or coming up.
    On,
    /// Told to stop, still hashing.
    Curtailing,
    /// Curtailed.
    Asleep,
    /// No fresh reading, or quarantined: counted at its maximum draw.
    Unresponsive,
}

/// A fault seen while polling or verifying.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fault {
    /// The miner's address.
    pub device: String,
    /// What kind (a [`FailureKind`] name, `unverified` or `quarantined`).
    pub kind: String,
    /// The error's words (never a credential: drivers build them from
    /// command words).
    pub detail: String,
}

/// Every miner of the bridge.
pub struct Fleet {
    /// Cohorts in configuration order.
    pub cohorts: Vec<Cohort>,
    /// Miners, cohort by cohort.
    pub miners: Vec<Miner>,
    /// Readings older than this are stale, s.
    pub stale_after_s: f64,
    timeout: Duration,
    concurrency: usize,
}

impl Fleet {
    /// The fleet `config` lists, with `credentials` for firmware that needs
    /// them.
    ///
    /// # Errors
    /// An address that does not parse (the configuration check catches it
    /// first).
    pub fn new(config: &BridgeConfig, credentials: &Credentials) -> Result<Fleet, String> {
        let mut cohorts = Vec::new();
        let mut miners = Vec::new();
        for (s, site) in config.sites.iter().enumerate() {
            for c in &site.miners {
                let addrs = c.socket_addrs()?;
                let first = miners.len();
                for address in addrs {
                    miners.push(Miner {
                        address,
                        cohort: cohorts.len(),
                        driver: driver(address, c.firmware, credentials.login(c.firmware).cloned()),
                        health: DeviceHealth::default(),
                        last: None,
                        commanded: None,
                        switches: VecDeque::new(),
                        quarantined_until: None,
                    });
                }
                let target_w = c.power_target_w.unwrap_or(c.curve.stock_power_w);
                cohorts.push(Cohort {
                    spec: AsicCohortSpec {
                        site: site.id.as_str().into(),
                        model: c.model.clone(),
                        firmware: c.label().to_owned(),
                        curve: c.curve,
                        installed: u32::try_from(miners.len() - first).unwrap_or(u32::MAX),
                        supports_power_target: c.firmware.supports_power_target(),
                        standby_w: c.standby_w,
                    },
                    firmware: c.firmware,
                    site: s,
                    miners: first..miners.len(),
                    target_w,
                });
            }
        }
        Ok(Fleet {
            cohorts,
            miners,
            stale_after_s: config.telemetry.stale_after_s,
            timeout: Duration::from_millis(config.telemetry.timeout_ms),
            concurrency: config.telemetry.concurrency,
        })
    }

    /// The timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Calls in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Reads every miner once at tape second `now_s` and folds the results
    /// in; returns the faults seen (failed reads, commands that did not
    /// take effect in time, new quarantines).
    pub async fn poll(&mut self, now_s: f64, limits: &SafetyLimits) -> Vec<Fault> {
        let timeout = self.timeout;
        let miners = &self.miners;
        let outcomes = fan_out(
            miners.len(),
            self.concurrency,
            RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            },
            |i| miners[i].driver.read(timeout),
        )
        .await;
        let mut faults = Vec::new();
        for outcome in outcomes {
            let cohort_target = self.cohorts[self.miners[outcome.index].cohort].target_w;
            let m = &mut self.miners[outcome.index];
            m.health.record(&outcome.result, now_s);
            match outcome.result {
                Ok(reading) => {
                    if m.commanded.is_none() {
                        m.commanded = Some(Commanded {
                            on: reading.mode != MinerMode::Curtailed,
                            target_w: reading.power_target_w.unwrap_or(cohort_target),
                            since_s: now_s,
                            verified: true,
                        });
                    }
                    if let Some(c) = &mut m.commanded
                        && !c.verified
                    {
                        if obeys(c, &reading) {
                            c.verified = true;
                        } else if now_s - c.since_s > limits.verify_within_s {
                            c.verified = true;
                            m.health.consecutive_failures += 1;
                            faults.push(Fault {
                                device: m.address.to_string(),
                                kind: "unverified".into(),
                                detail: format!(
                                    "told to {} {:.0} s ago, reads {:?}",
                                    if c.on { "hash" } else { "curtail" },
                                    now_s - c.since_s,
                                    reading.mode
                                ),
                            });
                        }
                    }
                    m.last = Some(reading);
                }
                Err(e) => faults.push(fault(&m.address, &e)),
            }
            if m.quarantined_until.is_none()
                && m.health.consecutive_failures >= limits.quarantine_after_failures
            {
                m.quarantined_until = Some(now_s + limits.quarantine_s);
                faults.push(Fault {
                    device: m.address.to_string(),
                    kind: "quarantined".into(),
                    detail: format!(
                        "{} failures in a row; no commands for {:.0} s",
                        m.health.consecutive_failures, limits.quarantine_s
                    ),
                });
            }
            if let Some(until) = m.quarantined_until
                && now_s >= until
                && m.health.consecutive_failures == 0
            {
                m.quarantined_until = None;
            }
        }
        faults
    }

    /// Whether miner `i` may be commanded now.
    pub fn commandable(&self, i: usize, now_s: f64) -> bool {
        let m = &self.miners[i];
        m.quarantined_until.is_none()
            && m.commanded.is_some()
            && m.health.health(now_s, self.stale_after_s) == Health::Fresh
    }

    /// How the contract counts miner `i` at `now_s`.
    pub fn miner_state(&self, i: usize, now_s: f64) -> MinerState {
        let m = &self.miners[i];
        if !self.commandable(i, now_s) {
            return MinerState::Unresponsive;
        }
        let hashing = m
            .last
            .as_ref()
            .is_some_and(|r| r.mode == MinerMode::Hashing);
        match m.commanded {
            Some(c) if c.on => MinerState::On,
            _ if hashing => MinerState::Curtailing,
            _ => MinerState::Asleep,
        }
    }

    /// What miner `i` commits (the most its state may draw) and draws
    /// (measured, or estimated where the firmware reports no power), W.
    pub fn miner_power_w(&self, i: usize, now_s: f64) -> (f64, f64) {
        let m = &self.miners[i];
        let cohort = &self.cohorts[m.cohort];
        let curve: &PowerCurve = &cohort.spec.curve;
        let target = m.commanded.map_or(cohort.target_w, |c| c.target_w);
        let measured = m.last.as_ref().and_then(|r| r.power_w);
        match self.miner_state(i, now_s) {
            MinerState::Unresponsive => (curve.max_power_w, curve.max_power_w),
            MinerState::On | MinerState::Curtailing => {
                let drawn = measured.unwrap_or(target);
                (target.max(drawn), drawn)
            }
            MinerState::Asleep => {
                let drawn = measured.unwrap_or(cohort.spec.standby_w);
                (cohort.spec.standby_w.max(drawn), drawn)
            }
        }
    }

    /// Records that miner `i` acknowledged `command` at `now_s`.
    pub fn acknowledged(&mut self, i: usize, command: Command, now_s: f64) {
        let target = self.cohorts[self.miners[i].cohort].target_w;
        let m = &mut self.miners[i];
        let mut c = m.commanded.unwrap_or(Commanded {
            on: true,
            target_w: target,
            since_s: now_s,
            verified: false,
        });
        match command {
            Command::Curtail => c.on = false,
            Command::Resume => c.on = true,
            Command::PowerTarget { watts } => c.target_w = watts,
        }
        c.since_s = now_s;
        c.verified = false;
        m.commanded = Some(c);
        if command.is_switch() {
            m.switches.push_back(now_s);
        }
        // Only the last hour counts: the history stays bounded.
        while m.switches.front().is_some_and(|t| now_s - t >= 3600.0) {
            m.switches.pop_front();
        }
    }

    /// Records a failed command on miner `i`.
    pub fn command_failed(&mut self, i: usize, error: &DeviceError, now_s: f64) {
        // A command the firmware lacks says nothing about the miner's health.
        if hcp_devices::retry::counts_as_fault(error) {
            self.miners[i]
                .health
                .record(&Err::<(), _>(error.clone()), now_s);
        }
    }
}

/// Whether `reading` shows the miner doing what it was told.
fn obeys(c: &Commanded, reading: &MinerReading) -> bool {
    let mode_ok = if c.on {
        reading.mode == MinerMode::Hashing
    } else {
        reading.mode == MinerMode::Curtailed
    };
    let target_ok = reading
        .power_target_w
        .is_none_or(|t| (t - c.target_w).abs() <= 0.05 * c.target_w.max(1.0) || !c.on);
    mode_ok && target_ok
}

/// A fault record for a failed call on `device` (an address or a host).
pub fn fault(device: &impl ToString, e: &DeviceError) -> Fault {
    let kind: FailureKind = e.kind();
    Fault {
        device: device.to_string(),
        kind: serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        detail: e.to_string(),
    }
}
