//! Pure parsers from a firmware's reply documents to a checked
//! [`MinerReading`]: no sockets here, so the drivers' understanding of each
//! firmware is tested against replies written down from the firmware's
//! public documentation (tests/recorded_replies.rs).
//!
//! Hashrate fields differ by firmware and age: `GHS 5s` (bmminer, LUXminer),
//! `MHS 5s` (cgminer, BOSminer, btminer), or `rate_5s` with `rate_unit`
//! (newer Bitmain builds); numbers sometimes arrive as strings. All become
//! TH/s here.

use serde_json::Value;

use super::{MinerMode, MinerReading};
use crate::error::{DeviceError, DeviceResult};
use crate::limits::{MINER_MAX_TH, MINER_MAX_W, TEMP_RANGE_C, check};

/// Below this wall draw a miner that does not hash is taken as asleep, W
/// (standby draws are 15–25 W; a miner starting draws kilowatts).
pub const STANDBY_CEILING_W: f64 = 150.0;

/// A number that may be written as a string (`"110000.12"`).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The first record of section `name` of a reply (or of the `command`
/// part of a `+` multi-command reply).
pub fn record<'a>(reply: &'a Value, command: Option<&str>, name: &str) -> Option<&'a Value> {
    let part = match command {
        Some(c) => reply.get(c)?.get(0)?,
        None => reply,
    };
    part.get(name)?.get(0)
}

/// Hashrate of a `SUMMARY` (or `STATS`) record, TH/s.
pub fn hashrate_th(record: &Value) -> Option<f64> {
    if let Some(ghs) = record.get("GHS 5s").and_then(number) {
        return Some(ghs / 1_000.0);
    }
    if let Some(mhs) = record.get("MHS 5s").and_then(number) {
        return Some(mhs / 1_000_000.0);
    }
    let rate = record.get("rate_5s").and_then(number)?;
    let per_th = match record
        .get("rate_unit")
        .and_then(Value::as_str)
        .unwrap_or("GH/s")
    {
        "TH/s" => 1.0,
        "MH/s" => 1e-6,
        _ => 1e-3,
    };
    Some(rate * per_th)
}

/// The raw values a parser found, before range checks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Raw {
    /// TH/s.
    pub hashrate_th: f64,
    /// W.
    pub power_w: Option<f64>,
    /// W.
    pub power_target_w: Option<f64>,
    /// s.
    pub uptime_s: f64,
    /// °C.
    pub max_temp_c: Option<f64>,
    /// Whether the firmware says it is curtailed.
    pub curtailed: Option<bool>,
}

/// Range-checks `raw` from `device` into a reading.
///
/// # Errors
/// [`DeviceError::Implausible`] for the first value out of its range.
pub fn checked(device: &str, raw: Raw) -> DeviceResult<MinerReading> {
    let hashrate_th = check(device, "hashrate_th", raw.hashrate_th, 0.0, MINER_MAX_TH)?;
    let power_w = raw
        .power_w
        .map(|w| check(device, "power_w", w, 0.0, MINER_MAX_W))
        .transpose()?;
    let power_target_w = raw
        .power_target_w
        .map(|w| check(device, "power_target_w", w, 0.0, MINER_MAX_W))
        .transpose()?;
    let uptime_s = check(device, "uptime_s", raw.uptime_s, 0.0, 1e10)?;
    let max_temp_c = raw
        .max_temp_c
        .map(|t| check(device, "max_temp_c", t, TEMP_RANGE_C.0, TEMP_RANGE_C.1))
        .transpose()?;
    let mode = if hashrate_th > 0.0 && raw.curtailed != Some(true) {
        MinerMode::Hashing
    } else if raw.curtailed == Some(true) || power_w.is_some_and(|w| w <= STANDBY_CEILING_W) {
        MinerMode::Curtailed
    } else {
        MinerMode::Idle
    };
    Ok(MinerReading {
        hashrate_th,
        power_w,
        power_target_w,
        mode,
        uptime_s,
        max_temp_c,
    })
}

fn missing(device: &str, what: &str, field: &str) -> DeviceError {
    DeviceError::protocol(device, what, format!("no {field} in reply"))
}

/// Stock Antminer: the reply to `summary+stats`. Stock firmware reports no
/// power; the hottest chip is `temp_max` (or the largest `temp2_*`).
///
/// # Errors
/// A missing hashrate; an impossible value.
pub fn antminer(device: &str, reply: &Value) -> DeviceResult<MinerReading> {
    let what = "summary+stats";
    let summary = record(reply, Some("summary"), "SUMMARY")
        .ok_or_else(|| missing(device, what, "SUMMARY"))?;
    let hashrate = hashrate_th(summary).ok_or_else(|| missing(device, what, "hashrate"))?;
    let stats = reply
        .get("stats")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("STATS"))
        .and_then(|s| s.get(1));
    let max_temp_c = stats.and_then(|s| {
        s.get("temp_max").and_then(number).or_else(|| {
            s.as_object()?
                .iter()
                .filter(|(k, _)| k.starts_with("temp2_") || k.starts_with("temp_chip"))
                .filter_map(|(_, v)| number(v))
                .reduce(f64::max)
        })
    });
    checked(
        device,
        Raw {
            hashrate_th: hashrate,
            power_w: None,
            power_target_w: None,
            uptime_s: summary.get("Elapsed").and_then(number).unwrap_or(0.0),
            max_temp_c,
            curtailed: None,
        },
    )
}

/// LuxOS: the reply to `summary+power+config`.
///
/// # Errors
/// A missing hashrate or power; an impossible value.
pub fn luxos(device: &str, reply: &Value) -> DeviceResult<MinerReading> {
    let what = "summary+power+config";
    let summary = record(reply, Some("summary"), "SUMMARY")
        .ok_or_else(|| missing(device, what, "SUMMARY"))?;
    let power =
        record(reply, Some("power"), "POWER").ok_or_else(|| missing(device, what, "POWER"))?;
    let config = record(reply, Some("config"), "CONFIG");
    checked(
        device,
        Raw {
            hashrate_th: hashrate_th(summary).ok_or_else(|| missing(device, what, "hashrate"))?,
            power_w: Some(
                power
                    .get("Watts")
                    .and_then(number)
                    .ok_or_else(|| missing(device, what, "Watts"))?,
            ),
            power_target_w: None,
            uptime_s: summary.get("Elapsed").and_then(number).unwrap_or(0.0),
            max_temp_c: None,
            curtailed: config
                .and_then(|c| c.get("CurtailMode"))
                .and_then(Value::as_str)
                .map(|m| m.eq_ignore_ascii_case("sleep")),
        },
    )
}

/// Braiins OS (BOSminer): the reply to `summary+tunerstatus`.
///
/// # Errors
/// A missing hashrate; an impossible value.
pub fn braiins(device: &str, reply: &Value) -> DeviceResult<MinerReading> {
    let what = "summary+tunerstatus";
    let summary = record(reply, Some("summary"), "SUMMARY")
        .ok_or_else(|| missing(device, what, "SUMMARY"))?;
    let tuner = record(reply, Some("tunerstatus"), "TUNERSTATUS");
    checked(
        device,
        Raw {
            hashrate_th: hashrate_th(summary).ok_or_else(|| missing(device, what, "hashrate"))?,
            power_w: tuner
                .and_then(|t| t.get("ApproximateMinerPowerConsumption"))
                .and_then(number),
            power_target_w: tuner.and_then(|t| t.get("PowerLimit")).and_then(number),
            uptime_s: summary.get("Elapsed").and_then(number).unwrap_or(0.0),
            max_temp_c: None,
            curtailed: None,
        },
    )
}

/// Whatsminer: the reply to `summary` (btminer reports power, its limit
/// and the board temperature there).
///
/// # Errors
/// A missing hashrate; an impossible value.
pub fn whatsminer(device: &str, reply: &Value) -> DeviceResult<MinerReading> {
    let what = "summary";
    let summary = record(reply, None, "SUMMARY").ok_or_else(|| missing(device, what, "SUMMARY"))?;
    checked(
        device,
        Raw {
            hashrate_th: hashrate_th(summary).ok_or_else(|| missing(device, what, "hashrate"))?,
            power_w: summary.get("Power").and_then(number),
            power_target_w: summary.get("Power Limit").and_then(number),
            uptime_s: summary.get("Elapsed").and_then(number).unwrap_or(0.0),
            max_temp_c: summary.get("Temperature").and_then(number),
            curtailed: None,
        },
    )
}
