//! Image snapshots of the viewer's main panels on the fixture dataset,
//! rendered headless by the pinned software renderer (wgpu's GL backend
//! on Mesa's llvmpipe: `hcp_viz::render`), so the stored images under
//! tests/snapshots/ match on any machine with that renderer. No llvmpipe
//! adapter fails these tests; they are never skipped. After an intended
//! change of the look: `UPDATE_SNAPSHOTS=1 cargo test --workspace --test
//! viewer_snapshots`, then look at the new images before committing them.

mod common;

use common::{builder, fixture_as_typed, loaded, step_until};
use egui_kittest::kittest::Queryable;
use hcp_viz::app::ViewerApp;
use hcp_viz::layout::{Compare, Layout, Tab};
use hcp_viz::render::{PickedAdapter, software_setup};
use hcp_viz::source::dataset::DatasetSource;
use hcp_viz::timeline::parse_date;

fn rendered(layout: Layout, at: &str) -> egui_kittest::Harness<'static, ViewerApp> {
    let picked = PickedAdapter::default();
    let app = ViewerApp::new(Box::new(DatasetSource::open(&fixture_as_typed())), layout);
    let mut h = builder()
        .wgpu_setup(software_setup(&picked))
        .build_ui_state(|ui, app: &mut ViewerApp| app.ui(ui), app);
    loaded(&mut h);
    let span = h.state().span().unwrap();
    h.state_mut()
        .time
        .set_cursor(parse_date(at).unwrap().timestamp_micros(), span);
    for _ in 0..3 {
        h.step();
    }
    h.remove_cursor();
    h.step();
    h
}

#[test]
fn timeline_of_one_run() {
    let layout = Layout {
        window_days: 3.0,
        show_future: false,
        ..Layout::default()
    };
    let mut h = rendered(layout, "2025-12-02 18:00");
    h.snapshot("timeline");
}

#[test]
fn a_b_overlay_with_its_delta() {
    let layout = Layout {
        window_days: 3.0,
        show_future: true,
        compare: Compare::Overlay,
        ..Layout::default()
    };
    let mut h = rendered(layout, "2025-12-02 12:00");
    if let Some(mut sel) = h.state_mut().selection() {
        sel.b = Some("mining-only".into());
        h.state_mut().select(sel);
    }
    step_until(&mut h, "run B", |app| {
        app.store.runs.len() == 2 && !app.busy()
    });
    for _ in 0..3 {
        h.step();
    }
    h.state().store.runs[1]
        .policy
        .as_str()
        .eq("mining-only")
        .then_some(())
        .unwrap();
    // The delta is below the panels: scroll it into view.
    h.get_by_label_contains("A/B delta").scroll_to_me();
    h.run_steps(3);
    h.snapshot("ab-overlay-delta");
}

#[test]
fn summary_table() {
    let layout = Layout {
        tab: Tab::Summary,
        ..Layout::default()
    };
    let mut h = rendered(layout, "2025-12-01 00:00");
    h.snapshot("summary");
}

#[test]
fn the_renderer_is_llvmpipe() {
    let picked = PickedAdapter::default();
    let mut h = egui_kittest::Harness::builder()
        .wgpu_setup(software_setup(&picked))
        .build_ui(|ui| {
            ui.label("renderer check");
        });
    h.run();
    h.render().expect("a frame renders on llvmpipe");
    let name = picked.get().expect("an adapter was picked");
    assert!(name.contains("llvmpipe"), "{name}");
}
