//! A sweep's Parquet dataset as a source, read from the files alone (as
//! `hcp report` does): the folder's catalogue (scenarios, policies, the
//! replications with detail tables) is listed at once, the sweep's summary
//! and each selected run are read on loader threads, so the window opens
//! at once and a new selection never freezes it. A run is one policy's
//! `intervals` of one replication with its `switches` and `clips`; an A/B
//! selection reads two policies of the same replication — the same world,
//! so every difference is the policy's doing.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use hcp_reports::dataset::{self, Catalog, RunDetail};
use hcp_scenarios::sweep::BASELINE;

use super::{DataSource, Store};
use crate::series::{Marker, MarkerKind, RunSeries, SiteTrack};
use crate::summary::SummaryView;

/// What is shown: a scenario's replication, policy A and optionally B.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Scenario name.
    pub scenario: String,
    /// Replication index.
    pub replication: u64,
    /// Policy A.
    pub a: String,
    /// Policy B, for an A/B comparison.
    pub b: Option<String>,
}

type Loaded = Result<(Vec<RunSeries>, Vec<String>), String>;

/// A sweep's output folder as a source.
pub struct DatasetSource {
    dir: PathBuf,
    /// The folder's scenarios, policies and detail replications.
    pub catalog: Catalog,
    /// What the user picked (what is loaded, or being loaded).
    pub selection: Selection,
    loaded: Option<Selection>,
    loading: Option<(Selection, Receiver<Loaded>)>,
    summary: Option<Receiver<Result<SummaryView, String>>>,
    opening_error: Option<String>,
}

impl DatasetSource {
    /// Opens a sweep's folder: lists it now, reads its summary and the
    /// default selection on loader threads. A folder that is not a sweep
    /// gives a source with nothing to show and the reason.
    pub fn open(dir: &Path) -> DatasetSource {
        let mut source = DatasetSource {
            dir: dir.to_path_buf(),
            catalog: Catalog {
                scenarios: Vec::new(),
            },
            selection: Selection::default(),
            loaded: None,
            loading: None,
            summary: None,
            opening_error: None,
        };
        match dataset::catalog(dir) {
            Err(e) => source.opening_error = Some(e.to_string()),
            Ok(catalog) => {
                source.catalog = catalog;
                match source.default_selection() {
                    Some(selection) => source.selection = selection,
                    None => {
                        source.opening_error = Some(format!(
                            "{}: no replication has an intervals file (the sweep ran with --no-intervals?): the summary is shown, the time series cannot be",
                            dir.display()
                        ));
                    }
                }
                let dir = dir.to_path_buf();
                let (tx, rx) = mpsc::channel();
                let spawned = std::thread::Builder::new()
                    .name("hcp-view-summary".into())
                    .spawn(move || {
                        let summary = dataset::load_runs(&dir)
                            .map(|data| SummaryView::of(&data))
                            .map_err(|e| e.to_string());
                        let _ = tx.send(summary);
                    });
                if spawned.is_ok() {
                    source.summary = Some(rx);
                }
            }
        }
        source
    }

    /// The first scenario with detail, its first non-baseline policy (or
    /// the baseline), and that policy's first detail replication.
    fn default_selection(&self) -> Option<Selection> {
        for scenario in &self.catalog.scenarios {
            let mut policies: Vec<&String> = scenario
                .policies
                .iter()
                .filter(|p| scenario.detail.get(*p).is_some_and(|r| !r.is_empty()))
                .collect();
            policies.sort_by_key(|p| p.as_str() == BASELINE);
            if let Some(a) = policies.first() {
                let replication = *scenario.detail[*a].iter().next()?;
                return Some(Selection {
                    scenario: scenario.name.clone(),
                    replication,
                    a: (*a).clone(),
                    b: None,
                });
            }
        }
        None
    }

    /// The policies of the selected scenario with detail for the selected
    /// replication.
    pub fn policies(&self) -> Vec<String> {
        self.catalog
            .scenarios
            .iter()
            .find(|s| s.name == self.selection.scenario)
            .map(|s| {
                s.policies
                    .iter()
                    .filter(|p| {
                        s.detail
                            .get(*p)
                            .is_some_and(|r| r.contains(&self.selection.replication))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The replications of the selected scenario with detail for policy A.
    pub fn replications(&self) -> Vec<u64> {
        self.catalog
            .scenarios
            .iter()
            .find(|s| s.name == self.selection.scenario)
            .and_then(|s| s.detail.get(&self.selection.a))
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The scenarios with detail.
    pub fn scenarios(&self) -> Vec<String> {
        self.catalog
            .scenarios
            .iter()
            .filter(|s| s.detail.values().any(|r| !r.is_empty()))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Changes the selection (loaded on the next poll); keeps it
    /// consistent: a scenario's change picks its default policy and
    /// replication, a policy without detail for the replication moves to
    /// its first one.
    pub fn select(&mut self, mut selection: Selection) {
        if selection.scenario != self.selection.scenario {
            let keep_b = selection.b.is_some();
            if let Some(default) = self.default_for(&selection.scenario) {
                selection = Selection {
                    b: if keep_b {
                        self.second_policy(&default)
                    } else {
                        None
                    },
                    ..default
                };
            }
        }
        self.selection = selection;
        let reps = self.replications();
        if !reps.contains(&self.selection.replication)
            && let Some(first) = reps.first()
        {
            self.selection.replication = *first;
        }
        let policies = self.policies();
        if let Some(b) = &self.selection.b
            && !policies.contains(b)
        {
            self.selection.b = None;
        }
    }

    fn default_for(&self, scenario: &str) -> Option<Selection> {
        let s = self.catalog.scenarios.iter().find(|s| s.name == scenario)?;
        let mut policies: Vec<&String> = s
            .policies
            .iter()
            .filter(|p| s.detail.get(*p).is_some_and(|r| !r.is_empty()))
            .collect();
        policies.sort_by_key(|p| p.as_str() == BASELINE);
        let a = policies.first()?;
        Some(Selection {
            scenario: scenario.to_owned(),
            replication: *s.detail[*a].iter().next()?,
            a: (*a).clone(),
            b: None,
        })
    }

    /// A policy other than A with detail on A's replication (for turning
    /// a comparison on): the baseline if A is not it.
    pub fn second_policy(&self, selection: &Selection) -> Option<String> {
        let s = self
            .catalog
            .scenarios
            .iter()
            .find(|s| s.name == selection.scenario)?;
        let has = |p: &String| {
            s.detail
                .get(p)
                .is_some_and(|r| r.contains(&selection.replication))
        };
        s.policies
            .iter()
            .filter(|p| **p != selection.a && has(p))
            .min_by_key(|p| p.as_str() != BASELINE)
            .cloned()
    }

    /// Whether a run is being read.
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    fn start_loading(&mut self) {
        let selection = self.selection.clone();
        let dir = self.dir.clone();
        let (tx, rx) = mpsc::channel();
        let job = selection.clone();
        let spawned = std::thread::Builder::new()
            .name("hcp-view-loader".into())
            .spawn(move || {
                let _ = tx.send(load(&dir, &job));
            });
        match spawned {
            Ok(_) => self.loading = Some((selection, rx)),
            Err(e) => self.opening_error = Some(format!("cannot start a loader thread: {e}")),
        }
    }
}

/// Reads the selected runs.
fn load(dir: &Path, selection: &Selection) -> Loaded {
    let mut runs = Vec::new();
    let mut notes = Vec::new();
    for policy in std::iter::once(&selection.a).chain(selection.b.as_ref()) {
        let detail = dataset::read_run(dir, &selection.scenario, policy, selection.replication)
            .map_err(|e| e.to_string())?;
        notes.extend(detail.notes.iter().cloned());
        runs.push(run_series(selection, policy, detail));
    }
    Ok((runs, notes))
}

/// One run's detail tables as a [`RunSeries`].
pub fn run_series(selection: &Selection, policy: &str, detail: RunDetail) -> RunSeries {
    let RunDetail {
        intervals,
        switches,
        clips,
        step_s,
        ..
    } = detail;
    let start_us = intervals
        .sites
        .first()
        .and_then(|s| s.time_us.first().copied())
        .unwrap_or(0);
    let step_us = step_s.map_or(300_000_000, |s| (s * 1e6).round() as i64);
    let mut run = RunSeries::new(
        policy,
        format!(
            "{policy} · {} · replication {}",
            selection.scenario, selection.replication
        ),
        start_us,
        step_us,
    );
    let mut grid_markers = Vec::new();
    for (s, site) in intervals.sites.into_iter().enumerate() {
        if let Some(events) = &site.grid_event {
            for (i, on) in events.iter().enumerate() {
                if *on && (i == 0 || !events[i - 1]) {
                    let end = events[i..].iter().take_while(|e| **e).count();
                    grid_markers.push(Marker {
                        time_us: site.time_us.get(i).copied().unwrap_or(start_us),
                        kind: MarkerKind::GridEvent,
                        site: Some(s),
                        text: format!(
                            "{}: grid event, {:.1} h",
                            site.name,
                            end as f64 * step_us as f64 / 3.6e9
                        ),
                    });
                }
            }
        }
        run.sites.push(SiteTrack {
            name: site.name,
            price: site.price,
            hashprice: site.hashprice,
            facility_mw: site.facility_mw,
            asic_mw: site.asic_mw,
            gpu_mw: site.gpu_mw,
            hashrate_phs: site.hashrate_phs,
            committed_mw: site.committed_mw,
            cap_mw: site.cap_mw,
            mining_usd: site.mining_usd,
            energy_usd: site.energy_usd,
        });
    }
    if let Some(by_use) = intervals.ai_use_usd {
        run.ai_usd = by_use;
    } else if let Some(total) = intervals.ai_usd {
        // Schema version 1 files: the plant's total only; shown as P1.
        run.ai_usd[0] = total;
    }
    run.queued_jobs = intervals.queued_jobs;
    let mut markers = spike_markers(&run);
    markers.extend(grid_markers);
    markers.extend(switches.into_iter().map(|w| Marker {
        time_us: w.time_us,
        kind: MarkerKind::GpuSwitch,
        site: usize::try_from(w.site).ok(),
        text: format!(
            "pool {} → {}: {} GPUs ({} cold), ready in {:.2} s",
            w.pool,
            w.to_use,
            w.gpus,
            w.cold,
            w.max_ms / 1e3
        ),
    }));
    markers.extend(clips.into_iter().map(|c| Marker {
        time_us: c.time_us,
        kind: MarkerKind::Clip,
        site: None,
        text: format!(
            "action {} clipped ({}): {} asked, {} applied",
            c.action,
            c.reason.replace('_', " "),
            short(c.requested),
            short(c.applied)
        ),
    }));
    markers.sort_by_key(|m| (m.time_us, m.kind));
    run.markers = markers;
    run.complete = true;
    run
}

fn short(v: f64) -> String {
    if v.abs() >= 1e4 {
        format!("{v:.3e}")
    } else {
        format!("{v:.1}")
    }
}

/// A marker where each site's price first reaches the spike threshold.
fn spike_markers(run: &RunSeries) -> Vec<Marker> {
    use crate::series::SPIKE_USD_PER_MWH;
    let mut out = Vec::new();
    for (s, site) in run.sites.iter().enumerate() {
        for (i, p) in site.price.iter().enumerate() {
            if *p >= SPIKE_USD_PER_MWH && (i == 0 || site.price[i - 1] < SPIKE_USD_PER_MWH) {
                let len = site.price[i..]
                    .iter()
                    .take_while(|p| **p >= SPIKE_USD_PER_MWH)
                    .count();
                let peak = site.price[i..i + len]
                    .iter()
                    .copied()
                    .fold(f64::MIN, f64::max);
                out.push(Marker {
                    time_us: run.time_of(i),
                    kind: MarkerKind::PriceSpike,
                    site: Some(s),
                    text: format!(
                        "{}: price spike, peak ${peak:.0}/MWh, {} intervals",
                        site.name, len
                    ),
                });
            }
        }
    }
    out
}

impl DataSource for DatasetSource {
    fn title(&self) -> String {
        let s = &self.selection;
        match &s.b {
            _ if s.scenario.is_empty() => format!("hcp view — {}", self.dir.display()),
            None => format!(
                "hcp view — {} · {} · replication {} · {}",
                self.dir.display(),
                s.scenario,
                s.replication,
                s.a
            ),
            Some(b) => format!(
                "hcp view — {} · {} · replication {} · {} vs {}",
                self.dir.display(),
                s.scenario,
                s.replication,
                s.a,
                b
            ),
        }
    }

    fn poll(&mut self, store: &mut Store) -> bool {
        let mut changed = false;
        if let Some(e) = self.opening_error.take() {
            store.fail(e);
            changed = true;
        }
        if let Some(rx) = &self.summary {
            match rx.try_recv() {
                Ok(Ok(summary)) => {
                    for s in &summary.scenarios {
                        for n in &s.notes {
                            if !store.notes.contains(n) {
                                store.notes.push(n.clone());
                            }
                        }
                    }
                    store.summary = Some(summary);
                    self.summary = None;
                    changed = true;
                }
                Ok(Err(e)) => {
                    store.notes.push(format!("summary not available: {e}"));
                    self.summary = None;
                    changed = true;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.summary = None,
            }
        }
        if self.scenarios().is_empty() {
            if changed {
                store.touch();
            }
            return changed;
        }
        let wanted = Some(&self.selection);
        let in_flight = self.loading.as_ref().map(|(s, _)| s);
        if self.loaded.as_ref() != wanted && in_flight != wanted {
            self.start_loading();
        }
        if let Some((selection, rx)) = &self.loading {
            match rx.try_recv() {
                Ok(result) => {
                    let selection = selection.clone();
                    self.loading = None;
                    if selection == self.selection {
                        match result {
                            Ok((runs, notes)) => {
                                store.runs = runs;
                                store.error = None;
                                for n in notes {
                                    if !store.notes.contains(&n) {
                                        store.notes.push(n);
                                    }
                                }
                            }
                            Err(e) => store.fail(e),
                        }
                        self.loaded = Some(selection);
                        changed = true;
                    }
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.loading = None;
                    store.fail("the loader thread stopped without an answer".to_owned());
                    changed = true;
                }
            }
        }
        if changed {
            store.touch();
        }
        changed
    }

    fn selector(&mut self) -> Option<&mut DatasetSource> {
        Some(self)
    }
}
