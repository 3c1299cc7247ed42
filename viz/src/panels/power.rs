//! Per-site power, stacked by use — ASIC, GPU P1–P4, rental, idle
//! (switching included), off — with the facility's overhead (facility
//! power less IT power: cooling and losses, the PUE) on top, so the
//! stack's top is the facility power the grid sees, drawn against the
//! site's cap. Each layer is decimated to one mean per pixel column,
//! which keeps its energy; the cap line is decimated min/max.

use egui_plot::{FilledArea, PlotUi};

use super::{Scrub, USE_COLOURS, View, columns, line, time_plot};
use crate::decimate::{mean_xs, means, min_max};
use crate::series::{GPU_USES, RunSeries, StackKey};

/// Names of the stacked layers, bottom first.
pub const LAYERS: [&str; 9] = [
    "ASIC",
    "GPU P1",
    "GPU P2",
    "GPU P3",
    "GPU P4",
    "GPU rental",
    "GPU idle",
    "GPU off",
    "overhead (PUE)",
];

/// One site's layers over `range`, stacked: `(xs, tops)` where `tops[k]`
/// is the top of layer k (bottom of layer k + 1).
pub fn stack(
    run: &RunSeries,
    site: usize,
    range: std::ops::Range<usize>,
    cols: usize,
    x_of: impl Fn(usize) -> f64 + Copy,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let Some(t) = run.sites.get(site) else {
        return (Vec::new(), Vec::new());
    };
    let xs = mean_xs(range.clone(), cols, x_of);
    let mut layers: Vec<Vec<f64>> = Vec::with_capacity(LAYERS.len());
    layers.push(means(&t.asic_mw, range.clone(), cols, x_of).1);
    for k in 0..GPU_USES.len() {
        layers.push(means(&t.gpu_mw[k], range.clone(), cols, x_of).1);
    }
    let facility = means(&t.facility_mw, range, cols, x_of).1;
    let mut tops = Vec::with_capacity(LAYERS.len());
    let mut acc = vec![0.0; xs.len()];
    for layer in &layers {
        for (a, v) in acc.iter_mut().zip(layer) {
            *a += v;
        }
        tops.push(acc.clone());
    }
    let overhead_top: Vec<f64> = acc
        .iter()
        .zip(&facility)
        .map(|(it, f)| it.max(*f))
        .collect();
    tops.push(overhead_top);
    (xs, tops)
}

fn draw_stack(plot: &mut PlotUi<'_>, xs: &[f64], tops: &[Vec<f64>]) {
    let zero = vec![0.0; xs.len()];
    for (k, top) in tops.iter().enumerate() {
        let bottom = if k == 0 { &zero } else { &tops[k - 1] };
        // Layers that are empty over the whole span stay out of the legend.
        if top.iter().zip(bottom).all(|(t, b)| (t - b).abs() < 1e-9) {
            continue;
        }
        plot.add(
            FilledArea::new(LAYERS[k], xs, bottom, top)
                .fill_color(USE_COLOURS[k].gamma_multiply(0.85)),
        );
    }
}

/// The power panel of one site of `run`; `other` (the B run of an
/// overlay) adds its facility power dashed.
pub fn site_panel(
    ui: &mut egui::Ui,
    view: &View,
    run: &RunSeries,
    other: Option<&RunSeries>,
    site: usize,
) -> Scrub {
    let Some(t) = run.sites.get(site) else {
        return Scrub(None);
    };
    let range = view.range(run);
    let cols = columns(ui);
    let ink = super::ink(ui);
    ui.label(format!(
        "{} — facility power by use, MW (cap in red)",
        t.name
    ));
    time_plot(
        ui,
        &format!("power-{}-{site}", view.link),
        view,
        "MW",
        |plot| {
            let x_of = view.x_of(run);
            let key = StackKey {
                stack: "power",
                site,
                range: range.clone(),
                columns: cols,
                x0_bits: x_of(0).to_bits(),
            };
            let (xs, tops) = run.stacked(key, || stack(run, site, range.clone(), cols, &x_of));
            draw_stack(plot, &xs, &tops);
            let cap = min_max(&t.cap_mw, range, cols, &x_of);
            plot.add(line("cap", cap, egui::Color32::from_rgb(200, 0, 0), false));
            if let Some(b) = other
                && let Some(bt) = b.sites.get(site)
            {
                let points = min_max(&bt.facility_mw, view.range(b), cols, view.x_of(b));
                plot.add(line(&format!("facility ({})", b.policy), points, ink, true));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_models::twin::IntervalRecord;

    #[test]
    fn the_stack_tops_out_at_facility_power() {
        let mut run = RunSeries::new("p", "p".into(), 0, 300_000_000);
        for i in 0..4 {
            run.push(
                &IntervalRecord {
                    interval: i,
                    site: 0,
                    price_usd_per_mwh: 30.0,
                    hashprice_usd_per_th_day: 0.05,
                    facility_mw: 11.0,
                    asic_mw: 6.0,
                    gpu_mw: [1.0, 0.5, 0.5, 0.0, 0.0, 0.2, 0.0],
                    hashrate_phs: 300.0,
                    committed_mw_max: 11.5,
                    cap_mw: 12.0,
                    mining_usd: 100.0,
                    energy_usd: 40.0,
                    ai_usd: [10.0, 1.0, 2.0, 0.0, 0.0],
                    grid_event: false,
                    queued_jobs: [0; 3],
                },
                "s",
            );
        }
        let (xs, tops) = stack(&run, 0, 0..4, 100, |i| i as f64);
        assert_eq!(xs, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(tops.len(), LAYERS.len());
        assert!((tops[0][0] - 6.0).abs() < 1e-12);
        assert!((tops[7][2] - 8.2).abs() < 1e-12, "IT power");
        assert!((tops[8][3] - 11.0).abs() < 1e-12, "facility");
    }
}
