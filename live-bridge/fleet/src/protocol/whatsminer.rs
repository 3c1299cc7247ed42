//! Whatsminer (btminer, API 2.x) on 4028: `summary` (hashrate as `HS RT`
//! and `MHS 5s`, power, power limit), `devdetails` (`Driver: bitmicro`,
//! the model), `get_version` (`Msg.fw_ver` dated 2023, an API 2.x build),
//! `status`, `devs`, `pools`, with the letter-style `STATUS` of its
//! replies. Its writes (`power_off`, `power_on`, `adjust_power_limit`) are
//! AES-256-ECB payloads keyed by an md5-crypt token; this fleet does not
//! decrypt them and refuses every write (see docs/fleet.md).

use hcp_devices::miner::Firmware;
use serde_json::{Value, json};

use super::{accepted_shares, pools, readings, section, temperature_c, when};
use crate::virtual_miner::VirtualMiner;

const FW: Firmware = Firmware::Whatsminer;

/// A status-only reply in btminer's letter style.
pub fn status_only(letter: &str, code: u32, msg: &str, now: f64) -> Value {
    json!({ "STATUS": letter, "When": when(now), "Code": code, "Msg": msg, "Description": "" })
}

/// The answer to one command.
pub fn answer(miner: &VirtualMiner, command: &str, _parameter: Option<&str>, now: f64) -> Value {
    let s = readings(miner, now);
    let (model, stock_w, stock_th) = miner.with_physics(|p| {
        (
            p.spec().name.clone(),
            p.spec().power_w,
            p.spec().hashrate_th,
        )
    });
    let mhs = s.hashrate_th * 1e6;
    let temp = temperature_c(&s, stock_w);
    match command {
        "summary" => section(
            FW,
            "Summary",
            11,
            "SUMMARY",
            json!({
                "Elapsed": s.uptime_s.floor(), "MHS av": mhs, "MHS 5s": mhs, "HS RT": mhs,
                "Accepted": accepted_shares(&s), "Rejected": 0, "Temperature": temp,
                "Power": s.power_w.round(), "Power Limit": s.target_w.round(), "Power Mode": "Normal",
                "Factory GHS": stock_th * 1_000.0, "Chip Temp Max": temp + 5.0, "Hash Stable": true
            }),
            now,
        ),
        "devdetails" => section(
            FW,
            "Device Details",
            69,
            "DEVDETAILS",
            json!([
                { "DEVDETAILS": 0, "Name": "SM", "ID": 0, "Driver": "bitmicro", "Kernel": "", "Model": model }
            ]),
            now,
        ),
        "get_version" => json!({
            "STATUS": "S", "When": when(now), "Code": 131, "Description": "",
            "Msg": { "api_ver": "2.0.5", "fw_ver": "20230911.22.REL", "platform": "H616", "chip": "K86_1" }
        }),
        "status" => json!({
            "STATUS": "S", "When": when(now), "Code": 131, "Description": "",
            "Msg": { "mineroff": if s.curtailed { "true" } else { "false" }, "FirmwareVersion": "'20230911.22.REL'" }
        }),
        "devs" => section(
            FW,
            "3 ASC(s)",
            9,
            "DEVS",
            super::luxos::boards(s.hashrate_th * 1_000.0, temp, s.curtailed),
            now,
        ),
        "pools" => pools(FW, accepted_shares(&s), now),
        "get_token" | "power_off" | "power_on" | "adjust_power_limit" | "open_write_api" => {
            status_only(
                "E",
                45,
                "Permission denied: the virtual fleet does not decrypt Whatsminer writes",
                now,
            )
        }
        _ => status_only("E", 14, "invalid cmd", now),
    }
}
