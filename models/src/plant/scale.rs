//! The designed scale: 50,000 GPUs, 250,000 ASICs and 1 GW of grid
//! connections over ten 100 MW sites — the fleet `hcp bench twin` runs to
//! show the twin keeps up with the largest operators it is built for.

use super::config::{AsicFleetConfig, Cooling, GpuPoolConfig, PlantConfig, SiteConfig};

/// Price nodes of the ten design-scale sites: nine ERCOT hubs and load
/// zones and the North Dakota node.
pub const DESIGN_SCALE_NODES: [&str; 10] = [
    "HB_NORTH",
    "HB_SOUTH",
    "HB_WEST",
    "HB_HOUSTON",
    "HB_PAN",
    "LZ_WEST",
    "LZ_NORTH",
    "LZ_SOUTH",
    "LZ_AEN",
    "ND_MISO",
];

impl PlantConfig {
    /// Ten immersion-cooled 100 MW sites, each with 25,000 ASICs
    /// (15,000 S21 on LuxOS, 10,000 M60S on stock firmware) and 5,000 GPUs
    /// (3,000 H100, 1,000 A100, 1,000 L40S): 250,000 ASICs, 50,000 GPUs,
    /// 1 GW. Every ASIC at stock draws ≈ 87 MW of IT power per site, the
    /// GPUs ≈ 6 MW; with PUE 1.05 a site fits its cap.
    pub fn design_scale() -> PlantConfig {
        let sites = DESIGN_SCALE_NODES
            .iter()
            .enumerate()
            .map(|(i, node)| SiteConfig {
                name: format!("Site {:02}", i + 1),
                node: (*node).to_owned(),
                cap_mw: 100.0,
                cooling: Cooling::Immersion,
                pue: None,
                grid_events: *node != "ND_MISO",
                asics: vec![
                    AsicFleetConfig {
                        model: "S21".into(),
                        count: 15_000,
                        firmware: "luxos".into(),
                        power_target_w: None,
                    },
                    AsicFleetConfig {
                        model: "M60S".into(),
                        count: 10_000,
                        firmware: "stock".into(),
                        power_target_w: None,
                    },
                ],
                gpus: [("H100", 3_000), ("A100", 1_000), ("L40S", 1_000)]
                    .iter()
                    .map(|&(gpu, count)| GpuPoolConfig {
                        gpu: gpu.into(),
                        count,
                        prewarmed: true,
                    })
                    .collect(),
            })
            .collect();
        PlantConfig {
            sites,
            ..PlantConfig::default()
        }
    }
}
