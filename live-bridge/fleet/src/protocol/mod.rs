//! What each firmware answers on its cgminer-family API, shaped as the
//! firmware's public documentation shows it (cgminer's API-README for the
//! common commands; Luxor's LUXminer API pages; Braiins' BOSminer API;
//! MicroBT's Whatsminer API V2): the `STATUS` record, the section names
//! (`SUMMARY`, `STATS`, `POWER`…) and the field names clients parse.
//!
//! Readings come from the miner's physics at the request's fleet time; an
//! [`Impossible`](crate::faults::Fault::Impossible) fault replaces them
//! with the register garbage a driver must refuse.

pub mod antminer;
pub mod braiins;
pub mod luxos;
pub mod whatsminer;

use hcp_devices::miner::Firmware;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::miner::MinerSnapshot;
use crate::virtual_miner::VirtualMiner;

/// The answer of `miner` to `command` (one part of a `+` request).
pub fn answer(miner: &VirtualMiner, command: &str, parameter: Option<&str>, now: f64) -> Value {
    match miner.firmware() {
        Firmware::AntminerStock => antminer::answer(miner, command, parameter, now),
        Firmware::LuxOs => luxos::answer(miner, command, parameter, now),
        Firmware::BraiinsOs => braiins::answer(miner, command, parameter, now),
        Firmware::Whatsminer => whatsminer::answer(miner, command, parameter, now),
    }
}

/// The unix time the fleet reports in `When` fields (fleet time from a
/// fixed epoch, so replies do not depend on the wall clock's date).
pub fn when(now: f64) -> u64 {
    // 2025-12-01T00:00:00Z, the reference scenario's start.
    const EPOCH: f64 = 1_764_547_200.0;
    // Fleet time is finite and non-negative; the cast saturates anyway.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let t = (EPOCH + now.max(0.0)) as u64;
    t
}

/// A cgminer `STATUS` list of one record.
pub fn status(letter: &str, code: u32, msg: &str, description: &str, now: f64) -> Value {
    json!([{ "STATUS": letter, "When": when(now), "Code": code, "Msg": msg, "Description": description }])
}

/// An error reply (`STATUS` `E`) in the firmware's own framing.
pub fn error_reply(miner: &VirtualMiner, now: f64, code: u32, msg: &str) -> Value {
    match miner.firmware() {
        Firmware::Whatsminer => whatsminer::status_only("E", code, msg, now),
        other => json!({ "STATUS": status("E", code, msg, description(other), now), "id": 1 }),
    }
}

/// The `Description` a firmware puts in its status records.
pub fn description(firmware: Firmware) -> &'static str {
    match firmware {
        Firmware::AntminerStock => "cgminer 4.9.2",
        Firmware::LuxOs => "LUXminer 2024.9.17.174900-4631c4d1",
        Firmware::BraiinsOs => "BOSminer bosminer-plus-tuner 0.9.0-23.03",
        Firmware::Whatsminer => "btminer",
    }
}

/// The miner's readings now, with an impossible-reading fault applied.
pub fn readings(miner: &VirtualMiner, now: f64) -> MinerSnapshot {
    let mut s = miner.with_physics(|p| p.snapshot(now));
    if miner.fault().get() == Fault::Impossible {
        s.power_w = 2_147_483_647.0;
        s.hashrate_th = -s.hashrate_th.max(1.0);
    }
    s
}

/// A reply with one data section: `{"STATUS": […], SECTION: [record], "id": 1}`.
pub fn section(
    firmware: Firmware,
    msg: &str,
    code: u32,
    name: &str,
    records: Value,
    now: f64,
) -> Value {
    let records = if records.is_array() {
        records
    } else {
        Value::Array(vec![records])
    };
    let mut reply = serde_json::Map::new();
    reply.insert(
        "STATUS".into(),
        status("S", code, msg, description(firmware), now),
    );
    reply.insert(name.into(), records);
    reply.insert("id".into(), json!(1));
    Value::Object(reply)
}

/// The miner's pool list (the same for every firmware that speaks `pools`).
pub fn pools(firmware: Firmware, accepted: u64, now: f64) -> Value {
    section(
        firmware,
        "1 Pool(s)",
        7,
        "POOLS",
        json!([{
            "POOL": 0, "URL": "stratum+tcp://stratum.pool.invalid:3333", "Status": "Alive",
            "Priority": 0, "Quota": 1, "Long Poll": "N", "Getworks": accepted / 4 + 1,
            "Accepted": accepted, "Rejected": 0, "Stale": 0, "User": "hcp.virtual",
            "Stratum Active": true, "Stratum URL": "stratum.pool.invalid"
        }]),
        now,
    )
}

/// Shares accepted so far: about one a second per 100 TH/s of work done
/// (only a plausible counter; no policy reads it).
pub fn accepted_shares(s: &MinerSnapshot) -> u64 {
    // A non-negative, finite product; the cast saturates anyway.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (s.uptime_s * s.hashrate_th.max(0.0) / 100.0) as u64;
    n
}

/// Chip temperature from the load: 40 °C asleep to 75 °C at stock power.
pub fn temperature_c(s: &MinerSnapshot, stock_power_w: f64) -> f64 {
    if s.curtailed && s.hashrate_th == 0.0 {
        return 40.0;
    }
    40.0 + 35.0 * (s.power_w / stock_power_w).clamp(0.0, 1.2)
}
