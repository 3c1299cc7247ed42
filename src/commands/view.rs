//! `hcp view`: the desktop twin viewer in a window — a sweep's dataset
//! (`hcp view [DIR]`), a twin run live on a worker thread (`--live
//! SCENARIO`), or a running bridge followed through its live stream
//! (`--bridge URL`). The viewer itself is the `hcp-viz` library; this is
//! its thin eframe shell, plus `--screenshot`, which saves what the real
//! window shows and closes it (CI checks the viewer under Xvfb with it).

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
    /// Run this scenario live instead (a built-in name or a TOML file).
    #[arg(long, conflicts_with_all = ["dir", "bridge"])]
    live: Option<String>,
    /// With --live: the policy (default: the scenario's first after the baseline).
    #[arg(long, requires = "live")]
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
    /// With --screenshot: frames to draw with data first.
    #[arg(long, default_value_t = 10)]
    frames: u64,
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
    Ok(Box::new(DatasetSource::open(&dir)))
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
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
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
    let (layout, note) = layout_path
        .as_deref()
        .map_or((Layout::default(), None), Layout::load);
    if let Some(n) = &note {
        eprintln!("view: {n}");
    }
    let mut app = ViewerApp::new(source(args)?, layout);
    if let Some(path) = layout_path {
        app = app.with_layout_file(path, note);
    }
    let title = app.title();
    let result = Arc::new(std::sync::Mutex::new(None));
    let shell = Shell {
        app,
        screenshot: args.screenshot.clone(),
        frames_with_data: 0,
        frames_wanted: args.frames.max(1),
        asked: false,
        image: Arc::default(),
        result: Arc::clone(&result),
    };
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
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
    Ok(())
}
