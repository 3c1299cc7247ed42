//! The live twin as a source: a scenario's run played on a worker thread
//! named `hcp-twin` ([`hcp_models::twin::TwinRun`]), driven by
//! [`LiveCommand`]s — one engine event, one market interval, until an
//! instant, play at a speed (as fast as possible included), pause. The
//! worker sends what each slice of work produced (interval records, GPU
//! switches and clips as markers) and its state over a channel; `poll`
//! only drains it, so the window never waits for the simulation. While
//! playing, the worker works in slices of about 10 ms and checks its
//! commands between them. Dropping the source stops the worker.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use hcp_engine::rng::RngStreams;
use hcp_engine::time::SimTime;
use hcp_models::twin::{ClipRecord, IntervalRecord, SwitchRecord, TwinRun, TwinSink};
use hcp_scenarios::load::{LoadedScenario, builtin, builtin_names, load};
use hcp_scenarios::sweep::{BASELINE, forecaster_for};

use super::{DataSource, LiveCommand, LiveState, SourceKind, Store};
use crate::series::{GPU_USES, Marker, MarkerKind, RunSeries};

/// Wall time a playing worker works before it looks at its commands.
const SLICE: Duration = Duration::from_millis(10);

/// What the worker sends.
enum Update {
    /// The run is built: its label and time axis.
    Started {
        policy: String,
        label: String,
        start_us: i64,
        step_us: i64,
        sites: Vec<String>,
    },
    /// Records and markers produced since the last update.
    Data(Vec<IntervalRecord>, Vec<Marker>),
    /// Where the run stands.
    State(LiveState),
    /// The scenario could not be run.
    Failed(String),
}

/// The sink of the worker's run: holds records until the worker sends them.
#[derive(Default)]
struct Outbox {
    epoch_us: i64,
    records: Vec<IntervalRecord>,
    markers: Vec<Marker>,
}

impl TwinSink for Outbox {
    fn interval(&mut self, record: &IntervalRecord) {
        self.records.push(record.clone());
    }
    fn switch(&mut self, r: &SwitchRecord) {
        let to = GPU_USES.get(r.to.index()).copied().unwrap_or("?");
        self.markers.push(Marker {
            time_us: self.epoch_us + i64::try_from(r.time_us).unwrap_or(0),
            kind: MarkerKind::GpuSwitch,
            site: None,
            text: format!(
                "pool {} → {to}: {} GPUs ({} cold), ready in {:.2} s",
                r.pool,
                r.gpus,
                r.cold,
                r.max_ms / 1e3
            ),
        });
    }
    fn clip(&mut self, r: &ClipRecord) {
        self.markers.push(Marker {
            time_us: self.epoch_us + i64::try_from(r.time_us).unwrap_or(0),
            kind: MarkerKind::Clip,
            site: None,
            text: format!(
                "action {} clipped ({:?}): {:.1} asked, {:.1} applied",
                r.action, r.reason, r.requested, r.applied
            ),
        });
    }
}

/// A twin run live.
pub struct LiveSource {
    title: String,
    commands: Sender<LiveCommand>,
    updates: Receiver<Update>,
    state: LiveState,
    sites: Vec<String>,
}

fn scenario(name: &str) -> Result<LoadedScenario, String> {
    let path = Path::new(name);
    if path.extension().is_some_and(|e| e == "toml") || path.is_file() {
        return load(path).map_err(|e| e.to_string());
    }
    builtin(name).map_err(|e| {
        format!(
            "{e} (a built-in name — {} — or a scenario TOML file)",
            builtin_names().join(", ")
        )
    })
}

impl LiveSource {
    /// Starts the worker on `scenario` (a built-in name or a TOML file)
    /// with `policy` (default: the first after the baseline), `seed`
    /// (default: the scenario's) and `replication`. Failures to load reach
    /// the store at the first poll.
    pub fn start(
        scenario_name: &str,
        policy: Option<&str>,
        seed: Option<u64>,
        replication: u64,
    ) -> LiveSource {
        let (commands, command_rx) = mpsc::channel();
        let (update_tx, updates) = mpsc::channel();
        let title = format!(
            "hcp view — live twin: {scenario_name}{}",
            policy.map(|p| format!(" · {p}")).unwrap_or_default()
        );
        let name = scenario_name.to_owned();
        let policy = policy.map(str::to_owned);
        let spawned = std::thread::Builder::new()
            .name("hcp-twin".into())
            .spawn(move || {
                worker(
                    &name,
                    policy.as_deref(),
                    seed,
                    replication,
                    &command_rx,
                    &update_tx,
                );
            });
        let mut state = LiveState {
            status: "loading the scenario…".into(),
            ..LiveState::default()
        };
        if let Err(e) = spawned {
            state.status = format!("cannot start the twin's thread: {e}");
            state.finished = true;
        }
        LiveSource {
            title,
            commands,
            updates,
            state,
            sites: Vec::new(),
        }
    }
}

#[allow(clippy::too_many_lines)]
fn worker(
    name: &str,
    policy: Option<&str>,
    seed: Option<u64>,
    replication: u64,
    commands: &Receiver<LiveCommand>,
    out: &Sender<Update>,
) {
    let fail = |e: String| {
        let _ = out.send(Update::Failed(e));
    };
    let loaded = match scenario(name) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let policies = &loaded.scenario.policies;
    let config = if let Some(p) = policy {
        if let Some(c) = policies.iter().find(|c| c.name() == p) {
            c.clone()
        } else {
            let known: Vec<&str> = policies
                .iter()
                .map(hcp_policies::PolicyConfig::name)
                .collect();
            return fail(format!(
                "{}: no policy '{p}' in the scenario's policies (it has: {})",
                loaded.source,
                known.join(", ")
            ));
        }
    } else {
        match policies
            .iter()
            .find(|c| c.name() != BASELINE)
            .or(policies.first())
        {
            Some(c) => c.clone(),
            None => return fail(format!("{}: the scenario has no policy", loaded.source)),
        }
    };
    let setup = match loaded.prepare() {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let seed = seed.unwrap_or(loaded.scenario.sweep.seed);
    let _ = out.send(Update::State(LiveState {
        status: format!(
            "generating the world of {} (seed {seed}, replication {replication})…",
            loaded.scenario.name
        ),
        ..LiveState::default()
    }));
    let streams = RngStreams::new(seed, replication);
    let tape = setup.tape(&streams);
    let horizon = tape.horizon;
    let epoch_us = horizon.epoch.start().timestamp_micros();
    let step_us = i64::try_from(horizon.step.as_micros()).unwrap_or(300_000_000);
    let sink = Outbox {
        epoch_us,
        ..Outbox::default()
    };
    let forecaster = forecaster_for(&config, &loaded.scenario.forecaster, &tape);
    let mut run = TwinRun::new(&setup, tape, &streams, config.build(), forecaster, sink);
    let policy_name = config.name().to_owned();
    let _ = out.send(Update::Started {
        policy: policy_name.clone(),
        label: format!(
            "{policy_name} · {} · seed {seed} · replication {replication} (live)",
            loaded.scenario.name
        ),
        start_us: epoch_us,
        step_us,
        sites: run.site_names(),
    });
    let mut playing: Option<(f64, Instant, SimTime)> = None;
    loop {
        let command = if playing.is_some() {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match commands.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        match command {
            Some(LiveCommand::StepEvent) => {
                playing = None;
                run.step_event();
            }
            Some(LiveCommand::StepInterval) => {
                playing = None;
                run.step_interval();
            }
            Some(LiveCommand::RunUntil(t_us)) => {
                playing = None;
                let t = u64::try_from(t_us - epoch_us).unwrap_or(0);
                let end = t.min(horizon.length.as_micros());
                let started = Instant::now();
                while !run.is_finished() && run.now().as_micros() < end {
                    run.step_interval();
                    if started.elapsed() > SLICE {
                        send(&mut run, out, false);
                        if matches!(commands.try_recv(), Ok(LiveCommand::Pause)) {
                            break;
                        }
                    }
                }
                run.run_until(SimTime::from_micros(end));
            }
            Some(LiveCommand::Play(x)) => playing = Some((x, Instant::now(), run.now())),
            Some(LiveCommand::Pause) => playing = None,
            None => {}
        }
        if let Some((speed, since, from)) = playing {
            let started = Instant::now();
            if speed.is_infinite() {
                while !run.is_finished() && started.elapsed() < SLICE {
                    run.step_interval();
                }
            } else {
                let target =
                    from.as_micros() + (since.elapsed().as_secs_f64() * speed * 1e6) as u64;
                while !run.is_finished()
                    && run.now().as_micros() < target
                    && started.elapsed() < SLICE
                {
                    if !run.step_event() {
                        break;
                    }
                }
                if run.now().as_micros() >= target {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            if run.is_finished() {
                playing = None;
            }
        }
        send(&mut run, out, playing.is_some());
        if run.is_finished() {
            // Keep answering nothing; wait for the viewer to go.
            while commands.recv().is_ok() {}
            return;
        }
    }
}

fn send(run: &mut TwinRun<Outbox>, out: &Sender<Update>, running: bool) {
    let markers = std::mem::take(&mut run.sink_mut().markers);
    let records = std::mem::take(&mut run.sink_mut().records);
    if !records.is_empty() || !markers.is_empty() {
        let _ = out.send(Update::Data(records, markers));
    }
    let finished = run.is_finished();
    let _ = out.send(Update::State(LiveState {
        now_us: run.utc_now().timestamp_micros(),
        events: run.events(),
        running,
        finished,
        status: format!(
            "live twin: interval {} of {}, {} events{}",
            run.interval().min(run.intervals()),
            run.intervals(),
            run.events(),
            if finished {
                " — the run is over"
            } else if running {
                ", running"
            } else {
                ", paused"
            }
        ),
    }));
}

impl DataSource for LiveSource {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn kind(&self) -> SourceKind {
        SourceKind::LiveTwin
    }

    fn poll(&mut self, store: &mut Store) -> bool {
        let mut changed = false;
        loop {
            match self.updates.try_recv() {
                Ok(Update::Started {
                    policy,
                    label,
                    start_us,
                    step_us,
                    sites,
                }) => {
                    store.runs = vec![RunSeries::new(&policy, label.clone(), start_us, step_us)];
                    self.title = format!("hcp view — {label}");
                    self.sites = sites;
                    changed = true;
                }
                Ok(Update::Data(records, markers)) => {
                    if let Some(run) = store.runs.first_mut() {
                        for r in &records {
                            let name = self.sites.get(r.site).map_or("", String::as_str);
                            run.push(r, name);
                        }
                        for m in markers {
                            run.add_marker(m);
                        }
                    }
                    changed = true;
                }
                Ok(Update::State(state)) => {
                    if let Some(run) = store.runs.first_mut() {
                        run.complete = state.finished;
                    }
                    self.state = state;
                    changed = true;
                }
                Ok(Update::Failed(e)) => {
                    self.state.finished = true;
                    self.state.status = "the scenario did not load".into();
                    store.fail(e);
                    changed = true;
                }
                Err(_) => break,
            }
        }
        if changed {
            store.touch();
        }
        changed
    }

    fn command(&mut self, command: LiveCommand) {
        let _ = self.commands.send(command);
    }

    fn live_state(&self) -> Option<LiveState> {
        Some(self.state.clone())
    }
}
