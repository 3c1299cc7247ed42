//! The control loop: once per market interval, poll every miner, build the
//! observation, ask the policy through the contract's [`DecisionLoop`],
//! pass its actions through the safety envelope, log everything, and —
//! for armed sites only — send the commands, with retries, and record the
//! replies.
//!
//! [`Bridge::start`] checks everything a run needs before anything runs:
//! the feeds open (an unreachable endpoint is an error), the token and
//! credential files load, and `--arm` names only sites that allow arming.
//! [`Bridge::run`] then loops until its end or a shutdown; an operator's
//! emergency stop interrupts the wait between epochs at once.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use hcp_contract::{DecisionLoop, Occasion, Trigger};
use hcp_devices::credentials::Credentials;
use hcp_devices::fanout::fan_out;
use hcp_devices::retry::RetryPolicy;
use serde::Serialize;
use tokio::sync::{Notify, broadcast};

use crate::arming::Arming;
use crate::audit::{AuditLog, Event};
use crate::clock::BridgeClock;
use crate::config::{BridgeConfig, Loaded, SafetyLimits};
use crate::envelope::{Envelope, MinerCommand, plan};
use crate::feeds::{Feed, PushBoard, Reading};
use crate::fleet::{Command, Fleet, MinerState, fault};
use crate::metrics::BridgeMetrics;
use crate::observe::{Feeds, SitePower, observe};
use crate::operator::{Actor, ArmRequest, FeedPush, LimitChange, OperatorPort, Refusal};

/// A bridge that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A feed did not open.
    #[error(transparent)]
    Feed(#[from] crate::feeds::FeedError),
    /// The credentials file is unreadable.
    #[error(transparent)]
    Credentials(#[from] hcp_devices::credentials::CredentialsError),
    /// `--arm` named a site that may not be armed.
    #[error("{file}: --arm: {problem}")]
    Arm {
        /// The configuration file.
        file: String,
        /// Why.
        problem: String,
    },
    /// The audit log cannot be opened.
    #[error("audit log {dir}: {source}")]
    Audit {
        /// Its folder.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// Anything else about the configuration.
    #[error("{0}")]
    Config(String),
}

/// What a run did, for `--json` and tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// Epochs run.
    pub epochs: u64,
    /// Decisions the policy took.
    pub decisions: u64,
    /// Commands sent (armed sites).
    pub commands_sent: u64,
    /// Commands held back by shadow mode.
    pub commands_shadowed: u64,
    /// Commands not acknowledged after their retries.
    pub commands_failed: u64,
    /// Clips and refusals by the envelope.
    pub clips: u64,
    /// Epochs a site spent in its safe state.
    pub safe_state_epochs: u64,
    /// Device faults seen.
    pub faults: u64,
    /// Epochs whose committed facility power was over a site's cap.
    pub epochs_over_cap: u64,
    /// Epochs that started late because the previous one overran.
    pub overruns: u64,
    /// Decision time (observation, policy, envelope), ms: p50, p99, max.
    pub decide_ms: [f64; 3],
    /// Epoch start to last command acknowledged, ms: p50, p99, max.
    pub actuate_ms: [f64; 3],
}

/// State the control loop and the operator API share.
pub struct Shared {
    config: BridgeConfig,
    arming: Mutex<Arming>,
    limits: Mutex<SafetyLimits>,
    audit: Mutex<AuditLog>,
    stream: broadcast::Sender<Arc<str>>,
    board: PushBoard,
    estop: Notify,
    estop_pending: Mutex<Option<(Actor, Instant)>>,
    status: Mutex<serde_json::Value>,
    clock: BridgeClock,
    /// The metrics the API serves.
    pub metrics: Arc<BridgeMetrics>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn log(&self, event: Event) {
        self.log_at(self.clock.now_utc(), event);
    }

    fn log_at(&self, tape: chrono::DateTime<Utc>, event: Event) {
        let mut audit = lock(&self.audit);
        if let Err(e) = audit.write(tape, event) {
            eprintln!("audit log: {e}");
        }
    }

    fn flush(&self) -> std::io::Result<()> {
        lock(&self.audit).flush()
    }

    fn sync(&self) -> std::io::Result<()> {
        if self.config.audit.durable {
            lock(&self.audit).sync()
        } else {
            lock(&self.audit).flush()
        }
    }

    fn operator_act(&self, actor: &Actor, act: &str, detail: String, done: bool) {
        self.log(Event::Operator {
            actor: actor.clone(),
            act: act.into(),
            detail,
            done,
        });
        let _ = self.flush();
    }

    /// The limits in force.
    pub fn limits(&self) -> SafetyLimits {
        lock(&self.limits).clone()
    }

    /// Sites armed now.
    pub fn armed(&self) -> Vec<String> {
        lock(&self.arming).armed()
    }
}

impl OperatorPort for Shared {
    fn health(&self) -> serde_json::Value {
        let armed = self.armed();
        serde_json::json!({
            "status": "ok",
            "mode": if armed.is_empty() { "shadow" } else { "armed" },
            "tape": self.clock.now_utc(),
        })
    }

    fn status(&self) -> serde_json::Value {
        let mut s = lock(&self.status).clone();
        if let Some(o) = s.as_object_mut() {
            o.insert("armed".into(), serde_json::json!(self.armed()));
            o.insert(
                "limits".into(),
                serde_json::to_value(self.limits()).unwrap_or_default(),
            );
        }
        s
    }

    fn arm(&self, actor: &Actor, request: ArmRequest) -> Result<serde_json::Value, Refusal> {
        let result = lock(&self.arming).arm(&request.sites);
        match result {
            Ok(sites) => {
                self.operator_act(actor, "arm", sites.join(", "), true);
                for s in &sites {
                    self.metrics.set_armed(s, true);
                }
                Ok(serde_json::json!({ "armed": self.armed() }))
            }
            Err(why) => {
                self.operator_act(actor, "arm", why.clone(), false);
                // A site that does not exist is a bad request; one that may
                // not be armed is a refusal.
                if why.starts_with("no site '") {
                    Err(Refusal::BadRequest(why))
                } else {
                    Err(Refusal::NotAllowed(why))
                }
            }
        }
    }

    fn disarm(&self, actor: &Actor) -> serde_json::Value {
        lock(&self.arming).disarm();
        for s in &self.config.sites {
            self.metrics.set_armed(&s.id, false);
        }
        self.operator_act(actor, "disarm", "every site".into(), true);
        serde_json::json!({ "armed": [] })
    }

    fn emergency_stop(&self, actor: &Actor) -> serde_json::Value {
        lock(&self.arming).disarm();
        for s in &self.config.sites {
            self.metrics.set_armed(&s.id, false);
        }
        self.operator_act(
            actor,
            "emergency_stop",
            "disarmed; curtailing every miner".into(),
            true,
        );
        *lock(&self.estop_pending) = Some((actor.clone(), Instant::now()));
        self.estop.notify_one();
        serde_json::json!({ "armed": [], "emergency_stop": "started" })
    }

    fn push_feed(
        &self,
        actor: &Actor,
        feed: &str,
        push: FeedPush,
    ) -> Result<serde_json::Value, Refusal> {
        let at = push.at.unwrap_or_else(|| self.clock.now_utc());
        match self.board.push(
            feed,
            Reading {
                value: push.value,
                at,
            },
        ) {
            Ok(()) => {
                self.operator_act(
                    actor,
                    "push_feed",
                    format!("{feed} = {} at {at}", push.value),
                    true,
                );
                Ok(serde_json::json!({ "feed": feed, "value": push.value, "at": at }))
            }
            Err(why) => {
                self.operator_act(actor, "push_feed", why.clone(), false);
                Err(Refusal::BadRequest(why))
            }
        }
    }

    fn change_limit(
        &self,
        actor: &Actor,
        change: LimitChange,
    ) -> Result<serde_json::Value, Refusal> {
        let result = lock(&self.limits).set(&change.key, change.value);
        match result {
            Ok(()) => {
                self.operator_act(
                    actor,
                    "change_limit",
                    format!("{} = {}", change.key, change.value),
                    true,
                );
                Ok(serde_json::to_value(self.limits()).unwrap_or_default())
            }
            Err(why) => {
                self.operator_act(actor, "change_limit", why.clone(), false);
                Err(Refusal::BadRequest(why))
            }
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.stream.subscribe()
    }
}

/// A bridge ready to run.
pub struct Bridge {
    shared: Arc<Shared>,
    fleet: Fleet,
    gpus: crate::gpus::GpuHosts,
    gpu_status: Vec<(String, Vec<hcp_devices::gpu::GpuReading>)>,
    feeds: Feeds,
    decisions: DecisionLoop,
    summary: RunSummary,
    decide_ms: Vec<f64>,
    actuate_ms: Vec<f64>,
}

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFor {
    /// Stop after this many epochs (`None`: until shut down).
    pub epochs: Option<u64>,
}

impl Bridge {
    /// Opens the feeds, the credentials and the audit log, and arms the
    /// sites `arm` names (`["all"]`: every site the configuration allows).
    ///
    /// # Errors
    /// [`StartError`] naming the file, key or site.
    pub async fn start(loaded: &Loaded, arm: &[String]) -> Result<Bridge, StartError> {
        let config = loaded.config.clone();
        let credentials = Credentials::load(config.credentials_file.as_deref(), |k| {
            std::env::var(k).ok()
        })?;
        let fleet = Fleet::new(&config, &credentials).map_err(StartError::Config)?;
        let gpus = crate::gpus::GpuHosts::open(&config.gpu_hosts)
            .map_err(|p| StartError::Config(format!("{}: {p}", loaded.file)))?;
        let board = PushBoard::default();
        let mut prices = Vec::new();
        for site in &config.sites {
            prices.push(Feed::open(&site.price, &board).await?);
        }
        let m = &config.market;
        let open =
            async |f: &Option<crate::config::FeedConfig>| -> Result<Option<Feed>, StartError> {
                Ok(match f {
                    Some(f) => Some(Feed::open(f, &board).await?),
                    None => None,
                })
            };
        let feeds = Feeds {
            prices,
            btc_usd: open(&m.btc_usd).await?,
            hashprice: open(&m.hashprice_usd_per_th_day).await?,
            network_hashrate_ehs: open(&m.network_hashrate_ehs).await?,
            block_reward_btc: m.block_reward_btc,
        };
        let mut arming = Arming::new(&config);
        if !arm.is_empty() {
            let sites: Vec<String> = if arm.iter().any(|a| a == "all") {
                Vec::new()
            } else {
                arm.to_vec()
            };
            arming.arm(&sites).map_err(|problem| StartError::Arm {
                file: loaded.file.clone(),
                problem,
            })?;
        }
        let interval_s = f64::from(config.interval_minutes) * 60.0;
        let clock = match config.start {
            Some(origin) => BridgeClock::new(origin, config.speed, interval_s),
            None => BridgeClock::live(Utc::now(), config.speed, interval_s),
        };
        let (stream, _) = broadcast::channel(4096);
        let audit = AuditLog::open(&config.audit.dir, config.audit.rotate_bytes, stream.clone())
            .map_err(|source| StartError::Audit {
                dir: config.audit.dir.display().to_string(),
                source,
            })?;
        let metrics = Arc::new(BridgeMetrics::new());
        for s in &config.sites {
            metrics.set_armed(&s.id, arming.is_armed(&s.id));
        }
        let decisions = DecisionLoop::new(config.policy.build(), config.forecaster.build());
        let shared = Arc::new(Shared {
            limits: Mutex::new(config.safety.clone()),
            arming: Mutex::new(arming),
            audit: Mutex::new(audit),
            stream,
            board,
            estop: Notify::new(),
            estop_pending: Mutex::new(None),
            status: Mutex::new(serde_json::json!({})),
            clock,
            metrics,
            config,
        });
        shared.log(Event::Start {
            policy: shared.config.policy.clone(),
            forecaster: shared.config.forecaster.clone(),
            config: loaded.file.clone(),
            miners: fleet.miners.len(),
            armed: shared.armed(),
            version: env!("CARGO_PKG_VERSION").into(),
        });
        let _ = shared.flush();
        Ok(Bridge {
            shared,
            fleet,
            gpus,
            gpu_status: Vec::new(),
            feeds,
            decisions,
            summary: RunSummary::default(),
            decide_ms: Vec::new(),
            actuate_ms: Vec::new(),
        })
    }

    /// The state the operator API serves.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// The bridge's clock.
    pub fn clock(&self) -> BridgeClock {
        self.shared.clock
    }

    /// Runs epochs until `run_for` ends or `shutdown` fires.
    pub async fn run(
        mut self,
        run_for: RunFor,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> RunSummary {
        let clock = self.shared.clock;
        let mut epoch = clock.current_epoch();
        let first = epoch;
        tokio::pin!(shutdown);
        loop {
            if run_for.epochs.is_some_and(|n| epoch - first >= n) {
                break;
            }
            let start_s = clock.epoch_s(epoch);
            tokio::select! {
                () = tokio::time::sleep(clock.wall_until(start_s)) => {}
                () = self.shared.estop.notified() => {
                    self.emergency_stop().await;
                    continue;
                }
                () = &mut shutdown => {
                    self.shared.log(Event::Stop { reason: "shut down".into() });
                    break;
                }
            }
            self.epoch(epoch).await;
            // A pending emergency stop runs before the next epoch's wait.
            if lock(&self.shared.estop_pending).is_some() {
                self.emergency_stop().await;
            }
            let next = clock.current_epoch();
            if next > epoch + 1 {
                self.summary.overruns += next - epoch - 1;
                self.shared.log(Event::Fault {
                    epoch,
                    fault: crate::fleet::Fault {
                        device: "bridge".into(),
                        kind: "overrun".into(),
                        detail: format!(
                            "epoch {epoch} ran past {} epochs; skipping to {next}",
                            next - epoch - 1
                        ),
                    },
                });
                epoch = next;
            } else {
                epoch += 1;
            }
        }
        let _ = self.shared.flush();
        if run_for.epochs.is_some_and(|n| epoch - first >= n) {
            self.shared.log(Event::Stop {
                reason: format!("{} epochs done", epoch - first),
            });
        }
        let _ = self.shared.flush();
        self.summary.decisions = self.decisions.decisions();
        self.summary.decide_ms = percentiles(&mut self.decide_ms);
        self.summary.actuate_ms = percentiles(&mut self.actuate_ms);
        self.summary
    }

    async fn epoch(&mut self, epoch: u64) {
        let shared = Arc::clone(&self.shared);
        let clock = shared.clock;
        let epoch_start = Instant::now();
        let limits = shared.limits();
        let tape = clock.at(clock.epoch_s(epoch));
        let faults = self.fleet.poll(clock.now_s(), &limits).await;
        self.summary.faults += faults.len() as u64;
        for f in faults {
            shared.metrics.inc_faults(&f.kind, 1);
            shared.log_at(tape, Event::Fault { epoch, fault: f });
        }
        self.read_gpus(epoch, tape).await;
        let decide_start = Instant::now();
        let now_s = clock.now_s();
        let (mut observation, power) = observe(
            &shared.config,
            &self.fleet,
            &self.feeds,
            epoch,
            clock.epoch_time(epoch),
            tape,
            now_s,
        );
        for (s, site) in shared.config.sites.iter().enumerate() {
            if power[s].committed_mw > site.cap_mw + 1e-9 {
                self.summary.epochs_over_cap += 1;
            }
        }
        shared.log_at(
            tape,
            Event::Observation {
                epoch,
                occasion: Occasion::IntervalStart,
                observation: Box::new(observation.clone()),
            },
        );
        let mut actions = Vec::new();
        let trigger = self
            .decisions
            .step(Occasion::IntervalStart, &mut observation, &mut actions);
        let planned = plan(&actions, &self.fleet, now_s);
        let enveloped = Envelope {
            config: &shared.config,
            limits: &limits,
        }
        .apply(planned, &observation, &power, &self.fleet, now_s);
        let decide_ms = decide_start.elapsed().as_secs_f64() * 1e3;
        shared.metrics.observe_decision_seconds(decide_ms / 1e3);
        if let Some(trigger) = &trigger {
            self.decide_ms.push(decide_ms);
            shared
                .metrics
                .inc_decisions(self.decisions.policy_name(), trigger_name(trigger));
            shared.log_at(
                tape,
                Event::Decision {
                    epoch,
                    trigger: trigger.clone(),
                    actions: actions.clone(),
                    decide_ms,
                },
            );
        }
        self.record_envelope(epoch, tape, &enveloped);
        // Shadow mode holds back every command of a disarmed site; the
        // arming is read once, here, after the decision.
        let arming = lock(&shared.arming).clone();
        let (send, hold): (Vec<MinerCommand>, Vec<MinerCommand>) =
            enveloped.commands.into_iter().partition(|c| {
                let site = self.fleet.cohorts[self.fleet.miners[c.miner].cohort].site;
                arming.is_armed(&shared.config.sites[site].id)
            });
        self.summary.commands_shadowed += hold.len() as u64;
        self.log_commands(epoch, tape, &hold, false);
        self.log_commands(epoch, tape, &send, true);
        let logged = if send.is_empty() {
            shared.flush()
        } else {
            shared.sync()
        };
        // A disarm or stop that came while the epoch ran holds its batch back.
        let send = self.hold_disarmed(epoch, tape, send);
        if let Err(e) = logged {
            // Nothing goes out that is not on the disk.
            eprintln!("audit log: {e}; commands of epoch {epoch} not sent");
        } else if !send.is_empty() {
            self.send(epoch, tape, &send, &limits).await;
            self.actuate_ms
                .push(epoch_start.elapsed().as_secs_f64() * 1e3);
        }
        self.summary.decisions = self.decisions.decisions();
        self.publish(epoch, &observation, &power, &actions, trigger.as_ref());
        shared
            .metrics
            .observe_epoch_seconds(epoch_start.elapsed().as_secs_f64());
        self.summary.epochs += 1;
    }

    async fn send(
        &mut self,
        epoch: u64,
        tape: chrono::DateTime<Utc>,
        commands: &[MinerCommand],
        limits: &SafetyLimits,
    ) {
        let retry = RetryPolicy {
            attempts: limits.command_attempts,
            base: Duration::from_millis(limits.retry_base_ms),
            cap: Duration::from_secs(5),
        };
        let timeout = self.fleet.timeout();
        let miners = &self.fleet.miners;
        // One task per miner, its commands in order (a firmware session
        // takes one command at a time), each retried with backoff.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of = std::collections::BTreeMap::new();
        for (j, c) in commands.iter().enumerate() {
            let g = *group_of.entry(c.miner).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(j);
        }
        let single = RetryPolicy {
            attempts: 1,
            ..retry
        };
        let grouped = fan_out(groups.len(), self.fleet.concurrency(), single, |g| {
            let group = &groups[g];
            async move {
                let mut done = Vec::with_capacity(group.len());
                for &j in group {
                    let c = commands[j];
                    let driver = &miners[c.miner].driver;
                    let first_try = Instant::now();
                    let (result, tries) = retry
                        .run(|| async {
                            match c.command {
                                Command::Curtail => driver.curtail(timeout).await,
                                Command::Resume => driver.resume(timeout).await,
                                Command::PowerTarget { watts } => {
                                    driver.set_power_target(watts, timeout).await
                                }
                            }
                        })
                        .await;
                    done.push((j, result, tries, first_try.elapsed()));
                }
                Ok(done)
            }
        })
        .await;
        let mut outcomes: Vec<(usize, hcp_devices::DeviceResult<()>, u32, Duration)> = grouped
            .into_iter()
            .flat_map(|o| o.result.unwrap_or_default())
            .collect();
        outcomes.sort_by_key(|o| o.0);
        let now_s = self.shared.clock.now_s();
        for (index, result, tries, took) in outcomes {
            let c = commands[index];
            let device = self.fleet.miners[c.miner].address.to_string();
            let ms = took.as_secs_f64() * 1e3;
            let (ok, error) = match &result {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e.to_string())),
            };
            self.shared.metrics.observe_command(
                c.command.name(),
                if ok { "ok" } else { "failed" },
                ms / 1e3,
            );
            match &result {
                Ok(()) => {
                    self.fleet.acknowledged(c.miner, c.command, now_s);
                    if let Command::PowerTarget { watts } = c.command {
                        let cohort = self.fleet.miners[c.miner].cohort;
                        self.fleet.cohorts[cohort].target_w = watts;
                    }
                    self.summary.commands_sent += 1;
                }
                Err(e) => {
                    self.fleet.command_failed(c.miner, e, now_s);
                    self.summary.commands_failed += 1;
                    let f = fault(&self.fleet.miners[c.miner].address, e);
                    self.shared.metrics.inc_faults(&f.kind, 1);
                }
            }
            self.shared.log_at(
                tape,
                Event::Reply {
                    epoch,
                    device,
                    command: c.command,
                    ok,
                    error,
                    tries,
                    ms,
                },
            );
        }
    }

    /// The commands of `send` whose site is still armed; the rest are
    /// logged as held back.
    fn hold_disarmed(
        &mut self,
        epoch: u64,
        tape: chrono::DateTime<Utc>,
        send: Vec<MinerCommand>,
    ) -> Vec<MinerCommand> {
        let armed = lock(&self.shared.arming).clone();
        let (send, late): (Vec<MinerCommand>, Vec<MinerCommand>) =
            send.into_iter().partition(|c| {
                let site = self.fleet.cohorts[self.fleet.miners[c.miner].cohort].site;
                armed.is_armed(&self.shared.config.sites[site].id)
            });
        self.log_commands(epoch, tape, &late, false);
        self.summary.commands_shadowed += late.len() as u64;
        send
    }

    /// Logs commands about to be sent (`sent`) or held back by shadow mode.
    fn log_commands(
        &self,
        epoch: u64,
        tape: chrono::DateTime<Utc>,
        commands: &[MinerCommand],
        sent: bool,
    ) {
        for c in commands {
            self.shared.log_at(
                tape,
                Event::Command {
                    epoch,
                    device: self.fleet.miners[c.miner].address.to_string(),
                    command: c.command,
                    sent,
                },
            );
        }
    }

    /// Reads every GPU host into the metrics and the status.
    async fn read_gpus(&mut self, epoch: u64, tape: chrono::DateTime<Utc>) {
        if self.gpus.is_empty() {
            return;
        }
        let shared = Arc::clone(&self.shared);
        let (readings, faults) = self.gpus.read(self.fleet.timeout()).await;
        for (host, rs) in &readings {
            for r in rs {
                shared.metrics.set_gpu(host, r);
            }
        }
        self.summary.faults += faults.len() as u64;
        for f in faults {
            shared.metrics.inc_faults(&f.kind, 1);
            shared.log_at(tape, Event::Fault { epoch, fault: f });
        }
        self.gpu_status = readings;
    }

    /// Logs and counts the envelope's clips and safe states.
    fn record_envelope(
        &mut self,
        epoch: u64,
        tape: chrono::DateTime<Utc>,
        enveloped: &crate::envelope::Enveloped,
    ) {
        let shared = &self.shared;
        self.summary.clips += enveloped.clips.len() as u64;
        for c in &enveloped.clips {
            shared.metrics.inc_clips(&c.reason, 1);
            shared.log_at(
                tape,
                Event::Clip {
                    epoch,
                    clip: c.clone(),
                },
            );
        }
        self.summary.safe_state_epochs += enveloped.safe_states.len() as u64;
        for e in &enveloped.safe_states {
            shared.log_at(
                tape,
                Event::SafeState {
                    epoch,
                    entry: e.clone(),
                },
            );
        }
    }

    /// Curtails every miner at once, whatever its site's arming: the one
    /// command the bridge sends unarmed, because it only sheds load.
    async fn emergency_stop(&mut self) {
        // A stop already carried out leaves its wake-up behind: nothing to do.
        let Some((actor, start)) = lock(&self.shared.estop_pending).take() else {
            return;
        };
        let limits = self.shared.limits();
        let epoch = self.shared.clock.current_epoch();
        let tape = self.shared.clock.now_utc();
        let commands: Vec<MinerCommand> = (0..self.fleet.miners.len())
            .map(|miner| MinerCommand {
                miner,
                command: Command::Curtail,
            })
            .collect();
        self.log_commands(epoch, tape, &commands, true);
        let _ = self.shared.sync();
        let before_failed = self.summary.commands_failed;
        let before_sent = self.summary.commands_sent;
        self.send(epoch, tape, &commands, &limits).await;
        let elapsed_s = start.elapsed().as_secs_f64();
        let failed =
            usize::try_from(self.summary.commands_failed - before_failed).unwrap_or(usize::MAX);
        let curtailed =
            usize::try_from(self.summary.commands_sent - before_sent).unwrap_or(usize::MAX);
        self.shared.log(Event::EmergencyStop {
            curtailed,
            failed,
            elapsed_s,
            within_s: limits.emergency_stop_within_s,
        });
        self.shared.log(Event::Operator {
            actor,
            act: "emergency_stop".into(),
            detail: format!("{curtailed} curtailed, {failed} did not answer, {elapsed_s:.2} s"),
            done: failed == 0,
        });
        let _ = self.shared.flush();
    }

    fn publish(
        &self,
        epoch: u64,
        o: &hcp_contract::Observation,
        power: &[SitePower],
        actions: &[hcp_contract::Action],
        trigger: Option<&Trigger>,
    ) {
        let shared = &self.shared;
        let now_s = shared.clock.now_s();
        shared
            .metrics
            .set_market(o.market.btc_usd, o.market.hashprice_usd_per_th_day);
        for (s, site) in o.sites.iter().enumerate() {
            let p = power[s];
            shared.metrics.set_site(
                site.id.as_str(),
                p.measured_mw,
                p.committed_mw,
                site.cap_mw,
                site.price_usd_per_mwh,
                p.hashrate_th,
            );
            let mut counts = [0_u32; 4];
            for cohort in self.fleet.cohorts.iter().filter(|c| c.site == s) {
                for i in cohort.miners.clone() {
                    let m = &self.fleet.miners[i];
                    let k = if m.quarantined_until.is_some() {
                        3
                    } else {
                        match m.health.health(now_s, self.fleet.stale_after_s) {
                            hcp_devices::health::Health::Fresh => 0,
                            hcp_devices::health::Health::Stale => 1,
                            hcp_devices::health::Health::Unknown => 2,
                        }
                    };
                    counts[k] += 1;
                }
            }
            for (k, name) in ["fresh", "stale", "unknown", "quarantined"]
                .iter()
                .enumerate()
            {
                shared
                    .metrics
                    .set_devices(site.id.as_str(), name, counts[k]);
            }
        }
        let states: Vec<serde_json::Value> = self
            .fleet
            .cohorts
            .iter()
            .map(|c| {
                let mut n = [0_u32; 4];
                for i in c.miners.clone() {
                    n[match self.fleet.miner_state(i, now_s) {
                        MinerState::On => 0,
                        MinerState::Curtailing => 1,
                        MinerState::Asleep => 2,
                        MinerState::Unresponsive => 3,
                    }] += 1;
                }
                serde_json::json!({"cohort": hcp_contract::CohortId::of(&c.spec.site, &c.spec.model, &c.spec.firmware), "on": n[0], "curtailing": n[1], "asleep": n[2], "unresponsive": n[3], "target_w": c.target_w})
            })
            .collect();
        *lock(&shared.status) = serde_json::json!({
            "epoch": epoch,
            "tape": o.utc,
            "observation": o,
            "decision": trigger.map(|t| serde_json::json!({"trigger": t, "actions": actions})),
            "sites": power,
            "cohorts": states,
            "gpus": self.gpu_status.iter().map(|(host, rs)| serde_json::json!({"host": host, "readings": rs})).collect::<Vec<_>>(),
            "summary": &self.summary,
        });
    }
}

fn trigger_name(t: &Trigger) -> &'static str {
    match t {
        Trigger::Interval => "interval",
        Trigger::GridNotice { .. } => "grid_notice",
        Trigger::PriceSpike { .. } => "price_spike",
        Trigger::QueueThreshold { .. } => "queue_threshold",
    }
}

/// p50, p99 and the largest of `xs`.
fn percentiles(xs: &mut [f64]) -> [f64; 3] {
    if xs.is_empty() {
        return [0.0; 3];
    }
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| {
        // An index within the slice.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = ((xs.len() - 1) as f64 * q).round() as usize;
        xs[i]
    };
    [at(0.5), at(0.99), xs[xs.len() - 1]]
}
