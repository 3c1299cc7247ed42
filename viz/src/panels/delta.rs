//! The A/B delta: A less B, interval by interval, for two policies that
//! played the same replication — cumulative profit and its streams, and
//! the plant's power by use (ASIC, GPUs busy, facility). Both runs saw the
//! same tape (prices, demand, failures: common random numbers), so the
//! difference is the policy's doing, and the panel says so.

use std::ops::Range;

use super::{Scrub, View, columns, line, time_plot};
use crate::decimate::min_max;
use crate::series::RunSeries;

/// A − B over `range` (of the intervals both have).
fn diff(a: &[f64], b: &[f64], range: &Range<usize>) -> Vec<f64> {
    let end = range.end.min(a.len()).min(b.len());
    let start = range.start.min(end);
    a[start..end]
        .iter()
        .zip(&b[start..end])
        .map(|(x, y)| x - y)
        .collect()
}

/// The plant's busy-GPU power (P1–P4 and rental) over `range`, MW.
fn busy(run: &RunSeries, range: &Range<usize>) -> Vec<f64> {
    let mut v = vec![0.0; range.len()];
    for k in 0..5 {
        for (o, x) in v
            .iter_mut()
            .zip(run.plant_sum(range.clone(), |t| &t.gpu_mw[k]))
        {
            *o += x;
        }
    }
    v
}

/// The profit A − B at the end of the shown span, USD, with the
/// sentence the panel heads with.
pub fn headline(view: &View, a: &RunSeries, b: &RunSeries) -> (f64, String) {
    let n = view.range(a).end.min(b.len());
    let at_end = |r: &RunSeries| {
        n.checked_sub(1)
            .and_then(|i| r.cumulative_usd()[6].get(i).copied())
            .unwrap_or(0.0)
    };
    let d = at_end(a) - at_end(b);
    let text = format!(
        "{} − {}: {} of interval profit by {}. Both played the same world (same replication: same prices, demand and failures), so the difference is the policy's doing.",
        a.policy,
        b.policy,
        hcp_reports::report::stats::signed_musd(d),
        crate::timeline::format_time(a.time_of(n.saturating_sub(1))),
    );
    (d, text)
}

/// The delta panels.
pub fn delta_panel(ui: &mut egui::Ui, view: &View, a: &RunSeries, b: &RunSeries) -> Scrub {
    let range = view.range(a);
    let range = range.start..range.end.min(b.len());
    let cols = columns(ui);
    let x_of = |i: usize| view.x_of(a)(i + range.start);
    let (_, text) = headline(view, a, b);
    ui.strong(format!("A/B delta: {} (A) − {} (B)", a.policy, b.policy));
    ui.label(text);
    let colours = [
        super::ink(ui),
        egui::Color32::from_rgb(230, 159, 0),
        egui::Color32::from_rgb(0, 114, 178),
        egui::Color32::from_rgb(213, 94, 0),
    ];
    let mut scrub = time_plot(
        ui,
        &format!("delta-profit-{}", view.link),
        view,
        "USD",
        |plot| {
            let (ca, cb) = (a.cumulative_usd(), b.cumulative_usd());
            for ((k, name), c) in [
                (6, "Δ profit"),
                (0, "Δ mining"),
                (1, "Δ AI inference"),
                (5, "Δ energy"),
            ]
            .into_iter()
            .zip(colours)
            {
                let d = diff(&ca[k], &cb[k], &range);
                plot.add(line(name, min_max(&d, 0..d.len(), cols, x_of), c, false));
            }
        },
    );
    ui.label("Δ power by use, MW (A − B, all sites)");
    scrub = scrub.or(time_plot(
        ui,
        &format!("delta-power-{}", view.link),
        view,
        "MW",
        |plot| {
            let asic = |r: &RunSeries| r.plant_sum(range.clone(), |t| &t.asic_mw);
            let facility = |r: &RunSeries| r.plant_sum(range.clone(), |t| &t.facility_mw);
            let all = 0..range.len();
            for ((name, d), c) in [
                ("Δ ASIC MW", diff(&asic(a), &asic(b), &all)),
                (
                    "Δ GPU busy MW",
                    diff(&busy(a, &range), &busy(b, &range), &all),
                ),
                ("Δ facility MW", diff(&facility(a), &facility(b), &all)),
            ]
            .into_iter()
            .zip(colours[1..].iter())
            {
                plot.add(line(name, min_max(&d, 0..d.len(), cols, x_of), *c, false));
            }
        },
    ));
    scrub
}
