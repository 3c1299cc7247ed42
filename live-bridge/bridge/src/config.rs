//! The bridge configuration: one TOML file naming the sites and their caps,
//! the miners by address and firmware, the feeds, the policy exactly as a
//! scenario writes it, the safety limits, the operator API and the paths of
//! the credential and token files (never the secrets themselves).
//!
//! [`load`] reads and checks it: a wrong type or unknown key names its key
//! path, an impossible value (a cap below the fleet's least draw, an
//! unknown firmware, a policy that does not exist, a missing token file)
//! names the key and the problem, and nothing starts until all is well.
//! Relative paths are taken from the configuration file's folder.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hcp_contract::PowerCurve;
use hcp_devices::miner::Firmware;
use hcp_policies::{ForecasterConfig, PolicyConfig};
use serde::{Deserialize, Serialize};

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A key with a wrong type, an unknown key, or an impossible value.
    #[error("{file}: {key}: {problem}")]
    Key {
        /// The file.
        file: String,
        /// The key path (`sites[0].cap_mw`).
        key: String,
        /// What is wrong, in a sentence.
        problem: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Market interval (decision epoch) length, minutes.
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u32,
    /// The instant of the first epoch on the tape (replay feeds and
    /// accelerated runs against a virtual fleet); live runs leave it out and
    /// start at the current interval.
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// Bridge time per wall second: 1 for a real fleet; more only against
    /// a virtual fleet running at the same speed.
    #[serde(default = "one")]
    pub speed: f64,
    /// Mining pool fee (FPPS), fraction.
    #[serde(default = "default_pool_fee")]
    pub pool_fee: f64,
    /// The policy, as a scenario names it (`kind = "breakeven"` and its
    /// parameters).
    pub policy: PolicyConfig,
    /// The forecaster the policy sees ahead through.
    #[serde(default)]
    pub forecaster: ForecasterConfig,
    /// The sites.
    pub sites: Vec<SiteConfig>,
    /// Market feeds (BTC price, hashprice or its inputs).
    #[serde(default)]
    pub market: MarketFeeds,
    /// Safety limits.
    #[serde(default)]
    pub safety: SafetyLimits,
    /// Device polling.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The operator API.
    #[serde(default)]
    pub api: ApiConfig,
    /// The audit log.
    #[serde(default)]
    pub audit: AuditConfig,
    /// GPU hosts whose telemetry the bridge reads and exports.
    #[serde(default)]
    pub gpu_hosts: Vec<crate::gpus::GpuHostConfig>,
    /// File of firmware logins (`firmware = user:password` lines); the
    /// environment's `HCP_<FIRMWARE>_USER/_PASSWORD` win over it.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
}

fn default_interval_minutes() -> u32 {
    5
}
fn one() -> f64 {
    1.0
}
fn default_pool_fee() -> f64 {
    0.02
}

/// What a site does when its telemetry or price is stale beyond its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeState {
    /// Leave every device as it is and send nothing.
    Hold,
    /// Curtail every miner of the site.
    CurtailMiners,
}

/// One site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's id (its name).
    pub id: String,
    /// Its price node (`HB_NORTH`).
    pub node: String,
    /// Grid connection cap, MW of facility power.
    pub cap_mw: f64,
    /// Power usage effectiveness (facility ÷ IT power).
    #[serde(default = "one")]
    pub pue: f64,
    /// Whether the site takes part in grid events.
    #[serde(default)]
    pub grid_events: bool,
    /// Whether an operator may arm the site (default: never).
    #[serde(default)]
    pub allow_arming: bool,
    /// What the site does when its data is stale.
    #[serde(default = "default_safe_state")]
    pub safe_state: SafeState,
    /// The site's spot price feed, USD/MWh.
    pub price: FeedConfig,
    /// Miner cohorts: identical miners on one firmware.
    #[serde(default)]
    pub miners: Vec<CohortConfig>,
}

fn default_safe_state() -> SafeState {
    SafeState::Hold
}

/// Identical miners at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    /// Model name (`S21`).
    pub model: String,
    /// The wire protocol: `antminer_stock`, `luxos`, `braiins_os`,
    /// `whatsminer`.
    pub firmware: Firmware,
    /// The firmware's name in the cohort id `site/model/label` (default:
    /// the protocol's name); the twin's names (`stock`, `luxos`) give the
    /// ids a scenario's policy saw.
    #[serde(default)]
    pub label: Option<String>,
    /// The model's power-target curve from its spec sheet.
    pub curve: PowerCurve,
    /// Standby draw of a curtailed miner, W.
    pub standby_w: f64,
    /// Power target the cohort runs at before the policy sets one, W
    /// (default: stock power).
    #[serde(default)]
    pub power_target_w: Option<f64>,
    /// Miner addresses (`127.64.1.1` or `10.0.0.5:4028`).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// A run of consecutive addresses, as a virtual fleet hands them out.
    #[serde(default)]
    pub range: Option<AddressRange>,
}

/// `count` consecutive IPv4 addresses from `first`, skipping .0 and .255.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRange {
    /// The first address.
    pub first: Ipv4Addr,
    /// How many.
    pub count: u32,
    /// The port (default 4028).
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    4028
}

impl CohortConfig {
    /// The cohort's label in its id.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(self.firmware.name())
    }

    /// Every address of the cohort, listed first, then the range.
    ///
    /// # Errors
    /// An address that does not parse, as a sentence.
    pub fn socket_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        let mut out = Vec::with_capacity(self.addresses.len());
        for a in &self.addresses {
            let addr = a
                .parse::<SocketAddr>()
                .or_else(|_| a.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 4028)))
                .map_err(|_| format!("'{a}' is not an IP address or IP:port"))?;
            out.push(addr);
        }
        if let Some(range) = &self.range {
            let mut ip = u32::from(range.first);
            for _ in 0..range.count {
                while matches!(ip & 0xff, 0 | 255) {
                    ip = ip.wrapping_add(1);
                }
                out.push(SocketAddr::new(Ipv4Addr::from(ip).into(), range.port));
                ip = ip.wrapping_add(1);
            }
        }
        Ok(out)
    }
}

/// Where a series of readings comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeedConfig {
    /// A replay of a CSV series on the bridge's tape time.
    Replay {
        /// The CSV file.
        file: PathBuf,
        /// The time column (`YYYY-MM-DD HH:MM:SS`, or RFC 3339).
        time_column: String,
        /// The value column.
        value_column: String,
        /// The time zone of naive times (an IANA name; default UTC).
        #[serde(default)]
        timezone: Option<String>,
        /// Oldest usable reading, seconds.
        max_age_s: f64,
    },
    /// A JSON endpoint polled every `every_s` seconds of wall time.
    Http {
        /// The URL.
        url: String,
        /// JSON pointer to the value (`/data/0/price`).
        pointer: String,
        /// JSON pointer to the reading's time (RFC 3339), if the endpoint
        /// gives one (otherwise the time it was fetched).
        #[serde(default)]
        time_pointer: Option<String>,
        /// Poll period, wall seconds.
        #[serde(default = "default_every_s")]
        every_s: f64,
        /// Oldest usable reading, seconds.
        max_age_s: f64,
    },
    /// Values pushed through the operator API (`POST /feeds/{name}`).
    Push {
        /// The name to push to.
        name: String,
        /// Oldest usable reading, seconds.
        max_age_s: f64,
    },
    /// A constant (a fixed-price contract, a test).
    Fixed {
        /// The value.
        value: f64,
    },
}

fn default_every_s() -> f64 {
    60.0
}

impl FeedConfig {
    /// The oldest usable reading, seconds (a fixed value never ages).
    pub fn max_age_s(&self) -> f64 {
        match self {
            FeedConfig::Replay { max_age_s, .. }
            | FeedConfig::Http { max_age_s, .. }
            | FeedConfig::Push { max_age_s, .. } => *max_age_s,
            FeedConfig::Fixed { .. } => f64::INFINITY,
        }
    }
}

/// The market's feeds: hashprice directly, or BTC price and network
/// hashrate from which it is derived.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketFeeds {
    /// BTC/USD.
    #[serde(default)]
    pub btc_usd: Option<FeedConfig>,
    /// Hashprice, USD per TH/s per day, before pool fee.
    #[serde(default)]
    pub hashprice_usd_per_th_day: Option<FeedConfig>,
    /// Network hashrate, EH/s.
    #[serde(default)]
    pub network_hashrate_ehs: Option<FeedConfig>,
    /// BTC paid per block (subsidy plus fees), for a derived hashprice.
    #[serde(default)]
    pub block_reward_btc: Option<f64>,
}

/// Limits the policy cannot override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetyLimits {
    /// Curtails plus resumes one miner may get per hour.
    pub max_switches_per_device_per_hour: u32,
    /// Curtails plus resumes one site's miners may get per hour.
    pub max_switches_per_site_per_hour: u32,
    /// Most a site's committed facility power may rise per minute, MW
    /// (falls are never limited: shedding load is the safe direction).
    pub max_ramp_up_mw_per_min: f64,
    /// Share of a site's miners that may be stale before the site goes to
    /// its safe state.
    pub max_stale_share: f64,
    /// Failed calls in a row after which a miner is quarantined.
    pub quarantine_after_failures: u32,
    /// How long a quarantine lasts, seconds of bridge time.
    pub quarantine_s: f64,
    /// Tries per command (1 = no retry).
    pub command_attempts: u32,
    /// Wait before the first retry, ms (doubling after).
    pub retry_base_ms: u64,
    /// Time a command has to show its effect before it counts as a fault,
    /// seconds of bridge time.
    pub verify_within_s: f64,
    /// Time by which an emergency stop must have every miner curtailed,
    /// wall seconds (reported against in the audit log).
    pub emergency_stop_within_s: f64,
}

impl Default for SafetyLimits {
    fn default() -> Self {
        SafetyLimits {
            max_switches_per_device_per_hour: 12,
            max_switches_per_site_per_hour: 100_000,
            max_ramp_up_mw_per_min: f64::INFINITY,
            max_stale_share: 0.25,
            quarantine_after_failures: 5,
            quarantine_s: 600.0,
            command_attempts: 3,
            retry_base_ms: 100,
            verify_within_s: 120.0,
            emergency_stop_within_s: 10.0,
        }
    }
}

impl SafetyLimits {
    /// Sets the limit `key` to `value`.
    ///
    /// # Errors
    /// An unknown key or an impossible value, as a sentence.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), String> {
        if !(value.is_finite() || key == "max_ramp_up_mw_per_min") || value < 0.0 {
            return Err(format!(
                "{key}: {value} is not a finite, non-negative number"
            ));
        }
        // Counts are whole numbers within u32; checked above to be ≥ 0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = value.min(f64::from(u32::MAX)) as u32;
        match key {
            "max_switches_per_device_per_hour" => self.max_switches_per_device_per_hour = count,
            "max_switches_per_site_per_hour" => self.max_switches_per_site_per_hour = count,
            "max_ramp_up_mw_per_min" => self.max_ramp_up_mw_per_min = value,
            "max_stale_share" if value <= 1.0 => self.max_stale_share = value,
            "quarantine_after_failures" if count >= 1 => self.quarantine_after_failures = count,
            "quarantine_s" => self.quarantine_s = value,
            "verify_within_s" => self.verify_within_s = value,
            _ => {
                return Err(format!(
                    "'{key}' is not a limit that can be changed, or {value} is out of its range"
                ));
            }
        }
        Ok(())
    }
}

/// Device polling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Timeout of one call, ms.
    pub timeout_ms: u64,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// A reading older than this is stale, seconds of bridge time.
    pub stale_after_s: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            timeout_ms: 2_000,
            concurrency: 512,
            stale_after_s: 900.0,
        }
    }
}

/// The operator API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Listen address (loopback unless an operator says otherwise).
    pub listen: SocketAddr,
    /// The token file (`role name sha256:…` lines); `None`: no API.
    pub tokens_file: Option<PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 8040),
            tokens_file: None,
        }
    }
}

/// The audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Folder of the log's segments.
    pub dir: PathBuf,
    /// Size after which a new segment starts, bytes.
    pub rotate_bytes: u64,
    /// Whether the log is synced to the disk (`fsync`) before commands are
    /// sent, not only handed to the operating system (off only for
    /// accelerated runs against a virtual fleet).
    pub durable: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            dir: PathBuf::from("audit"),
            rotate_bytes: 64 * 1024 * 1024,
            durable: true,
        }
    }
}

/// A checked configuration and the folder its relative paths start from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration, relative paths resolved.
    pub config: BridgeConfig,
    /// The file it came from.
    pub file: String,
}

/// Reads and checks the configuration at `path`.
///
/// # Errors
/// [`ConfigError`] naming the file, the key and the problem.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        file: file.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, &file, base)
}

/// Parses and checks configuration `text` read from `file`, with relative
/// paths taken from `base`.
///
/// # Errors
/// [`ConfigError::Key`] naming the key path and the problem.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Loaded, ConfigError> {
    let key_error = |key: &str, problem: String| ConfigError::Key {
        file: file.to_owned(),
        key: key.to_owned(),
        problem,
    };
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or_else(
            || "(syntax)".into(),
            |s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!("line {line}")
            },
        );
        key_error(&at, e.message().to_owned())
    })?;
    let mut config: BridgeConfig = serde_path_to_error::deserialize(toml::Value::Table(doc))
        .map_err(|e| {
            let key = e.path().to_string();
            let problem = e.into_inner().message().to_owned();
            key_error(if key == "." { "(top level)" } else { &key }, problem)
        })?;
    resolve_paths(&mut config, base);
    check(&config).map_err(|(key, problem)| key_error(&key, problem))?;
    Ok(Loaded {
        config,
        file: file.to_owned(),
    })
}

fn resolve(base: &Path, p: &mut PathBuf) {
    if p.is_relative() {
        *p = base.join(&*p);
    }
}

fn resolve_feed(base: &Path, feed: &mut FeedConfig) {
    if let FeedConfig::Replay { file, .. } = feed {
        resolve(base, file);
    }
}

fn resolve_paths(c: &mut BridgeConfig, base: &Path) {
    for site in &mut c.sites {
        resolve_feed(base, &mut site.price);
    }
    for feed in [
        &mut c.market.btc_usd,
        &mut c.market.hashprice_usd_per_th_day,
        &mut c.market.network_hashrate_ehs,
    ]
    .into_iter()
    .flatten()
    {
        resolve_feed(base, feed);
    }
    for p in [&mut c.api.tokens_file, &mut c.credentials_file]
        .into_iter()
        .flatten()
    {
        resolve(base, p);
    }
    resolve(base, &mut c.audit.dir);
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn check_feed(key: &str, feed: &FeedConfig) -> Result<(), (String, String)> {
    let max_age = feed.max_age_s();
    if max_age.is_nan() || max_age <= 0.0 {
        return Err((
            format!("{key}.max_age_s"),
            format!("must be positive, got {max_age}"),
        ));
    }
    match feed {
        FeedConfig::Replay {
            file,
            timezone,
            time_column,
            value_column,
            ..
        } => {
            if !file.is_file() {
                return Err((
                    format!("{key}.file"),
                    format!("{} does not exist", file.display()),
                ));
            }
            if let Some(tz) = timezone {
                tz.parse::<chrono_tz::Tz>().map_err(|_| {
                    (
                        format!("{key}.timezone"),
                        format!("'{tz}' is not an IANA time zone name (America/Chicago)"),
                    )
                })?;
            }
            // The series is read now, so a wrong column or a bad row is
            // refused at load, naming the file, the line and the column.
            crate::feeds::load_series(file, time_column, value_column, timezone.as_deref())
                .map_err(|e| (format!("{key}.file"), e.to_string()))?;
        }
        FeedConfig::Http { url, every_s, .. } => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err((
                    format!("{key}.url"),
                    format!("'{url}' is not an http(s) URL"),
                ));
            }
            if !positive(*every_s) {
                return Err((format!("{key}.every_s"), "must be positive".into()));
            }
        }
        FeedConfig::Push { name, .. } => {
            if name.is_empty() || name.contains('/') {
                return Err((
                    format!("{key}.name"),
                    "must be a non-empty name without '/'".into(),
                ));
            }
        }
        FeedConfig::Fixed { value } => {
            if !value.is_finite() {
                return Err((format!("{key}.value"), "must be finite".into()));
            }
        }
    }
    Ok(())
}

fn check_cohort(at: &str, cohort: &CohortConfig) -> Result<(), (String, String)> {
    let curve = &cohort.curve;
    let ok = positive(curve.stock_hashrate_th)
        && positive(curve.stock_power_w)
        && positive(curve.min_power_w)
        && curve.min_power_w <= curve.stock_power_w
        && curve.stock_power_w <= curve.max_power_w
        && curve.max_power_w.is_finite()
        && curve.exponent > 0.0
        && curve.exponent <= 1.0;
    if !ok {
        return Err((
            format!("{at}.curve"),
            "needs positive powers with min ≤ stock ≤ max and 0 < exponent ≤ 1".into(),
        ));
    }
    if !(cohort.standby_w.is_finite()
        && cohort.standby_w >= 0.0
        && cohort.standby_w < curve.min_power_w)
    {
        return Err((
            format!("{at}.standby_w"),
            format!(
                "must be at least 0 and below the curve's min_power_w, got {}",
                cohort.standby_w
            ),
        ));
    }
    Ok(())
}

fn check_sites(sites: &[SiteConfig]) -> Result<(), (String, String)> {
    let mut ids = BTreeMap::new();
    let mut addresses = BTreeMap::new();
    let mut cohorts = BTreeMap::new();
    for (i, site) in sites.iter().enumerate() {
        let at = format!("sites[{i}]");
        if ids.insert(site.id.clone(), i).is_some() {
            return Err((
                format!("{at}.id"),
                format!("site '{}' is listed twice", site.id),
            ));
        }
        if !positive(site.cap_mw) {
            return Err((
                format!("{at}.cap_mw"),
                format!("must be positive, got {}", site.cap_mw),
            ));
        }
        if !(site.pue.is_finite() && site.pue >= 1.0) {
            return Err((
                format!("{at}.pue"),
                format!("must be at least 1, got {}", site.pue),
            ));
        }
        check_feed(&format!("{at}.price"), &site.price)?;
        let mut least_mw = 0.0;
        for (j, cohort) in site.miners.iter().enumerate() {
            let at = format!("{at}.miners[{j}]");
            check_cohort(&at, cohort)?;
            let id = format!("{}/{}/{}", site.id, cohort.model, cohort.label());
            if let Some(other) = cohorts.insert(id.clone(), at.clone()) {
                return Err((
                    at,
                    format!("cohort '{id}' is also listed at {other}: give one a different label"),
                ));
            }
            let addrs = cohort
                .socket_addrs()
                .map_err(|p| (format!("{at}.addresses"), p))?;
            if addrs.is_empty() {
                return Err((
                    format!("{at}.addresses"),
                    "the cohort lists no miner (give addresses or a range)".into(),
                ));
            }
            for a in &addrs {
                if let Some(other) = addresses.insert(*a, at.clone()) {
                    return Err((
                        format!("{at}.addresses"),
                        format!("{a} is also listed at {other}"),
                    ));
                }
            }
            least_mw += addrs.len() as f64 * cohort.standby_w * site.pue / 1e6;
        }
        if least_mw > site.cap_mw {
            return Err((
                format!("{at}.cap_mw"),
                format!(
                    "{} MW is below the {least_mw:.3} MW the site's miners draw even curtailed",
                    site.cap_mw
                ),
            ));
        }
    }
    if !sites.iter().any(|s| !s.miners.is_empty()) {
        return Err(("sites".into(), "no site lists any miner".into()));
    }
    Ok(())
}

fn check(c: &BridgeConfig) -> Result<(), (String, String)> {
    if c.interval_minutes == 0 {
        return Err(("interval_minutes".into(), "must be at least 1".into()));
    }
    if !positive(c.speed) {
        return Err(("speed".into(), format!("must be positive, got {}", c.speed)));
    }
    if !(0.0..1.0).contains(&c.pool_fee) {
        return Err((
            "pool_fee".into(),
            format!("must be in [0, 1), got {}", c.pool_fee),
        ));
    }
    if let Some(reason) = c.policy.undeployable_reason() {
        return Err(("policy.kind".into(), reason));
    }
    if c.sites.is_empty() {
        return Err(("sites".into(), "at least one site is needed".into()));
    }
    check_sites(&c.sites)?;
    let m = &c.market;
    if let Some(f) = &m.btc_usd {
        check_feed("market.btc_usd", f)?;
    }
    if let Some(f) = &m.network_hashrate_ehs {
        check_feed("market.network_hashrate_ehs", f)?;
    }
    match &m.hashprice_usd_per_th_day {
        Some(f) => check_feed("market.hashprice_usd_per_th_day", f)?,
        None => {
            if m.btc_usd.is_none()
                || m.network_hashrate_ehs.is_none()
                || !m.block_reward_btc.is_some_and(positive)
            {
                return Err(("market".into(), "give hashprice_usd_per_th_day, or btc_usd, network_hashrate_ehs and block_reward_btc to derive it".into()));
            }
        }
    }
    for (key, path, hint) in [
        (
            "api.tokens_file",
            &c.api.tokens_file,
            " (create one with `hcp bridge token`)",
        ),
        ("credentials_file", &c.credentials_file, ""),
    ] {
        if let Some(p) = path
            && !p.is_file()
        {
            return Err((key.into(), format!("{} does not exist{hint}", p.display())));
        }
    }
    let s = &c.safety;
    if s.command_attempts == 0 || s.quarantine_after_failures == 0 {
        return Err((
            "safety".into(),
            "command_attempts and quarantine_after_failures must be at least 1".into(),
        ));
    }
    if !(0.0..=1.0).contains(&s.max_stale_share) {
        return Err(("safety.max_stale_share".into(), "must be in [0, 1]".into()));
    }
    if c.telemetry.timeout_ms == 0 || c.telemetry.concurrency == 0 {
        return Err((
            "telemetry".into(),
            "timeout_ms and concurrency must be at least 1".into(),
        ));
    }
    if c.audit.rotate_bytes < 4096 {
        return Err(("audit.rotate_bytes".into(), "must be at least 4096".into()));
    }
    Ok(())
}
