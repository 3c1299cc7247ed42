//! The checks that refuse impossible plants, each naming the key path
//! (`plant.sites[2].cap_mw`) and the problem in a sentence.

use super::config::PlantConfig;
use super::{AsicCatalog, GpuCatalog};

/// What is wrong with a plant section.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plant.{key}: {problem}")]
pub struct PlantError {
    /// Key path under the plant section.
    pub key: String,
    /// A plain sentence.
    pub problem: String,
}

impl PlantError {
    pub(crate) fn new(key: impl Into<String>, problem: impl Into<String>) -> PlantError {
        PlantError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// The built-in spec tables with the scenario's additions (a model of the
/// same name replaces the built-in one).
pub fn catalogs(config: &PlantConfig) -> (AsicCatalog, GpuCatalog) {
    let mut asic = AsicCatalog::default();
    for spec in &config.asic_models {
        asic.models.retain(|m| m.name != spec.name);
        asic.models.push(spec.clone());
    }
    let mut gpu = GpuCatalog::default();
    for spec in &config.gpu_models {
        gpu.gpus.retain(|g| g.name != spec.name);
        gpu.gpus.push(spec.clone());
    }
    (asic, gpu)
}

fn positive(key: &str, value: f64, what: &str) -> Result<(), PlantError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(PlantError::new(
            key,
            format!("{what} must be a positive number, not {value}"),
        ))
    }
}

fn fraction(key: &str, value: f64) -> Result<(), PlantError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(PlantError::new(
            key,
            format!("must be a fraction between 0 and 1, not {value}"),
        ))
    }
}

/// Checks a plant against the spec tables.
///
/// # Errors
/// The first impossible value: no sites, a duplicate site name, a
/// non-positive cap, a PUE below 1, an unknown model or firmware, a power
/// target outside the firmware's range, a cap below the fleet's minimum
/// draw, or a fraction outside [0, 1].
pub fn check(config: &PlantConfig, asic: &AsicCatalog, gpu: &GpuCatalog) -> Result<(), PlantError> {
    for (i, spec) in config.asic_models.iter().enumerate() {
        spec.validate()
            .map_err(|problem| PlantError::new(format!("asic_models[{i}]"), problem))?;
    }
    if config.sites.is_empty() {
        return Err(PlantError::new("sites", "a plant needs at least one site"));
    }
    fraction("pool_fee", config.pool_fee)?;
    fraction("rental.occupancy", config.rental.occupancy)?;
    fraction("rental.fee", config.rental.fee)?;
    fraction("rental.utilisation", config.rental.utilisation)?;
    let beta = config.router.p1_staffing_beta;
    if !(beta.is_finite() && (0.0..=10.0).contains(&beta)) {
        return Err(PlantError::new(
            "router.p1_staffing_beta",
            format!("must lie between 0 and 10 (2.6 is typical), not {beta}"),
        ));
    }
    for (i, site) in config.sites.iter().enumerate() {
        let key = format!("sites[{i}]");
        if config.sites[..i].iter().any(|s| s.name == site.name) {
            return Err(PlantError::new(
                format!("{key}.name"),
                format!("'{}' names two sites", site.name),
            ));
        }
        positive(
            &format!("{key}.cap_mw"),
            site.cap_mw,
            "the grid connection cap",
        )?;
        let pue = site.pue();
        if !(pue.is_finite() && (1.0..=3.0).contains(&pue)) {
            return Err(PlantError::new(
                format!("{key}.pue"),
                format!(
                    "a PUE is facility power over IT power, at least 1 (and at most 3); {pue} is impossible"
                ),
            ));
        }
        let mut minimum_w = 0.0;
        for (j, fleet) in site.asics.iter().enumerate() {
            let key = format!("{key}.asics[{j}]");
            let spec = asic
                .model(&fleet.model)
                .map_err(|e| PlantError::new(format!("{key}.model"), e.to_string()))?;
            let firmware = asic
                .firmware(&fleet.firmware)
                .map_err(|e| PlantError::new(format!("{key}.firmware"), e.to_string()))?;
            if let Some(w) = fleet.power_target_w {
                positive(&format!("{key}.power_target_w"), w, "a power target")?;
                if firmware.supports_power_target
                    && !(spec.min_power_w..=spec.max_power_w).contains(&w)
                {
                    return Err(PlantError::new(
                        format!("{key}.power_target_w"),
                        format!(
                            "{w} W is outside the {} range of {}–{} W",
                            spec.name, spec.min_power_w, spec.max_power_w
                        ),
                    ));
                }
            }
            minimum_w += f64::from(fleet.count) * firmware.standby_w;
        }
        for (j, pool) in site.gpus.iter().enumerate() {
            let key = format!("{key}.gpus[{j}]");
            let spec = gpu
                .gpu(&pool.gpu)
                .map_err(|e| PlantError::new(format!("{key}.gpu"), e.to_string()))?;
            minimum_w += f64::from(pool.count) * spec.off_power_per_gpu_w();
        }
        let floor_mw = minimum_w * pue / 1e6;
        if floor_mw > site.cap_mw {
            return Err(PlantError::new(
                format!("{key}.cap_mw"),
                format!(
                    "the fleet draws {floor_mw:.3} MW even with every device curtailed or off, above the {} MW cap",
                    site.cap_mw
                ),
            ));
        }
    }
    Ok(())
}
