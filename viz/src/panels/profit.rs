//! Cumulative profit by stream from the run's start: mining revenue, AI
//! revenue by kind (inference P1 + P2, training P3, interruptible P4,
//! rental), energy cost (negative), and their sum — the interval books as
//! the `intervals` table holds them, before SLA and preemption credits,
//! demand-response and ancillary payments (which only the `runs` totals
//! carry; the summary tab has them).

use super::{Scrub, View, columns, line, time_plot};
use crate::decimate::min_max;
use crate::series::RunSeries;

/// Names of the streams, in [`RunSeries::cumulative_usd`] order.
pub const STREAMS: [&str; 7] = [
    "mining",
    "AI inference (P1+P2)",
    "AI training (P3)",
    "AI interruptible (P4)",
    "GPU rental",
    "energy (cost)",
    "profit",
];

/// Each stream's running sum from the run's start, interval by interval,
/// USD ([`STREAMS`] order; NaN counts as 0). The panels read it through
/// [`RunSeries::cumulative_usd`], which computes it once per run.
pub fn cumulative(run: &RunSeries) -> [Vec<f64>; 7] {
    let n = run.len();
    let mut out: [Vec<f64>; 7] = Default::default();
    for v in &mut out {
        v.reserve(n);
    }
    let mut acc = [0.0_f64; 7];
    let get = |v: &Vec<f64>, i: usize| v.get(i).copied().filter(|x| !x.is_nan()).unwrap_or(0.0);
    for i in 0..n {
        let mining: f64 = run.sites.iter().map(|t| get(&t.mining_usd, i)).sum();
        let energy: f64 = run.sites.iter().map(|t| get(&t.energy_usd, i)).sum();
        let ai = [
            get(&run.ai_usd[0], i) + get(&run.ai_usd[1], i),
            get(&run.ai_usd[2], i),
            get(&run.ai_usd[3], i),
            get(&run.ai_usd[4], i),
        ];
        acc[0] += mining;
        for k in 0..4 {
            acc[k + 1] += ai[k];
        }
        acc[5] -= energy;
        acc[6] = acc[..6].iter().sum();
        for (v, a) in out.iter_mut().zip(acc) {
            v.push(a);
        }
    }
    out
}

const COLOURS: [egui::Color32; 7] = [
    egui::Color32::from_rgb(230, 159, 0),
    egui::Color32::from_rgb(0, 114, 178),
    egui::Color32::from_rgb(0, 158, 115),
    egui::Color32::from_rgb(150, 200, 120),
    egui::Color32::from_rgb(204, 121, 167),
    egui::Color32::from_rgb(213, 94, 0),
    egui::Color32::BLACK,
];

/// The cumulative-profit panel of `run`; `other` (B of an overlay) adds
/// its profit line dashed.
pub fn profit_panel(
    ui: &mut egui::Ui,
    view: &View,
    run: &RunSeries,
    other: Option<&RunSeries>,
) -> Scrub {
    let range = view.range(run);
    let cols = columns(ui);
    let ink = super::ink(ui);
    ui.label("Cumulative profit by stream, USD (interval books, before credits, DR and ancillary)");
    time_plot(ui, &format!("profit-{}", view.link), view, "USD", |plot| {
        let x_of = view.x_of(run);
        for (k, s) in run.cumulative_usd().iter().enumerate() {
            // A stream that stays 0 up to the span's end stays out of the legend.
            if s[..range.end.min(s.len())].iter().all(|v| *v == 0.0) {
                continue;
            }
            plot.add(line(
                STREAMS[k],
                min_max(s, range.clone(), cols, &x_of),
                if k == 6 { ink } else { COLOURS[k] },
                false,
            ));
        }
        if let Some(b) = other {
            plot.add(line(
                &format!("profit ({})", b.policy),
                min_max(&b.cumulative_usd()[6], view.range(b), cols, view.x_of(b)),
                ink,
                true,
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::SiteTrack;

    #[test]
    fn streams_add_up_to_profit() {
        let mut run = RunSeries::new("p", "p".into(), 0, 1);
        run.sites.push(SiteTrack {
            mining_usd: vec![100.0, 100.0, f64::NAN],
            energy_usd: vec![40.0, -5.0, 10.0],
            price: vec![1.0; 3],
            ..SiteTrack::default()
        });
        run.ai_usd = [
            vec![1.0, 2.0, 3.0],
            vec![0.5; 3],
            vec![10.0, 0.0, 0.0],
            vec![0.0; 3],
            vec![7.0; 3],
        ];
        let c = cumulative(&run);
        assert_eq!(c[0], vec![100.0, 200.0, 200.0]);
        assert_eq!(c[1], vec![1.5, 4.0, 7.5]);
        assert_eq!(c[5], vec![-40.0, -35.0, -45.0]);
        // 200 + 7.5 + 10 + 0 + 21 − 45
        assert_eq!(c[6][2], 193.5);
    }
}
