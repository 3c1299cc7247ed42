//! The safety envelope: what stands between a policy's actions and the
//! devices, and what no policy can override.
//!
//! [`plan`] turns the actions into miner commands (which miners resume or
//! curtail to reach a cohort's count, which get a new power target), then
//! [`Envelope::apply`] keeps every limit of the configuration's `[safety]`
//! table, in this order:
//!
//! 1. a site whose price is unknown or stale, or with more than
//!    `max_stale_share` of its miners stale, goes to its safe state (hold:
//!    nothing is sent; curtail: every miner is told to stop) and says why;
//! 2. a quarantined or stale miner gets no command;
//! 3. a miner that switched `max_switches_per_device_per_hour` times in the
//!    last hour, or a site whose miners did `max_switches_per_site_per_hour`,
//!    gets no more switches;
//! 4. increases of committed power (resumes, higher targets) are admitted
//!    in order while the site's facility power — judged on the larger of
//!    committed and measured, a miner that does not answer at its maximum
//!    draw — stays under its cap and the rise within the ramp limit; lower
//!    targets count at once, curtailments only once done, as in the twin;
//! 5. a site that would still stand over its cap once the commands are
//!    done — because miners do not answer and count at their maximum draw,
//!    or a miner came back from a reboot at stock power — sheds load: the
//!    envelope curtails running miners until it fits.
//!
//! Every command left out is a [`Clip`] with its reason, as the twin
//! records clips.

use hcp_contract::{Action, Observation};

use crate::config::{BridgeConfig, SafeState, SafetyLimits};
use crate::fleet::{Command, Fleet, MinerState};
use crate::observe::SitePower;

/// A command for one miner.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MinerCommand {
    /// The miner's index in the fleet.
    pub miner: usize,
    /// What it is told.
    #[serde(flatten)]
    pub command: Command,
}

/// Something asked that is not done, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clip {
    /// The action's index in the policy's list (`None`: the envelope's own).
    pub action: Option<usize>,
    /// The site, cohort or miner concerned.
    pub target: String,
    /// Why: `unknown_index`, `not_supported`, `stale_price`,
    /// `stale_telemetry`, `quarantined`, `switch_limit`, `power_cap`,
    /// `ramp_rate`, `not_enough_devices`, `power_target`.
    pub reason: String,
    /// What was asked (devices or W).
    pub asked: f64,
    /// What is done.
    pub applied: f64,
}

/// A site sent to its safe state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SafeStateEntry {
    /// The site.
    pub site: String,
    /// The safe state.
    pub state: SafeState,
    /// Why (`stale_price`, `stale_telemetry`).
    pub reason: String,
}

/// The commands a decision comes to, before the envelope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planned {
    /// Commands with the index of the action they serve.
    pub commands: Vec<(Option<usize>, MinerCommand)>,
    /// Actions refused while planning.
    pub clips: Vec<Clip>,
}

/// The commands a policy's actions come to: for each cohort, the miners
/// to resume (fewest switches first, then address order) or curtail (the
/// last in address order first) to reach the count asked, and a power
/// target for every commandable miner when it changes. Unknown cohorts and
/// actions the bridge does not drive are refused with a clip.
pub fn plan(actions: &[Action], fleet: &Fleet, now_s: f64) -> Planned {
    let mut out = Planned::default();
    for (k, action) in actions.iter().enumerate() {
        let Action::Asic {
            cohort,
            on,
            power_target_w,
        } = action
        else {
            out.clips.push(Clip {
                action: Some(k),
                target: action_target(action),
                reason: "not_supported".into(),
                asked: 0.0,
                applied: 0.0,
            });
            continue;
        };
        let Some(c) = fleet.cohorts.iter().position(|c| {
            hcp_contract::CohortId::of(&c.spec.site, &c.spec.model, &c.spec.firmware) == *cohort
        }) else {
            out.clips.push(Clip {
                action: Some(k),
                target: cohort.to_string(),
                reason: "unknown_index".into(),
                asked: f64::from(*on),
                applied: 0.0,
            });
            continue;
        };
        let spec = &fleet.cohorts[c];
        let miners: Vec<usize> = spec.miners.clone().collect();
        let usable: Vec<usize> = miners
            .iter()
            .copied()
            .filter(|&i| fleet.commandable(i, now_s))
            .collect();
        let is_on = |i: usize| fleet.miner_state(i, now_s) == MinerState::On;
        let on_now = usable.iter().filter(|&&i| is_on(i)).count();
        let want = *on as usize;
        if want > usable.len() {
            out.clips.push(Clip {
                action: Some(k),
                target: cohort.to_string(),
                reason: "not_enough_devices".into(),
                asked: f64::from(*on),
                applied: usable.len() as f64,
            });
        }
        let want = want.min(usable.len());
        if let Some(w) = power_target_w {
            plan_target(k, cohort, &fleet.cohorts[c], &usable, *w, fleet, &mut out);
        }
        if want > on_now {
            let mut off: Vec<usize> = usable.iter().copied().filter(|&i| !is_on(i)).collect();
            off.sort_by_key(|&i| (fleet.miners[i].switches.len(), i));
            for &i in off.iter().take(want - on_now) {
                out.commands.push((
                    Some(k),
                    MinerCommand {
                        miner: i,
                        command: Command::Resume,
                    },
                ));
            }
        } else if want < on_now {
            let on: Vec<usize> = usable.iter().copied().filter(|&i| is_on(i)).collect();
            for &i in on.iter().rev().take(on_now - want) {
                out.commands.push((
                    Some(k),
                    MinerCommand {
                        miner: i,
                        command: Command::Curtail,
                    },
                ));
            }
        }
    }
    out
}

/// The power-target commands for one cohort's action `k`: `w` clamped
/// into the firmware's range (a clip when it had to be), sent to every
/// usable miner whose target differs.
fn plan_target(
    k: usize,
    cohort: &hcp_contract::CohortId,
    spec: &crate::fleet::Cohort,
    usable: &[usize],
    w: f64,
    fleet: &Fleet,
    out: &mut Planned,
) {
    let (lo, hi) = if spec.spec.supports_power_target {
        (spec.spec.curve.min_power_w, spec.spec.curve.max_power_w)
    } else {
        (spec.spec.curve.stock_power_w, spec.spec.curve.stock_power_w)
    };
    let w = if w.is_finite() { w } else { spec.target_w };
    let clamped = w.clamp(lo, hi);
    if (clamped - w).abs() > 1e-9 {
        out.clips.push(Clip {
            action: Some(k),
            target: cohort.to_string(),
            reason: "power_target".into(),
            asked: w,
            applied: clamped,
        });
    }
    if spec.spec.supports_power_target {
        for &i in usable {
            let current = fleet.miners[i]
                .commanded
                .map_or(spec.target_w, |c| c.target_w);
            if (current - clamped).abs() > 0.5 {
                out.commands.push((
                    Some(k),
                    MinerCommand {
                        miner: i,
                        command: Command::PowerTarget { watts: clamped },
                    },
                ));
            }
        }
    }
}

fn action_target(action: &Action) -> String {
    match action {
        Action::Asic { cohort, .. } => cohort.to_string(),
        Action::Gpu { pool, .. } => pool.to_string(),
        Action::Admission { class, .. } => format!("{class:?}"),
        Action::DemandResponse { event, site, .. } => format!("{site} event {event}"),
        Action::Ancillary { site, service, .. } => format!("{site} {service}"),
    }
}

/// What the envelope lets through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enveloped {
    /// Commands to send, in order.
    pub commands: Vec<MinerCommand>,
    /// Everything left out, with its reason.
    pub clips: Vec<Clip>,
    /// Sites sent to their safe state.
    pub safe_states: Vec<SafeStateEntry>,
}

/// The envelope of one epoch.
pub struct Envelope<'a> {
    /// The configuration (sites, caps, safe states).
    pub config: &'a BridgeConfig,
    /// The limits in force (an admin may have changed them).
    pub limits: &'a SafetyLimits,
}

impl Envelope<'_> {
    /// Keeps every limit over `planned` for the fleet as observed.
    pub fn apply(
        &self,
        planned: Planned,
        observation: &Observation,
        power: &[SitePower],
        fleet: &Fleet,
        now_s: f64,
    ) -> Enveloped {
        let mut out = Enveloped {
            clips: planned.clips,
            ..Enveloped::default()
        };
        let sites = &self.config.sites;
        // 1. Safe states.
        let safe = self.safe_states(observation, power, &mut out.safe_states);
        let site_of = |i: usize| fleet.cohorts[fleet.miners[i].cohort].site;
        let mut commands: Vec<(Option<usize>, MinerCommand)> = Vec::new();
        for (k, c) in planned.commands {
            let s = site_of(c.miner);
            if safe[s].is_some() {
                let reason = out
                    .safe_states
                    .iter()
                    .find(|e| e.site == sites[s].id)
                    .map_or("stale_price", |e| e.reason.as_str());
                out.clips.push(clip(k, fleet, c, reason));
            } else {
                commands.push((k, c));
            }
        }
        commands.extend(safe_curtailments(&safe, fleet, now_s));
        // 2.–4. Per miner and per site.
        let interval_min = observation.interval_s / 60.0;
        let mut site_switches: Vec<u32> = (0..sites.len())
            .map(|s| {
                fleet
                    .cohorts
                    .iter()
                    .filter(|c| c.site == s)
                    .flat_map(|c| c.miners.clone())
                    .map(|i| recent_switches(fleet, i, now_s))
                    .sum()
            })
            .collect();
        let mut committed: Vec<f64> = power
            .iter()
            .map(|p| p.committed_mw.max(p.measured_mw))
            .collect();
        let mut risen = vec![0.0_f64; sites.len()];
        let mut device_switches: std::collections::BTreeMap<usize, u32> =
            std::collections::BTreeMap::new();
        // Reductions first: lower targets free power at once.
        commands.sort_by_key(|(_, c)| match c.command {
            Command::Curtail => 0,
            Command::PowerTarget { .. } => 1,
            Command::Resume => 2,
        });
        let mut pending_target = std::collections::BTreeMap::new();
        for (k, c) in commands {
            let s = site_of(c.miner);
            let safe_curtail = k.is_none();
            if !fleet.commandable(c.miner, now_s) {
                out.clips.push(clip(k, fleet, c, "quarantined"));
                continue;
            }
            if c.command.is_switch() && !safe_curtail {
                let n = *device_switches
                    .entry(c.miner)
                    .or_insert_with(|| recent_switches(fleet, c.miner, now_s));
                if n >= self.limits.max_switches_per_device_per_hour
                    || site_switches[s] >= self.limits.max_switches_per_site_per_hour
                {
                    out.clips.push(clip(k, fleet, c, "switch_limit"));
                    continue;
                }
            }
            let delta_mw = self.delta_mw(fleet, c, now_s, &pending_target);
            if delta_mw > 0.0 {
                if committed[s] + delta_mw > sites[s].cap_mw + 1e-9 {
                    out.clips.push(clip(k, fleet, c, "power_cap"));
                    continue;
                }
                if risen[s] + delta_mw > self.limits.max_ramp_up_mw_per_min * interval_min + 1e-9 {
                    out.clips.push(clip(k, fleet, c, "ramp_rate"));
                    continue;
                }
                committed[s] += delta_mw;
                risen[s] += delta_mw;
            } else if matches!(c.command, Command::PowerTarget { .. }) {
                committed[s] += delta_mw;
            }
            if c.command.is_switch() {
                *device_switches.entry(c.miner).or_default() += 1;
                site_switches[s] += 1;
            }
            if let Command::PowerTarget { watts } = c.command {
                pending_target.insert(c.miner, watts);
            }
            out.commands.push(c);
        }
        self.shed_over_cap(&mut out, &committed, fleet, now_s);
        out
    }

    /// Step 5: a site that would still stand over its cap once this
    /// epoch's commands are done (miners that do not answer count at their
    /// maximum draw) sheds load: the envelope curtails running miners, the
    /// last in address order first, until it fits, whatever the policy
    /// asked.
    fn shed_over_cap(&self, out: &mut Enveloped, committed: &[f64], fleet: &Fleet, now_s: f64) {
        let curtail_mw = |i: usize| {
            let cohort = &fleet.cohorts[fleet.miners[i].cohort];
            let (now_w, _) = fleet.miner_power_w(i, now_s);
            (now_w - cohort.spec.standby_w) * self.config.sites[cohort.site].pue / 1e6
        };
        for (s, site) in self.config.sites.iter().enumerate() {
            let curtailing: Vec<usize> = out
                .commands
                .iter()
                .filter(|c| c.command == Command::Curtail)
                .map(|c| c.miner)
                .collect();
            let mut projected = committed[s]
                - curtailing
                    .iter()
                    .filter(|&&i| fleet.cohorts[fleet.miners[i].cohort].site == s)
                    .map(|&i| curtail_mw(i))
                    .sum::<f64>();
            if projected <= site.cap_mw + 1e-9 {
                continue;
            }
            let mut running: Vec<usize> = fleet
                .cohorts
                .iter()
                .filter(|c| c.site == s)
                .flat_map(|c| c.miners.clone())
                .filter(|&i| {
                    fleet.commandable(i, now_s)
                        && fleet.miner_state(i, now_s) == MinerState::On
                        && !curtailing.contains(&i)
                })
                .collect();
            running.reverse();
            for i in running {
                if projected <= site.cap_mw + 1e-9 {
                    break;
                }
                projected -= curtail_mw(i);
                out.commands.push(MinerCommand {
                    miner: i,
                    command: Command::Curtail,
                });
            }
            out.safe_states.push(SafeStateEntry {
                site: site.id.clone(),
                state: SafeState::CurtailMiners,
                reason: "over_cap".into(),
            });
        }
    }

    /// Each site's safe state, if its price or telemetry is stale.
    fn safe_states(
        &self,
        observation: &Observation,
        power: &[SitePower],
        entries: &mut Vec<SafeStateEntry>,
    ) -> Vec<Option<SafeState>> {
        let sites = &self.config.sites;
        let mut safe: Vec<Option<SafeState>> = vec![None; sites.len()];
        for (s, site) in sites.iter().enumerate() {
            let price_known = observation
                .sites
                .get(s)
                .is_some_and(|v| v.price_usd_per_mwh.is_some());
            let p = power[s];
            let stale_share = if p.miners == 0 {
                0.0
            } else {
                f64::from(p.unresponsive) / f64::from(p.miners)
            };
            let reason = if !price_known {
                Some("stale_price")
            } else if stale_share > self.limits.max_stale_share {
                Some("stale_telemetry")
            } else {
                None
            };
            if let Some(reason) = reason {
                safe[s] = Some(site.safe_state);
                entries.push(SafeStateEntry {
                    site: site.id.clone(),
                    state: site.safe_state,
                    reason: reason.into(),
                });
            }
        }
        safe
    }

    /// The change of committed facility power `c` brings, MW (a curtail
    /// counts only once done, so 0 now).
    fn delta_mw(
        &self,
        fleet: &Fleet,
        c: MinerCommand,
        now_s: f64,
        pending_target: &std::collections::BTreeMap<usize, f64>,
    ) -> f64 {
        let m = &fleet.miners[c.miner];
        let cohort = &fleet.cohorts[m.cohort];
        let pue = self.config.sites[cohort.site].pue;
        // What the miner commits now (its target or more, if it draws
        // more), and the target it runs at once this epoch's commands are
        // done.
        let (now_w, _) = fleet.miner_power_w(c.miner, now_s);
        let target = pending_target
            .get(&c.miner)
            .copied()
            .unwrap_or_else(|| m.commanded.map_or(cohort.target_w, |x| x.target_w));
        let it_w = match c.command {
            Command::Curtail => 0.0,
            Command::Resume => target - now_w,
            Command::PowerTarget { watts } => match fleet.miner_state(c.miner, now_s) {
                MinerState::On | MinerState::Curtailing => watts - now_w,
                _ => 0.0,
            },
        };
        it_w * pue / 1e6
    }
}

/// Curtail commands for every running miner of the sites whose safe
/// state is to curtail.
fn safe_curtailments(
    safe: &[Option<SafeState>],
    fleet: &Fleet,
    now_s: f64,
) -> Vec<(Option<usize>, MinerCommand)> {
    let mut commands = Vec::new();
    for (s, state) in safe.iter().enumerate() {
        if *state == Some(SafeState::CurtailMiners) {
            for cohort in fleet.cohorts.iter().filter(|c| c.site == s) {
                for i in cohort.miners.clone() {
                    if fleet.commandable(i, now_s)
                        && matches!(fleet.miner_state(i, now_s), MinerState::On)
                    {
                        commands.push((
                            None,
                            MinerCommand {
                                miner: i,
                                command: Command::Curtail,
                            },
                        ));
                    }
                }
            }
        }
    }
    commands
}

fn recent_switches(fleet: &Fleet, i: usize, now_s: f64) -> u32 {
    let n = fleet.miners[i]
        .switches
        .iter()
        .filter(|&&t| now_s - t < 3600.0)
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn clip(action: Option<usize>, fleet: &Fleet, c: MinerCommand, reason: &str) -> Clip {
    let asked = match c.command {
        Command::PowerTarget { watts } => watts,
        _ => 1.0,
    };
    Clip {
        action,
        target: fleet.miners[c.miner].address.to_string(),
        reason: reason.into(),
        asked,
        applied: 0.0,
    }
}
