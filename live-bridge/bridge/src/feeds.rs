//! Market feeds: where spot prices, the BTC price and hashprice (or its
//! inputs) come from, and how old each reading is.
//!
//! A [`Feed`] is a replay of a CSV series on the bridge's tape time (a demo
//! needs no network), a JSON endpoint polled in the background, values
//! pushed through the operator API, or a constant. Every reading carries
//! the instant it was true; [`Feed::sample`] gives the value with its age,
//! and `None` when there is none or it is older than the feed's limit —
//! the observation then says the value is unknown, never a guess.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::config::FeedConfig;

/// One reading of a feed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reading {
    /// The value, in the feed's unit.
    pub value: f64,
    /// When it was true.
    pub at: DateTime<Utc>,
}

/// A feed's value at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value (`None`: no reading, or one older than the limit).
    pub value: Option<f64>,
    /// Age of the last reading, seconds (infinite when there is none).
    pub age_s: f64,
}

/// A feed that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The replay file cannot be read or parsed.
    #[error("{file}: {problem}")]
    File {
        /// The file.
        file: String,
        /// What is wrong (line and column named).
        problem: String,
    },
    /// The endpoint did not answer at start.
    #[error("feed {url}: {problem}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What happened.
        problem: String,
    },
}

/// Values pushed through the operator API, by feed name.
#[derive(Debug, Clone, Default)]
pub struct PushBoard {
    values: Arc<Mutex<BTreeMap<String, Reading>>>,
    names: Arc<Mutex<Vec<String>>>,
}

impl PushBoard {
    /// Declares a feed name that may be pushed to.
    pub fn declare(&self, name: &str) {
        if let Ok(mut names) = self.names.lock()
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }

    /// Records a pushed value.
    ///
    /// # Errors
    /// An undeclared name or a non-finite value, as a sentence.
    pub fn push(&self, name: &str, reading: Reading) -> Result<(), String> {
        let known = self.names.lock().is_ok_and(|n| n.iter().any(|x| x == name));
        if !known {
            return Err(format!(
                "no feed takes pushed values under the name '{name}'"
            ));
        }
        if !reading.value.is_finite() {
            return Err(format!(
                "feed '{name}': {} is not a finite number",
                reading.value
            ));
        }
        if let Ok(mut v) = self.values.lock() {
            v.insert(name.to_owned(), reading);
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<Reading> {
        self.values.lock().ok()?.get(name).copied()
    }
}

/// One feed, ready to sample.
#[derive(Debug, Clone)]
pub enum Feed {
    /// A series replayed on tape time.
    Replay {
        /// Rows sorted by time.
        rows: Arc<Vec<Reading>>,
        /// Oldest usable reading, s.
        max_age_s: f64,
    },
    /// The last value a background poller fetched.
    Http {
        /// The last reading.
        last: Arc<Mutex<Option<Reading>>>,
        /// Oldest usable reading, s.
        max_age_s: f64,
    },
    /// The last value pushed under `name`.
    Push {
        /// The board.
        board: PushBoard,
        /// The name.
        name: String,
        /// Oldest usable reading, s.
        max_age_s: f64,
    },
    /// A constant.
    Fixed(f64),
}

impl Feed {
    /// Sets up the feed `config` describes: loads a replay, fetches an
    /// endpoint once (an unreachable feed at start is an error) and starts
    /// its poller, declares a pushed name.
    ///
    /// # Errors
    /// [`FeedError`] naming the file or URL.
    pub async fn open(config: &FeedConfig, board: &PushBoard) -> Result<Feed, FeedError> {
        Ok(match config {
            FeedConfig::Replay {
                file,
                time_column,
                value_column,
                timezone,
                max_age_s,
            } => Feed::Replay {
                rows: Arc::new(load_series(
                    file,
                    time_column,
                    value_column,
                    timezone.as_deref(),
                )?),
                max_age_s: *max_age_s,
            },
            FeedConfig::Http {
                url,
                pointer,
                time_pointer,
                every_s,
                max_age_s,
            } => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| FeedError::Unreachable {
                        url: url.clone(),
                        problem: e.to_string(),
                    })?;
                let first = fetch(&client, url, pointer, time_pointer.as_deref())
                    .await
                    .map_err(|problem| FeedError::Unreachable {
                        url: url.clone(),
                        problem,
                    })?;
                let last = Arc::new(Mutex::new(Some(first)));
                let poller = Arc::clone(&last);
                let (url, pointer, time_pointer) =
                    (url.clone(), pointer.clone(), time_pointer.clone());
                let every = Duration::from_secs_f64(every_s.max(0.1));
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        // A failed poll keeps the last reading, which ages.
                        if let Ok(r) = fetch(&client, &url, &pointer, time_pointer.as_deref()).await
                            && let Ok(mut l) = poller.lock()
                        {
                            *l = Some(r);
                        }
                        if Arc::strong_count(&poller) == 1 {
                            break;
                        }
                    }
                });
                Feed::Http {
                    last,
                    max_age_s: *max_age_s,
                }
            }
            FeedConfig::Push { name, max_age_s } => {
                board.declare(name);
                Feed::Push {
                    board: board.clone(),
                    name: name.clone(),
                    max_age_s: *max_age_s,
                }
            }
            FeedConfig::Fixed { value } => Feed::Fixed(*value),
        })
    }

    /// The value at tape instant `now` (for replays) or wall instant `now`
    /// (for polled and pushed values), with its age.
    pub fn sample(&self, now: DateTime<Utc>) -> Sample {
        let (reading, max_age_s) = match self {
            Feed::Fixed(v) => {
                return Sample {
                    value: Some(*v),
                    age_s: 0.0,
                };
            }
            Feed::Replay { rows, max_age_s } => {
                let i = rows.partition_point(|r| r.at <= now);
                (i.checked_sub(1).map(|i| rows[i]), *max_age_s)
            }
            Feed::Http { last, max_age_s } => (last.lock().ok().and_then(|l| *l), *max_age_s),
            Feed::Push {
                board,
                name,
                max_age_s,
            } => (board.get(name), *max_age_s),
        };
        match reading {
            None => Sample {
                value: None,
                age_s: f64::INFINITY,
            },
            Some(r) => {
                let age_s = (now - r.at).as_seconds_f64().max(0.0);
                Sample {
                    value: (age_s <= max_age_s).then_some(r.value),
                    age_s,
                }
            }
        }
    }
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    pointer: &str,
    time_pointer: Option<&str>,
) -> Result<Reading, String> {
    let reply = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = reply.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let doc: serde_json::Value = reply.json().await.map_err(|e| format!("not JSON: {e}"))?;
    reading_from_json(&doc, pointer, time_pointer, Utc::now())
}

/// The reading at `pointer` (and its time at `time_pointer`, else
/// `fetched`) in a JSON document.
///
/// # Errors
/// A missing or non-numeric value, or an unreadable time, as a sentence.
pub fn reading_from_json(
    doc: &serde_json::Value,
    pointer: &str,
    time_pointer: Option<&str>,
    fetched: DateTime<Utc>,
) -> Result<Reading, String> {
    let raw = doc
        .pointer(pointer)
        .ok_or_else(|| format!("nothing at {pointer}"))?;
    let value = match raw {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
    .ok_or_else(|| format!("{pointer} is not a finite number: {raw}"))?;
    let at = match time_pointer {
        None => fetched,
        Some(p) => {
            let t = doc
                .pointer(p)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| format!("no time string at {p}"))?;
            DateTime::parse_from_rfc3339(t)
                .map_err(|e| format!("{p}: '{t}' is not an RFC 3339 time: {e}"))?
                .to_utc()
        }
    };
    Ok(Reading { value, at })
}

/// Reads `(time, value)` rows from a CSV file, sorted by time.
///
/// # Errors
/// [`FeedError::File`] naming the file, the line and the column.
pub fn load_series(
    file: &Path,
    time_column: &str,
    value_column: &str,
    timezone: Option<&str>,
) -> Result<Vec<Reading>, FeedError> {
    let name = file.display().to_string();
    let fail = |problem: String| FeedError::File {
        file: name.clone(),
        problem,
    };
    let tz: chrono_tz::Tz = match timezone {
        None => chrono_tz::UTC,
        Some(t) => t
            .parse()
            .map_err(|_| fail(format!("'{t}' is not an IANA time zone")))?,
    };
    let mut reader = csv::Reader::from_path(file).map_err(|e| fail(e.to_string()))?;
    let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let col = |c: &str| {
        headers.iter().position(|h| h == c).ok_or_else(|| {
            fail(format!(
                "no column '{c}' (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ))
        })
    };
    let (ti, vi) = (col(time_column)?, col(value_column)?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| fail(format!("line {line}: {e}")))?;
        let t = record.get(ti).unwrap_or_default().trim();
        let v = record.get(vi).unwrap_or_default().trim();
        if v.is_empty() {
            continue; // a gap in the series: the previous value ages
        }
        let at = parse_time(t, tz).ok_or_else(|| {
            fail(format!(
                "line {line}, column {time_column}: '{t}' is not a time"
            ))
        })?;
        let value: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| {
                fail(format!(
                    "line {line}, column {value_column}: '{v}' is not a finite number"
                ))
            })?;
        rows.push(Reading { value, at });
    }
    if rows.is_empty() {
        return Err(fail(format!("column {value_column} has no values")));
    }
    rows.sort_by_key(|r| r.at);
    Ok(rows)
}

fn parse_time(t: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.to_utc());
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })?;
    // The earlier of an hour that repeats when clocks go back.
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.to_utc())
}

/// Hashprice from its inputs, USD per TH/s per day: the BTC a day's blocks
/// pay (144 blocks × reward) at the BTC price, shared over the network's
/// hashrate (1 EH/s = 10⁶ TH/s).
pub fn hashprice_usd_per_th_day(btc_usd: f64, network_hashrate_ehs: f64, reward_btc: f64) -> f64 {
    144.0 * reward_btc * btc_usd / (network_hashrate_ehs * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_replay_gives_the_last_row_and_its_age_and_nothing_past_the_limit() {
        let rows = vec![
            Reading {
                value: 20.0,
                at: t("2021-02-14T06:00:00Z"),
            },
            Reading {
                value: 9000.0,
                at: t("2021-02-14T06:15:00Z"),
            },
        ];
        let feed = Feed::Replay {
            rows: Arc::new(rows),
            max_age_s: 1800.0,
        };
        let before = feed.sample(t("2021-02-14T05:59:59Z"));
        assert_eq!(before.value, None);
        let s = feed.sample(t("2021-02-14T06:20:00Z"));
        assert_eq!((s.value, s.age_s), (Some(9000.0), 300.0));
        let late = feed.sample(t("2021-02-14T06:45:01Z"));
        assert_eq!(late.value, None);
        assert!((late.age_s - 1801.0).abs() < 1e-9);
    }

    #[test]
    fn the_repos_ercot_series_loads_in_central_time() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/ercot_rtm_spp_hub_lz_jan2022-2025_15min_wide.csv");
        let rows = load_series(&file, "datetime_col", "HB_NORTH", Some("America/Chicago")).unwrap();
        // 2022-01-01 00:00 Central (CST, UTC−6) is 06:00 UTC: $53.94/MWh.
        assert_eq!(
            rows[0],
            Reading {
                value: 53.94,
                at: t("2022-01-01T06:00:00Z")
            }
        );
        assert!(rows.len() > 10_000, "{} rows", rows.len());
        let e = load_series(&file, "datetime_col", "HB_NOWHERE", None).unwrap_err();
        assert!(e.to_string().contains("no column 'HB_NOWHERE'"), "{e}");
    }

    #[test]
    fn json_readings_follow_the_pointer_and_refuse_junk() {
        let doc = serde_json::json!({"data": [{"price": "41.5", "at": "2026-12-03T07:00:00Z"}], "bad": "high"});
        let now = t("2026-12-03T07:05:00Z");
        let r = reading_from_json(&doc, "/data/0/price", Some("/data/0/at"), now).unwrap();
        assert_eq!(
            r,
            Reading {
                value: 41.5,
                at: t("2026-12-03T07:00:00Z")
            }
        );
        assert!(reading_from_json(&doc, "/bad", None, now).is_err());
        assert!(reading_from_json(&doc, "/missing", None, now).is_err());
    }

    #[test]
    fn pushed_values_need_a_declared_name_and_age() {
        let board = PushBoard::default();
        board.declare("hb_north");
        let feed = Feed::Push {
            board: board.clone(),
            name: "hb_north".into(),
            max_age_s: 60.0,
        };
        assert_eq!(feed.sample(t("2026-12-03T07:00:00Z")).value, None);
        board
            .push(
                "hb_north",
                Reading {
                    value: 35.0,
                    at: t("2026-12-03T07:00:00Z"),
                },
            )
            .unwrap();
        assert_eq!(feed.sample(t("2026-12-03T07:00:30Z")).value, Some(35.0));
        assert_eq!(feed.sample(t("2026-12-03T07:01:01Z")).value, None);
        assert!(
            board
                .push(
                    "other",
                    Reading {
                        value: 1.0,
                        at: t("2026-12-03T07:00:00Z")
                    }
                )
                .is_err()
        );
        assert!(
            board
                .push(
                    "hb_north",
                    Reading {
                        value: f64::NAN,
                        at: t("2026-12-03T07:00:00Z")
                    }
                )
                .is_err()
        );
    }

    #[test]
    fn hashprice_from_its_inputs() {
        // 6.25 BTC + 15 % fees per block at $33,570 over 149 EH/s (February
        // 2021): 144 × 7.1875 × 33,570 / 149e6 = $0.2332 per TH/s per day.
        let h = hashprice_usd_per_th_day(33_570.0, 149.0, 6.25 * 1.15);
        assert!((h - 0.233_18).abs() < 1e-4, "{h}");
    }
}
