//! The audit log: append-only JSON lines of everything the bridge saw,
//! decided and did — observations, decisions, clips, safe states, commands
//! and their replies, faults and operator acts.
//!
//! Each run of the bridge opens a new segment `audit-NNNNNN.jsonl` in the
//! log's folder and starts another when a segment passes `rotate_bytes`,
//! so nothing is ever rewritten. [`AuditLog::sync`] writes the buffer
//! through to the disk; the control loop calls it before it sends a
//! command, so a command never goes out unlogged. Records hold no secret
//! by construction: operators appear by the name their token was issued
//! to, devices by address, errors in the drivers' words (which never
//! include a credential). Every line is also sent to the live stream.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hcp_contract::{Action, Observation, Occasion, Trigger};
use hcp_policies::{ForecasterConfig, PolicyConfig};
use serde::{Deserialize, Serialize};

use crate::envelope::{Clip, SafeStateEntry};
use crate::fleet::{Command, Fault};
use crate::operator::Actor;

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The bridge started: what it runs, in which mode.
    Start {
        /// The policy and its parameters.
        policy: PolicyConfig,
        /// The forecaster.
        forecaster: ForecasterConfig,
        /// The configuration file.
        config: String,
        /// Miners in all.
        miners: usize,
        /// Sites armed at start (by the command line's `--arm`).
        armed: Vec<String>,
        /// The bridge's version.
        version: String,
    },
    /// What the policy was shown at an occasion (before the loop writes
    /// the trigger and forecast).
    Observation {
        /// The epoch.
        epoch: u64,
        /// What happened.
        occasion: Occasion,
        /// The observation.
        observation: Box<Observation>,
    },
    /// What the policy asked.
    Decision {
        /// The epoch.
        epoch: u64,
        /// Why it was asked.
        trigger: Trigger,
        /// Its actions, as returned.
        actions: Vec<Action>,
        /// Observation build, policy and envelope, ms.
        decide_ms: f64,
    },
    /// Something asked and not done.
    Clip {
        /// The epoch.
        epoch: u64,
        /// The clip.
        #[serde(flatten)]
        clip: Clip,
    },
    /// A site sent to its safe state.
    SafeState {
        /// The epoch.
        epoch: u64,
        /// Which and why.
        #[serde(flatten)]
        entry: SafeStateEntry,
    },
    /// A command about to be sent (`sent`), or one shadow mode holds back.
    Command {
        /// The epoch.
        epoch: u64,
        /// The miner's address.
        device: String,
        /// The command.
        #[serde(flatten)]
        command: Command,
        /// False in shadow mode: logged, not sent.
        sent: bool,
    },
    /// A device's answer to a command.
    Reply {
        /// The epoch.
        epoch: u64,
        /// The miner's address.
        device: String,
        /// The command.
        #[serde(flatten)]
        command: Command,
        /// Acknowledged.
        ok: bool,
        /// The error, if not.
        error: Option<String>,
        /// Tries made.
        tries: u32,
        /// Wall ms from the first try to the answer.
        ms: f64,
    },
    /// A device or feed fault.
    Fault {
        /// The epoch.
        epoch: u64,
        /// What.
        fault: Fault,
    },
    /// An operator's act.
    Operator {
        /// Who.
        actor: Actor,
        /// `arm`, `disarm`, `emergency_stop`, `push_feed`, `change_limit`.
        act: String,
        /// Its details (sites, feed and value, limit and value) or why it
        /// was refused.
        detail: String,
        /// Whether it was done.
        done: bool,
    },
    /// An emergency stop finished.
    EmergencyStop {
        /// Miners acknowledged curtailed.
        curtailed: usize,
        /// Miners that did not acknowledge.
        failed: usize,
        /// Wall seconds it took.
        elapsed_s: f64,
        /// The limit it is held to.
        within_s: f64,
    },
    /// The bridge stopped.
    Stop {
        /// Why.
        reason: String,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Sequence number within the run.
    pub seq: u64,
    /// Wall time of writing.
    pub wall: DateTime<Utc>,
    /// Tape time of the event.
    pub tape: DateTime<Utc>,
    /// The event.
    pub event: Event,
}

/// An append-only, size-rotated JSON-lines log.
pub struct AuditLog {
    dir: PathBuf,
    rotate_bytes: u64,
    segment: u32,
    file: BufWriter<File>,
    written: u64,
    seq: u64,
    stream: tokio::sync::broadcast::Sender<Arc<str>>,
}

/// The segment file `n` in `dir`.
pub fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("audit-{n:06}.jsonl"))
}

/// The segments in `dir`, in order.
///
/// # Errors
/// The folder cannot be read.
pub fn segments(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("audit-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

impl AuditLog {
    /// Opens a new segment after the last one in `dir` (created if need
    /// be); every line also goes to `stream`.
    ///
    /// # Errors
    /// The folder or the file cannot be created.
    pub fn open(
        dir: &Path,
        rotate_bytes: u64,
        stream: tokio::sync::broadcast::Sender<Arc<str>>,
    ) -> std::io::Result<AuditLog> {
        std::fs::create_dir_all(dir)?;
        let last = segments(dir)?
            .last()
            .and_then(|p| {
                p.file_stem()?
                    .to_str()?
                    .strip_prefix("audit-")?
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        let segment = last + 1;
        let file = create(&segment_path(dir, segment))?;
        Ok(AuditLog {
            dir: dir.to_owned(),
            rotate_bytes,
            segment,
            file,
            written: 0,
            seq: 0,
            stream,
        })
    }

    /// Appends `event` at tape time `tape`.
    ///
    /// # Errors
    /// The write or a rotation fails.
    pub fn write(&mut self, tape: DateTime<Utc>, event: Event) -> std::io::Result<()> {
        let line = Line {
            seq: self.seq,
            wall: Utc::now(),
            tape,
            event,
        };
        let mut text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
        text.push('\n');
        let len = text.len() as u64;
        if self.written > 0 && self.written + len > self.rotate_bytes {
            self.flush()?;
            self.segment += 1;
            self.file = create(&segment_path(&self.dir, self.segment))?;
            self.written = 0;
        }
        self.file.write_all(text.as_bytes())?;
        self.written += len;
        self.seq += 1;
        // Nobody listening is fine.
        let _ = self.stream.send(Arc::from(text.trim_end()));
        Ok(())
    }

    /// Hands everything written to the operating system (it survives the
    /// bridge's own crash).
    ///
    /// # Errors
    /// The write fails.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }

    /// Writes everything through to the disk (it survives the machine's
    /// crash): called before any command is sent.
    ///
    /// # Errors
    /// The write or the sync fails.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }

    /// The segment being written.
    pub fn current_segment(&self) -> PathBuf {
        segment_path(&self.dir, self.segment)
    }
}

fn create(path: &Path) -> std::io::Result<BufWriter<File>> {
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(path)?;
    Ok(BufWriter::new(file))
}

/// Reads every line of the segments of `dir` (or of one file), in order.
///
/// # Errors
/// A file cannot be read, or a line is not a log line (named by file and
/// line number).
pub fn read(path: &Path) -> Result<Vec<Line>, String> {
    let files = if path.is_dir() {
        segments(path).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        vec![path.to_owned()]
    };
    if files.is_empty() {
        return Err(format!(
            "{}: no audit-NNNNNN.jsonl segment in it",
            path.display()
        ));
    }
    let mut lines = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for (n, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(l)
                .map_err(|e| format!("{}, line {}: {e}", file.display(), n + 1))?;
            lines.push(line);
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_rotate_by_size_and_read_back_in_order() {
        let dir = std::env::temp_dir().join(format!("hcp-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (tx, mut rx) = tokio::sync::broadcast::channel(128);
        let mut log = AuditLog::open(&dir, 4096, tx).unwrap();
        let t = Utc::now();
        for i in 0..100 {
            log.write(
                t,
                Event::Stop {
                    reason: format!("test {i:03} {}", "x".repeat(40)),
                },
            )
            .unwrap();
        }
        log.flush().unwrap();
        let files = segments(&dir).unwrap();
        assert!(files.len() >= 2, "{files:?}");
        assert!(
            files
                .iter()
                .all(|f| std::fs::metadata(f).unwrap().len() <= 4096)
        );
        let lines = read(&dir).unwrap();
        assert_eq!(lines.len(), 100);
        assert!(lines.iter().enumerate().all(|(i, l)| l.seq == i as u64));
        assert!(rx.try_recv().unwrap().contains("test 000"));
        // A second run opens a new segment after the last.
        let (tx, _) = tokio::sync::broadcast::channel(1);
        let again = AuditLog::open(&dir, 4096, tx).unwrap();
        assert_eq!(
            again.current_segment(),
            segment_path(&dir, u32::try_from(files.len()).unwrap() + 1)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
