//! Prices: each site's spot price with the electricity price at which its
//! ASICs break even (dashed: hashprice ÷ the energy a TH/s uses in a day at
//! the fleet's measured J/TH, IT basis — above it, hashing loses money),
//! and the hashprice itself. Lines are decimated min/max per pixel column,
//! so a one-interval spike in a year still shows.

use super::{Scrub, View, columns, line, site_colour, time_plot};
use crate::decimate::min_max;
use crate::series::{RunSeries, breakeven_usd_per_mwh};

/// Spot price and breakeven, every site of `run`.
pub fn price_panel(ui: &mut egui::Ui, view: &View, run: &RunSeries) -> Scrub {
    let range = view.range(run);
    let cols = columns(ui);
    ui.label("Spot price and ASIC breakeven, USD/MWh");
    time_plot(
        ui,
        &format!("prices-{}", view.link),
        view,
        "USD/MWh",
        |plot| {
            let x_of = view.x_of(run);
            for (s, t) in run.sites.iter().enumerate() {
                plot.add(line(
                    &format!("{} spot", t.name),
                    min_max(&t.price, range.clone(), cols, &x_of),
                    site_colour(s),
                    false,
                ));
                let e = run.asic_efficiency_j_per_th(s);
                if e.is_finite() {
                    let shown =
                        range.start.min(t.hashprice.len())..range.end.min(t.hashprice.len());
                    let start = shown.start;
                    let breakeven: Vec<f64> = t.hashprice[shown]
                        .iter()
                        .map(|h| breakeven_usd_per_mwh(*h, e))
                        .collect();
                    plot.add(line(
                        &format!("{} ASIC breakeven ({e:.1} J/TH)", t.name),
                        min_max(&breakeven, 0..breakeven.len(), cols, |i| x_of(i + start)),
                        site_colour(s),
                        true,
                    ));
                }
            }
        },
    )
}

/// Hashprice (the same for every site: site 0's column).
pub fn hashprice_panel(ui: &mut egui::Ui, view: &View, run: &RunSeries) -> Scrub {
    let Some(t) = run.sites.first() else {
        return Scrub(None);
    };
    let cols = columns(ui);
    ui.label("Hashprice, USD per TH/s per day");
    time_plot(
        ui,
        &format!("hashprice-{}", view.link),
        view,
        "USD/TH/day",
        |plot| {
            plot.add(line(
                "hashprice",
                min_max(&t.hashprice, view.range(run), cols, view.x_of(run)),
                egui::Color32::from_rgb(230, 159, 0),
                false,
            ));
        },
    )
}
