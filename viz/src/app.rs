//! [`ViewerApp`]: the viewer's state and its frame, `ui(&mut egui::Ui)` —
//! what the eframe shell calls each frame, what the `egui_kittest` tests
//! drive through the accessibility tree, and what `hcp bench view` times.
//! Each frame polls the source into the store, applies the keyboard's and
//! the time panel's actions, moves the cursor, and lays out the top bar
//! (source, selection, A/B, tabs, panels), the time panel and the
//! timeline or summary. A newly loaded run keeps the cursor's instant, the
//! span and the tab: it never steals the user's place.

use std::path::PathBuf;

use egui::{Key, Modifiers};

use crate::layout::{Compare, Layout, Tab};
use crate::panels::time_panel::{TimeAction, TimePanelState, WINDOWS, time_panel};
use crate::panels::{self, Scrub, View};
use crate::series::{MarkerKind, RunSeries};
use crate::source::dataset::Selection;
use crate::source::{DataSource, LiveCommand, SourceKind, Store};
use crate::timeline::{Span, Speed, TimeControl};

/// How a live source's cursor moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// The cursor sits where the user put it.
    Still,
    /// The cursor stays on the newest interval.
    Edge,
}

/// The viewer.
pub struct ViewerApp {
    source: Box<dyn DataSource>,
    /// What the panels show.
    pub store: Store,
    /// The shared cursor.
    pub time: TimeControl,
    /// The user's arrangement.
    pub layout: Layout,
    layout_path: Option<PathBuf>,
    saved_layout: Layout,
    /// A message about the layout file.
    pub layout_note: Option<String>,
    jump_text: String,
    jump_error: Option<String>,
    marker_kind: MarkerKind,
    follow: Follow,
    frames: u64,
}

impl ViewerApp {
    /// A viewer of `source` with `layout`.
    pub fn new(source: Box<dyn DataSource>, layout: Layout) -> ViewerApp {
        let live = source.kind() != SourceKind::Dataset;
        let mut time = TimeControl::default();
        time.speed = layout.speed;
        time.looping = layout.looping;
        ViewerApp {
            source,
            store: Store::default(),
            time,
            saved_layout: layout.clone(),
            layout,
            layout_path: None,
            layout_note: None,
            jump_text: String::new(),
            jump_error: None,
            marker_kind: MarkerKind::PriceSpike,
            follow: if live { Follow::Edge } else { Follow::Still },
            frames: 0,
        }
    }

    /// Saves the layout to `path` whenever it changes.
    #[must_use]
    pub fn with_layout_file(mut self, path: PathBuf, note: Option<String>) -> ViewerApp {
        self.layout_path = Some(path);
        self.layout_note = note;
        self
    }

    /// The window title.
    pub fn title(&self) -> String {
        self.source.title()
    }

    /// Frames drawn.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The time axis of run A, once it has data.
    pub fn span(&self) -> Option<Span> {
        let run = self.store.runs.first()?;
        if run.is_empty() {
            return None;
        }
        Some(Span {
            start_us: run.start_us,
            last_us: run.time_of(run.len() - 1),
            step_us: run.step_us,
        })
    }

    /// Plays run A from its start at `speed`, as the benches do (`hcp
    /// bench view`, `hcp view --measure`); `None` while it has no data.
    pub fn play_from_start(&mut self, speed: Speed) -> Option<Span> {
        let span = self.span()?;
        self.apply(TimeAction::Speed(speed));
        self.time.set_cursor(span.start_us, span);
        self.time.playing = false;
        self.apply(TimeAction::TogglePlay);
        Some(span)
    }

    /// The dataset's selection, if the source is a dataset.
    pub fn selection(&mut self) -> Option<Selection> {
        self.source.selector().map(|d| d.selection.clone())
    }

    /// Changes the dataset's selection (ignored for other sources).
    pub fn select(&mut self, selection: Selection) {
        if let Some(d) = self.source.selector() {
            d.select(selection);
        }
    }

    /// Whether the source is still reading or running.
    pub fn busy(&mut self) -> bool {
        if let Some(d) = self.source.selector() {
            return d.is_loading() || self.store.summary.is_none();
        }
        self.source.live_state().is_some_and(|s| s.running)
    }

    fn is_live_twin(&self) -> bool {
        self.source.kind() == SourceKind::LiveTwin
    }

    /// Applies one action of the time panel or the keyboard.
    pub fn apply(&mut self, action: TimeAction) {
        let span = self.span();
        let live = self.source.live_state();
        match action {
            TimeAction::TogglePlay => match (&live, span) {
                (Some(state), _) => {
                    if state.running || (self.follow == Follow::Edge && !self.is_live_twin()) {
                        self.source.command(LiveCommand::Pause);
                        self.follow = Follow::Still;
                    } else {
                        self.source
                            .command(LiveCommand::Play(match self.time.speed {
                                Speed::Times(x) => x,
                                Speed::AsFastAsPossible => f64::INFINITY,
                            }));
                        self.follow = Follow::Edge;
                    }
                }
                (None, Some(span)) => self.time.toggle_play(span),
                (None, None) => {}
            },
            TimeAction::Step(forward) => {
                if let Some(span) = span {
                    let at_edge = self.time.cursor(span) >= span.last_us;
                    if live.is_some() && forward && at_edge {
                        self.source.command(LiveCommand::StepInterval);
                        self.follow = Follow::Edge;
                    } else {
                        self.follow = Follow::Still;
                        self.time.step(forward, span);
                    }
                } else if live.is_some() && forward {
                    self.source.command(LiveCommand::StepInterval);
                }
            }
            TimeAction::StepEvent => {
                self.source.command(LiveCommand::StepEvent);
                self.follow = Follow::Edge;
            }
            TimeAction::Speed(speed) => {
                self.time.speed = speed;
                self.layout.speed = speed;
                if live.as_ref().is_some_and(|s| s.running) {
                    self.source.command(LiveCommand::Play(match speed {
                        Speed::Times(x) => x,
                        Speed::AsFastAsPossible => f64::INFINITY,
                    }));
                }
            }
            TimeAction::Loop(on) => {
                self.time.looping = on;
                self.layout.looping = on;
            }
            TimeAction::Scrub(t) => {
                if let Some(span) = span {
                    self.follow = Follow::Still;
                    self.time.set_cursor(t, span);
                }
            }
            TimeAction::Jump(text) => match crate::timeline::parse_date(&text) {
                Err(e) => self.jump_error = Some(e),
                Ok(t) => {
                    self.jump_error = None;
                    let t = t.timestamp_micros();
                    let beyond = span.is_none_or(|s| t > s.last_us);
                    if live.is_some() && beyond {
                        self.source.command(LiveCommand::RunUntil(t));
                        self.follow = Follow::Edge;
                    } else if let Some(span) = span {
                        self.follow = Follow::Still;
                        self.time.set_cursor(t, span);
                    }
                }
            },
            TimeAction::Window(days) => self.layout.window_days = days,
            TimeAction::ShowFuture(on) => self.layout.show_future = on,
            TimeAction::Marker(kind, forward) => {
                if let (Some(run), Some(span)) = (self.store.runs.first(), span) {
                    let now = self.time.cursor(span);
                    let found = if forward {
                        run.markers
                            .iter()
                            .find(|m| m.kind == kind && m.time_us > now + run.step_us - 1)
                    } else {
                        run.markers
                            .iter()
                            .rev()
                            .find(|m| m.kind == kind && m.time_us < now)
                    };
                    if let Some(m) = found {
                        let t = m.time_us;
                        self.follow = Follow::Still;
                        self.time.playing = false;
                        self.time.set_cursor(t, span);
                    }
                }
            }
        }
    }

    fn keyboard(&self, ui: &egui::Ui) -> Vec<TimeAction> {
        if ui.ctx().egui_wants_keyboard_input() {
            return Vec::new();
        }
        let mut out = Vec::new();
        ui.input_mut(|i| {
            if i.consume_key(Modifiers::NONE, Key::Space) {
                out.push(TimeAction::TogglePlay);
            }
            if i.consume_key(Modifiers::SHIFT, Key::ArrowRight) {
                for _ in 0..12 {
                    out.push(TimeAction::Step(true));
                }
            }
            if i.consume_key(Modifiers::SHIFT, Key::ArrowLeft) {
                for _ in 0..12 {
                    out.push(TimeAction::Step(false));
                }
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowRight) {
                out.push(TimeAction::Step(true));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowLeft) {
                out.push(TimeAction::Step(false));
            }
            if i.consume_key(Modifiers::NONE, Key::E) {
                out.push(TimeAction::StepEvent);
            }
            if i.consume_key(Modifiers::NONE, Key::Home) {
                out.push(TimeAction::Scrub(i64::MIN / 2));
            }
            if i.consume_key(Modifiers::NONE, Key::End) {
                out.push(TimeAction::Scrub(i64::MAX / 2));
            }
            if i.consume_key(Modifiers::NONE, Key::L) {
                out.push(TimeAction::Loop(!self.time.looping));
            }
            if i.consume_key(Modifiers::NONE, Key::Plus)
                || i.consume_key(Modifiers::NONE, Key::Equals)
            {
                out.push(TimeAction::Speed(self.time.speed.next(true)));
            }
            if i.consume_key(Modifiers::NONE, Key::Minus) {
                out.push(TimeAction::Speed(self.time.speed.next(false)));
            }
            if i.consume_key(Modifiers::NONE, Key::N) {
                out.push(TimeAction::Marker(self.marker_kind, true));
            }
            if i.consume_key(Modifiers::NONE, Key::P) {
                out.push(TimeAction::Marker(self.marker_kind, false));
            }
            let w = WINDOWS
                .iter()
                .position(|(d, _)| *d == self.layout.window_days);
            if i.consume_key(Modifiers::NONE, Key::OpenBracket)
                && let Some(k) = w.filter(|k| *k > 0)
            {
                out.push(TimeAction::Window(WINDOWS[k - 1].0));
            }
            if i.consume_key(Modifiers::NONE, Key::CloseBracket)
                && let Some(k) = w.filter(|k| *k + 1 < WINDOWS.len())
            {
                out.push(TimeAction::Window(WINDOWS[k + 1].0));
            }
        });
        out
    }

    /// Moves the cursor for this frame: a dataset plays by the frame's
    /// wall time; a live source's cursor follows its newest interval.
    fn advance(&mut self, dt_s: f64) {
        let Some(span) = self.span() else {
            return;
        };
        if self.source.live_state().is_some() {
            if self.follow == Follow::Edge {
                self.time.set_cursor(span.last_us, span);
            }
        } else {
            self.time.tick(dt_s, span);
        }
    }

    /// The span the panels show this frame.
    pub fn view(&self, link: u64) -> Option<View> {
        let span = self.span()?;
        let cursor = self.time.cursor(span);
        let end = span.last_us + span.step_us;
        let (from, to) = if self.layout.window_days <= 0.0 {
            (span.start_us, end)
        } else {
            let w = (self.layout.window_days * 86_400e6) as i64;
            let (mut a, mut b) = if self.layout.show_future {
                (cursor - w / 2, cursor + w / 2)
            } else {
                (cursor - w * 9 / 10, cursor + w / 10)
            };
            if a < span.start_us {
                b += span.start_us - a;
                a = span.start_us;
            }
            if b > end {
                a = (a - (b - end)).max(span.start_us);
                b = end;
            }
            (a, b)
        };
        Some(View {
            origin_us: span.start_us,
            from_us: from,
            to_us: to,
            cursor_us: cursor,
            show_future: self.layout.show_future,
            height: self.layout.plot_height,
            link,
        })
    }

    /// One frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.frames += 1;
        if self.source.poll(&mut self.store)
            && let Some(span) = self.span()
            && self.time.cursor_us.is_none()
        {
            self.time.set_cursor(span.start_us, span);
        }
        let mut actions = self.keyboard(ui);
        let dt = f64::from(ui.input(|i| i.stable_dt));
        self.advance(dt);

        egui::Panel::top("hcp-view-top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("hcp-view-time").show(ui, |ui| {
            actions.extend(self.time_bar(ui));
        });
        let scrub = egui::CentralPanel::default()
            .show(ui, |ui| self.central(ui))
            .inner;
        if let Some(t) = scrub.0 {
            actions.push(TimeAction::Scrub(t));
        }
        for a in actions {
            self.apply(a);
        }
        self.save_layout();
        let live_running = self.source.live_state().is_some();
        if self.time.playing || live_running {
            ui.ctx().request_repaint();
        } else if self.busy() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    fn save_layout(&mut self) {
        if self.layout == self.saved_layout {
            return;
        }
        self.saved_layout = self.layout.clone();
        if let Some(path) = &self.layout_path
            && let Err(e) = self.layout.save(path)
        {
            self.layout_note = Some(format!("{}: cannot save the layout ({e})", path.display()));
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("HCP Twin viewer");
            ui.separator();
            ui.selectable_value(&mut self.layout.tab, Tab::Timeline, "Timeline");
            ui.selectable_value(&mut self.layout.tab, Tab::Summary, "Summary");
            ui.separator();
            self.selection_ui(ui);
            ui.separator();
            ui.menu_button("Panels", |ui| {
                let p = &mut self.layout.panels;
                ui.checkbox(&mut p.power, "Power by use");
                ui.checkbox(&mut p.prices, "Prices and breakeven");
                ui.checkbox(&mut p.hashprice, "Hashprice");
                ui.checkbox(&mut p.gpus, "GPUs and queues");
                ui.checkbox(&mut p.profit, "Cumulative profit");
                ui.checkbox(&mut p.delta, "A/B delta");
                ui.checkbox(&mut p.markers, "Markers");
                ui.add(
                    egui::Slider::new(&mut self.layout.plot_height, 60.0..=600.0)
                        .text("plot height"),
                );
            });
        });
        ui.label(self.source.title());
        if let Some(e) = &self.store.error {
            ui.colored_label(egui::Color32::from_rgb(200, 0, 0), e);
        }
        if let Some(n) = &self.layout_note {
            ui.weak(n);
        }
        if !self.store.notes.is_empty() {
            egui::CollapsingHeader::new(format!("{} notes on the data", self.store.notes.len()))
                .id_salt("notes")
                .show(ui, |ui| {
                    for n in self.store.notes.iter().rev().take(20) {
                        ui.weak(n);
                    }
                });
        }
    }

    fn selection_ui(&mut self, ui: &mut egui::Ui) {
        let compare_before = self.layout.compare;
        let Some(d) = self.source.selector() else {
            ui.weak("live");
            return;
        };
        let mut sel = d.selection.clone();
        let scenarios = d.scenarios();
        egui::ComboBox::from_label("Scenario")
            .selected_text(sel.scenario.clone())
            .show_ui(ui, |ui| {
                for s in &scenarios {
                    ui.selectable_value(&mut sel.scenario, s.clone(), s);
                }
            });
        let reps = d.replications();
        egui::ComboBox::from_label("Replication")
            .selected_text(sel.replication.to_string())
            .show_ui(ui, |ui| {
                for r in &reps {
                    ui.selectable_value(&mut sel.replication, *r, r.to_string());
                }
            });
        let policies = d.policies();
        egui::ComboBox::from_label("Policy A")
            .selected_text(sel.a.clone())
            .show_ui(ui, |ui| {
                for p in &policies {
                    ui.selectable_value(&mut sel.a, p.clone(), p);
                }
            });
        let mut compare = self.layout.compare;
        egui::ComboBox::from_label("Compare")
            .selected_text(match compare {
                Compare::Off => "off",
                Compare::SideBySide => "side by side",
                Compare::Overlay => "overlay",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut compare, Compare::Off, "off");
                ui.selectable_value(&mut compare, Compare::SideBySide, "side by side");
                ui.selectable_value(&mut compare, Compare::Overlay, "overlay");
            });
        if compare == Compare::Off {
            sel.b = None;
        } else {
            if sel.b.is_none() || compare_before == Compare::Off {
                sel.b = sel.b.clone().or_else(|| d.second_policy(&sel));
            }
            let mut b = sel.b.clone().unwrap_or_default();
            egui::ComboBox::from_label("Policy B")
                .selected_text(b.clone())
                .show_ui(ui, |ui| {
                    for p in policies.iter().filter(|p| **p != sel.a) {
                        ui.selectable_value(&mut b, p.clone(), p);
                    }
                });
            if !b.is_empty() {
                sel.b = Some(b);
            }
        }
        if d.is_loading() {
            ui.spinner();
        }
        if sel != d.selection {
            d.select(sel);
        }
        self.layout.compare = compare;
    }

    fn time_bar(&mut self, ui: &mut egui::Ui) -> Vec<TimeAction> {
        let span = self.span();
        let live = self.source.live_state();
        let live_twin = self.is_live_twin();
        let playing = match &live {
            Some(s) if live_twin => s.running,
            Some(_) => self.follow == Follow::Edge,
            None => self.time.playing,
        };
        let status = live.map(|s| s.status);
        let (cursor, range) = span.map_or((0, (0, 0)), |s| {
            (self.time.cursor(s), (s.start_us, s.last_us))
        });
        time_panel(
            ui,
            TimePanelState {
                playing,
                speed: self.time.speed,
                looping: self.time.looping,
                cursor_us: cursor,
                span: range,
                window_days: self.layout.window_days,
                show_future: self.layout.show_future,
                live_twin,
                follow_only: false,
                marker_kind: &mut self.marker_kind,
                jump_text: &mut self.jump_text,
                jump_error: self.jump_error.as_deref(),
                status,
            },
        )
    }

    fn central(&mut self, ui: &mut egui::Ui) -> Scrub {
        if self.layout.tab == Tab::Summary {
            let loading = self
                .source
                .selector()
                .is_some_and(|_| self.store.summary.is_none());
            panels::summary::summary_tab(ui, self.store.summary.as_ref(), loading);
            return Scrub(None);
        }
        let Some(view) = self.view(0) else {
            ui.label(if self.store.error.is_some() {
                "Nothing to show (see the message above)."
            } else {
                "Waiting for data…"
            });
            return Scrub(None);
        };
        let runs = &self.store.runs;
        let a = &runs[0];
        let b = runs.get(1).filter(|_| self.layout.compare != Compare::Off);
        let mut scrub = Scrub(None);
        egui::ScrollArea::vertical()
            .id_salt("timeline")
            .show(ui, |ui| {
                egui::CollapsingHeader::new("At the cursor")
                    .id_salt("readout")
                    .default_open(true)
                    .show(ui, |ui| {
                        panels::readout::readout(ui, a, view.cursor_us);
                        if let Some(b) = b {
                            panels::readout::readout(ui, b, view.cursor_us);
                        }
                    });
                if self.layout.panels.markers {
                    scrub = scrub.or(panels::markers::strip(ui, &view, a));
                }
                match (self.layout.compare, b) {
                    (Compare::SideBySide, Some(b)) => {
                        ui.columns(2, |cols| {
                            scrub =
                                scrub.or(run_panels(&mut cols[0], &view, &self.layout, a, None));
                            let vb = View { link: 1, ..view };
                            scrub = scrub.or(run_panels(&mut cols[1], &vb, &self.layout, b, None));
                        });
                    }
                    (_, other) => {
                        scrub = scrub.or(run_panels(ui, &view, &self.layout, a, other));
                    }
                }
                if let Some(b) = b
                    && self.layout.panels.delta
                {
                    ui.separator();
                    let vd = View { link: 2, ..view };
                    scrub = scrub.or(panels::delta::delta_panel(ui, &vd, a, b));
                }
            });
        scrub
    }
}

/// Every time-series panel of one run (`other`: B of an overlay).
fn run_panels(
    ui: &mut egui::Ui,
    view: &View,
    layout: &Layout,
    run: &RunSeries,
    other: Option<&RunSeries>,
) -> Scrub {
    let mut scrub = Scrub(None);
    ui.strong(&run.label);
    let p = &layout.panels;
    if p.power {
        for site in 0..run.sites.len() {
            scrub = scrub.or(panels::power::site_panel(ui, view, run, other, site));
        }
    }
    if p.prices {
        scrub = scrub.or(panels::prices::price_panel(ui, view, run));
    }
    if p.hashprice {
        scrub = scrub.or(panels::prices::hashprice_panel(ui, view, run));
    }
    if p.gpus {
        scrub = scrub.or(panels::gpus::gpu_panel(ui, view, run));
    }
    if p.profit {
        scrub = scrub.or(panels::profit::profit_panel(ui, view, run, other));
    }
    scrub
}
