//! The markers' strip under the time-series panels: one row per kind —
//! grid events, price spikes, clips, GPU switches, faults — with a tick in
//! each pixel column that holds at least one (a year of GPU switches is
//! tens of thousands: they are binned per column like the series). Hovering
//! a column lists what is in it; clicking moves the cursor there.

use egui::{Align2, Color32, FontId, Rect, Sense, Stroke, pos2, vec2};

use super::{Scrub, View};
use crate::series::{MarkerKind, RunSeries};

/// A kind's colour.
pub fn colour(kind: MarkerKind) -> Color32 {
    match kind {
        MarkerKind::GridEvent => Color32::from_rgb(120, 60, 200),
        MarkerKind::PriceSpike => Color32::from_rgb(213, 94, 0),
        MarkerKind::Clip => Color32::from_rgb(200, 0, 0),
        MarkerKind::GpuSwitch => Color32::from_rgb(0, 114, 178),
        MarkerKind::Fault => Color32::from_rgb(90, 90, 90),
    }
}

/// For each kind, which of `columns` pixel columns over the view hold a
/// marker, and how many markers each holds.
pub fn binned(view: &View, run: &RunSeries, columns: usize) -> Vec<(MarkerKind, Vec<u32>)> {
    let columns = columns.max(1);
    let span = (view.to_us - view.from_us).max(1) as f64;
    let end = if view.show_future {
        view.to_us
    } else {
        view.to_us.min(view.cursor_us + run.step_us)
    };
    let mut out: Vec<(MarkerKind, Vec<u32>)> = MarkerKind::ALL
        .iter()
        .map(|&kind| (kind, vec![0_u32; columns]))
        .collect();
    // One pass over the markers shown, whatever their kind.
    for m in run.markers_between(view.from_us, end) {
        let row = MarkerKind::ALL
            .iter()
            .position(|k| *k == m.kind)
            .unwrap_or(0);
        let c = ((m.time_us - view.from_us) as f64 / span * columns as f64) as usize;
        out[row].1[c.min(columns - 1)] += 1;
    }
    out
}

/// The strip.
pub fn strip(ui: &mut egui::Ui, view: &View, run: &RunSeries) -> Scrub {
    const ROW: f32 = 14.0;
    const LABEL: f32 = 96.0;
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(
        vec2(width, ROW * MarkerKind::ALL.len() as f32 + 4.0),
        Sense::click_and_drag(),
    );
    let lane = Rect::from_min_max(pos2(rect.left() + LABEL, rect.top()), rect.right_bottom());
    let columns = lane.width().max(1.0) as usize;
    let bins = binned(view, run, columns);
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(lane, 2.0, visuals.extreme_bg_color);
    for (row, (kind, counts)) in bins.iter().enumerate() {
        let y0 = rect.top() + 2.0 + row as f32 * ROW;
        let total: u32 = counts.iter().sum();
        painter.text(
            pos2(rect.left(), y0 + ROW / 2.0),
            Align2::LEFT_CENTER,
            format!("{} {}", kind.label(), total),
            FontId::proportional(10.0),
            visuals.text_color(),
        );
        for (c, n) in counts.iter().enumerate() {
            if *n > 0 {
                let x = lane.left() + c as f32 + 0.5;
                painter.line_segment(
                    [pos2(x, y0 + 2.0), pos2(x, y0 + ROW - 2.0)],
                    Stroke::new(1.0, colour(*kind)),
                );
            }
        }
    }
    let span = (view.to_us - view.from_us).max(1) as f64;
    let cx = lane.left()
        + ((view.cursor_us - view.from_us) as f64 / span * f64::from(lane.width())) as f32;
    if (lane.left()..=lane.right()).contains(&cx) {
        painter.line_segment(
            [pos2(cx, rect.top()), pos2(cx, rect.bottom())],
            Stroke::new(1.0, Color32::from_rgb(220, 40, 40)),
        );
    }
    let time_at = |x: f32| -> i64 {
        view.from_us
            + (f64::from((x - lane.left()).max(0.0)) / f64::from(lane.width().max(1.0)) * span)
                as i64
    };
    if let Some(p) = response.hover_pos()
        && p.x >= lane.left()
    {
        let t0 = time_at(p.x - 2.0);
        let t1 = time_at(p.x + 3.0);
        let near = run.markers_between(t0, t1);
        if !near.is_empty() {
            response.clone().on_hover_ui_at_pointer(|ui| {
                for m in near.iter().take(8) {
                    ui.label(format!(
                        "{} {}",
                        crate::timeline::format_time(m.time_us),
                        m.text
                    ));
                }
                if near.len() > 8 {
                    ui.weak(format!("… and {} more", near.len() - 8));
                }
            });
        }
    }
    if (response.clicked() || response.dragged())
        && let Some(p) = response.interact_pointer_pos()
        && p.x >= lane.left()
    {
        return Scrub(Some(time_at(p.x)));
    }
    Scrub(None)
}
