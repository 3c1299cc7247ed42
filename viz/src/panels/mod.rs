//! The panels: each draws one view of the store's runs for the time span
//! the app asks, through egui_plot, with the x axes and the cursor of
//! every time-series panel linked ([`View`]). They read
//! [`RunSeries`] only — never a source — and
//! decimate every series to the plot's pixel columns
//! ([`crate::decimate`]) before drawing.

pub mod delta;
pub mod gpus;
pub mod markers;
pub mod power;
pub mod prices;
pub mod profit;
pub mod readout;
pub mod summary;
pub mod time_panel;

use std::ops::Range;

use egui::{Color32, Id};
use egui_plot::{GridMark, Legend, Line, LineStyle, Plot, PlotPoints, PlotUi, VLine};

use crate::series::RunSeries;
use crate::timeline::format_time;

/// What every time-series panel of a frame shares: the origin of the x
/// axis (x is days since it), the span shown, the cursor and the plot
/// height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// x = 0, µs since 1970 (UTC): run A's start.
    pub origin_us: i64,
    /// First instant shown, µs.
    pub from_us: i64,
    /// Last instant shown, µs.
    pub to_us: i64,
    /// The cursor, µs.
    pub cursor_us: i64,
    /// Whether data after the cursor is drawn.
    pub show_future: bool,
    /// Plot height, points.
    pub height: f32,
    /// Salt of the plots' ids (one per column of panels; every time plot
    /// shares one link group, so all follow the same x span and cursor).
    pub link: u64,
}

/// What a click or drag on a plot asked: move the cursor there (µs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scrub(pub Option<i64>);

impl Scrub {
    /// Keeps the first request of several.
    #[must_use]
    pub fn or(self, other: Scrub) -> Scrub {
        Scrub(self.0.or(other.0))
    }
}

impl View {
    /// x of an instant.
    pub fn x(&self, t_us: i64) -> f64 {
        (t_us - self.origin_us) as f64 / 86_400e6
    }

    /// The instant of an x.
    pub fn t(&self, x: f64) -> i64 {
        self.origin_us + (x * 86_400e6).round() as i64
    }

    /// The interval indices of `run` to draw: the span, cut at the cursor
    /// unless the future is shown.
    pub fn range(&self, run: &RunSeries) -> Range<usize> {
        if run.is_empty() {
            return 0..0;
        }
        let end_us = if self.show_future {
            self.to_us
        } else {
            self.to_us.min(self.cursor_us)
        };
        let a = run.index_at(self.from_us);
        let b = run.index_at(end_us) + 1;
        a..b.max(a)
    }

    /// x of interval `i` of `run`.
    pub fn x_of<'a>(&'a self, run: &'a RunSeries) -> impl Fn(usize) -> f64 + 'a {
        move |i| self.x(run.time_of(i))
    }
}

/// Colours of the power uses, in stack order: ASIC, GPU P1–P4, rental,
/// idle, off, facility overhead.
pub const USE_COLOURS: [Color32; 9] = [
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(150, 200, 120),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(160, 160, 160),
    Color32::from_rgb(110, 110, 110),
    Color32::from_rgb(213, 94, 0),
];

/// Colours of lines by site.
pub const SITE_COLOURS: [Color32; 6] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(86, 180, 233),
];

/// The colour of a total (profit, B's facility power): the theme's
/// strongest text colour, so it shows on dark and light backgrounds.
pub fn ink(ui: &egui::Ui) -> Color32 {
    ui.visuals().strong_text_color()
}

/// A site's colour.
pub fn site_colour(site: usize) -> Color32 {
    SITE_COLOURS[site % SITE_COLOURS.len()]
}

/// A time-series plot with the frame's x span, linked axes and cursor,
/// a date axis, a legend, and no pan or zoom of its own (the time panel
/// moves time); a click or drag on it moves the cursor.
///
/// A plot outside the visible part of the panel's scroll area only takes
/// its space: `add`, where panels decimate their series, is not called,
/// so what lies below the fold costs nothing per frame.
pub fn time_plot(
    ui: &mut egui::Ui,
    id: &str,
    view: &View,
    y_label: &str,
    add: impl FnOnce(&mut PlotUi<'_>),
) -> Scrub {
    let size = egui::vec2(ui.available_width(), view.height);
    if !ui.is_rect_visible(egui::Rect::from_min_size(ui.cursor().min, size)) {
        ui.allocate_space(size);
        return Scrub(None);
    }
    let origin = view.origin_us;
    let group = Id::unique("hcp-view-time");
    let (x0, x1) = (
        view.x(view.from_us),
        view.x(view.to_us).max(view.x(view.from_us) + 1e-6),
    );
    let cursor = view.x(view.cursor_us);
    let response = Plot::new(id)
        .height(view.height)
        .link_axis(group, [true, false])
        .link_cursor(group, [true, false])
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .y_axis_label(y_label.to_owned())
        .y_axis_min_width(52.0)
        .legend(
            Legend::default()
                .position(egui_plot::Corner::LeftTop)
                .text_style(egui::TextStyle::Small)
                .background_alpha(0.6),
        )
        .y_axis_formatter(|mark: GridMark, _| short_number(mark.value))
        .x_axis_formatter(move |mark: GridMark, _| {
            let t = origin + (mark.value * 86_400e6).round() as i64;
            format_time(t)
        })
        .label_formatter(move |hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let t = origin + (p.x * 86_400e6).round() as i64;
            Some(format!("{}\n{}", format_time(t), short_number(p.y)))
        })
        .show(ui, |plot_ui| {
            plot_ui.set_plot_bounds_x(x0..=x1);
            plot_ui.set_auto_bounds([false, true]);
            add(plot_ui);
            plot_ui.add(
                VLine::new("", cursor)
                    .color(Color32::from_rgb(220, 40, 40))
                    .width(1.0),
            );
            let r = plot_ui.response();
            if r.clicked() || r.dragged() {
                plot_ui.pointer_coordinate().map(|p| p.x)
            } else {
                None
            }
        });
    Scrub(response.inner.map(|x| view.t(x)))
}

/// A decimated line.
pub fn line<'a>(name: &str, points: Vec<[f64; 2]>, colour: Color32, dashed: bool) -> Line<'a> {
    let style = if dashed {
        LineStyle::dashed_dense()
    } else {
        LineStyle::Solid
    };
    Line::new(name.to_owned(), PlotPoints::new(points))
        .color(colour)
        .width(1.5)
        .style(style)
}

/// A number as a plot label shows it (thousands grouped).
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if a >= 1e5 {
        format!("{:.0} k", v / 1e3)
    } else if a >= 1e4 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The plot columns (pixels) a panel of this width has.
pub fn columns(ui: &egui::Ui) -> usize {
    (ui.available_width() * ui.pixels_per_point()).max(16.0) as usize
}
