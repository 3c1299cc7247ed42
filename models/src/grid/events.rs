//! Grid events an operator may act on: ERCOT ERS-like deployments
//! (10- and 30-minute notice), 4CP-like summer peaks with alert days, and
//! emergency (EEA-like) curtailment requests tied to price spikes. Times are
//! [`SimTime`]/[`SimDuration`]; payments are in $/MW per hour (standby),
//! $/MWh (energy) and $/kW-year (avoided transmission charge).
//!
//! Each kind draws only from its own stream `grid/events/<kind>`
//! (`ers-10`, `ers-30`, `4cp`, `emergency`). ERS counts per month are
//! Poisson with the month's rate, starts uniform in the month, durations
//! log-normal capped at `max_minutes`. 4CP: in each month of `months` one
//! realised peak — a uniform weekday of the month and a uniform 15-minute
//! interval of the afternoon window — plus Poisson(`alert_days − 1`) other
//! alerted weekdays; every alert is an event over the window, and the one on
//! the peak day carries the peak interval. Emergency requests start at a
//! price-spike episode (reference price at or above `threshold`) with
//! probability `probability`, the documented coupling to prices.

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::America::Chicago;
use hcp_engine::rng::{RngStreams, StreamId, StreamRng};
use hcp_engine::time::{SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Poisson};
use serde::{Deserialize, Serialize};

use crate::series::{Horizon, RegularSeries};

const EVENTS_TOML: &str = include_str!("../../params/grid_events.toml");

pub use hcp_contract::{GridEventKind, Payment};

/// One grid event on the tape.
#[derive(Debug, Clone, PartialEq)]
pub struct GridEvent {
    /// The kind.
    pub kind: GridEventKind,
    /// When the operator is told.
    pub notice_at: SimTime,
    /// When the event (or alert window) starts.
    pub start: SimTime,
    /// How long it lasts.
    pub duration: SimDuration,
    /// The payment terms.
    pub payment: Payment,
    /// 4CP only: start of the month's realised peak interval when it falls
    /// in this alert window. Known only after the month ends: a policy may
    /// not read it when deciding (it sees alerts only); it is for
    /// settlement and ex-post scoring.
    pub realised_peak: Option<SimTime>,
}

impl GridEvent {
    /// End of the event.
    pub fn end(&self) -> SimTime {
        self.start + self.duration
    }
}

/// ERS-like deployments of one notice class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErsParams {
    /// Expected deployments per month (Jan…Dec).
    pub rate_per_month: [f64; 12],
    /// Notice, minutes.
    pub notice_minutes: u64,
    /// Median deployment length, minutes.
    pub duration_median_minutes: f64,
    /// σ of the log deployment length.
    pub duration_sigma: f64,
    /// Longest deployment, minutes (ERCOT: 8 h per contract period).
    pub max_minutes: f64,
    /// Payment terms.
    pub payment: Payment,
}

/// 4CP peaks and alert days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourCpParams {
    /// Months (1–12) with a coincident peak.
    pub months: Vec<u32>,
    /// Expected alert days per month, the peak day included (≥ 1).
    pub alert_days: f64,
    /// Start of the afternoon window, minutes after local midnight.
    pub window_start_minutes: u64,
    /// End of the window, minutes after local midnight.
    pub window_end_minutes: u64,
    /// Notice before the window starts, minutes.
    pub notice_minutes: u64,
    /// Payment terms (per 4CP interval).
    pub payment: Payment,
}

/// Emergency curtailment requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyParams {
    /// Node whose price marks spike episodes.
    pub node: String,
    /// Price at or above which an interval is in a spike episode, $/MWh.
    pub threshold: f64,
    /// Probability that a spike episode brings a request.
    pub probability: f64,
    /// Notice, minutes.
    pub notice_minutes: u64,
    /// Median request length, minutes.
    pub duration_median_minutes: f64,
    /// σ of the log request length.
    pub duration_sigma: f64,
    /// Payment terms.
    pub payment: Payment,
}

/// Every grid-event parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// ERS-10 deployments.
    pub ers_10: ErsParams,
    /// ERS-30 deployments.
    pub ers_30: ErsParams,
    /// 4CP peaks.
    pub four_cp: FourCpParams,
    /// Emergency requests.
    pub emergency: EmergencyParams,
}

impl EventParams {
    /// Parses a TOML parameter block.
    ///
    /// # Errors
    /// Invalid TOML or fields that do not match.
    pub fn from_toml(text: &str) -> Result<EventParams, toml::de::Error> {
        toml::from_str(text)
    }
}

impl Default for EventParams {
    /// The shipped `models/params/grid_events.toml`.
    fn default() -> Self {
        EventParams::from_toml(EVENTS_TOML).unwrap_or_else(|e| panic!("grid_events.toml: {e}"))
    }
}

fn stream(streams: &RngStreams, kind: GridEventKind) -> StreamRng {
    streams.stream(StreamId::named(&format!("grid/events/{}", kind.name())))
}

fn minutes(m: u64) -> SimDuration {
    SimDuration::from_minutes(m)
}

fn log_normal_minutes(rng: &mut StreamRng, median: f64, sigma: f64, max: f64) -> SimDuration {
    let d = LogNormal::new(median.max(1.0).ln(), sigma.max(0.0))
        .map_or(median, |dist| dist.sample(rng));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let m = d.clamp(1.0, max.max(1.0)).round() as u64;
    minutes(m)
}

fn poisson(rng: &mut StreamRng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Poisson::new(mean).map_or(0, |p| p.sample(rng) as u64)
}

/// The local calendar months the horizon touches: (year, month, first and
/// last instant in sim time, clipped to the horizon).
fn months(horizon: &Horizon) -> Vec<(i32, u32, SimTime, SimTime)> {
    let (Ok(first), Ok(last)) = (
        horizon.epoch.to_utc(SimTime::ZERO),
        horizon.epoch.to_utc(horizon.end()),
    ) else {
        return Vec::new();
    };
    let (mut y, mut m) = {
        let l = first.with_timezone(&Chicago);
        (l.year(), l.month())
    };
    let mut out = Vec::new();
    loop {
        let start = local(y, m, 1, 0);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = local(ny, nm, 1, 0);
        if start >= Some(last) {
            break;
        }
        if let (Some(s), Some(e)) = (start, end) {
            let s = horizon.epoch.to_sim(s.max(first)).unwrap_or(SimTime::ZERO);
            let e = horizon.epoch.to_sim(e.min(last)).unwrap_or(horizon.end());
            out.push((y, m, s, e));
        } else {
            break;
        }
        (y, m) = (ny, nm);
    }
    out
}

/// A local Central instant as UTC.
fn local(y: i32, m: u32, d: u32, minute: u64) -> Option<chrono::DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    let naive =
        date.and_hms_opt(0, 0, 0)? + chrono::TimeDelta::minutes(i64::try_from(minute).ok()?);
    Chicago
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.to_utc())
}

/// ERS deployments of one class over the horizon.
pub fn ers(
    kind: GridEventKind,
    params: &ErsParams,
    horizon: &Horizon,
    streams: &RngStreams,
) -> Vec<GridEvent> {
    let mut rng = stream(streams, kind);
    let mut out = Vec::new();
    for (_, month, start, end) in months(horizon) {
        let span = end.as_micros() - start.as_micros();
        let share = span as f64 / (30.44 * 86_400e6);
        let n = poisson(&mut rng, params.rate_per_month[month as usize - 1] * share);
        for _ in 0..n {
            let at = SimTime::from_micros(start.as_micros() + rng.random_range(0..span.max(1)));
            let duration = log_normal_minutes(
                &mut rng,
                params.duration_median_minutes,
                params.duration_sigma,
                params.max_minutes,
            );
            out.push(GridEvent {
                kind,
                notice_at: SimTime::from_micros(
                    at.as_micros()
                        .saturating_sub(minutes(params.notice_minutes).as_micros()),
                ),
                start: at,
                duration,
                payment: params.payment,
                realised_peak: None,
            });
        }
    }
    out.sort_by_key(|e| e.start);
    out
}

/// 4CP alert windows over the horizon (months wholly or partly inside it).
pub fn four_cp(params: &FourCpParams, horizon: &Horizon, streams: &RngStreams) -> Vec<GridEvent> {
    let mut rng = stream(streams, GridEventKind::FourCp);
    let window = params
        .window_end_minutes
        .saturating_sub(params.window_start_minutes);
    let slots = (window / 15).max(1);
    let mut out = Vec::new();
    for (y, m, _, _) in months(horizon) {
        if !params.months.contains(&m) {
            continue;
        }
        let mut weekdays: Vec<u32> = (1..=31)
            .filter_map(|d| NaiveDate::from_ymd_opt(y, m, d))
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .map(|d| d.day())
            .collect();
        let peak_day = weekdays.remove(rng.random_range(0..weekdays.len()));
        let peak_slot = rng.random_range(0..slots);
        let extra = poisson(&mut rng, params.alert_days - 1.0).min(weekdays.len() as u64);
        let mut days = vec![peak_day];
        for _ in 0..extra {
            days.push(weekdays.remove(rng.random_range(0..weekdays.len())));
        }
        days.sort_unstable();
        for day in days {
            let Some(start_utc) = local(y, m, day, params.window_start_minutes) else {
                continue;
            };
            let Ok(start) = horizon.epoch.to_sim(start_utc) else {
                continue;
            };
            if start + minutes(window) > horizon.end() {
                continue;
            }
            out.push(GridEvent {
                kind: GridEventKind::FourCp,
                notice_at: SimTime::from_micros(
                    start
                        .as_micros()
                        .saturating_sub(minutes(params.notice_minutes).as_micros()),
                ),
                start,
                duration: minutes(window),
                payment: params.payment,
                realised_peak: (day == peak_day).then(|| start + minutes(15 * peak_slot)),
            });
        }
    }
    out
}

/// Emergency requests at the spike episodes of `price` (the reference
/// node's series on the horizon).
pub fn emergency(
    params: &EmergencyParams,
    price: &RegularSeries,
    streams: &RngStreams,
) -> Vec<GridEvent> {
    let mut rng = stream(streams, GridEventKind::Emergency);
    let mut out: Vec<GridEvent> = Vec::new();
    let values = price.values();
    for i in 0..values.len() {
        let episode_start =
            values[i] >= params.threshold && (i == 0 || values[i - 1] < params.threshold);
        if !episode_start {
            continue;
        }
        let chosen = rng.random::<f64>() < params.probability;
        let duration = log_normal_minutes(
            &mut rng,
            params.duration_median_minutes,
            params.duration_sigma,
            24.0 * 60.0,
        );
        let start = price.start() + SimDuration::from_micros(price.step().as_micros() * i as u64);
        if !chosen || out.last().is_some_and(|e| e.end() > start) {
            continue;
        }
        out.push(GridEvent {
            kind: GridEventKind::Emergency,
            notice_at: SimTime::from_micros(
                start
                    .as_micros()
                    .saturating_sub(minutes(params.notice_minutes).as_micros()),
            ),
            start,
            duration,
            payment: params.payment,
            realised_peak: None,
        });
    }
    out
}

/// Every event kind over the horizon, sorted by start (then kind).
/// `reference_price` is the series of `params.emergency.node`; without it
/// no emergency request is drawn.
pub fn generate(
    params: &EventParams,
    horizon: &Horizon,
    streams: &RngStreams,
    reference_price: Option<&RegularSeries>,
) -> Vec<GridEvent> {
    let mut out = ers(GridEventKind::Ers10, &params.ers_10, horizon, streams);
    out.extend(ers(GridEventKind::Ers30, &params.ers_30, horizon, streams));
    out.extend(four_cp(&params.four_cp, horizon, streams));
    if let Some(price) = reference_price {
        out.extend(emergency(&params.emergency, price, streams));
    }
    out.sort_by_key(|e| (e.start, e.kind));
    out
}
