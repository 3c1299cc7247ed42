//! `hcp bench view`: the viewer measured headless on a real dataset, with
//! the pinned software renderer ([`crate::render`]) — the time from
//! opening a sweep's folder to the first rendered frame that shows a run
//! (renderer start, folder listing and the run's read included), then a
//! year played at full speed frame by frame: egui's layout and
//! tessellation (CPU) and the render with its read-back, each frame's
//! median, p99 and worst.

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use serde::Serialize;

use crate::app::ViewerApp;
use crate::layout::Layout;
use crate::render::{PickedAdapter, software_setup};
use crate::source::dataset::DatasetSource;
use crate::timeline::Speed;

/// Frame times of one way of playing, ms.
#[derive(Debug, Clone, Serialize)]
pub struct FrameStats {
    /// What was played.
    pub case: String,
    /// Frames timed.
    pub frames: usize,
    /// egui's frame (layout, decimation, tessellation), median, ms.
    pub cpu_p50_ms: f64,
    /// … 99th percentile, ms.
    pub cpu_p99_ms: f64,
    /// Render and read-back of the frame, median, ms.
    pub render_p50_ms: f64,
    /// … 99th percentile, ms.
    pub render_p99_ms: f64,
    /// Whole frame (CPU + render), median, ms.
    pub frame_p50_ms: f64,
    /// … 99th percentile, ms.
    pub frame_p99_ms: f64,
    /// … worst, ms.
    pub frame_max_ms: f64,
}

/// What `hcp bench view --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ViewBench {
    /// The dataset's folder.
    pub dataset: String,
    /// The run shown (policy · scenario · replication).
    pub run: String,
    /// Intervals × sites of the run shown.
    pub rows_shown: usize,
    /// The renderer.
    pub adapter: String,
    /// Window size, points (1 pixel per point).
    pub size: [f32; 2],
    /// From opening the folder to the first rendered frame with the run, s.
    pub first_frame_s: f64,
    /// Playing a year at full speed, per span shown.
    pub play: Vec<FrameStats>,
}

/// The `q` quantile of `sorted` (ascending), nearest rank; NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn stats(case: &str, cpu: &[f64], render: &[f64]) -> FrameStats {
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let total: Vec<f64> = cpu.iter().zip(render).map(|(a, b)| a + b).collect();
    let (c, r, t) = (sorted(cpu), sorted(render), sorted(&total));
    FrameStats {
        case: case.to_owned(),
        frames: cpu.len(),
        cpu_p50_ms: quantile(&c, 0.5),
        cpu_p99_ms: quantile(&c, 0.99),
        render_p50_ms: quantile(&r, 0.5),
        render_p99_ms: quantile(&r, 0.99),
        frame_p50_ms: quantile(&t, 0.5),
        frame_p99_ms: quantile(&t, 0.99),
        frame_max_ms: t.last().copied().unwrap_or(f64::NAN),
    }
}

/// Opens `dir`, waits for the first frame with data, then plays the run
/// from its start to its end at full speed (one day a frame) once per
/// span in `windows_days` (0: the whole run), at most `max_frames` frames
/// each.
///
/// # Errors
/// No llvmpipe adapter, a folder that is not a sweep or has no
/// intervals, or a run that does not load within a minute.
pub fn run(
    dir: &Path,
    size: [f32; 2],
    windows_days: &[f64],
    max_frames: usize,
) -> Result<ViewBench, String> {
    let picked = PickedAdapter::default();
    let t0 = Instant::now();
    let mut source = DatasetSource::open(dir);
    // The reference year when the folder has it (the default sweep's
    // scenario), else the first scenario with detail.
    if source.scenarios().iter().any(|s| s == "reference") {
        let mut selection = source.selection.clone();
        selection.scenario = "reference".into();
        source.select(selection);
    }
    let layout = Layout {
        speed: Speed::AsFastAsPossible,
        ..Layout::default()
    };
    let app = ViewerApp::new(Box::new(source), layout);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(size[0], size[1]))
        .with_pixels_per_point(1.0)
        .wgpu_setup(software_setup(&picked))
        .build_ui_state(|ui, app: &mut ViewerApp| app.ui(ui), app);
    let deadline = Duration::from_mins(1);
    loop {
        harness.step();
        if let Some(e) = harness.state().store.error.clone()
            && harness.state().store.runs.is_empty()
        {
            return Err(e);
        }
        if harness.state().span().is_some() {
            harness.step();
            harness.render()?;
            break;
        }
        if t0.elapsed() > deadline {
            return Err(format!(
                "{}: no run loaded within {deadline:?}",
                dir.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let first_frame_s = t0.elapsed().as_secs_f64();
    let (run_label, rows_shown) = {
        let run = &harness.state().store.runs[0];
        (run.label.clone(), run.len() * run.sites.len())
    };
    let mut play = Vec::new();
    for &days in windows_days {
        {
            let app = harness.state_mut();
            app.layout.window_days = days;
            app.play_from_start(Speed::AsFastAsPossible)
                .ok_or("the run went away")?;
        }
        let (mut cpu, mut render) = (Vec::new(), Vec::new());
        while harness.state().time.playing && cpu.len() < max_frames {
            let t = Instant::now();
            harness.step();
            cpu.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            harness.render()?;
            render.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let case = if days <= 0.0 {
            "the whole run drawn, cursor moving a day a frame".to_owned()
        } else {
            format!("{days}-day span following the cursor, a day a frame")
        };
        play.push(stats(&case, &cpu, &render));
    }
    Ok(ViewBench {
        dataset: dir.display().to_string(),
        run: run_label,
        rows_shown,
        adapter: picked.get().unwrap_or_else(|| "unknown".to_owned()),
        size,
        first_frame_s,
        play,
    })
}
