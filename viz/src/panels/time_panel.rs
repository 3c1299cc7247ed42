//! The time panel at the window's foot: play/pause, step back and
//! forward by one interval (and by one engine event on a live twin), the
//! speed, loop, the span the panels show, a scrub bar over the run, jump
//! to a date, and jump to the previous or next marker of a kind (the next
//! price spike, say). It returns what the user asked as [`TimeAction`]s;
//! the app applies them, so the same actions come from the keyboard.

use egui::{Button, ComboBox, Slider, TextEdit};

use crate::series::MarkerKind;
use crate::timeline::{Speed, format_time};

/// Spans the panels can show, days (0: the whole run).
pub const WINDOWS: [(f64, &str); 7] = [
    (1.0, "1 day"),
    (3.0, "3 days"),
    (7.0, "1 week"),
    (14.0, "2 weeks"),
    (30.0, "1 month"),
    (91.0, "3 months"),
    (0.0, "whole run"),
];

/// What the user asked of time.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeAction {
    /// Play or pause.
    TogglePlay,
    /// One interval forward (true) or back.
    Step(bool),
    /// One engine event (live twin).
    StepEvent,
    /// A new speed.
    Speed(Speed),
    /// Loop on or off.
    Loop(bool),
    /// Move the cursor to an instant, µs.
    Scrub(i64),
    /// Jump to a typed date.
    Jump(String),
    /// The span shown, days (0: all).
    Window(f64),
    /// Previous (false) or next marker of a kind.
    Marker(MarkerKind, bool),
    /// Whether data after the cursor is drawn.
    ShowFuture(bool),
}

/// What the panel shows.
#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)]
pub struct TimePanelState<'a> {
    /// Playing now.
    pub playing: bool,
    /// The speed.
    pub speed: Speed,
    /// Loop on.
    pub looping: bool,
    /// The cursor, µs.
    pub cursor_us: i64,
    /// Start and last interval of the data, µs.
    pub span: (i64, i64),
    /// Days shown.
    pub window_days: f64,
    /// Data after the cursor drawn.
    pub show_future: bool,
    /// Whether the source steps engine events (live twin).
    pub live_twin: bool,
    /// Whether the source runs on its own (bridge): no play, no step.
    pub follow_only: bool,
    /// The kind the marker buttons jump between.
    pub marker_kind: &'a mut MarkerKind,
    /// The jump field's text.
    pub jump_text: &'a mut String,
    /// Why the last jump failed.
    pub jump_error: Option<&'a str>,
    /// One line about the source (live state).
    pub status: Option<String>,
}

/// Shows the time panel.
#[allow(clippy::too_many_lines)]
pub fn time_panel(ui: &mut egui::Ui, s: TimePanelState<'_>) -> Vec<TimeAction> {
    let mut out = Vec::new();
    ui.horizontal_wrapped(|ui| {
        let enabled = !s.follow_only;
        if ui
            .add_enabled(enabled, Button::new("Step back"))
            .on_hover_text("One interval back (←)")
            .clicked()
        {
            out.push(TimeAction::Step(false));
        }
        let play = if s.playing { "Pause" } else { "Play" };
        if ui
            .add_enabled(enabled, Button::new(play))
            .on_hover_text("Play or pause (space)")
            .clicked()
        {
            out.push(TimeAction::TogglePlay);
        }
        if ui
            .add_enabled(enabled, Button::new("Step forward"))
            .on_hover_text("One interval forward (→)")
            .clicked()
        {
            out.push(TimeAction::Step(true));
        }
        if s.live_twin
            && ui
                .button("Step event")
                .on_hover_text("Handle one engine event (E)")
                .clicked()
        {
            out.push(TimeAction::StepEvent);
        }
        let mut speed = s.speed;
        ComboBox::from_label("Speed")
            .selected_text(speed.label())
            .show_ui(ui, |ui| {
                for choice in Speed::CHOICES {
                    ui.selectable_value(&mut speed, choice, choice.label());
                }
            });
        if speed != s.speed {
            out.push(TimeAction::Speed(speed));
        }
        let mut looping = s.looping;
        if ui.checkbox(&mut looping, "Loop").changed() {
            out.push(TimeAction::Loop(looping));
        }
        let mut window = s.window_days;
        let current = WINDOWS
            .iter()
            .find(|(d, _)| *d == window)
            .map_or_else(|| format!("{window} days"), |(_, l)| (*l).to_owned());
        ComboBox::from_label("Span")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (d, label) in WINDOWS {
                    ui.selectable_value(&mut window, d, label);
                }
            });
        if window != s.window_days {
            out.push(TimeAction::Window(window));
        }
        let mut future = s.show_future;
        if ui
            .checkbox(&mut future, "Show after cursor")
            .on_hover_text("Off: the run unfolds up to the cursor")
            .changed()
        {
            out.push(TimeAction::ShowFuture(future));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.monospace(format_time(s.cursor_us));
        let (a, b) = s.span;
        let mut days = (s.cursor_us - a) as f64 / 86_400e6;
        let max = ((b - a) as f64 / 86_400e6).max(0.0);
        let slider = Slider::new(&mut days, 0.0..=max)
            .show_value(false)
            .text("days");
        let width = (ui.available_width() - 420.0).max(120.0);
        ui.spacing_mut().slider_width = width;
        if ui.add(slider).on_hover_text("Scrub").changed() {
            out.push(TimeAction::Scrub(a + (days * 86_400e6).round() as i64));
        }
        let field = ui.add(
            TextEdit::singleline(s.jump_text)
                .hint_text("jump to 2026-03-04 17:30")
                .desired_width(150.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Jump").clicked() || entered {
            out.push(TimeAction::Jump(s.jump_text.clone()));
        }
        ComboBox::from_label("Marker")
            .selected_text(s.marker_kind.label())
            .show_ui(ui, |ui| {
                for k in MarkerKind::ALL {
                    ui.selectable_value(s.marker_kind, k, k.label());
                }
            });
        if ui.button("Previous marker").on_hover_text("P").clicked() {
            out.push(TimeAction::Marker(*s.marker_kind, false));
        }
        if ui.button("Next marker").on_hover_text("N").clicked() {
            out.push(TimeAction::Marker(*s.marker_kind, true));
        }
    });
    if let Some(e) = s.jump_error {
        ui.colored_label(egui::Color32::from_rgb(200, 0, 0), e);
    }
    if let Some(status) = s.status {
        ui.weak(status);
    }
    out
}
