//! What the cursor's interval holds, in words, per site: facility power
//! against the cap, ASIC and GPU power, hashrate, the spot price against
//! the ASIC breakeven (above it hashing loses money: the reason a policy
//! curtails), and the markers of that interval (spikes, grid events, clips,
//! GPU switches) — the "what did each site draw, and why" of a moment.

use crate::series::{RunSeries, breakeven_usd_per_mwh};
use crate::timeline::format_time;

/// The readout's lines for the interval holding `t_us`.
pub fn lines(run: &RunSeries, t_us: i64) -> Vec<String> {
    if run.is_empty() {
        return Vec::new();
    }
    let i = run.index_at(t_us);
    let mut out = vec![format!(
        "{} — interval {} ({}):",
        run.policy,
        i,
        format_time(run.time_of(i))
    )];
    for (s, t) in run.sites.iter().enumerate() {
        let get = |v: &Vec<f64>| v.get(i).copied().unwrap_or(f64::NAN);
        let gpu: f64 = (0..5)
            .map(|k| get(&t.gpu_mw[k]))
            .filter(|v| !v.is_nan())
            .sum();
        let price = get(&t.price);
        let e = run.asic_efficiency_j_per_th(s);
        let breakeven = breakeven_usd_per_mwh(get(&t.hashprice), e);
        let verdict = if !price.is_finite() || !breakeven.is_finite() {
            String::new()
        } else if price > breakeven {
            format!(" > breakeven ${breakeven:.0}: hashing loses money")
        } else {
            format!(" ≤ breakeven ${breakeven:.0}: hashing pays")
        };
        out.push(format!(
            "  {}: {:.1} of {:.1} MW (ASIC {:.1}, GPUs busy {:.1}), {:.0} PH/s, ${:.0}/MWh{}",
            t.name,
            get(&t.facility_mw),
            get(&t.cap_mw),
            get(&t.asic_mw),
            gpu,
            get(&t.hashrate_phs),
            price,
            verdict
        ));
    }
    let from = run.time_of(i);
    let marks = run.markers_between(from, from + run.step_us - 1);
    for m in marks.iter().take(3) {
        out.push(format!("  • {}", m.text));
    }
    if marks.len() > 3 {
        out.push(format!("  • … and {} more", marks.len() - 3));
    }
    out
}

/// Shows the readout.
pub fn readout(ui: &mut egui::Ui, run: &RunSeries, t_us: i64) {
    for l in lines(run, t_us) {
        ui.monospace(l);
    }
}
