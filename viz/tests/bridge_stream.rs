//! The bridge source against servers on loopback (127.0.0.1 only): a
//! stand-in SSE server (axum) that checks the bearer token and sends audit
//! lines shaped like docs/bridge.md's examples, and the bridge's own
//! operator API router fed by its own audit log. What lands in the store
//! (intervals per site, markers, notes), the errors of a refused token,
//! another status and a closed port, reconnecting, and the worker thread
//! stopping with the source. Every wait is bounded in time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt as _;
use hcp_contract::{
    AsicCohortSpec, AsicCohortView, GridEventKind, GridNotice, Observation, Payment, PowerCurve,
    SiteView,
};
use hcp_engine::time::SimTime;
use hcp_viz::series::MarkerKind;
use hcp_viz::source::bridge::BridgeSource;
use hcp_viz::source::{DataSource, LiveState, SourceKind, Store};
use serde_json::{Value, json};

/// The tests start sources one at a time, so the thread check is exact.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The stand-in bridge's tokens, drawn at run time from the operating
/// system (as `hcp bridge token` draws real ones): a viewer's, one whose
/// role cannot read `/events`, and one the bridge does not know.
struct Tokens {
    viewer: String,
    low: String,
    wrong: String,
}

fn tokens() -> &'static Tokens {
    static TOKENS: std::sync::OnceLock<Tokens> = std::sync::OnceLock::new();
    TOKENS.get_or_init(|| {
        let draw = || hcp_bridge::api::TokenStore::new_token().expect("a random token");
        Tokens {
            viewer: draw(),
            low: draw(),
            wrong: draw(),
        }
    })
}

/// Polls `source` into `store` until `done` holds, for at most 20 s.
fn poll_until(
    source: &mut BridgeSource,
    store: &mut Store,
    what: &str,
    done: impl Fn(&Store, &LiveState) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        source.poll(store);
        let state = source.live_state().expect("a live state");
        if done(store, &state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: state {state:?}, error {:?}, notes {:?}",
            store.error,
            store.notes
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first interval's start: 2026-12-03 08:10 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 8, 10, 0)
        .single()
        .expect("a date")
}

fn curve() -> PowerCurve {
    PowerCurve {
        stock_hashrate_th: 200.0,
        stock_power_w: 3500.0,
        min_power_w: 2000.0,
        max_power_w: 4500.0,
        exponent: 0.8,
    }
}

/// An observation of two sites, `Texas North` (100 S21s on) and `North
/// Dakota` (80 on), as the bridge builds it; `minutes` after `t0`.
fn observation(
    interval: u64,
    minutes: i64,
    prices: [Option<f64>; 2],
    power_mw: [f64; 2],
) -> Observation {
    let utc = t0() + chrono::Duration::minutes(minutes);
    let mut o = Observation::empty(utc);
    o.time = SimTime::from_micros(u64::try_from(minutes).expect("positive") * 60_000_000);
    o.interval = interval;
    o.interval_s = 300.0;
    o.market.hashprice_usd_per_th_day = Some(0.052);
    for (k, name) in ["Texas North", "North Dakota"].into_iter().enumerate() {
        let mut site = SiteView::new(name.into(), format!("NODE_{k}"), 1.0 + k as f64, 1.05, true);
        site.price_usd_per_mwh = prices[k];
        site.set_committed(power_mw[k] + 0.1);
        site.last_power_mw = power_mw[k];
        o.sites.push(site);
        let spec = AsicCohortSpec {
            site: name.into(),
            model: "S21".into(),
            firmware: "luxos".into(),
            curve: curve(),
            installed: 100,
            supports_power_target: true,
            standby_w: 10.0,
        };
        let mut cohort = AsicCohortView::new(spec, 3500.0);
        cohort.on = if k == 0 { 100 } else { 80 };
        o.asic_cohorts.push(cohort);
    }
    o
}

/// A grid notice for North Dakota, 20 to 50 minutes after `t0`.
fn notice() -> GridNotice {
    GridNotice {
        id: 7,
        kind: GridEventKind::Ers10,
        start: SimTime::from_micros(20 * 60_000_000),
        end: SimTime::from_micros(50 * 60_000_000),
        payment: Payment {
            standby_per_mw_h: 5.0,
            per_mwh: 0.0,
            at_real_time_price: true,
            per_kw_year: 0.0,
        },
        committed_mw: BTreeMap::from([("North Dakota".into(), 0.0)]),
    }
}

/// One audit line: `{"seq","wall","tape","event"}`.
fn line(seq: u64, tape: DateTime<Utc>, event: Value) -> String {
    let mut line = json!({
        "seq": seq,
        "wall": "2026-12-03T08:14:30.751192569Z",
        "tape": tape.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    line["event"] = event;
    line.to_string()
}

fn observation_line(seq: u64, epoch: u64, o: &Observation) -> String {
    let event = json!({
        "kind": "observation",
        "epoch": epoch,
        "occasion": {"kind": "interval_start"},
        "observation": serde_json::to_value(o).expect("an observation serialises"),
    });
    line(seq, o.utc, event)
}

/// What the stand-in stream sends: `(event name, data)`.
type Message = (Option<&'static str>, String);

/// The stand-in's stream: a start, two observations of two sites, a
/// decision, a clip, a fault, a lagged event, an operator act, a message
/// that is no JSON, a command, and a later observation of interval 1.
fn script() -> Vec<Message> {
    let mut o1 = observation(1, 5, [Some(41.5), Some(22.0)], [0.52, 0.60]);
    o1.grid_notices.push(notice());
    let mut o1b = observation(1, 7, [Some(1_250.0), Some(23.5)], [0.50, 0.61]);
    o1b.grid_notices.push(notice());
    let t = |m: i64| t0() + chrono::Duration::minutes(m);
    let data = [
        line(
            0,
            t(0),
            json!({"kind":"start","policy":{"kind":"breakeven","hysteresis":0.05,"min_dwell_minutes":30,"target_candidates":9,"demand_response":true},"forecaster":{"kind":"seasonal-naive","period_hours":24.0},"config":"bridge.toml","miners":180,"armed":[],"version":"0.1.0"}),
        ),
        observation_line(1, 0, &observation(0, 0, [Some(35.2), None], [0.5255, 0.40])),
        line(
            2,
            t(0),
            json!({"kind":"decision","epoch":0,"trigger":{"kind":"interval"},"actions":[{"kind":"asic","cohort":"Texas North/S21/luxos","on":100,"power_target_w":4025.0},{"kind":"asic","cohort":"North Dakota/S21/luxos","on":80,"power_target_w":3030.3}],"decide_ms":0.123}),
        ),
        observation_line(3, 1, &o1),
        line(
            4,
            t(5),
            json!({"kind":"clip","epoch":1,"action":0,"target":"Texas North/S21/luxos","reason":"ramp_rate","asked":4025.0,"applied":3500.0}),
        ),
        line(
            5,
            t(5),
            json!({"kind":"fault","epoch":1,"fault":{"device":"127.64.1.120:4028","kind":"refused","detail":"127.64.1.120:4028: connection refused or dropped during 'summary+power+config'"}}),
        ),
    ];
    let more = [
        line(
            9,
            t(6),
            json!({"kind":"operator","actor":{"name":"alice","role":"operator"},"act":"arm","detail":"site 'Texas North' does not allow arming (its allow_arming is false)","done":false}),
        ),
        "{\"seq\":10,\"wall\":".to_owned(),
        line(
            11,
            t(6),
            json!({"kind":"command","epoch":1,"device":"127.64.1.231:4028","command":"power_target","watts":3030.3,"sent":false}),
        ),
        observation_line(12, 2, &o1b),
    ];
    let mut messages: Vec<Message> = data.into_iter().map(|d| (None, d)).collect();
    messages.push((Some("lagged"), "3".to_owned()));
    messages.extend(more.into_iter().map(|d| (None, d)));
    messages
}

/// What the stand-in bridge does.
#[derive(Clone)]
struct Fake {
    messages: Arc<Vec<Message>>,
    /// Requests to `/events` answered.
    hits: Arc<AtomicUsize>,
    /// Requests answered `503` before the stream is served.
    unavailable_first: usize,
}

async fn events(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    let hit = fake.hits.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let t = tokens();
    match auth.and_then(|a| a.strip_prefix("Bearer ")) {
        Some(a) if a == t.viewer => {}
        Some(a) if a == t.low => {
            let body = json!({"error": "this needs the viewer role"});
            return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        }
        _ => {
            let body = json!({"error": "unknown token"});
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"hcp-bridge\"")],
                axum::Json(body),
            )
                .into_response();
        }
    }
    if hit < fake.unavailable_first {
        return (StatusCode::SERVICE_UNAVAILABLE, "warming up\nsecond line").into_response();
    }
    let messages: Vec<Result<Event, std::convert::Infallible>> = fake
        .messages
        .iter()
        .map(|(name, data)| {
            let event = Event::default().data(data);
            Ok(match name {
                Some(n) => event.event(*n),
                None => event,
            })
        })
        .collect();
    // The stream stays open after the script, as a bridge's does.
    let stream = futures::stream::iter(messages).chain(futures::stream::pending());
    Sse::new(stream).into_response()
}

/// A stand-in bridge served on 127.0.0.1 by a runtime of its own.
struct FakeBridge {
    url: String,
    hits: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeBridge {
    fn start(messages: Vec<Message>, unavailable_first: usize) -> FakeBridge {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let hits = Arc::new(AtomicUsize::new(0));
        let fake = Fake {
            messages: Arc::new(messages),
            hits: hits.clone(),
            unavailable_first,
        };
        let app = Router::new().route("/events", get(events)).with_state(fake);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        FakeBridge {
            url,
            hits,
            runtime: Some(runtime),
        }
    }
}

impl Drop for FakeBridge {
    fn drop(&mut self) {
        // Nothing to wait for: the test is over.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The threads of this process named after the stream's worker (Linux
/// truncates a thread's name to 15 bytes).
#[cfg(target_os = "linux")]
fn stream_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| {
            "hcp-bridge-stream".starts_with(name.trim_end()) && name.trim_end().len() >= 10
        })
        .count()
}

#[test]
#[allow(clippy::too_many_lines)] // one stream, every column and marker it fills
fn a_stream_fills_one_run_with_two_sites() {
    let _serial = serial();
    let fake = FakeBridge::start(script(), 0);
    let mut source =
        BridgeSource::connect(&format!("{}/", fake.url), Some(tokens().viewer.clone()));
    assert_eq!(source.kind(), SourceKind::Bridge);
    assert!(source.title().contains(&fake.url), "{}", source.title());
    let mut store = Store::default();
    // 9 audit lines; the lagged event and the broken message are notes.
    poll_until(&mut source, &mut store, "every line", |_, s| {
        s.status.contains("9 records")
    });
    let state = source.live_state().expect("a live state");
    assert!(state.running && !state.finished, "{state:?}");
    assert_eq!(
        state.status,
        "connected, 9 records, last decision epoch 0: 2 actions (asic ×2)"
    );
    assert_eq!(
        state.now_us,
        (t0() + chrono::Duration::minutes(7)).timestamp_micros()
    );
    assert_eq!(store.error, None);

    assert_eq!(store.runs.len(), 1);
    let run = &store.runs[0];
    assert_eq!(run.policy, "breakeven");
    assert!(run.label.contains(&fake.url), "{}", run.label);
    assert_eq!(run.start_us, t0().timestamp_micros());
    assert_eq!(run.step_us, 300_000_000);
    assert_eq!(run.len(), 2);
    let names: Vec<&str> = run.sites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Texas North", "North Dakota"]);
    let (north, dakota) = (&run.sites[0], &run.sites[1]);
    // Interval 1 was observed twice: the later observation stands.
    assert_eq!(north.price, [35.2, 1_250.0]);
    assert!(dakota.price[0].is_nan());
    assert_eq!(dakota.price[1], 23.5);
    assert_eq!(north.facility_mw, [0.5255, 0.50]);
    assert_eq!(dakota.facility_mw, [0.40, 0.61]);
    assert!((north.committed_mw[1] - 0.60).abs() < 1e-12);
    assert_eq!(north.cap_mw, [1.0, 1.0]);
    assert_eq!(dakota.cap_mw, [2.0, 2.0]);
    assert_eq!(north.hashprice, [0.052, 0.052]);
    // 100 miners on at 3.5 kW and 200 TH/s each; 80 at North Dakota.
    assert!(
        (north.asic_mw[0] - 0.35).abs() < 1e-12,
        "{:?}",
        north.asic_mw
    );
    assert!(
        (dakota.asic_mw[0] - 0.28).abs() < 1e-12,
        "{:?}",
        dakota.asic_mw
    );
    assert!(
        (north.hashrate_phs[0] - 20.0).abs() < 1e-9,
        "{:?}",
        north.hashrate_phs
    );
    assert!(
        (dakota.hashrate_phs[1] - 16.0).abs() < 1e-9,
        "{:?}",
        dakota.hashrate_phs
    );
    assert_eq!(north.mining_usd, [0.0, 0.0]);
    assert_eq!(north.energy_usd, [0.0, 0.0]);
    assert!(north.gpu_mw.iter().all(|c| c == &[0.0, 0.0]));

    let of = |kind: MarkerKind| {
        run.markers
            .iter()
            .filter(|m| m.kind == kind)
            .collect::<Vec<_>>()
    };
    let clips = of(MarkerKind::Clip);
    assert_eq!(clips.len(), 1, "{:?}", run.markers);
    assert_eq!(clips[0].site, Some(0));
    assert_eq!(
        clips[0].time_us,
        (t0() + chrono::Duration::minutes(5)).timestamp_micros()
    );
    assert!(
        clips[0].text.contains("ramp_rate") && clips[0].text.contains("4025 → applied 3500"),
        "{}",
        clips[0].text
    );
    let faults = of(MarkerKind::Fault);
    assert_eq!(faults.len(), 1, "{:?}", run.markers);
    assert!(
        faults[0]
            .text
            .starts_with("fault 127.64.1.120:4028 refused: "),
        "{}",
        faults[0].text
    );
    // One marker for notice 7, though two observations hold it.
    let grid = of(MarkerKind::GridEvent);
    assert_eq!(grid.len(), 1, "{:?}", run.markers);
    assert_eq!(grid[0].site, Some(1));
    assert_eq!(
        grid[0].time_us,
        (t0() + chrono::Duration::minutes(20)).timestamp_micros()
    );
    assert!(
        grid[0].text.starts_with("grid event 7: ers-10"),
        "{}",
        grid[0].text
    );
    // The price of 1,250 $/MWh starts a spike (the series' own marker).
    assert_eq!(of(MarkerKind::PriceSpike).len(), 1);

    let notes = store.notes.join("\n");
    for expected in [
        "the bridge started: policy breakeven, 180 miners, armed: none",
        "missed 3 messages",
        "operator alice (operator): arm refused",
        "a stream message is not JSON",
    ] {
        assert!(notes.contains(expected), "{expected:?} not in\n{notes}");
    }
    assert_eq!(fake.hits.load(Ordering::SeqCst), 1);
    drop(source);
}

#[test]
fn a_refused_token_is_said_without_the_token() {
    let _serial = serial();
    let fake = FakeBridge::start(script(), 0);
    let cases = [
        (
            Some(tokens().wrong.as_str()),
            "refused the token (401 unauthorised): check --token-file",
        ),
        (
            Some(tokens().low.as_str()),
            "refused the token (403 forbidden): the token's role cannot read /events",
        ),
        (None, "needs a viewer token (401 unauthorised)"),
    ];
    for (token, expected) in cases {
        let mut source = BridgeSource::connect(&fake.url, token.map(str::to_owned));
        let mut store = Store::default();
        poll_until(&mut source, &mut store, expected, |s, _| s.error.is_some());
        let error = store.error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{error}");
        assert!(
            error.starts_with(&format!("the bridge at {}", fake.url)),
            "{error}"
        );
        let state = source.live_state().expect("a live state");
        assert!(!state.running, "{state:?}");
        if let Some(t) = token {
            let everything = format!(
                "{error} {} {} {:?}",
                state.status,
                source.title(),
                store.notes
            );
            assert!(!everything.contains(t), "the token leaked: {everything}");
        }
        assert!(store.runs.is_empty());
    }
}

#[test]
fn a_closed_port_cannot_be_reached() {
    let _serial = serial();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("an address").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut source = BridgeSource::connect(&url, Some(tokens().viewer.clone()));
    let mut store = Store::default();
    poll_until(&mut source, &mut store, "the error", |s, _| {
        s.error.is_some()
    });
    let error = store.error.clone().unwrap_or_default();
    assert!(
        error.starts_with(&format!("cannot reach the bridge at {url}: ")),
        "{error}"
    );
    assert!(!error.contains(tokens().viewer.as_str()), "{error}");
    let state = source.live_state().expect("a live state");
    assert!(!state.running && !state.finished, "{state:?}");
    assert!(
        state.status.starts_with(&format!("reconnecting to {url}")),
        "{}",
        state.status
    );
}

#[test]
fn another_status_is_shown_and_cleared_on_reconnecting() {
    let _serial = serial();
    let fake = FakeBridge::start(script(), 1);
    let mut source = BridgeSource::connect(&fake.url, Some(tokens().viewer.clone()));
    let mut store = Store::default();
    poll_until(&mut source, &mut store, "the 503", |s, _| s.error.is_some());
    let error = store.error.clone().unwrap_or_default();
    assert_eq!(
        error,
        format!(
            "the bridge at {} answered 503 Service Unavailable to GET /events: warming up",
            fake.url
        )
    );
    // The second try, 0.5 s later, gets the stream: the error goes.
    poll_until(&mut source, &mut store, "the stream", |s, st| {
        st.running && s.error.is_none() && st.status.contains("9 records")
    });
    assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
    assert_eq!(store.runs[0].len(), 2);
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_the_source_stops_its_thread() {
    let _serial = serial();
    let fake = FakeBridge::start(script(), 0);
    assert_eq!(stream_threads(), 0);
    let mut source = BridgeSource::connect(&fake.url, Some(tokens().viewer.clone()));
    let mut store = Store::default();
    poll_until(&mut source, &mut store, "the stream", |_, s| s.running);
    assert_eq!(stream_threads(), 1);
    drop(source);
    assert_eq!(stream_threads(), 0);

    // Also while it waits to try again.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("an address").port()
    };
    let mut source = BridgeSource::connect(&format!("http://127.0.0.1:{port}"), None);
    poll_until(&mut source, &mut store, "the error", |s, _| {
        s.error.is_some()
    });
    let started = Instant::now();
    drop(source);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(stream_threads(), 0);
}

/// The bridge's own operator API and audit log, end to end.
mod real_bridge {
    use super::*;

    use hcp_bridge::api::{self, TokenStore};
    use hcp_bridge::audit::{AuditLog, Event as AuditEvent};
    use hcp_bridge::config::SafeState;
    use hcp_bridge::envelope::{Clip, SafeStateEntry};
    use hcp_bridge::fleet::Fault;
    use hcp_bridge::metrics::BridgeMetrics;
    use hcp_bridge::operator::{
        Actor, ArmRequest, FeedPush, LimitChange, OperatorPort, Refusal, Role,
    };
    use hcp_contract::{Action, Occasion, Trigger};
    use tokio::sync::broadcast;

    /// A bridge that only streams.
    struct StreamOnly {
        events: broadcast::Sender<Arc<str>>,
    }

    impl OperatorPort for StreamOnly {
        fn health(&self) -> Value {
            json!({"status": "ok"})
        }
        fn status(&self) -> Value {
            json!({})
        }
        fn arm(&self, _: &Actor, _: ArmRequest) -> Result<Value, Refusal> {
            Err(Refusal::NotAllowed("read-only test".into()))
        }
        fn disarm(&self, _: &Actor) -> Value {
            json!({"armed": []})
        }
        fn emergency_stop(&self, _: &Actor) -> Value {
            json!({"armed": []})
        }
        fn push_feed(&self, _: &Actor, _: &str, _: FeedPush) -> Result<Value, Refusal> {
            Err(Refusal::BadRequest("no feeds".into()))
        }
        fn change_limit(&self, _: &Actor, _: LimitChange) -> Result<Value, Refusal> {
            Err(Refusal::BadRequest("no limits".into()))
        }
        fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
            self.events.subscribe()
        }
    }

    /// What a bridge's run writes: a start, two observations, a decision,
    /// a safe state, a clip, a fault, an operator act and the stop.
    #[allow(clippy::too_many_lines)] // one literal list of records
    fn audit_events() -> Vec<(DateTime<Utc>, AuditEvent)> {
        let policy = serde_json::from_value(json!({"kind":"breakeven","hysteresis":0.05,"min_dwell_minutes":30,"target_candidates":9,"demand_response":true}))
            .expect("a policy");
        let t = |m: i64| t0() + chrono::Duration::minutes(m);
        vec![
            (
                t(0),
                AuditEvent::Start {
                    policy,
                    forecaster: hcp_policies::ForecasterConfig::Persistence,
                    config: "bridge.toml".into(),
                    miners: 180,
                    armed: vec!["North Dakota".into()],
                    version: "0.1.0".into(),
                },
            ),
            (
                t(0),
                AuditEvent::Observation {
                    epoch: 0,
                    occasion: Occasion::IntervalStart,
                    observation: Box::new(observation(
                        0,
                        0,
                        [Some(30.0), Some(12.5)],
                        [0.52, 0.41],
                    )),
                },
            ),
            (
                t(0),
                AuditEvent::Decision {
                    epoch: 0,
                    trigger: Trigger::Interval,
                    actions: vec![Action::Asic {
                        cohort: "Texas North/S21/luxos".into(),
                        on: 90,
                        power_target_w: Some(3_400.0),
                    }],
                    decide_ms: 0.2,
                },
            ),
            (
                t(0),
                AuditEvent::SafeState {
                    epoch: 0,
                    entry: SafeStateEntry {
                        site: "North Dakota".into(),
                        state: SafeState::CurtailMiners,
                        reason: "over_cap".into(),
                    },
                },
            ),
            (
                t(5),
                AuditEvent::Observation {
                    epoch: 1,
                    occasion: Occasion::IntervalStart,
                    observation: Box::new(observation(
                        1,
                        5,
                        [Some(31.0), Some(13.0)],
                        [0.47, 0.38],
                    )),
                },
            ),
            (
                t(5),
                AuditEvent::Clip {
                    epoch: 1,
                    clip: Clip {
                        action: Some(0),
                        target: "127.64.1.1:4028".into(),
                        reason: "ramp_rate".into(),
                        asked: 4025.0,
                        applied: 0.0,
                    },
                },
            ),
            (
                t(5),
                AuditEvent::Fault {
                    epoch: 1,
                    fault: Fault {
                        device: "127.64.1.119:4028".into(),
                        kind: "quarantined".into(),
                        detail: "2 failures in a row; no commands for 1200 s".into(),
                    },
                },
            ),
            (
                t(6),
                AuditEvent::Operator {
                    actor: Actor {
                        name: "alice".into(),
                        role: Role::Operator,
                    },
                    act: "disarm".into(),
                    detail: "every site".into(),
                    done: true,
                },
            ),
            (
                t(7),
                AuditEvent::Stop {
                    reason: "shut down".into(),
                },
            ),
        ]
    }

    #[test]
    #[allow(clippy::too_many_lines)] // serve, stream, write, check, shut down: one story
    fn the_bridges_own_stream_and_audit_lines() {
        let _serial = serial();
        let viewer = TokenStore::new_token().expect("a token");
        let file = TokenStore::hash_line(Role::Viewer, "vera", &viewer);
        let tokens = TokenStore::from_lines(&file, "test").expect("a token file");
        let (events, _) = broadcast::channel(4096);
        let port = Arc::new(StreamOnly {
            events: events.clone(),
        });
        let router = api::router(port, Arc::new(tokens), Arc::new(BridgeMetrics::new()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = runtime.spawn(api::serve(listener, router, async move {
            let _ = stopped.await;
        }));

        // A wrong token: the real authentication refuses it.
        let mut refused = BridgeSource::connect(&url, Some(format!("{viewer}x")));
        let mut store = Store::default();
        poll_until(&mut refused, &mut store, "the 401", |s, _| {
            s.error.is_some()
        });
        let error = store.error.clone().unwrap_or_default();
        assert!(
            error.contains("refused the token (401 unauthorised)"),
            "{error}"
        );
        assert!(!error.contains(&viewer), "{error}");
        drop(refused);

        let mut source = BridgeSource::connect(&url, Some(viewer.clone()));
        let mut store = Store::default();
        poll_until(&mut source, &mut store, "the stream", |_, s| s.running);

        let dir = std::env::temp_dir().join(format!(
            "hcp-viz-bridge-stream-{}-{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        ));
        let mut log = AuditLog::open(&dir, 1 << 20, events).expect("an audit log");
        let written = audit_events();
        let n = written.len();
        for (tape, event) in written {
            log.write(tape, event).expect("a line written");
        }
        log.flush().expect("flushed");
        let wanted = format!("{n} records");
        poll_until(&mut source, &mut store, "every line", |_, s| {
            s.status.contains(&wanted)
        });

        let state = source.live_state().expect("a live state");
        assert_eq!(
            state.status,
            format!("connected, {n} records, last decision epoch 0: 1 action (asic ×1)")
        );
        assert_eq!(
            state.now_us,
            (t0() + chrono::Duration::minutes(7)).timestamp_micros()
        );
        let run = &store.runs[0];
        assert_eq!(run.policy, "breakeven");
        assert_eq!(run.len(), 2);
        assert_eq!(run.sites[0].price, [30.0, 31.0]);
        assert_eq!(run.sites[1].price, [12.5, 13.0]);
        assert_eq!(run.sites[1].facility_mw, [0.41, 0.38]);
        let kinds: Vec<(MarkerKind, Option<usize>)> =
            run.markers.iter().map(|m| (m.kind, m.site)).collect();
        assert_eq!(
            kinds,
            [
                (MarkerKind::Clip, Some(1)),
                (MarkerKind::Clip, None),
                (MarkerKind::Fault, None)
            ]
        );
        assert_eq!(
            run.markers[0].text,
            "safe state: North Dakota curtail_miners (over_cap)"
        );
        let notes = store.notes.join("\n");
        for expected in [
            "the bridge started: policy breakeven, 180 miners, armed: North Dakota",
            "operator alice (operator): disarm done: every site",
            "the bridge stopped: shut down",
        ] {
            assert!(notes.contains(expected), "{expected:?} not in\n{notes}");
        }
        assert_eq!(store.error, None);

        // The bridge shuts down: its stream ends, and the viewer says so.
        let _ = stop.send(());
        poll_until(&mut source, &mut store, "the end of the stream", |s, _| {
            s.error.is_some()
        });
        let error = store.error.clone().unwrap_or_default();
        assert!(error.contains("ended its stream"), "{error}");
        drop(source);
        runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await })
            .expect("the server stopped")
            .expect("joined")
            .expect("served");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
