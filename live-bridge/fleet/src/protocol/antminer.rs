//! Stock Antminer (bmminer/cgminer 4.x) on 4028: `version`, `summary`,
//! `stats` (with `chain_power`, as recent Bitmain builds report it),
//! `devs`, `pools`. Stock firmware takes no commands here: it sleeps and
//! wakes through its web interface ([`crate::web`]).

use hcp_devices::miner::Firmware;
use serde_json::{Value, json};

use super::luxos::boards;
use super::{accepted_shares, description, pools, readings, section, status, temperature_c};
use crate::virtual_miner::VirtualMiner;

const FW: Firmware = Firmware::AntminerStock;
/// The build date stock firmware reports (a Thursday, as the weekday must match).
pub const COMPILE_TIME: &str = "Thu Jul  6 15:02:09 CST 2023";

/// The answer to one command.
pub fn answer(miner: &VirtualMiner, command: &str, _parameter: Option<&str>, now: f64) -> Value {
    let s = readings(miner, now);
    let (model, stock_w, stock_th) = miner.with_physics(|p| {
        (
            format!("Antminer {}", p.spec().name),
            p.spec().power_w,
            p.spec().hashrate_th,
        )
    });
    let ghs = s.hashrate_th * 1_000.0;
    let temp = temperature_c(&s, stock_w);
    match command {
        "version" => section(
            FW,
            "CGMiner versions",
            22,
            "VERSION",
            json!({
                "BMMiner": "1.0.0", "API": "3.1", "Miner": "uart_trans.1.3", "CompileTime": COMPILE_TIME, "Type": model
            }),
            now,
        ),
        "summary" => section(
            FW,
            "Summary",
            11,
            "SUMMARY",
            json!({
                "Elapsed": s.uptime_s.floor(), "GHS 5s": ghs, "GHS av": ghs, "Accepted": accepted_shares(&s),
                "Rejected": 0, "Hardware Errors": 0, "Stale": 0, "Best Share": 0
            }),
            now,
        ),
        "stats" => section(
            FW,
            "CGMiner stats",
            70,
            "STATS",
            json!([
                { "BMMiner": "1.0.0", "Miner": "uart_trans.1.3", "CompileTime": COMPILE_TIME, "Type": model },
                { "STATS": 0, "ID": "BC50", "Elapsed": s.uptime_s.floor(), "GHS 5s": ghs, "GHS av": ghs,
                  "miner_count": 3, "fan_num": 4, "temp_num": 3, "temp2_1": temp, "temp2_2": temp, "temp2_3": temp,
                  "temp_max": temp, "chain_power": format!("{} W", s.power_w.round()),
                  "total_rateideal": stock_th * 1_000.0, "rate_unit": "GH" }
            ]),
            now,
        ),
        "devs" => section(
            FW,
            "3 ASC(s)",
            9,
            "DEVS",
            boards(ghs, temp, s.curtailed),
            now,
        ),
        "pools" => pools(FW, accepted_shares(&s), now),
        _ => json!({ "STATUS": status("E", 14, "Invalid command", description(FW), now), "id": 1 }),
    }
}
