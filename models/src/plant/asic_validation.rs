//! `hcp validate` lines for the ASIC models (group "plant"): the breakeven
//! formula against public worked examples, stock efficiency against the
//! spec sheets, and the power-target curve against published autotuning
//! figures.
//!
//! Units: $/MWh for breakeven power prices, J/TH for efficiencies.
//! Tolerances (justified in `docs/models/asic.md`): 5 % on breakevens
//! (the public figures round their inputs and results to two digits),
//! 1 % on stock efficiency (spec sheets round J/TH to 0.1), 2 % on the
//! fitted curve point and 5 % out of sample (units of one model differ by
//! about ±5 %: Bitmain's nameplate tolerance and the silicon lottery).

use crate::check::Check;

use super::asic::{AsicCatalog, AsicSpec};
use super::mining::breakeven_usd_per_mwh;

const GROUP: &str = "plant";

/// Spec-sheet efficiencies, J/TH, of the catalog's models.
const SPEC_SHEET_J_PER_TH: [(&str, f64); 5] = [
    ("S21", 17.5),
    ("S19 XP", 21.5),
    ("M60S", 18.5),
    ("S21 Pro", 15.0),
    ("S21 XP", 13.5),
];

const HASHPROPHET: &str = "https://jrjr.meme/hashprophet/ (S19j Pro 96T: factory 96 TH/s at 2,850 W, underclocked 74.5 TH/s at 1,905 W = 25.57 J/TH, overclocked 105 TH/s at 3,100 W = 29.52 J/TH; hashcost at $0.075/kWh: $0.053 and $0.046 /TH/day; 2024)";

const WARREN: &str = "https://micah-warren.ghost.io/hashprice-a-downward-and-to-the-right-chart-for-bitcoin-mining (hashprice 70¢/EH, S19 at 35 J/TH: breakeven $0.072/kWh; 2024)";

/// Every ASIC check, computed on the shipped catalog.
pub fn checks() -> Vec<Check> {
    checks_for(&AsicCatalog::default())
}

/// Every ASIC check, computed on `catalog`.
pub fn checks_for(catalog: &AsicCatalog) -> Vec<Check> {
    let mut out = breakeven_checks();
    for (name, j_per_th) in SPEC_SHEET_J_PER_TH {
        let value = catalog
            .model(name)
            .map_or(f64::NAN, AsicSpec::efficiency_j_per_th);
        let source = catalog.model(name).map_or("", |m| m.source.as_str());
        out.push(Check::relative(
            GROUP,
            &format!("asic/{name}/stock_efficiency_j_per_th"),
            value,
            j_per_th,
            0.01,
            "J/TH",
            source,
        ));
    }
    out.extend(curve_checks(catalog));
    out
}

/// The breakeven formula against public worked examples (PPS, no pool fee,
/// PUE 1, as the examples compute it).
fn breakeven_checks() -> Vec<Check> {
    // 70¢ per EH = $0.70 per 10⁶ TH; one TH/s makes 86,400 TH a day.
    let warren_hashprice = 0.70e-6 * 86_400.0;
    vec![
        Check::relative(
            GROUP,
            "asic/S19@35J/TH/breakeven_usd_per_mwh@60.5$/PH/day",
            breakeven_usd_per_mwh(35.0, warren_hashprice, 0.0, 1.0),
            72.0,
            0.05,
            "$/MWh",
            WARREN,
        ),
        Check::relative(
            GROUP,
            "asic/S19j Pro/breakeven_usd_per_mwh@53$/PH/day",
            breakeven_usd_per_mwh(2850.0 / 96.0, 0.053, 0.0, 1.0),
            75.0,
            0.05,
            "$/MWh",
            HASHPROPHET,
        ),
        Check::relative(
            GROUP,
            "asic/S19j Pro underclocked/breakeven_usd_per_mwh@46$/PH/day",
            breakeven_usd_per_mwh(1905.0 / 74.5, 0.046, 0.0, 1.0),
            75.0,
            0.05,
            "$/MWh",
            HASHPROPHET,
        ),
    ]
}

/// The power-target curve on the S19j Pro pair it was fitted on (the catalog's
/// S19 XP exponent, same chip family) and on a point it was not fitted on.
fn curve_checks(catalog: &AsicCatalog) -> Vec<Check> {
    let beta = catalog
        .model("S19 XP")
        .map_or(f64::NAN, |m| m.curve_exponent);
    let rig = AsicSpec {
        name: "S19j Pro".to_owned(),
        maker: "Bitmain".to_owned(),
        hashrate_th: 96.0,
        power_w: 2850.0,
        min_power_w: 1500.0,
        max_power_w: 3300.0,
        curve_exponent: beta,
        source: HASHPROPHET.to_owned(),
    };
    vec![
        Check::relative(
            GROUP,
            "asic/S19j Pro/efficiency_j_per_th@1905W (fitted)",
            rig.efficiency_j_per_th_at(1905.0),
            25.57,
            0.02,
            "J/TH",
            HASHPROPHET,
        ),
        Check::relative(
            GROUP,
            "asic/S19j Pro/efficiency_j_per_th@3100W (not fitted)",
            rig.efficiency_j_per_th_at(3100.0),
            29.52,
            0.05,
            "J/TH",
            HASHPROPHET,
        ),
    ]
}
