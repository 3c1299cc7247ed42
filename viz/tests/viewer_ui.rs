//! The viewer driven as a user drives it, through egui's accessibility
//! tree (egui_kittest): play, pause, step, pick a policy, compare two,
//! jump to a date, open the summary, keyboard shortcuts — each checked
//! against the viewer's state and the fixture dataset's real numbers; and
//! bad input (a folder that is no sweep, a partial dataset, a bridge that
//! cannot be reached) shown as a plain message, never a panic.

mod common;

use common::{fixture, fixture_harness, harness, loaded, step_until};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use hcp_viz::layout::Compare;
use hcp_viz::source::bridge::BridgeSource;
use hcp_viz::source::dataset::DatasetSource;
use hcp_viz::summary::SummaryView;
use hcp_viz::timeline::{format_time, parse_date};

const STEP_US: i64 = 300_000_000;

#[test]
fn the_fixture_opens_on_its_first_hybrid_policy() {
    let mut h = fixture_harness();
    loaded(&mut h);
    let app = h.state();
    let run = &app.store.runs[0];
    assert_eq!(run.policy, "ai-first");
    assert_eq!(run.sites.len(), 3);
    assert_eq!(run.len(), 3 * 288, "three days of 5-minute intervals");
    assert_eq!(run.step_us, STEP_US);
    assert_eq!(format_time(run.start_us), "2025-12-01 00:00");
    let names: Vec<&str> = run.sites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Texas North", "Texas South", "North Dakota"]);
    assert_eq!(app.time.cursor(app.span().unwrap()), run.start_us);
}

#[test]
fn step_play_and_pause_move_the_cursor_by_whole_intervals() {
    let mut h = fixture_harness();
    loaded(&mut h);
    let start = h.state().span().unwrap().start_us;
    h.get_by_label("Step forward").click();
    h.step();
    h.get_by_label("Step forward").click();
    h.step();
    h.get_by_label("Step back").click();
    h.step();
    let span = h.state().span().unwrap();
    assert_eq!(h.state().time.cursor(span), start + STEP_US);
    // An hour a second: 30 frames move a few intervals, far from the end.
    h.state_mut().time.speed = hcp_viz::timeline::Speed::Times(3_600.0);
    h.get_by_label("Play").click();
    h.step();
    assert!(h.state().time.playing);
    for _ in 0..30 {
        h.step();
    }
    let playing_at = h.state().time.cursor(span);
    assert!(playing_at > start + STEP_US, "playing moved the cursor");
    assert_eq!((playing_at - start) % STEP_US, 0, "on an interval start");
    h.get_by_label("Pause").click();
    h.step();
    assert!(!h.state().time.playing);
    let paused_at = h.state().time.cursor(span);
    for _ in 0..10 {
        h.step();
    }
    assert_eq!(h.state().time.cursor(span), paused_at, "paused stays put");
}

#[test]
fn picking_a_policy_loads_it_and_keeps_the_users_place() {
    let mut h = fixture_harness();
    loaded(&mut h);
    for _ in 0..7 {
        h.get_by_label("Step forward").click();
        h.step();
    }
    let span = h.state().span().unwrap();
    let place = h.state().time.cursor(span);
    assert_eq!(place, span.start_us + 7 * STEP_US);
    h.get_by_role_and_label(Role::ComboBox, "Policy A").click();
    h.run_steps(3);
    h.get_by_label("breakeven").click();
    h.step();
    step_until(&mut h, "breakeven to load", |app| {
        app.store
            .runs
            .first()
            .is_some_and(|r| r.policy == "breakeven")
            && !app.busy()
    });
    let span = h.state().span().unwrap();
    assert_eq!(
        h.state().time.cursor(span),
        place,
        "the new run kept the cursor"
    );
    assert_eq!(h.state_mut().selection().unwrap().a, "breakeven");
}

#[test]
fn jumping_to_a_date_moves_the_cursor_there_and_a_bad_date_says_why() {
    let mut h = fixture_harness();
    loaded(&mut h);
    let field = h.get_by_role(Role::TextInput);
    field.focus();
    field.type_text("2025-12-02 17:33");
    h.step();
    h.get_by_label("Jump").click();
    h.step();
    h.step();
    let span = h.state().span().unwrap();
    let want = parse_date("2025-12-02 17:30").unwrap().timestamp_micros();
    assert_eq!(h.state().time.cursor(span), want);
    let field = h.get_by_role(Role::TextInput);
    field.focus();
    field.type_text(" and then some");
    h.step();
    h.get_by_label("Jump").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("is not a date").is_some(),
        "the reason is shown"
    );
    assert_eq!(
        h.state().time.cursor(span),
        want,
        "a bad date moves nothing"
    );
}

#[test]
fn an_overlay_puts_two_policies_of_the_same_replication_side_by_side() {
    let mut h = fixture_harness();
    loaded(&mut h);
    h.get_by_role_and_label(Role::ComboBox, "Compare").click();
    h.run_steps(3);
    h.get_by_label("overlay").click();
    h.step();
    step_until(&mut h, "the second run", |app| {
        app.store.runs.len() == 2 && !app.busy()
    });
    h.step();
    let app = h.state();
    assert_eq!(app.layout.compare, Compare::Overlay);
    let (a, b) = (&app.store.runs[0], &app.store.runs[1]);
    assert_eq!(
        (a.policy.as_str(), b.policy.as_str()),
        ("ai-first", "mining-only")
    );
    // The same world: the same prices, interval by interval.
    assert_eq!(a.sites[0].price, b.sites[0].price);
    assert_ne!(
        a.sites[0].gpu_mw[0], b.sites[0].gpu_mw[0],
        "different policies"
    );
    assert!(
        h.query_by_label_contains("the difference is the policy's doing")
            .is_some()
    );
}

#[test]
fn the_summary_tab_shows_the_numbers_hcp_sweep_prints() {
    let mut h = fixture_harness();
    loaded(&mut h);
    h.get_by_label("Summary").click();
    h.step();
    h.step();
    let data = hcp_reports::dataset::load_runs(&fixture()).unwrap();
    let summary = SummaryView::of(&data);
    let table = &summary.scenarios[0].comparison;
    assert_eq!(
        table.rows.len(),
        4,
        "three policies and the oracle: {:?}",
        table.rows
    );
    for row in &table.rows {
        for cell in row {
            assert!(
                h.query_all_by_label(cell).next().is_some(),
                "cell '{cell}' shown"
            );
        }
    }
}

#[test]
fn keyboard_shortcuts_play_and_step() {
    let mut h = fixture_harness();
    loaded(&mut h);
    let span = h.state().span().unwrap();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().time.cursor(span), span.start_us + STEP_US);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    h.step();
    assert_eq!(
        h.state().time.cursor(span),
        span.start_us + 13 * STEP_US,
        "shift: an hour"
    );
    h.key_press(egui::Key::Space);
    h.step();
    assert!(h.state().time.playing);
    h.key_press(egui::Key::Space);
    h.step();
    assert!(!h.state().time.playing);
    h.key_press(egui::Key::End);
    h.step();
    assert_eq!(h.state().time.cursor(span), span.last_us);
}

#[test]
fn a_folder_that_is_not_a_sweep_is_a_message_in_the_window() {
    let dir = std::env::temp_dir().join(format!("hcp-viz-not-a-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut h = harness(Box::new(DatasetSource::open(&dir)));
    for _ in 0..5 {
        h.step();
    }
    let e = h.state().store.error.clone().unwrap();
    assert!(e.contains("is this a `hcp sweep --out` folder?"), "{e}");
    assert!(h.query_by_label(&e).is_some(), "shown in the window");
    assert!(h.query_by_label_contains("Nothing to show").is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_partial_dataset_shows_what_it_has_and_notes_the_rest() {
    let dir = std::env::temp_dir().join(format!("hcp-viz-partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&fixture(), &dir);
    // Replication 1 was killed before its runs file; ai-first's switches of
    // replication 0 are gone; a write left a temporary behind.
    std::fs::remove_file(dir.join("runs/scenario=fixture/part-r00001.parquet")).unwrap();
    std::fs::remove_file(dir.join("switches/scenario=fixture/policy=ai-first/part-r00000.parquet"))
        .unwrap();
    std::fs::write(
        dir.join("runs/scenario=fixture/part-r00002.parquet.tmp"),
        b"half",
    )
    .unwrap();
    let mut h = harness(Box::new(DatasetSource::open(&dir)));
    loaded(&mut h);
    let app = h.state();
    assert_eq!(app.store.runs[0].policy, "ai-first");
    assert!(app.store.error.is_none(), "{:?}", app.store.error);
    let notes = app.store.notes.join("\n");
    assert!(
        notes.contains("leftover of an interrupted write"),
        "{notes}"
    );
    assert!(notes.contains("switches"), "{notes}");
    let summary = app.store.summary.as_ref().unwrap();
    assert_eq!(
        summary.scenarios[0].header.split(' ').next(),
        Some("1"),
        "one replication summarised"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bridge_that_cannot_be_reached_is_a_message_not_a_hang() {
    // A loopback port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let token = hcp_bridge::api::TokenStore::new_token().expect("a random token");
    let mut h = harness(Box::new(BridgeSource::connect(&url, Some(token.clone()))));
    step_until(&mut h, "the connection error", |app| {
        app.store.error.is_some()
    });
    h.step();
    let e = h.state().store.error.clone().unwrap();
    assert!(e.contains("cannot reach the bridge"), "{e}");
    assert!(!e.contains(token.as_str()), "the token never shows: {e}");
    assert!(h.query_by_label(&e).is_some());
}
