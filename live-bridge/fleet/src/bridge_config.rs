//! A bridge configuration for a served fleet: its sites with their caps
//! (scaled with the fleet), every cohort with the model's curve and the
//! firmware's standby draw from the twin's catalog, and every miner's
//! address — so `hcp bridge` can be pointed at a virtual fleet without
//! typing 380 addresses. Feeds are left to the caller: each site's price
//! and the hashprice are pushed values (`POST /feeds/{name}`), which a
//! test or a demo replaces with replays.

use std::fmt::Write as _;
use std::net::SocketAddr;

use hcp_models::plant::{PlantConfig, catalogs};

use crate::inventory::{FleetOptions, FleetPlan};

/// The TOML text of a bridge configuration for `plan` (the fleet of
/// `plant` under `options`), running `policy_toml` (a `[policy]` table's
/// body, e.g. `kind = "breakeven"`).
///
/// # Errors
/// A model or firmware the catalog does not know.
pub fn bridge_config(
    plant: &PlantConfig,
    options: &FleetOptions,
    plan: &FleetPlan,
    policy_toml: &str,
) -> Result<String, String> {
    let (asic, _) = catalogs(plant);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A bridge configuration for a virtual fleet (hcp fleet serve, scale {}).",
        options.scale
    );
    let _ = writeln!(out, "interval_minutes = 5\npool_fee = {}\n", plant.pool_fee);
    let _ = writeln!(out, "[policy]\n{}\n", policy_toml.trim());
    let _ = writeln!(
        out,
        "[market.hashprice_usd_per_th_day]\nsource = \"push\"\nname = \"hashprice\"\nmax_age_s = 3600\n"
    );
    for site in &plant.sites {
        let scale = options.scale.max(0.0);
        let _ = writeln!(out, "[[sites]]");
        let _ = writeln!(out, "id = {}", toml_str(&site.name));
        let _ = writeln!(out, "node = {}", toml_str(&site.node));
        let _ = writeln!(out, "cap_mw = {}", site.cap_mw * scale);
        let _ = writeln!(out, "pue = {}", site.pue());
        let _ = writeln!(out, "grid_events = {}", site.grid_events);
        let _ = writeln!(
            out,
            "price = {{ source = \"push\", name = {}, max_age_s = 900 }}\n",
            toml_str(&site.node)
        );
        for cohort in &site.asics {
            let id = format!("{}/{}/{}", site.name, cohort.model, cohort.firmware);
            let addresses: Vec<SocketAddr> = plan
                .miners
                .iter()
                .filter(|m| m.cohort == id)
                .map(|m| m.address)
                .collect();
            if addresses.is_empty() {
                continue;
            }
            let spec = asic.model(&cohort.model).map_err(|e| e.to_string())?;
            let firmware = asic.firmware(&cohort.firmware).map_err(|e| e.to_string())?;
            let protocol = plan
                .miners
                .iter()
                .find(|m| m.cohort == id)
                .map(|m| m.protocol);
            let _ = writeln!(out, "[[sites.miners]]");
            let _ = writeln!(out, "model = {}", toml_str(&cohort.model));
            let _ = writeln!(
                out,
                "firmware = {}",
                toml_str(protocol.map_or("antminer_stock", |p| p.name()))
            );
            let _ = writeln!(out, "label = {}", toml_str(&cohort.firmware));
            let c = spec.curve();
            let _ = writeln!(
                out,
                "curve = {{ stock_hashrate_th = {}, stock_power_w = {}, min_power_w = {}, max_power_w = {}, exponent = {} }}",
                c.stock_hashrate_th, c.stock_power_w, c.min_power_w, c.max_power_w, c.exponent
            );
            let _ = writeln!(out, "standby_w = {}", firmware.standby_w);
            if let Some(w) = cohort.power_target_w {
                let _ = writeln!(out, "power_target_w = {w}");
            }
            let list: Vec<String> = addresses.iter().map(|a| format!("\"{a}\"")).collect();
            let _ = writeln!(out, "addresses = [{}]\n", list.join(", "));
        }
    }
    Ok(out)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
