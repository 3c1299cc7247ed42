//! Loading scenarios: from a TOML file ([`load`]) or by built-in name
//! ([`builtin`]), into a [`LoadedScenario`] that knows where it came from,
//! where its relative paths point and its stable hash.
//!
//! A file overrides the reference scenario key by key: its tables are laid
//! over the reference's (a file that sets `world.market.start.btc_usd` keeps
//! every other market value), while an array (`plant.sites`,
//! `world.replay.prices`, `world.market.gpu`…) replaces the reference's
//! whole. TOML datetimes and RFC 3339 strings are both accepted for
//! `world.start`. Every error names the file, the key path and the problem.

use std::path::{Path, PathBuf};

use hcp_models::data::default_data_dir;
use hcp_models::twin::{TwinError, TwinSetup};

use crate::scenario::Scenario;

/// The built-in scenarios: name and TOML text.
const BUILTINS: [(&str, &str); 6] = [
    ("reference", include_str!("../builtin/reference.toml")),
    (
        "ercot-2021-uri",
        include_str!("../builtin/ercot-2021-uri.toml"),
    ),
    ("halving", include_str!("../builtin/halving.toml")),
    ("ai-boom", include_str!("../builtin/ai-boom.toml")),
    ("bear-market", include_str!("../builtin/bear-market.toml")),
    ("design-scale", include_str!("../builtin/design-scale.toml")),
];

const BUILTIN_NAMES: [&str; 6] = [
    BUILTINS[0].0,
    BUILTINS[1].0,
    BUILTINS[2].0,
    BUILTINS[3].0,
    BUILTINS[4].0,
    BUILTINS[5].0,
];

/// Why a scenario cannot be loaded or prepared. Every message starts with
/// the file (or `builtin:NAME`).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error("{file}: line {line}, column {column}: TOML syntax error: {problem}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the parser expected.
        problem: String,
    },
    /// A key is unknown or has the wrong type or an impossible value.
    #[error("{file}: {key}: {problem}")]
    Key {
        /// The file.
        file: String,
        /// Key path, e.g. `plant.sites[0].asics[1].count`.
        key: String,
        /// A plain sentence.
        problem: String,
    },
    /// No built-in scenario has this name.
    #[error("no built-in scenario is called '{name}'; the built-ins are {}", BUILTIN_NAMES.join(", "))]
    UnknownBuiltin {
        /// The name asked for.
        name: String,
    },
    /// The world or plant section fails its checks (key path inside).
    #[error("{file}: {source}")]
    Setup {
        /// The file.
        file: String,
        /// The world's or plant's error (boxed: it is large).
        source: Box<TwinError>,
    },
    /// A sweep of the scenario would not fit in memory
    /// ([`crate::memory::check`]): the estimate and its parts, the limit,
    /// the biggest part and what to change.
    #[error("{file}: {}", crate::memory::refusal(estimate, *limit))]
    Memory {
        /// The file.
        file: String,
        /// The estimate.
        estimate: Box<crate::memory::MemoryEstimate>,
        /// The limit, bytes.
        limit: u64,
    },
}

/// A parsed scenario with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedScenario {
    /// The scenario, every key filled in.
    pub scenario: Scenario,
    /// Folder relative replay paths resolve against: the file's folder, or
    /// the repository's `data/` for a built-in.
    pub base_dir: PathBuf,
    /// The file path, or `builtin:NAME`.
    pub source: String,
    /// 16 hex digits: 64-bit FNV-1a of the canonical TOML text of the
    /// scenario (every key, defaults included), stable across runs and
    /// machines.
    pub hash: String,
}

impl LoadedScenario {
    /// Checks the world and plant together and loads the replayed series
    /// ([`TwinSetup::prepare`]); no tape is generated.
    ///
    /// # Errors
    /// A site at a node without price parameters (`plant.sites[i].node`),
    /// any [`TwinError`], each prefixed with the scenario's file.
    pub fn prepare(&self) -> Result<TwinSetup, ScenarioError> {
        let world = &self.scenario.world;
        for (i, site) in self.scenario.plant.sites.iter().enumerate() {
            if !world.grid.nodes.contains_key(&site.node) {
                let known: Vec<&str> = world.grid.nodes.keys().map(String::as_str).collect();
                return Err(self.key_error(
                    &format!("plant.sites[{i}].node"),
                    format!(
                        "no price parameters for node '{}' (known: {})",
                        site.node,
                        known.join(", ")
                    ),
                ));
            }
        }
        TwinSetup::prepare(world.clone(), self.scenario.plant.clone(), &self.base_dir).map_err(
            |source| ScenarioError::Setup {
                file: self.source.clone(),
                source: Box::new(source),
            },
        )
    }

    /// The canonical TOML text the hash is taken of.
    ///
    /// # Errors
    /// A value TOML cannot hold (never for a scenario that loaded).
    pub fn canonical_toml(&self) -> Result<String, ScenarioError> {
        canonical(&self.scenario, &self.source)
    }

    fn key_error(&self, key: &str, problem: String) -> ScenarioError {
        ScenarioError::Key {
            file: self.source.clone(),
            key: key.to_owned(),
            problem,
        }
    }
}

/// Loads a scenario file; relative replay paths resolve against its folder.
///
/// # Errors
/// An unreadable file, TOML syntax (line and column), an unknown key or a
/// wrong type (key path).
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), &e, &file))?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    parse(&text, file, base_dir)
}

/// Loads a built-in scenario; its replay paths resolve against the
/// repository's `data/`.
///
/// # Errors
/// An unknown name (the message lists the built-ins).
pub fn builtin(name: &str) -> Result<LoadedScenario, ScenarioError> {
    let (_, text) =
        BUILTINS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError::UnknownBuiltin {
                name: name.to_owned(),
            })?;
    parse(text, format!("builtin:{name}"), default_data_dir())
}

/// The built-in scenarios' names, the reference first.
pub fn builtin_names() -> &'static [&'static str] {
    &BUILTIN_NAMES
}

/// The TOML text of a built-in scenario.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Parses scenario text from `source`, laid over the reference scenario.
///
/// # Errors
/// TOML syntax (line and column), an unknown key or a wrong type (key path).
pub fn parse(
    text: &str,
    source: String,
    base_dir: PathBuf,
) -> Result<LoadedScenario, ScenarioError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, &source, &e))?;
    let mut merged =
        toml::Table::try_from(Scenario::default()).map_err(|e| ScenarioError::Key {
            file: source.clone(),
            key: "(reference scenario)".into(),
            problem: e.to_string(),
        })?;
    overlay(&mut merged, doc);
    if let Some((key, x)) = non_finite_in(&merged, &mut String::new()) {
        return Err(ScenarioError::Key {
            file: source,
            key,
            problem: format!("{x} is not a finite number"),
        });
    }
    let scenario: Scenario =
        serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
            let key = e.path().to_string();
            let mut problem = e.into_inner().message().to_owned();
            if key == "world.start" {
                problem.push_str(" (write a UTC time such as 2021-02-01T06:00:00Z)");
            }
            ScenarioError::Key {
                file: source.clone(),
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                problem,
            }
        })?;
    let hash = format!(
        "{:016x}",
        fnv1a64(canonical(&scenario, &source)?.as_bytes())
    );
    Ok(LoadedScenario {
        scenario,
        base_dir,
        source,
        hash,
    })
}

/// Lays `top` over `base`: tables merge key by key, anything else
/// (scalars, arrays, a table over a scalar) replaces.
fn overlay(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        let value = datetimes_as_text(value);
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => overlay(b, t),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// TOML datetimes become RFC 3339 text, the form the world's `start` reads.
fn datetimes_as_text(value: toml::Value) -> toml::Value {
    match value {
        toml::Value::Datetime(d) => toml::Value::String(d.to_string()),
        toml::Value::Array(items) => {
            toml::Value::Array(items.into_iter().map(datetimes_as_text).collect())
        }
        toml::Value::Table(table) => toml::Value::Table(
            table
                .into_iter()
                .map(|(k, v)| (k, datetimes_as_text(v)))
                .collect(),
        ),
        other => other,
    }
}

fn canonical(scenario: &Scenario, source: &str) -> Result<String, ScenarioError> {
    toml::to_string(scenario).map_err(|e| ScenarioError::Key {
        file: source.to_owned(),
        key: "(top level)".into(),
        problem: format!("the scenario cannot be written as TOML: {e}"),
    })
}

/// The 1-based line and column just after `before` (the text up to a
/// position).
fn line_column(before: &str) -> (usize, usize) {
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A file that is not UTF-8: a syntax error at the first bad byte.
fn not_utf8(bytes: &[u8], e: &std::string::FromUtf8Error, source: &str) -> ScenarioError {
    let at = e.utf8_error().valid_up_to();
    // The text before the bad byte is valid UTF-8 by definition.
    let (line, column) = line_column(std::str::from_utf8(&bytes[..at]).unwrap_or_default());
    ScenarioError::Syntax {
        file: source.to_owned(),
        line,
        column,
        problem: format!(
            "the file is not UTF-8 text (byte 0x{:02x}); save it as UTF-8",
            bytes.get(at).copied().unwrap_or_default()
        ),
    }
}

/// Refuses NaN and infinite numbers anywhere in the document (TOML writes
/// them `nan`, `inf`, `-inf`): no value of a scenario may be non-finite,
/// and one that slipped through a range check would poison a run.
fn non_finite(value: &toml::Value, key: &mut String) -> Option<(String, f64)> {
    match value {
        toml::Value::Float(x) if !x.is_finite() => Some((key.clone(), *x)),
        toml::Value::Table(table) => non_finite_in(table, key),
        toml::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = key.len();
            let _ = std::fmt::Write::write_fmt(key, format_args!("[{i}]"));
            let found = non_finite(v, key);
            key.truncate(len);
            found
        }),
        _ => None,
    }
}

fn non_finite_in(table: &toml::Table, key: &mut String) -> Option<(String, f64)> {
    table.iter().find_map(|(k, v)| {
        let len = key.len();
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(k);
        let found = non_finite(v, key);
        key.truncate(len);
        found
    })
}

fn syntax_error(text: &str, source: &str, e: &toml::de::Error) -> ScenarioError {
    let offset = e.span().map_or(0, |span| span.start.min(text.len()));
    let (line, column) = line_column(text.get(..offset).unwrap_or(text));
    ScenarioError::Syntax {
        file: source.to_owned(),
        line,
        column,
        problem: e.message().trim().to_owned(),
    }
}

/// 64-bit FNV-1a.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
