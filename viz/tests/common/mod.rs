//! What the viewer's tests share: the committed fixture dataset (the
//! reference plant over three days, three policies, two replications; see
//! tests/fixture/fixture.toml) and a harness that drives the viewer
//! through its accessibility tree, stepping frames until a source has
//! delivered (bounded in frames and time).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::{Harness, HarnessBuilder};
use hcp_viz::app::ViewerApp;
use hcp_viz::layout::Layout;
use hcp_viz::source::DataSource;
use hcp_viz::source::dataset::DatasetSource;

/// The fixture dataset.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/out")
}

/// The fixture dataset as a user in viz/ would type it: a relative path,
/// for tests whose pixels show the folder's name (the title bar), so the
/// images do not depend on where the clone lies. Cargo runs a package's
/// tests in the package's folder.
pub fn fixture_as_typed() -> PathBuf {
    PathBuf::from("tests/fixture/out")
}

/// The fixture's scenario file.
pub fn fixture_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/fixture.toml")
}

/// The window size of every test, points.
pub const SIZE: [f32; 2] = [1400.0, 950.0];

/// A builder at the tests' size, one pixel per point.
pub fn builder() -> HarnessBuilder<ViewerApp> {
    Harness::builder()
        .with_size(egui::vec2(SIZE[0], SIZE[1]))
        .with_pixels_per_point(1.0)
}

/// A viewer of `source` in a harness without a renderer.
pub fn harness(source: Box<dyn DataSource>) -> Harness<'static, ViewerApp> {
    builder().build_ui_state(
        |ui, app: &mut ViewerApp| app.ui(ui),
        ViewerApp::new(source, Layout::default()),
    )
}

/// A viewer of the fixture dataset.
pub fn fixture_harness() -> Harness<'static, ViewerApp> {
    harness(Box::new(DatasetSource::open(&fixture())))
}

/// Steps frames until `done` holds (at most 20 s and 4,000 frames).
pub fn step_until(
    h: &mut Harness<'_, ViewerApp>,
    what: &str,
    mut done: impl FnMut(&mut ViewerApp) -> bool,
) {
    let start = Instant::now();
    for _ in 0..4_000 {
        h.step();
        if done(h.state_mut()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("4,000 frames without {what}");
}

/// Steps until the dataset's selection is loaded and its summary read.
pub fn loaded(h: &mut Harness<'_, ViewerApp>) {
    step_until(h, "the dataset to load", |app| {
        app.span().is_some() && !app.busy()
    });
    h.step();
}
