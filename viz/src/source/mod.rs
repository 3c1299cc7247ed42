//! The data-source seam. A [`DataSource`] fills the [`Store`] — the runs
//! shown, the sweep's summary, and what went wrong — and the panels read
//! the store alone, so they never see whether the data came from a sweep's
//! Parquet files ([`dataset`]), a twin running on a worker thread
//! ([`live`]) or a bridge's live stream ([`bridge`]). Sources never block
//! the UI: their work runs on threads of their own and [`DataSource::poll`]
//! only moves what has arrived.

pub mod bridge;
pub mod dataset;
pub mod live;

use crate::series::RunSeries;
use crate::summary::SummaryView;

/// What the panels show.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// The runs: one, or two for an A/B comparison (A first).
    pub runs: Vec<RunSeries>,
    /// The sweep's summary, when the source is a sweep.
    pub summary: Option<SummaryView>,
    /// What is odd or missing, one sentence each (shown, never fatal).
    pub notes: Vec<String>,
    /// Why nothing (or not everything) can be shown, in plain words.
    pub error: Option<String>,
    /// Bumped on every change, so panels can cache what they draw.
    pub generation: u64,
}

impl Store {
    /// Marks the store changed.
    pub fn touch(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Sets the error (also written to stderr once).
    pub fn fail(&mut self, message: String) {
        if self.error.as_deref() != Some(message.as_str()) {
            eprintln!("hcp view: {message}");
            self.error = Some(message);
            self.touch();
        }
    }
}

/// A live source's commands (the live twin's; a bridge stream takes none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LiveCommand {
    /// Handle one engine event.
    StepEvent,
    /// Run to the end of the current market interval.
    StepInterval,
    /// Run until an instant, µs since 1970 (UTC).
    RunUntil(i64),
    /// Run continuously at this many simulated seconds per wall second
    /// (`f64::INFINITY`: as fast as possible).
    Play(f64),
    /// Stop running.
    Pause,
}

/// Where a live source stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    /// Simulated (or tape) time now, µs since 1970 (UTC).
    pub now_us: i64,
    /// Engine events handled (0 for a bridge).
    pub events: u64,
    /// Whether it is running on its own.
    pub running: bool,
    /// Whether the run is over (or the stream ended).
    pub finished: bool,
    /// One line on what it is doing.
    pub status: String,
}

/// What kind of source it is: how the time panel drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Every interval is there: the cursor plays over them.
    Dataset,
    /// A twin the viewer runs: play, step and jump drive the engine.
    LiveTwin,
    /// A bridge running on its own: the cursor follows it or stays put.
    Bridge,
}

/// A source of runs for the viewer.
pub trait DataSource {
    /// What is shown, in words (the window's title).
    fn title(&self) -> String;

    /// How the time panel drives it.
    fn kind(&self) -> SourceKind {
        SourceKind::Dataset
    }

    /// Moves what has arrived into `store`; returns whether anything changed.
    fn poll(&mut self, store: &mut Store) -> bool;

    /// Sends a command to a live source; ignored by the others.
    fn command(&mut self, command: LiveCommand) {
        let _ = command;
    }

    /// A live source's state; `None` for a dataset.
    fn live_state(&self) -> Option<LiveState> {
        None
    }

    /// The dataset's selector, when the source is a dataset.
    fn selector(&mut self) -> Option<&mut dataset::DatasetSource> {
        None
    }
}
