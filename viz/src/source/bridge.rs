//! A running bridge as a source, followed read-only through its live
//! stream: `GET {url}/events` (server-sent events, one audit line per
//! event: `{"seq","wall","tape","event":{"kind":…}}`, docs/bridge.md,
//! "The event stream") with a viewer token sent as
//! `Authorization: Bearer <token>`.
//!
//! A worker thread named `hcp-bridge-stream` holds the connection
//! (reqwest on a current-thread tokio runtime), frames the events, parses
//! each line — the envelope as plain JSON, the observation as the
//! contract's [`Observation`], so the viewer never links the bridge and its
//! device drivers — and sends the result over a channel; [`BridgeSource`]'s
//! `poll` only drains it, so the window never waits on the network.
//!
//! What lands in the store: `runs[0]` is one [`RunSeries`], "live bridge
//! at URL". Each `observation` gives one interval record per site (placed
//! at the observation's `interval`; a later observation of the same
//! interval overwrites it): the site's price and the market's hashprice
//! (NaN while unknown), its measured facility power (`last_power_mw`), its
//! committed power and cap, and from its ASIC cohorts an *estimate* of the
//! ASIC IT power — Σ miners on × their power target — and the hashrate —
//! Σ miners on × the hashrate per miner at that target (the bridge reports
//! neither as such). GPU power by use is estimated the same way from the
//! GPU pools' allocations at their full draw per GPU (the bridge fills no
//! pools today: zero). The bridge books no money, so the money columns
//! stay zero. Each grid notice becomes one grid-event marker (once per
//! notice id); `clip` and `safe_state` records become clip markers,
//! `fault` records fault markers; `start`, `operator`, `emergency_stop`,
//! `stop` and `lagged` (messages the viewer missed) become notes (the last
//! [`MAX_NOTES`]); a `decision` is counted and summarised in the status
//! line. Other kinds are counted and otherwise ignored; a message that
//! does not parse becomes a note, never a panic.
//!
//! When the bridge cannot be reached, refuses the token or ends its
//! stream, the store's error says so in plain words and the worker tries
//! again after 0.5 s, doubling to at most 10 s, for as long as the source
//! lives; a stream that connects clears the error. The token is sent as a
//! bearer header only: it appears in no message, note or log (messages
//! are scrubbed of it besides). The connection is direct, never through an
//! HTTP proxy from the environment (the token would cross it in clear),
//! and plain `http://` only (a URL without a scheme gets it; `https://`
//! is refused with a message: the viewer is built without TLS).
//! Dropping the source stops the worker and joins its thread.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use hcp_contract::{GpuUse, Observation};
use hcp_models::twin::IntervalRecord;
use serde::Deserialize as _;
use serde_json::Value;
use tokio::sync::oneshot;

use super::{DataSource, LiveState, SourceKind, Store};
use crate::series::{Marker, MarkerKind, RunSeries};

/// Notes kept in the store at most (the oldest go first).
pub const MAX_NOTES: usize = 50;

/// The first wait before connecting again.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The longest wait before connecting again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the bridge may take to answer the request's headers.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Silence after which a stream counts as dead: the bridge sends a
/// keep-alive comment every 15 s on an idle stream.
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);

/// The longest event accepted, bytes (an observation of a large fleet is
/// well under a megabyte).
const MAX_EVENT_BYTES: usize = 16 << 20;

/// Markers held until the first observation gives the run its time axis.
const MAX_PENDING_MARKERS: usize = 1_000;

/// One audit record, as the viewer needs it.
#[derive(Debug, Clone, PartialEq)]
enum Record {
    /// The bridge started: its policy's kind, and a note.
    Start {
        policy: Option<String>,
        note: String,
    },
    /// What the policy was shown.
    Observation(Box<Observation>),
    /// What the policy decided.
    Decision { epoch: u64, summary: String },
    /// A point on the timeline; `site` names the site it concerns, if one.
    Marker {
        kind: MarkerKind,
        site: Option<String>,
        text: String,
    },
    /// A line for the notes.
    Note(String),
    /// A kind the viewer does not show (`command`, `reply`, new kinds).
    Other,
}

/// What the worker sends.
#[derive(Debug, Clone, PartialEq)]
enum Update {
    /// The stream is open.
    Connected,
    /// The stream is closed or could not be opened, and why.
    Lost(String),
    /// One audit line: its tape time (µs) and record.
    Line {
        tape_us: Option<i64>,
        record: Record,
    },
    /// A line for the notes (lagging, a message that does not parse).
    Note(String),
}

/// A bridge's live stream, read-only.
pub struct BridgeSource {
    /// The bridge's URL as shown (no trailing `/`, no user info).
    url: String,
    updates: Receiver<Update>,
    shutdown: Option<oneshot::Sender<()>>,
    worker: Option<JoinHandle<()>>,
    /// Why the worker could not start, if it could not.
    broken: Option<String>,
    connected: bool,
    /// What went wrong last while not connected.
    problem: Option<String>,
    /// Audit lines received.
    records: u64,
    /// Tape time of the last line, µs since 1970.
    now_us: i64,
    /// The last decision: its epoch and summary.
    last_decision: Option<(u64, String)>,
    /// The policy the bridge runs, from its `start` record.
    policy: Option<String>,
    /// Site names, in the order of the run's tracks (a site keeps its
    /// track whatever order later observations list it in).
    sites: Vec<String>,
    /// Grid notices marked already.
    notices: BTreeSet<u32>,
    /// Markers that came before the first observation.
    pending: Vec<Marker>,
    /// Whether the note on re-based intervals was written.
    rebased_noted: bool,
}

impl BridgeSource {
    /// Starts following the bridge whose operator API is at `url` (e.g.
    /// `http://127.0.0.1:8040`) with a viewer `token` (`None`: no
    /// `Authorization` header, which the bridge refuses with a 401). It
    /// returns at once: the connection is made, and remade, on the
    /// source's own thread.
    pub fn connect(url: &str, token: Option<String>) -> BridgeSource {
        let mut request_url = url.trim().trim_end_matches('/').to_owned();
        if !request_url.contains("://") {
            // `--bridge 127.0.0.1:8040`: the API speaks plain HTTP.
            request_url.insert_str(0, "http://");
        }
        let shown = shown_url(&request_url);
        let (tx, updates) = mpsc::channel();
        let (shutdown, stopped) = oneshot::channel();
        let worker_shown = shown.clone();
        let spawned = std::thread::Builder::new()
            .name("hcp-bridge-stream".into())
            .spawn(move || worker(&request_url, &worker_shown, token, &tx, stopped));
        let (worker, broken) = match spawned {
            Ok(handle) => (Some(handle), None),
            Err(e) => (None, Some(format!("cannot start the stream's thread: {e}"))),
        };
        BridgeSource {
            url: shown,
            updates,
            shutdown: Some(shutdown),
            worker,
            broken,
            connected: false,
            problem: None,
            records: 0,
            now_us: 0,
            last_decision: None,
            policy: None,
            sites: Vec::new(),
            notices: BTreeSet::new(),
            pending: Vec::new(),
            rebased_noted: false,
        }
    }

    /// The bridge's URL as shown in titles and messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The status line: connection, records, last decision.
    fn status(&self) -> String {
        if let Some(why) = &self.broken {
            return why.clone();
        }
        let records = match self.records {
            1 => "1 record".to_owned(),
            n => format!("{} records", thousands(n)),
        };
        if !self.connected {
            return match &self.problem {
                None if self.records == 0 => format!("connecting to {}…", self.url),
                _ => format!("reconnecting to {} ({records} so far)", self.url),
            };
        }
        match &self.last_decision {
            Some((epoch, summary)) => {
                format!("connected, {records}, last decision epoch {epoch}: {summary}")
            }
            None => format!("connected, {records}, no decision yet"),
        }
    }

    /// The track of site `name`, added if new.
    fn site_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.sites.iter().position(|s| s == name) {
            return i;
        }
        self.sites.push(name.to_owned());
        self.sites.len() - 1
    }

    /// The track of the site a target names: the site itself, or a cohort
    /// or pool id (`site/…`) of it.
    fn site_of(&self, target: &str) -> Option<usize> {
        let site = target.split('/').next().unwrap_or(target);
        self.sites
            .iter()
            .position(|s| s == target)
            .or_else(|| self.sites.iter().position(|s| s == site))
    }

    fn note(store: &mut Store, note: String) {
        store.notes.push(note);
        if store.notes.len() > MAX_NOTES {
            let extra = store.notes.len() - MAX_NOTES;
            store.notes.drain(..extra);
        }
    }

    fn mark(&mut self, store: &mut Store, marker: Marker) {
        match store.runs.first_mut() {
            Some(run) => run.add_marker(marker),
            None if self.pending.len() < MAX_PENDING_MARKERS => self.pending.push(marker),
            None => {}
        }
    }

    fn record(&mut self, store: &mut Store, tape_us: Option<i64>, record: Record) {
        self.records += 1;
        if let Some(t) = tape_us {
            self.now_us = t;
        }
        match record {
            Record::Start { policy, note } => {
                if let (Some(p), Some(run)) = (&policy, store.runs.first_mut()) {
                    p.clone_into(&mut run.policy);
                }
                self.policy = policy.or(self.policy.take());
                Self::note(store, note);
            }
            Record::Observation(o) => self.observation(store, &o),
            Record::Decision { epoch, summary } => self.last_decision = Some((epoch, summary)),
            Record::Marker { kind, site, text } => {
                let site = site.and_then(|s| self.site_of(&s));
                let marker = Marker {
                    time_us: tape_us.unwrap_or(self.now_us),
                    kind,
                    site,
                    text,
                };
                self.mark(store, marker);
            }
            Record::Note(n) => Self::note(store, n),
            Record::Other => {}
        }
    }

    /// One observation into the run: a record per site, a marker per new
    /// grid notice.
    fn observation(&mut self, store: &mut Store, o: &Observation) {
        let Some(step_us) = micros(o.interval_s).filter(|s| *s > 0) else {
            Self::note(
                store,
                format!(
                    "an observation with an interval of {} s was skipped",
                    o.interval_s
                ),
            );
            return;
        };
        let utc_us = o.utc.timestamp_micros();
        let interval = i64::try_from(o.interval).unwrap_or(i64::MAX);
        let own_start = interval
            .checked_mul(step_us)
            .and_then(|d| utc_us.checked_sub(d))
            .unwrap_or(utc_us);
        if store.runs.is_empty() {
            let policy = self.policy.as_deref().unwrap_or("bridge");
            let label = format!("live bridge at {} (measured; no money booked)", self.url);
            let mut run = RunSeries::new(policy, label, own_start, step_us);
            for m in self.pending.drain(..) {
                run.add_marker(m);
            }
            store.runs.push(run);
        }
        let (start_us, run_step) = (store.runs[0].start_us, store.runs[0].step_us);
        // The bridge counts intervals from its own start: after a restart
        // (or a new interval length) they are placed by time instead.
        let index = if run_step == step_us
            && own_start.saturating_sub(start_us).saturating_abs() < step_us
        {
            o.interval
        } else {
            let Ok(i) = u64::try_from(utc_us.saturating_sub(start_us).div_euclid(run_step)) else {
                Self::note(
                    store,
                    "an observation from before the run's start was skipped".into(),
                );
                return;
            };
            if !self.rebased_noted {
                self.rebased_noted = true;
                Self::note(
                    store,
                    "the bridge's interval numbering changed (restarted?): intervals are placed by time".into(),
                );
            }
            i
        };
        for site in &o.sites {
            let name = site.id.as_str();
            let track = self.site_index(name);
            let record = interval_record(o, site, index, track);
            store.runs[0].push(&record, name);
        }
        let time_us = i64::try_from(o.time.as_micros()).unwrap_or(i64::MAX);
        for notice in &o.grid_notices {
            if !self.notices.insert(notice.id) {
                continue;
            }
            let at = |t: hcp_engine::time::SimTime| {
                utc_us.saturating_add(
                    i64::try_from(t.as_micros())
                        .unwrap_or(i64::MAX)
                        .saturating_sub(time_us),
                )
            };
            let (start, end) = (at(notice.start), at(notice.end));
            let mut sites = notice.committed_mw.keys();
            let site = match (sites.next(), sites.next()) {
                (Some(only), None) => self.site_of(only.as_str()),
                _ => None,
            };
            let text = format!(
                "grid event {}: {} from {} to {}",
                notice.id,
                notice.kind.name(),
                clock(start),
                clock(end)
            );
            self.mark(
                store,
                Marker {
                    time_us: start,
                    kind: MarkerKind::GridEvent,
                    site,
                    text,
                },
            );
        }
    }
}

impl Drop for BridgeSource {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            // The worker may be gone already: nothing to stop then.
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            // It stops at once: the stream's future is dropped mid-await.
            let _ = worker.join();
        }
    }
}

impl DataSource for BridgeSource {
    fn title(&self) -> String {
        format!(
            "hcp view — live bridge at {} (read-only; measured power, no money: the bridge books none)",
            self.url
        )
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Bridge
    }

    fn poll(&mut self, store: &mut Store) -> bool {
        let mut changed = false;
        if let Some(why) = &self.broken {
            if store.error.is_none() {
                store.fail(why.clone());
                changed = true;
            }
            return changed;
        }
        while let Ok(update) = self.updates.try_recv() {
            changed = true;
            match update {
                Update::Connected => {
                    self.connected = true;
                    self.problem = None;
                    store.error = None;
                }
                Update::Lost(why) => {
                    self.connected = false;
                    self.problem = Some(why.clone());
                    store.fail(why);
                }
                Update::Line { tape_us, record } => self.record(store, tape_us, record),
                Update::Note(n) => Self::note(store, n),
            }
        }
        if changed {
            store.touch();
        }
        changed
    }

    fn live_state(&self) -> Option<LiveState> {
        Some(LiveState {
            now_us: self.now_us,
            events: 0,
            running: self.connected,
            finished: self.broken.is_some(),
            status: self.status(),
        })
    }
}

/// One site of one observation as an interval record (estimates as in the
/// module documentation).
fn interval_record(
    o: &Observation,
    site: &hcp_contract::SiteView,
    interval: u64,
    track: usize,
) -> IntervalRecord {
    let (mut asic_w, mut hash_th) = (0.0, 0.0);
    for c in o.asic_cohorts.iter().filter(|c| c.site == site.id) {
        asic_w += f64::from(c.on) * c.power_target_w;
        hash_th += f64::from(c.on) * c.hashrate_th;
    }
    let mut gpu_w = [0.0; 7];
    for p in o.gpu_pools.iter().filter(|p| p.site == site.id) {
        for (w, use_) in gpu_w.iter_mut().zip(GpuUse::ALL) {
            *w += f64::from(p.allocation.get(use_)) * p.max_power_per_gpu_w;
        }
    }
    let q = &o.queues;
    IntervalRecord {
        interval,
        site: track,
        price_usd_per_mwh: site.price_usd_per_mwh.unwrap_or(f64::NAN),
        hashprice_usd_per_th_day: o.market.hashprice_usd_per_th_day.unwrap_or(f64::NAN),
        facility_mw: site.last_power_mw,
        asic_mw: asic_w / 1e6,
        gpu_mw: gpu_w.map(|w| w / 1e6),
        hashrate_phs: hash_th / 1e3,
        committed_mw_max: site.committed_mw,
        cap_mw: site.cap_mw,
        mining_usd: 0.0,
        energy_usd: 0.0,
        ai_usd: [0.0; 5],
        // Grid events are marked once per notice, from the notices.
        grid_event: false,
        queued_jobs: [q.p2.jobs, q.p3.jobs, q.p4.jobs].map(u64::from),
    }
}

/// The worker thread: follows the stream until told to stop (or the
/// source is gone), then shuts its runtime down.
fn worker(
    url: &str,
    shown: &str,
    token: Option<String>,
    out: &Sender<Update>,
    stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = out.send(Update::Lost(format!(
                "cannot start the stream's runtime: {e}"
            )));
            return;
        }
    };
    let token = token.filter(|t| !t.is_empty());
    runtime.block_on(async {
        tokio::select! {
            _ = stop => {}
            () = follow_forever(url, shown, token.as_deref(), out) => {}
        }
    });
    // Connections' tasks go with the runtime; nothing blocking is left
    // (the URL names its host, resolved at most once per try).
    runtime.shutdown_timeout(Duration::from_millis(500));
}

/// How one attempt ended.
enum Outcome {
    /// The source is gone: stop.
    Gone,
    /// The stream closed or never opened; whether it had opened.
    Lost { message: String, opened: bool },
}

/// Connects, follows, and connects again with a backoff, for ever.
async fn follow_forever(url: &str, shown: &str, token: Option<&str>, out: &Sender<Update>) {
    let client = match reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let message = format!("cannot build the HTTP client: {}", reason(e));
            let _ = out.send(Update::Lost(scrub(message, token)));
            return;
        }
    };
    if !url.starts_with("http://") {
        let message = format!(
            "cannot reach the bridge at {shown}: the viewer speaks plain http:// only (no TLS); \
             reach the operator API on loopback or through an SSH tunnel"
        );
        let _ = out.send(Update::Lost(message));
        return;
    }
    let mut backoff = FIRST_BACKOFF;
    loop {
        match follow(&client, url, shown, token, out).await {
            Outcome::Gone => return,
            Outcome::Lost { message, opened } => {
                if opened {
                    backoff = FIRST_BACKOFF;
                }
                if out.send(Update::Lost(scrub(message, token))).is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One attempt: the request, then the stream until it ends.
async fn follow(
    client: &reqwest::Client,
    url: &str,
    shown: &str,
    token: Option<&str>,
    out: &Sender<Update>,
) -> Outcome {
    let lost = |message: String| Outcome::Lost {
        message,
        opened: false,
    };
    let mut request = client
        .get(format!("{url}/events"))
        .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let mut response = match tokio::time::timeout(ANSWER_TIMEOUT, request.send()).await {
        Err(_) => {
            return lost(format!(
                "cannot reach the bridge at {shown}: no answer within {} s",
                ANSWER_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(e)) => return lost(format!("cannot reach the bridge at {shown}: {}", reason(e))),
        Ok(Ok(r)) => r,
    };
    if let Err(message) = check(&mut response, shown, token.is_some()).await {
        return lost(message);
    }
    if out.send(Update::Connected).is_err() {
        return Outcome::Gone;
    }
    let ended = |message: String| Outcome::Lost {
        message,
        opened: true,
    };
    let mut frames = SseFrames::default();
    loop {
        let chunk = match tokio::time::timeout(IDLE_TIMEOUT, response.chunk()).await {
            Err(_) => {
                return ended(format!(
                    "the bridge at {shown} sent nothing for {} s (not even a keep-alive); reconnecting",
                    IDLE_TIMEOUT.as_secs()
                ));
            }
            Ok(Err(e)) => {
                return ended(format!(
                    "the stream from the bridge at {shown} broke: {}",
                    reason(e)
                ));
            }
            Ok(Ok(None)) => {
                return ended(format!(
                    "the bridge at {shown} ended its stream (stopped or restarting?); reconnecting"
                ));
            }
            Ok(Ok(Some(bytes))) => bytes,
        };
        for update in frames.feed(&chunk) {
            if out.send(update).is_err() {
                return Outcome::Gone;
            }
        }
    }
}

/// The response's status and type, as a message when it is no stream.
async fn check(
    response: &mut reqwest::Response,
    shown: &str,
    had_token: bool,
) -> Result<(), String> {
    let status = response.status();
    match status.as_u16() {
        200 => {}
        401 if had_token => {
            return Err(format!(
                "the bridge at {shown} refused the token (401 unauthorised): check --token-file"
            ));
        }
        401 => {
            return Err(format!(
                "the bridge at {shown} needs a viewer token (401 unauthorised): give one with --token-file or HCP_VIEWER_TOKEN"
            ));
        }
        403 => {
            return Err(format!(
                "the bridge at {shown} refused the token (403 forbidden): the token's role cannot read /events"
            ));
        }
        _ => {
            let body = match tokio::time::timeout(CONNECT_TIMEOUT, response.chunk()).await {
                Ok(Ok(Some(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => String::new(),
            };
            let first: String = body
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .chars()
                .take(200)
                .collect();
            let mut message = format!("the bridge at {shown} answered {status} to GET /events");
            if !first.is_empty() {
                let _ = write!(message, ": {first}");
            }
            return Err(message);
        }
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if kind.starts_with("text/event-stream") {
        Ok(())
    } else {
        Err(format!(
            "{shown} answered GET /events with {} rather than an event stream: is it a bridge's operator API?",
            if kind.is_empty() {
                "no content type"
            } else {
                kind
            }
        ))
    }
}

/// Server-sent events framed from a byte stream (the WHATWG rules the
/// bridge's stream needs: `data:` and `event:` fields, comments, blank
/// lines ending an event, `\n` or `\r\n` line ends, lines split across
/// chunks).
#[derive(Debug, Default)]
struct SseFrames {
    /// The incomplete line.
    line: Vec<u8>,
    /// The event's name (`lagged`, or empty: a message).
    event: String,
    /// The event's data lines, joined with `\n`.
    data: String,
    /// Whether the event being read is over [`MAX_EVENT_BYTES`].
    oversized: bool,
    /// Whether the incomplete line is over [`MAX_EVENT_BYTES`].
    line_too_long: bool,
}

impl SseFrames {
    /// Takes one chunk; returns the updates of the events it completes.
    fn feed(&mut self, chunk: &[u8]) -> Vec<Update> {
        let mut updates = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(end);
            rest = &tail[1..];
            self.extend_line(head);
            let mut line = std::mem::take(&mut self.line);
            if std::mem::take(&mut self.line_too_long) {
                self.oversized = true;
                continue;
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line_done(&line, &mut updates);
        }
        self.extend_line(rest);
        updates
    }

    /// Adds bytes to the incomplete line, or drops the line if too long.
    fn extend_line(&mut self, bytes: &[u8]) {
        if self.line_too_long || self.line.len() + bytes.len() > MAX_EVENT_BYTES {
            self.line_too_long = true;
            self.line.clear();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn line_done(&mut self, line: &[u8], updates: &mut Vec<Update>) {
        if line.is_empty() {
            let (event, data) = (
                std::mem::take(&mut self.event),
                std::mem::take(&mut self.data),
            );
            if std::mem::take(&mut self.oversized) {
                updates.push(Update::Note(format!(
                    "a stream message over {} MiB was skipped",
                    MAX_EVENT_BYTES >> 20
                )));
            } else if !data.is_empty() {
                updates.push(parse_event(&event, &data));
            }
            return;
        }
        if line[0] == b':' || self.oversized {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    self.oversized = true;
                    self.data.clear();
                    return;
                }
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            "event" => value.clone_into(&mut self.event),
            _ => {}
        }
    }
}

/// One event (its name and data) as an update.
fn parse_event(event: &str, data: &str) -> Update {
    match event {
        "" | "message" => {}
        "lagged" => {
            let missed = data.trim();
            let missed = missed
                .parse::<u64>()
                .map_or_else(|_| missed.to_owned(), thousands);
            return Update::Note(format!(
                "missed {missed} messages of the stream: the viewer fell behind (the bridge's audit log has them all)"
            ));
        }
        // An event the viewer does not know: not an audit line.
        _ => {
            return Update::Line {
                tape_us: None,
                record: Record::Other,
            };
        }
    }
    let line: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => {
            let excerpt: String = data.chars().take(60).collect();
            return Update::Note(format!("a stream message is not JSON ({e}): {excerpt}"));
        }
    };
    let Some(event) = line.get("event") else {
        return Update::Note("a stream message is not an audit line (it has no `event`)".into());
    };
    let tape_us = line
        .get("tape")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_micros());
    Update::Line {
        tape_us,
        record: parse_record(event),
    }
}

/// An audit record (`event`, with its `kind`) as a [`Record`].
fn parse_record(e: &Value) -> Record {
    let text = |k: &str| field(e, k);
    match e.get("kind").and_then(Value::as_str).unwrap_or("") {
        "observation" => match e.get("observation").map(Observation::deserialize) {
            Some(Ok(o)) => Record::Observation(Box::new(o)),
            Some(Err(err)) => Record::Note(format!("an observation did not parse: {err}")),
            None => Record::Note("an observation record holds no observation".into()),
        },
        "decision" => Record::Decision {
            epoch: e.get("epoch").and_then(Value::as_u64).unwrap_or(0),
            summary: actions_summary(e.get("actions")),
        },
        "clip" => Record::Marker {
            kind: MarkerKind::Clip,
            site: e.get("target").and_then(Value::as_str).map(str::to_owned),
            text: format!(
                "clip {}: {}, asked {} → applied {}",
                text("target"),
                text("reason"),
                number(e.get("asked")),
                number(e.get("applied"))
            ),
        },
        "safe_state" => Record::Marker {
            kind: MarkerKind::Clip,
            site: e.get("site").and_then(Value::as_str).map(str::to_owned),
            text: format!(
                "safe state: {} {} ({})",
                text("site"),
                text("state"),
                text("reason")
            ),
        },
        "fault" => {
            let f = e.get("fault").unwrap_or(&Value::Null);
            Record::Marker {
                kind: MarkerKind::Fault,
                site: None,
                text: format!(
                    "fault {} {}: {}",
                    field(f, "device"),
                    field(f, "kind"),
                    field(f, "detail")
                ),
            }
        }
        "operator" => {
            let actor = e.get("actor").unwrap_or(&Value::Null);
            let done = if e.get("done").and_then(Value::as_bool) == Some(true) {
                "done"
            } else {
                "refused"
            };
            Record::Note(format!(
                "operator {} ({}): {} {done}: {}",
                field(actor, "name"),
                field(actor, "role"),
                text("act"),
                text("detail")
            ))
        }
        "emergency_stop" => Record::Note(format!(
            "emergency stop: {} miners curtailed, {} failed, in {} s (limit {} s)",
            number(e.get("curtailed")),
            number(e.get("failed")),
            number(e.get("elapsed_s")),
            number(e.get("within_s"))
        )),
        "stop" => Record::Note(format!("the bridge stopped: {}", text("reason"))),
        "start" => {
            let policy = e
                .get("policy")
                .and_then(|p| p.get("kind"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let armed = e
                .get("armed")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "none (shadow mode)".into());
            let note = format!(
                "the bridge started: policy {}, {} miners, armed: {armed}",
                policy.as_deref().unwrap_or("?"),
                number(e.get("miners"))
            );
            Record::Start { policy, note }
        }
        _ => Record::Other,
    }
}

/// A decision's actions in a few words: `3 actions (asic ×3)`.
fn actions_summary(actions: Option<&Value>) -> String {
    let Some(actions) = actions.and_then(Value::as_array) else {
        return "no actions listed".into();
    };
    if actions.is_empty() {
        return "no actions".into();
    }
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for a in actions {
        *kinds
            .entry(a.get("kind").and_then(Value::as_str).unwrap_or("?"))
            .or_default() += 1;
    }
    let kinds: Vec<String> = kinds
        .into_iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    let n = actions.len();
    format!(
        "{n} action{} ({})",
        if n == 1 { "" } else { "s" },
        kinds.join(", ")
    )
}

/// A field as text: a string as is, anything else as JSON, `?` if absent.
fn field(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => "?".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A number as text: whole numbers without decimals, others to 0.1.
fn number(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            (_, _, Some(f)) => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Some(Value::Null) | None => "?".into(),
        Some(other) => other.to_string(),
    }
}

/// Seconds as whole microseconds, if finite and in range.
// In range and whole: the cast is exact.
#[allow(clippy::cast_possible_truncation)]
fn micros(seconds: f64) -> Option<i64> {
    let us = (seconds * 1e6).round();
    (us.is_finite() && us.abs() < 9.0e18).then_some(us as i64)
}

/// An instant (µs since 1970) as `2026-12-03 08:10 UTC`.
fn clock(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map_or_else(
        || format!("{us} µs"),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The URL as shown: without user info (`user:password@`).
fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}{path}")
}

/// A reqwest error in words: its innermost two causes (`tcp connect
/// error: Connection refused`), without the URL it names (the message
/// names the bridge already).
fn reason(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts[parts.len().saturating_sub(2)..].join(": ")
    }
}

/// `message` with every occurrence of the token replaced (belt and
/// braces: no message is built from it).
fn scrub(message: String, token: Option<&str>) -> String {
    match token {
        Some(t) if t.len() >= 4 && message.contains(t) => message.replace(t, "<token>"),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&str]) -> Vec<Update> {
        let mut f = SseFrames::default();
        chunks.iter().flat_map(|c| f.feed(c.as_bytes())).collect()
    }

    #[test]
    fn events_are_framed_across_chunks_and_line_ends() {
        let line = r#"{"seq":3,"wall":"2026-12-03T08:14:30Z","tape":"2026-12-03T08:10:00Z","event":{"kind":"safe_state","epoch":0,"site":"Texas North","state":"hold","reason":"stale_price"}}"#;
        let (a, b) = line.split_at(40);
        let updates = frames(&[
            ": keep-alive\n\ndata: ",
            a,
            b,
            "\r\n\r\nevent: lagged\ndata: 1234\n",
            "\n",
        ]);
        assert_eq!(updates.len(), 2, "{updates:?}");
        let Update::Line { tape_us, record } = &updates[0] else {
            panic!("{updates:?}")
        };
        assert_eq!(*tape_us, Some(1_796_285_400_000_000));
        assert_eq!(
            *record,
            Record::Marker {
                kind: MarkerKind::Clip,
                site: Some("Texas North".into()),
                text: "safe state: Texas North hold (stale_price)".into(),
            }
        );
        let Update::Note(n) = &updates[1] else {
            panic!("{updates:?}")
        };
        assert!(n.starts_with("missed 1,234 messages"), "{n}");
    }

    #[test]
    fn malformed_messages_become_notes() {
        for data in ["{not json", "[1,2]", "{\"seq\":1}"] {
            let u = parse_event("", data);
            assert!(matches!(u, Update::Note(_)), "{data}: {u:?}");
        }
        let u = parse_event(
            "",
            r#"{"event":{"kind":"observation","observation":{"time":0}}}"#,
        );
        let Update::Line {
            record: Record::Note(n),
            ..
        } = u
        else {
            panic!("{u:?}")
        };
        assert!(n.starts_with("an observation did not parse"), "{n}");
        let u = parse_event("", r#"{"event":{"kind":"command","device":"a"}}"#);
        assert_eq!(
            u,
            Update::Line {
                tape_us: None,
                record: Record::Other
            }
        );
    }

    #[test]
    fn records_read_as_the_docs_show_them() {
        let decision = serde_json::json!({"kind":"decision","epoch":1,"actions":[
            {"kind":"asic","cohort":"a","on":1,"power_target_w":1.0},
            {"kind":"asic","cohort":"b","on":1,"power_target_w":1.0},
            {"kind":"gpu","pool":"p","allocation":{}}]});
        assert_eq!(
            parse_record(&decision),
            Record::Decision {
                epoch: 1,
                summary: "3 actions (asic ×2, gpu ×1)".into()
            }
        );
        let clip = serde_json::json!({"kind":"clip","epoch":2,"action":0,"target":"127.64.1.1:4028","reason":"ramp_rate","asked":4025.0,"applied":3030.303});
        let Record::Marker { kind, text, .. } = parse_record(&clip) else {
            panic!()
        };
        assert_eq!(kind, MarkerKind::Clip);
        assert_eq!(
            text,
            "clip 127.64.1.1:4028: ramp_rate, asked 4025 → applied 3030.3"
        );
        let stop = serde_json::json!({"kind":"emergency_stop","curtailed":330,"failed":50,"elapsed_s":0.948_406_41,"within_s":10.0});
        assert_eq!(
            parse_record(&stop),
            Record::Note(
                "emergency stop: 330 miners curtailed, 50 failed, in 0.9 s (limit 10 s)".into()
            )
        );
    }

    #[test]
    fn a_url_without_http_is_said_at_once() {
        let mut source = BridgeSource::connect("https://bridge.example:8443/", None);
        assert_eq!(source.url(), "https://bridge.example:8443");
        let mut store = Store::default();
        for _ in 0..500 {
            if source.poll(&mut store) && store.error.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let error = store.error.unwrap_or_default();
        assert!(error.contains("plain http:// only"), "{error}");
        assert_eq!(
            BridgeSource::connect("127.0.0.1:1/", None).url(),
            "http://127.0.0.1:1"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(
            shown_url("http://u:p@127.0.0.1:8040/x"),
            "http://127.0.0.1:8040/x"
        );
        assert_eq!(shown_url("http://127.0.0.1:8040"), "http://127.0.0.1:8040");
        let t = format!("t{}x{}", std::process::id(), line!());
        assert_eq!(scrub(format!("a {t} b"), Some(&t)), "a <token> b");
        assert_eq!(micros(300.0), Some(300_000_000));
        assert_eq!(micros(f64::NAN), None);
    }
}
