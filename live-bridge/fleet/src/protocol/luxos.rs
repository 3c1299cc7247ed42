//! LuxOS (LUXminer) on 4028: the cgminer commands plus sessions (`logon`,
//! `session`, `logoff`; one at a time, lapsing after a minute unused),
//! `curtail <session>,sleep|wakeup`, `power` (PSU watts), `config`, and
//! power profiles (`profiles`, `profileset <session>,<name>`): the way
//! LuxOS runs a miner at a chosen wattage. Shapes follow Luxor's API pages
//! (docs.luxor.tech/firmware/api/luxminer).

use hcp_devices::miner::Firmware;
use serde_json::{Value, json};

use super::{
    accepted_shares, description, error_reply, pools, readings, section, status, temperature_c,
};
use crate::faults::Fault;
use crate::virtual_miner::VirtualMiner;

/// A session lapses after this long unused (LuxOS: one minute), fleet s.
pub const SESSION_LIFETIME_S: f64 = 60.0;

const FW: Firmware = Firmware::LuxOs;

/// The power profiles of a model: `default` at stock power and steps of
/// 5 % of stock power down to the window's floor and up to its ceiling,
/// named `-1`, `-2`… and `+1`, `+2`… as LuxOS names its presets.
pub fn profiles(stock_w: f64, min_w: f64, max_w: f64) -> Vec<(String, f64)> {
    let step = 0.05 * stock_w;
    let mut out = vec![("default".to_owned(), stock_w)];
    let mut k = 1;
    while stock_w - step * f64::from(k) >= min_w - 1e-9 {
        out.push((format!("-{k}"), stock_w - step * f64::from(k)));
        k += 1;
    }
    k = 1;
    while stock_w + step * f64::from(k) <= max_w + 1e-9 {
        out.push((format!("+{k}"), stock_w + step * f64::from(k)));
        k += 1;
    }
    out
}

/// The answer to one command.
pub fn answer(miner: &VirtualMiner, command: &str, parameter: Option<&str>, now: f64) -> Value {
    let s = readings(miner, now);
    let (model, stock_w, min_w, max_w, stock_th) = miner.with_physics(|p| {
        let spec = p.spec();
        (
            format!("Antminer {}", spec.name),
            spec.power_w,
            spec.min_power_w,
            spec.max_power_w,
            spec.hashrate_th,
        )
    });
    let ghs = s.hashrate_th * 1_000.0;
    let auth_failure = miner.fault().get() == Fault::AuthFailure;
    match command {
        "version" => section(FW, "LUXminer versions", 22, "VERSION", json!({
            "API": "3.7", "CompileTime": "Tue Sep 17 17:49:18 UTC 2024",
            "LUXminer": "2024.9.17.174900-4631c4d1", "Miner": "2024.9.17.174900", "Type": model
        }), now),
        "summary" => section(FW, "Summary", 11, "SUMMARY", json!({
            "Elapsed": s.uptime_s.floor(), "GHS 5s": ghs, "GHS av": ghs, "GHS 30m": ghs,
            "Accepted": accepted_shares(&s), "Rejected": 0, "Hardware Errors": 0,
            "Stale": 0, "Best Share": 0
        }), now),
        "stats" => section(FW, "CGMiner stats", 70, "STATS", json!([
            { "CGMiner": "LUXminer", "Miner": "2024.9.17.174900", "CompileTime": "Tue Sep 17 17:49:18 UTC 2024", "Type": model },
            { "STATS": 0, "ID": "BC50", "Elapsed": s.uptime_s.floor(), "GHS 5s": ghs, "GHS av": ghs,
              "miner_count": 3, "fan_num": 4, "temp_max": temperature_c(&s, stock_w), "total_rateideal": stock_th * 1_000.0 }
        ]), now),
        "devs" => section(FW, "3 ASC(s)", 9, "DEVS", boards(ghs, temperature_c(&s, stock_w), s.curtailed), now),
        "pools" => pools(FW, accepted_shares(&s), now),
        "power" => section(FW, "Power", 339, "POWER", json!({ "PSU": true, "Watts": s.power_w.round() }), now),
        "config" => section(FW, "Configuration", 33, "CONFIG", json!({
            "IsAtmEnabled": false, "Profile": profile_of(stock_w, min_w, max_w, s.target_w),
            "CurtailMode": if s.curtailed { "Sleep" } else { "None" }, "IsTuning": false
        }), now),
        "profiles" => section(FW, "Profiles", 343, "PROFILES",
            Value::Array(profiles(stock_w, min_w, max_w).into_iter().map(|(name, w)| json!({
                "Profile Name": name, "Watts": w.round(),
                "Hashrate": (miner.with_physics(|p| p.spec().hashrate_th_at(w)) * 10.0).round() / 10.0,
                "IsDynamic": false
            })).collect()), now),
        "limits" => section(FW, "Limits", 345, "LIMITS", json!({
            "MinPowerTarget": min_w, "MaxPowerTarget": max_w, "DefaultPowerTarget": stock_w
        }), now),
        "session" => {
            let id = if auth_failure { String::new() } else { miner.current_session(now).unwrap_or_default() };
            section(FW, "Session", 340, "SESSION", json!({ "SessionID": id }), now)
        }
        "logon" => match (auth_failure, miner.logon(now)) {
            (true, _) => error_reply(miner, now, 45, "Access denied: logon refused"),
            (false, Some(id)) => section(FW, "Session created", 316, "SESSION", json!({ "SessionID": id }), now),
            (false, None) => error_reply(miner, now, 317, "Another session is active"),
        },
        "logoff" => {
            let id = parameter.unwrap_or("");
            if miner.logoff(id) {
                section(FW, "Session terminated", 318, "SESSION", json!({ "SessionID": id }), now)
            } else {
                error_reply(miner, now, 319, "Invalid session ID")
            }
        }
        "curtail" | "profileset" => {
            let (id, arg) = split_session(parameter);
            if auth_failure || !miner.use_session(id, now) {
                return error_reply(miner, now, 319, "Invalid session ID");
            }
            if command == "curtail" {
                match arg {
                    "sleep" => {
                        miner.with_physics(|p| p.curtail(now));
                        section(FW, "Curtailment command sent", 335, "CURTAIL", json!({ "Action": "sleep mode" }), now)
                    }
                    "wakeup" => {
                        miner.with_physics(|p| p.resume(now));
                        section(FW, "Curtailment command sent", 335, "CURTAIL", json!({ "Action": "wake up" }), now)
                    }
                    _ => error_reply(miner, now, 336, "Invalid curtailment action"),
                }
            } else {
                match profiles(stock_w, min_w, max_w).into_iter().find(|(name, _)| name == arg) {
                    Some((name, w)) => {
                        miner.with_physics(|p| p.set_target(now, w));
                        section(FW, "Profile set", 344, "PROFILE", json!({ "Profile": name, "Watts": w.round() }), now)
                    }
                    None => error_reply(miner, now, 346, "Unknown profile"),
                }
            }
        }
        _ => json!({ "STATUS": status("E", 14, "Invalid command", description(FW), now), "id": 1 }),
    }
}

fn split_session(parameter: Option<&str>) -> (&str, &str) {
    let p = parameter.unwrap_or("");
    p.split_once(',')
        .map_or((p, ""), |(a, b)| (a.trim(), b.trim()))
}

fn profile_of(stock_w: f64, min_w: f64, max_w: f64, target_w: f64) -> String {
    profiles(stock_w, min_w, max_w)
        .into_iter()
        .min_by(|a, b| (a.1 - target_w).abs().total_cmp(&(b.1 - target_w).abs()))
        .map_or_else(|| "default".to_owned(), |(name, _)| name)
}

/// Three hashboards sharing the hashrate, as cgminer's `devs` lists them.
pub fn boards(ghs: f64, temp_c: f64, asleep: bool) -> Value {
    Value::Array(
        (0..3)
            .map(|i| json!({
                "ASC": i, "Name": "BTM_SOC", "ID": i, "Enabled": "Y",
                "Status": if asleep && ghs == 0.0 { "Sleep" } else { "Alive" },
                "Temperature": temp_c, "MHS 5s": ghs * 1_000.0 / 3.0, "MHS av": ghs * 1_000.0 / 3.0
            }))
            .collect(),
    )
}
