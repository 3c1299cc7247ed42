//! `hcp view`: the desktop twin viewer in a window — a sweep's dataset
//! (`hcp view [DIR]`), a twin run live on a worker thread (`--live
//! SCENARIO`), or a running bridge followed through its live stream
//! (`--bridge URL`). The viewer itself is the `hcp-viz` library; this is
//! its thin eframe shell, plus `--screenshot`, which saves what the real
//! window shows and closes it (CI checks the viewer under Xvfb with it),
//! and `--measure`, which plays the run at full speed and reports the real
//! window's frame times (BENCHMARKS.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use hcp_viz::app::ViewerApp;
use hcp_viz::layout::Layout;
use hcp_viz::source::DataSource;
use hcp_viz::source::bridge::BridgeSource;
use hcp_viz::source::dataset::DatasetSource;
use hcp_viz::source::live::LiveSource;

/// Options of `hcp view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// A sweep's output folder (its `--out`; default `out`).
    dir: Option<PathBuf>,
    /// With a sweep's folder: the scenario to open first (default: the
    /// first in the folder).
    #[arg(long, conflicts_with_all = ["live", "bridge"])]
    scenario: Option<String>,
    /// Run this scenario live instead (a built-in name or a TOML file).
    #[arg(long, conflicts_with_all = ["dir", "bridge"])]
    live: Option<String>,
    /// The policy (policy A of a sweep's folder, or the policy a live twin
    /// plays; default: the scenario's first after the baseline).
    #[arg(long, conflicts_with = "bridge")]
    policy: Option<String>,
    /// With --live: the master seed (default: the scenario's).
    #[arg(long, requires = "live")]
    seed: Option<u64>,
    /// With --live: the replication.
    #[arg(long, requires = "live", default_value_t = 0)]
    replication: u64,
    /// Follow a running bridge's live stream (its operator API, e.g.
    /// http://127.0.0.1:8040), read-only.
    #[arg(long, conflicts_with = "dir")]
    bridge: Option<String>,
    /// With --bridge: a file holding a viewer token (else HCP_VIEWER_TOKEN).
    #[arg(long, requires = "bridge")]
    token_file: Option<PathBuf>,
    /// The layout file (default: $XDG_CONFIG_HOME/hcp/viewer.toml or ~/.config/hcp/viewer.toml).
    #[arg(long)]
    layout: Option<PathBuf>,
    /// Window size in points, WIDTHxHEIGHT.
    #[arg(long, default_value = "1400x950")]
    size: String,
    /// Save a screenshot of the window as PNG once data shows (after
    /// --frames frames), then close.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// With --screenshot: frames to draw with data first; with --measure:
    /// frames to time at most.
    #[arg(long, default_value_t = 10)]
    frames: u64,
    /// Play the run from its start as fast as possible (a day a frame),
    /// time every frame of the real window (vsync off) until the run's end
    /// or --frames, print the frame times and close.
    #[arg(long, conflicts_with = "screenshot")]
    measure: bool,
    /// The span shown, days (0: the whole run); overrides the layout's.
    #[arg(long)]
    span_days: Option<f64>,
    /// With --measure: print one JSON document on stdout.
    #[arg(long, requires = "measure")]
    json: bool,
}

/// What `hcp view --measure --json` prints: the real window's frames
/// while the run plays at full speed.
#[derive(Debug, serde::Serialize)]
pub struct WindowFrames {
    /// The run played (policy · scenario · replication).
    pub run: String,
    /// The span shown, days (0: the whole run).
    pub span_days: f64,
    /// Frames timed.
    pub frames: usize,
    /// Wall time from one frame's start to the next (layout, tessellation,
    /// render and present), median, ms.
    pub interval_p50_ms: f64,
    /// … 99th percentile, ms.
    pub interval_p99_ms: f64,
    /// … worst, ms.
    pub interval_max_ms: f64,
    /// eframe's CPU time of a frame (the app's ui and the render calls,
    /// vsync wait excluded), median, ms.
    pub cpu_p50_ms: f64,
    /// … 99th percentile, ms.
    pub cpu_p99_ms: f64,
}

/// Frame times gathered while the run plays.
#[derive(Debug, Default)]
struct Measure {
    /// The last frame's start (`None` until playback starts).
    last: Option<std::time::Instant>,
    intervals_ms: Vec<f64>,
    cpu_ms: Vec<f64>,
    done: bool,
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    hcp_viz::bench::quantile(&v, q)
}

fn parse_size(text: &str) -> Result<[f32; 2]> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| anyhow!("--size {text}: expected WIDTHxHEIGHT, e.g. 1400x950"))?;
    let w: f32 = w
        .trim()
        .parse()
        .with_context(|| format!("--size {text}: width"))?;
    let h: f32 = h
        .trim()
        .parse()
        .with_context(|| format!("--size {text}: height"))?;
    if !(200.0..=10_000.0).contains(&w) || !(200.0..=10_000.0).contains(&h) {
        bail!("--size {text}: each side must be 200 to 10,000 points");
    }
    Ok([w, h])
}

fn token(path: Option<&Path>) -> Result<Option<String>> {
    if let Some(path) = path {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--token-file {}: cannot read it", path.display()))?;
        let t = text.trim().to_owned();
        if t.is_empty() {
            bail!("--token-file {}: the file is empty", path.display());
        }
        return Ok(Some(t));
    }
    Ok(std::env::var("HCP_VIEWER_TOKEN")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// The source the arguments name.
fn source(args: &ViewArgs) -> Result<Box<dyn DataSource>> {
    if let Some(scenario) = &args.live {
        return Ok(Box::new(LiveSource::start(
            scenario,
            args.policy.as_deref(),
            args.seed,
            args.replication,
        )));
    }
    if let Some(url) = &args.bridge {
        return Ok(Box::new(BridgeSource::connect(
            url,
            token(args.token_file.as_deref())?,
        )));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("out"));
    let mut dataset = DatasetSource::open(&dir);
    if let Some(scenario) = &args.scenario {
        one_of(
            "--scenario",
            scenario,
            &dataset.scenarios(),
            &dir.display().to_string(),
        )?;
        let mut selection = dataset.selection.clone();
        selection.scenario.clone_from(scenario);
        dataset.select(selection);
    }
    if let Some(policy) = &args.policy {
        let holder = format!(
            "scenario {} of {}",
            dataset.selection.scenario,
            dir.display()
        );
        one_of("--policy", policy, &dataset.policies(), &holder)?;
        let mut selection = dataset.selection.clone();
        selection.a.clone_from(policy);
        dataset.select(selection);
    }
    Ok(Box::new(dataset))
}

/// `value` of `flag` when `known` (what `holder` has detail for) holds it;
/// else an error listing them.
fn one_of(flag: &str, value: &str, known: &[String], holder: &str) -> Result<()> {
    if known.iter().any(|k| k == value) {
        return Ok(());
    }
    let list = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    bail!("{flag} {value}: {holder} has intervals for {list}")
}

/// The eframe app: the viewer, and the screenshot it may owe.
struct Shell {
    app: ViewerApp,
    screenshot: Option<PathBuf>,
    frames_with_data: u64,
    frames_wanted: u64,
    asked: bool,
    image: Arc<std::sync::Mutex<Option<Arc<egui::ColorImage>>>>,
    result: Arc<std::sync::Mutex<Option<Result<(), String>>>>,
    measure: Option<Measure>,
    measured: Arc<std::sync::Mutex<Option<WindowFrames>>>,
}

impl Shell {
    /// With --measure: starts playback once the run shows, times each
    /// frame, and closes the window when playback ends or enough frames
    /// were timed.
    fn measure(&mut self, ui: &egui::Ui, frame: &eframe::Frame) {
        let Some(m) = self.measure.as_mut() else {
            return;
        };
        let ctx = ui.ctx().clone();
        ctx.request_repaint();
        if m.done {
            return;
        }
        let now = std::time::Instant::now();
        let Some(last) = m.last else {
            let playing = self
                .app
                .play_from_start(hcp_viz::timeline::Speed::AsFastAsPossible);
            if playing.is_some() {
                m.last = Some(now);
            } else if self.app.store.error.is_some() && self.app.store.runs.is_empty() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        };
        m.intervals_ms
            .push(now.duration_since(last).as_secs_f64() * 1e3);
        if let Some(cpu) = frame.info().cpu_usage {
            m.cpu_ms.push(f64::from(cpu) * 1e3);
        }
        m.last = Some(now);
        let enough = u64::try_from(m.intervals_ms.len()).unwrap_or(u64::MAX) >= self.frames_wanted;
        if enough || !self.app.time.playing {
            let result = WindowFrames {
                run: self
                    .app
                    .store
                    .runs
                    .first()
                    .map(|r| r.label.clone())
                    .unwrap_or_default(),
                span_days: self.app.layout.window_days,
                frames: m.intervals_ms.len(),
                interval_p50_ms: quantile(&m.intervals_ms, 0.5),
                interval_p99_ms: quantile(&m.intervals_ms, 0.99),
                interval_max_ms: m.intervals_ms.iter().copied().fold(f64::NAN, f64::max),
                cpu_p50_ms: quantile(&m.cpu_ms, 0.5),
                cpu_p99_ms: quantile(&m.cpu_ms, 0.99),
            };
            *self
                .measured
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
            m.done = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui);
        self.measure(ui, frame);
        let Some(path) = self.screenshot.clone() else {
            return;
        };
        let ctx = ui.ctx().clone();
        let shot = self
            .image
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(image) = shot {
            let saved = save_png(&path, &image).map_err(|e| format!("{e:#}"));
            *self
                .result
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(saved);
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let ready = self.app.span().is_some() || self.app.store.error.is_some();
        if ready {
            self.frames_with_data += 1;
        }
        if self.frames_with_data >= self.frames_wanted && !self.asked {
            self.asked = true;
            let image_slot = Arc::clone(&self.image);
            ctx.request_screenshot(move |image| {
                *image_slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(image);
            });
        }
        ctx.request_repaint();
    }
}

fn save_png(path: &Path, image: &egui::ColorImage) -> Result<()> {
    let [w, h] = image.size;
    let mut bytes = Vec::with_capacity(w * h * 4);
    for p in &image.pixels {
        bytes.extend_from_slice(&p.to_array());
    }
    let tmp = path.with_extension("png.tmp");
    let file = std::fs::File::create(&tmp)
        .with_context(|| format!("{}: cannot write the screenshot", tmp.display()))?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        u32::try_from(w)?,
        u32::try_from(h)?,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&bytes)?;
    writer.finish()?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("{}: cannot write the screenshot", path.display()))?;
    eprintln!("view: screenshot {w}×{h} → {}", path.display());
    Ok(())
}

/// Runs the command.
pub fn run(args: &ViewArgs) -> Result<()> {
    let size = parse_size(&args.size)?;
    let layout_path = args.layout.clone().or_else(Layout::default_path);
    let (mut layout, note) = layout_path
        .as_deref()
        .map_or((Layout::default(), None), Layout::load);
    if let Some(n) = &note {
        eprintln!("view: {n}");
    }
    if let Some(days) = args.span_days {
        if !days.is_finite() || days < 0.0 {
            bail!("--span-days {days}: give 0 (the whole run) or a positive number of days");
        }
        layout.window_days = days;
    }
    let mut app = ViewerApp::new(source(args)?, layout);
    if let Some(path) = layout_path {
        app = app.with_layout_file(path, note);
    }
    let title = app.title();
    let result = Arc::new(std::sync::Mutex::new(None));
    let measured = Arc::new(std::sync::Mutex::new(None));
    let shell = Shell {
        app,
        screenshot: args.screenshot.clone(),
        frames_with_data: 0,
        frames_wanted: args.frames.max(1),
        asked: false,
        image: Arc::default(),
        result: Arc::clone(&result),
        measure: args.measure.then(Measure::default),
        measured: Arc::clone(&measured),
    };
    let mut wgpu_options = eframe::WgpuConfiguration::default();
    if args.measure {
        // Frame times, not the display's refresh, are what is measured.
        wgpu_options.surface.present_mode = eframe::wgpu::PresentMode::AutoNoVsync;
    }
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        wgpu_options,
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_inner_size(size),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "hcp view",
        options,
        Box::new(move |_cc| Ok(Box::new(shell))),
    )
    .map_err(|e| {
        anyhow!("cannot open the viewer's window: {e} (no display? on a headless machine run it under xvfb-run)")
    })?;
    if args.screenshot.is_some() {
        match result
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            Some(Ok(())) => {}
            Some(Err(e)) => bail!("{e}"),
            None => bail!("the window closed before the screenshot was taken"),
        }
    }
    if args.measure {
        let Some(m) = measured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        else {
            bail!("the window closed before a run played");
        };
        if args.json {
            println!("{}", serde_json::to_string_pretty(&m)?);
        } else {
            println!(
                "{}: {} frames at full speed, span {} days: frame interval p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms; CPU p50 {:.1} ms, p99 {:.1} ms",
                m.run,
                m.frames,
                m.span_days,
                m.interval_p50_ms,
                m.interval_p99_ms,
                m.interval_max_ms,
                m.cpu_p50_ms,
                m.cpu_p99_ms
            );
        }
    }
    Ok(())
}
