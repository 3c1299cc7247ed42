//! Braiins OS (BOSminer) on 4028: `version` (which names BOSminer, as
//! clients identify it), `summary`, `tunerstatus` (power limit and the
//! approximate draw), `devs`, `pools`. Pause, resume and the power target
//! go through its GraphQL API ([`crate::web`]).

use hcp_devices::miner::Firmware;
use serde_json::{Value, json};

use super::luxos::boards;
use super::{accepted_shares, description, pools, readings, section, status, temperature_c};
use crate::virtual_miner::VirtualMiner;

const FW: Firmware = Firmware::BraiinsOs;

/// The answer to one command.
pub fn answer(miner: &VirtualMiner, command: &str, _parameter: Option<&str>, now: f64) -> Value {
    let s = readings(miner, now);
    let (model, stock_w) =
        miner.with_physics(|p| (format!("Antminer {}", p.spec().name), p.spec().power_w));
    let mhs = s.hashrate_th * 1e6;
    match command {
        "version" => section(
            FW,
            "BOSminer versions",
            22,
            "VERSION",
            json!({
                "BOSminer": "bosminer-plus-tuner 0.9.0-23.03", "API": "3.7", "Type": model
            }),
            now,
        ),
        "summary" => section(
            FW,
            "Summary",
            11,
            "SUMMARY",
            json!({
                "Elapsed": s.uptime_s.floor(), "MHS 5s": mhs, "MHS av": mhs, "Accepted": accepted_shares(&s),
                "Rejected": 0, "Hardware Errors": 0, "Stale": 0
            }),
            now,
        ),
        "tunerstatus" => section(
            FW,
            "Tuner Status",
            23,
            "TUNERSTATUS",
            json!({
                "PowerLimit": s.target_w.round(), "ApproximateMinerPowerConsumption": s.power_w.round(),
                "DynamicPowerScaling": "Disabled", "TunerChainStatus": []
            }),
            now,
        ),
        "devs" => section(
            FW,
            "3 ASC(s)",
            9,
            "DEVS",
            boards(
                s.hashrate_th * 1_000.0,
                temperature_c(&s, stock_w),
                s.curtailed,
            ),
            now,
        ),
        "pools" => pools(FW, accepted_shares(&s), now),
        _ => json!({ "STATUS": status("E", 14, "Invalid command", description(FW), now), "id": 1 }),
    }
}
