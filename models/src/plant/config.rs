//! [`PlantConfig`]: the scenario's plant section — sites with their grid
//! connection, cooling and fleets — with the reference fleet as default,
//! and the checks that refuse impossible plants.
//!
//! Units: caps in MW of facility power (what the grid connection carries,
//! IT power × PUE), device powers in W, counts in devices.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The operator's plant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlantConfig {
    /// Sites, in the order observations list them.
    pub sites: Vec<SiteConfig>,
    /// ASIC models added to (or replacing, by name) the built-in spec table.
    pub asic_models: Vec<super::AsicSpec>,
    /// GPU models added to (or replacing, by name) the built-in spec table.
    pub gpu_models: Vec<super::GpuSpec>,
    /// Mining pool fee (FPPS), fraction of the expected value.
    pub pool_fee: f64,
    /// Letting idle GPUs on a rental market.
    pub rental: RentalConfig,
    /// Job queues, admission and placement.
    pub router: RouterConfig,
}

/// One site: a grid connection, a cooling plant and its fleets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Display name, unique.
    pub name: String,
    /// Price node the site buys at (an ERCOT hub/zone or `ND_MISO`).
    pub node: String,
    /// Grid connection cap, MW of facility power.
    pub cap_mw: f64,
    /// Cooling; sets the default PUE.
    #[serde(default)]
    pub cooling: Cooling,
    /// Power usage effectiveness (facility ÷ IT power), ≥ 1. Default: the
    /// cooling's typical value.
    #[serde(default)]
    pub pue: Option<f64>,
    /// Whether the site takes part in grid events (demand response, 4CP).
    #[serde(default = "yes")]
    pub grid_events: bool,
    /// ASIC cohorts.
    #[serde(default)]
    pub asics: Vec<AsicFleetConfig>,
    /// GPU pools.
    #[serde(default)]
    pub gpus: Vec<GpuPoolConfig>,
}

fn yes() -> bool {
    true
}

/// How a site is cooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Cooling {
    /// Single-phase immersion tanks (PUE ≈ 1.03–1.10).
    Immersion,
    /// Direct liquid / hydro-cooled units (PUE ≈ 1.05–1.15).
    Hydro,
    /// Air-cooled halls (PUE ≈ 1.1–1.5; 1.2 is typical of a mining site).
    #[default]
    Air,
}

impl Cooling {
    /// The default PUE of the cooling type (docs/models/plant.md).
    pub fn default_pue(self) -> f64 {
        match self {
            Cooling::Immersion => 1.05,
            Cooling::Hydro => 1.08,
            Cooling::Air => 1.2,
        }
    }
}

impl SiteConfig {
    /// The PUE in force: the configured one or the cooling's default.
    pub fn pue(&self) -> f64 {
        self.pue.unwrap_or_else(|| self.cooling.default_pue())
    }
}

/// Identical ASICs at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsicFleetConfig {
    /// Model name from the spec table (e.g. `S21`).
    pub model: String,
    /// Devices installed.
    pub count: u32,
    /// Firmware (`stock` or `luxos`).
    #[serde(default = "default_firmware")]
    pub firmware: String,
    /// Initial power target per device, W (default: stock power).
    #[serde(default)]
    pub power_target_w: Option<f64>,
}

fn default_firmware() -> String {
    "luxos".into()
}

/// GPUs of one model at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuPoolConfig {
    /// Model name from the spec table (e.g. `H100`).
    pub gpu: String,
    /// GPUs installed.
    pub count: u32,
    /// Whether served models are kept pre-warmed in host memory, so that a
    /// switch between classes takes the fast path (≈ 0.5 s) instead of a
    /// cold start (5–12 s).
    #[serde(default = "yes")]
    pub prewarmed: bool,
}

/// Letting idle GPUs on a rental market.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RentalConfig {
    /// Share of listed GPU-hours actually rented.
    pub occupancy: f64,
    /// Marketplace fee, fraction of the rental price.
    pub fee: f64,
    /// GPU utilisation of a rented GPU (for its power draw).
    pub utilisation: f64,
}

impl Default for RentalConfig {
    /// 80 % occupancy, 15 % marketplace fee, 70 % utilisation
    /// (docs/models/plant.md).
    fn default() -> Self {
        RentalConfig {
            occupancy: 0.8,
            fee: 0.15,
            utilisation: 0.7,
        }
    }
}

/// Job queues, admission and placement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Jobs a queue holds before arrivals are turned away.
    pub max_queue_jobs: u32,
    /// Queued jobs looked at past a blocked head when placing (backfill).
    pub backfill_depth: u32,
    /// β of the square-root staffing rule P1 is sized by: slots = a + β√a
    /// for an offered load of a busy slots (Halfin–Whitt; β = 2.6 keeps the
    /// probability of waiting near 0.5 %, so the p99 wait is nil).
    pub p1_staffing_beta: f64,
    /// Whether P1 may take GPUs from idle, then P4, then P3 (preempting
    /// jobs) when its demand outgrows its allocation.
    pub p1_preempts: bool,
    /// Placement score weights (docs/models/plant.md).
    pub score: ScoreWeights,
}

impl Default for RouterConfig {
    /// 100,000 jobs per queue, backfill 16, P1 staffed with β = 2.6, P1 preempts.
    fn default() -> Self {
        RouterConfig {
            max_queue_jobs: 100_000,
            backfill_depth: 16,
            p1_staffing_beta: 2.6,
            p1_preempts: true,
            score: ScoreWeights::default(),
        }
    }
}

/// Weights of the placement score of a pool for a job:
/// `free · free_fraction + prewarmed · [pool pre-warmed] + headroom ·
/// site_headroom_fraction − price · price / 100 $/MWh`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Weight of the pool's free share of its class allocation.
    pub free: f64,
    /// Bonus of a pool whose models are pre-warmed.
    pub prewarmed: f64,
    /// Weight of the site's power headroom as a share of its cap.
    pub headroom: f64,
    /// Weight of the site's spot price per 100 USD/MWh.
    pub price: f64,
}

impl Default for ScoreWeights {
    /// free 1, pre-warmed 0.5, headroom 0.25, price 0.5.
    fn default() -> Self {
        ScoreWeights {
            free: 1.0,
            prewarmed: 0.5,
            headroom: 0.25,
            price: 0.5,
        }
    }
}

impl Default for PlantConfig {
    /// The reference fleet (docs/models/plant.md): Texas North (100 MW,
    /// HB_NORTH), Texas South (75 MW, HB_SOUTH), North Dakota (50 MW,
    /// ND_MISO), 1,152 GPUs and 38,000 ASICs.
    fn default() -> Self {
        let asic = |model: &str, count: u32, firmware: &str| AsicFleetConfig {
            model: model.into(),
            count,
            firmware: firmware.into(),
            power_target_w: None,
        };
        let gpu = |gpu: &str, count: u32| GpuPoolConfig {
            gpu: gpu.into(),
            count,
            prewarmed: true,
        };
        PlantConfig {
            sites: vec![
                SiteConfig {
                    name: "Texas North".into(),
                    node: "HB_NORTH".into(),
                    cap_mw: 100.0,
                    cooling: Cooling::Immersion,
                    pue: None,
                    grid_events: true,
                    asics: vec![asic("S21", 10_000, "luxos"), asic("S19 XP", 5_000, "stock")],
                    gpus: vec![gpu("H100", 512), gpu("A100", 256), gpu("L40S", 128)],
                },
                SiteConfig {
                    name: "Texas South".into(),
                    node: "HB_SOUTH".into(),
                    cap_mw: 75.0,
                    cooling: Cooling::Air,
                    pue: None,
                    grid_events: true,
                    asics: vec![asic("M60S", 8_000, "stock")],
                    gpus: vec![gpu("H100", 256)],
                },
                SiteConfig {
                    name: "North Dakota".into(),
                    node: "ND_MISO".into(),
                    cap_mw: 50.0,
                    cooling: Cooling::Air,
                    pue: Some(1.1),
                    grid_events: false,
                    asics: vec![asic("S21", 15_000, "luxos")],
                    gpus: Vec::new(),
                },
            ],
            asic_models: Vec::new(),
            gpu_models: Vec::new(),
            pool_fee: super::DEFAULT_POOL_FEE,
            rental: RentalConfig::default(),
            router: RouterConfig::default(),
        }
    }
}
