//! The A/B delta: A less B, interval by interval, for two policies that
//! played the same replication — cumulative profit and its streams, and
//! the plant's power by use (ASIC, GPUs busy, facility). Both runs saw the
//! same tape (prices, demand, failures: common random numbers), so the
//! difference is the policy's doing, and the panel says so.

use super::profit::cumulative;
use super::{Scrub, View, columns, line, time_plot};
use crate::decimate::min_max;
use crate::panels::gpus::plant_gpu_mw;
use crate::series::RunSeries;

/// A − B over the intervals both have.
fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// The plant's sum over sites of one site column, per interval.
fn plant(run: &RunSeries, column: impl Fn(&crate::series::SiteTrack) -> &Vec<f64>) -> Vec<f64> {
    let mut out = vec![0.0; run.len()];
    for t in &run.sites {
        for (o, v) in out.iter_mut().zip(column(t)) {
            if !v.is_nan() {
                *o += v;
            }
        }
    }
    out
}

/// The profit A − B at the end of the shown span, USD, with the
/// sentence the panel heads with.
pub fn headline(view: &View, a: &RunSeries, b: &RunSeries) -> (f64, String) {
    let n = view.range(a).end.min(b.len());
    let ca = cumulative(a, n);
    let cb = cumulative(b, n);
    let d = ca[6].last().copied().unwrap_or(0.0) - cb[6].last().copied().unwrap_or(0.0);
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
    let x_of = view.x_of(a);
    let (_, text) = headline(view, a, b);
    ui.strong(format!("A/B delta: {} (A) − {} (B)", a.policy, b.policy));
    ui.label(text);
    let ca = cumulative(a, range.end);
    let cb = cumulative(b, range.end);
    let colours = [
        super::ink(ui),
        egui::Color32::from_rgb(230, 159, 0),
        egui::Color32::from_rgb(0, 114, 178),
        egui::Color32::from_rgb(213, 94, 0),
    ];
    let money: Vec<_> = [
        (6, "Δ profit"),
        (0, "Δ mining"),
        (1, "Δ AI inference"),
        (5, "Δ energy"),
    ]
    .into_iter()
    .zip(colours)
    .map(|((k, name), c)| {
        line(
            name,
            min_max(&diff(&ca[k], &cb[k]), range.clone(), cols, &x_of),
            c,
            false,
        )
    })
    .collect();
    let mut scrub = time_plot(
        ui,
        &format!("delta-profit-{}", view.link),
        view,
        "USD",
        |plot| {
            for l in money {
                plot.add(l);
            }
        },
    );
    let busy = |r: &RunSeries| -> Vec<f64> {
        let mut v = vec![0.0; r.len()];
        for k in 0..5 {
            for (o, x) in v.iter_mut().zip(plant_gpu_mw(r, k)) {
                *o += x;
            }
        }
        v
    };
    let power: Vec<_> = [
        (
            "Δ ASIC MW",
            diff(&plant(a, |t| &t.asic_mw), &plant(b, |t| &t.asic_mw)),
        ),
        ("Δ GPU busy MW", diff(&busy(a), &busy(b))),
        (
            "Δ facility MW",
            diff(&plant(a, |t| &t.facility_mw), &plant(b, |t| &t.facility_mw)),
        ),
    ]
    .into_iter()
    .zip(colours[1..].iter())
    .map(|((name, d), c)| line(name, min_max(&d, range.clone(), cols, &x_of), *c, false))
    .collect();
    ui.label("Δ power by use, MW (A − B, all sites)");
    scrub = scrub.or(time_plot(
        ui,
        &format!("delta-power-{}", view.link),
        view,
        "MW",
        |plot| {
            for l in power {
                plot.add(l);
            }
        },
    ));
    scrub
}
