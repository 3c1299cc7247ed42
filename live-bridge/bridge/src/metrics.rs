//! The bridge's Prometheus metrics: one explicit [`Registry`] owned by
//! [`BridgeMetrics`] (no global registry), written to by the control loop
//! and encoded in the OpenMetrics text format for `GET /metrics`.
//!
//! # Series
//!
//! Site state, one series per site (label `site`), gauges:
//!
//! | name | unit | meaning |
//! |---|---|---|
//! | `hcp_site_power_mw` | MW | measured site power |
//! | `hcp_site_committed_mw` | MW | power committed to the grid or a contract |
//! | `hcp_site_cap_mw` | MW | the site's power cap in force |
//! | `hcp_site_price_usd_per_mwh` | USD/MWh | the price the policy sees; **absent while unknown** |
//! | `hcp_site_hashrate_ths` | TH/s | measured hashrate |
//! | `hcp_site_armed` | 0/1 | 1 while the site is armed (commands reach devices) |
//!
//! An unknown price is never exported as a number: [`BridgeMetrics::set_site`]
//! with `None` removes the site's price series, so Prometheus marks it stale
//! and queries see no value rather than a made-up one (a NaN would poison
//! every aggregation over sites). The market gauges below behave the same.
//!
//! Market, no labels, gauges (absent while unknown):
//!
//! | name | unit | meaning |
//! |---|---|---|
//! | `hcp_btc_usd` | USD/BTC | bitcoin price |
//! | `hcp_hashprice_usd_per_th_day` | USD/(TH/s·day) | hashprice |
//!
//! Devices, gauge: `hcp_devices{site,health}`: how many devices of a site
//! are in each health state (`fresh`, `stale`, `unknown`, `quarantined`).
//!
//! Counters (the OpenMetrics encoding appends `_total` to the sample names):
//!
//! | name | labels | counts |
//! |---|---|---|
//! | `hcp_decisions_total` | `policy`, `trigger` | policy decisions |
//! | `hcp_clips_total` | `reason` | actions the safety envelope clipped |
//! | `hcp_device_faults_total` | `kind` | device faults (`timeout`, `refused`, `protocol`, `not_supported`, `unauthorised`, `implausible`, `feed_stale`, …) |
//!
//! Histograms, in seconds (`_bucket`, `_sum` and `_count` samples):
//!
//! | name | labels | buckets |
//! |---|---|---|
//! | `hcp_command_duration_seconds` | `command` (`curtail`, `resume`, `power_target`, `sleep`, `wake`), `outcome` (`ok`, `failed`, `unverified`) | 1 ms … 32.8 s, doubling |
//! | `hcp_decision_duration_seconds` | — | 0.1 ms … 3.3 s, doubling |
//! | `hcp_epoch_duration_seconds` | — | 1 ms … 32.8 s, doubling |
//!
//! # GPU series
//!
//! GPUs are exported under the NVIDIA DCGM exporter's names, units and label
//! names (`gpu`: the index on its host, `UUID`, `modelName`, `Hostname`), so
//! dashboards built for `dcgm-exporter` work unchanged. Gauges:
//!
//! | name | unit | from [`GpuReading`] |
//! |---|---|---|
//! | `DCGM_FI_DEV_POWER_USAGE` | W | `power_w` |
//! | `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION` | mJ | `energy_j` × 1000 |
//! | `DCGM_FI_DEV_GPU_UTIL` | % | `utilisation_pct` |
//! | `DCGM_FI_DEV_FB_USED` | MiB | `memory_used_bytes` / 2²⁰ |
//! | `DCGM_FI_DEV_FB_FREE` | MiB | (`memory_total_bytes` − `memory_used_bytes`) / 2²⁰ |
//! | `DCGM_FI_DEV_GPU_TEMP` | °C | `temperature_c` |
//!
//! dcgm-exporter declares the energy series a counter in the Prometheus
//! text format; OpenMetrics would rename a counter to `…_total`, so it is
//! exported here as a gauge under the exact DCGM name (`rate()` and
//! `increase()` work the same on it). No metric is registered with a unit,
//! so no encoder ever appends a suffix to the DCGM names.

use std::sync::atomic::AtomicU64;

use hcp_devices::gpu::GpuReading;
use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set: label names are fixed by the code, values come from the
/// configuration and devices (the encoder escapes them).
type Labels = Vec<(&'static str, String)>;

/// A gauge family holding `f64` values.
type GaugeF64 = Family<Labels, Gauge<f64, AtomicU64>>;

/// A histogram family with a fixed bucket layout.
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Bytes in one MiB, DCGM's memory unit.
const MIB: f64 = 1_048_576.0;

/// Device commands: 1 ms to 32.8 s.
fn command_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Policy decisions: 0.1 ms to 3.3 s.
fn decision_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

/// Whole control-loop epochs: 1 ms to 32.8 s.
fn epoch_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric the bridge exports, in one registry. `Send + Sync`: share
/// it behind an `Arc`; every setter takes `&self`.
#[derive(Debug)]
pub struct BridgeMetrics {
    registry: Registry,
    site: SiteSeries,
    control: ControlSeries,
    gpu: GpuSeries,
}

/// Sites, devices and the market.
#[derive(Debug)]
struct SiteSeries {
    power_mw: GaugeF64,
    committed_mw: GaugeF64,
    cap_mw: GaugeF64,
    price_usd_per_mwh: GaugeF64,
    hashrate_ths: GaugeF64,
    armed: Family<Labels, Gauge>,
    devices: Family<Labels, Gauge>,
    btc_usd: GaugeF64,
    hashprice_usd_per_th_day: GaugeF64,
}

/// The control loop: counters and durations.
#[derive(Debug)]
struct ControlSeries {
    decisions: Family<Labels, Counter>,
    clips: Family<Labels, Counter>,
    faults: Family<Labels, Counter>,
    command_seconds: HistogramFamily,
    decision_seconds: HistogramFamily,
    epoch_seconds: HistogramFamily,
}

/// GPUs under the DCGM exporter's names.
#[derive(Debug)]
struct GpuSeries {
    power_w: GaugeF64,
    energy_mj: GaugeF64,
    util_pct: GaugeF64,
    fb_used_mib: GaugeF64,
    fb_free_mib: GaugeF64,
    temp_c: GaugeF64,
}

/// Registers a metric family under exactly `name` (no unit suffix).
fn register<M>(registry: &mut Registry, name: &str, help: &str, family: M) -> M
where
    M: prometheus_client::registry::Metric + Clone,
{
    registry.register(name, help, family.clone());
    family
}

/// Registers an `f64` gauge family.
fn gauge(registry: &mut Registry, name: &str, help: &str) -> GaugeF64 {
    register(registry, name, help, GaugeF64::default())
}

/// Registers a counter family (`_total` is appended when encoded).
fn counter(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    register(registry, name, help, Family::default())
}

/// Registers a histogram family with the given buckets.
fn histogram(
    registry: &mut Registry,
    name: &str,
    help: &str,
    buckets: fn() -> Histogram,
) -> HistogramFamily {
    register(
        registry,
        name,
        help,
        HistogramFamily::new_with_constructor(buckets),
    )
}

impl SiteSeries {
    fn register(r: &mut Registry) -> Self {
        SiteSeries {
            power_mw: gauge(r, "hcp_site_power_mw", "Measured site power, MW"),
            committed_mw: gauge(
                r,
                "hcp_site_committed_mw",
                "Site power committed to the grid or a contract, MW",
            ),
            cap_mw: gauge(r, "hcp_site_cap_mw", "Site power cap in force, MW"),
            price_usd_per_mwh: gauge(
                r,
                "hcp_site_price_usd_per_mwh",
                "Electricity price the policy sees, USD/MWh (absent while unknown)",
            ),
            hashrate_ths: gauge(r, "hcp_site_hashrate_ths", "Measured site hashrate, TH/s"),
            armed: register(
                r,
                "hcp_site_armed",
                "1 while the site is armed (commands reach devices), else 0",
                Family::default(),
            ),
            devices: register(
                r,
                "hcp_devices",
                "Devices of a site in each health state",
                Family::default(),
            ),
            btc_usd: gauge(
                r,
                "hcp_btc_usd",
                "Bitcoin price, USD (absent while unknown)",
            ),
            hashprice_usd_per_th_day: gauge(
                r,
                "hcp_hashprice_usd_per_th_day",
                "Hashprice, USD per TH/s per day (absent while unknown)",
            ),
        }
    }
}

impl ControlSeries {
    fn register(r: &mut Registry) -> Self {
        ControlSeries {
            decisions: counter(r, "hcp_decisions", "Policy decisions"),
            clips: counter(r, "hcp_clips", "Actions clipped by the safety envelope"),
            faults: counter(r, "hcp_device_faults", "Device faults by kind"),
            command_seconds: histogram(
                r,
                "hcp_command_duration_seconds",
                "Duration of device commands, seconds",
                command_histogram,
            ),
            decision_seconds: histogram(
                r,
                "hcp_decision_duration_seconds",
                "Duration of one policy decision, seconds",
                decision_histogram,
            ),
            epoch_seconds: histogram(
                r,
                "hcp_epoch_duration_seconds",
                "Duration of one control-loop epoch, seconds",
                epoch_histogram,
            ),
        }
    }
}

impl GpuSeries {
    fn register(r: &mut Registry) -> Self {
        GpuSeries {
            power_w: gauge(r, "DCGM_FI_DEV_POWER_USAGE", "Power draw (in W)"),
            energy_mj: gauge(
                r,
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                "Total energy consumption since boot (in mJ)",
            ),
            util_pct: gauge(r, "DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %)"),
            fb_used_mib: gauge(r, "DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB)"),
            fb_free_mib: gauge(r, "DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB)"),
            temp_c: gauge(r, "DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C)"),
        }
    }
}

impl Default for BridgeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl BridgeMetrics {
    /// A registry with every series described in the [module](self)
    /// documentation registered and empty.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let site = SiteSeries::register(&mut registry);
        let control = ControlSeries::register(&mut registry);
        let gpu = GpuSeries::register(&mut registry);
        BridgeMetrics {
            registry,
            site,
            control,
            gpu,
        }
    }

    /// Every series in the OpenMetrics text exposition format (ending in
    /// `# EOF`), to be served as
    /// `application/openmetrics-text; version=1.0.0; charset=utf-8`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail, and no label or value type used
        // here fails to encode; should the library ever report an error,
        // serve an empty but valid exposition rather than a truncated one.
        if text::encode(&mut out, &self.registry).is_err() {
            out.clear();
            out.push_str("# EOF\n");
        }
        out
    }

    /// One site's power, commitment, cap, price (`None`: unknown, the
    /// series is removed) and hashrate.
    pub fn set_site(
        &self,
        site: &str,
        power_mw: f64,
        committed_mw: f64,
        cap_mw: f64,
        price_usd_per_mwh: Option<f64>,
        hashrate_ths: f64,
    ) {
        let labels = site_labels(site);
        self.site.power_mw.get_or_create(&labels).set(power_mw);
        self.site
            .committed_mw
            .get_or_create(&labels)
            .set(committed_mw);
        self.site.cap_mw.get_or_create(&labels).set(cap_mw);
        set_or_remove(&self.site.price_usd_per_mwh, &labels, price_usd_per_mwh);
        self.site
            .hashrate_ths
            .get_or_create(&labels)
            .set(hashrate_ths);
    }

    /// Whether a site is armed (1) or in shadow mode (0).
    pub fn set_armed(&self, site: &str, armed: bool) {
        self.site
            .armed
            .get_or_create(&site_labels(site))
            .set(i64::from(armed));
    }

    /// The market: bitcoin price and hashprice (`None`: unknown, the
    /// series is removed).
    pub fn set_market(&self, btc_usd: Option<f64>, hashprice_usd_per_th_day: Option<f64>) {
        set_or_remove(&self.site.btc_usd, &Vec::new(), btc_usd);
        set_or_remove(
            &self.site.hashprice_usd_per_th_day,
            &Vec::new(),
            hashprice_usd_per_th_day,
        );
    }

    /// How many of a site's devices are in one health state (`fresh`,
    /// `stale`, `unknown`, `quarantined`).
    pub fn set_devices(&self, site: &str, health: &str, count: u32) {
        let labels = vec![("site", site.to_owned()), ("health", health.to_owned())];
        self.site
            .devices
            .get_or_create(&labels)
            .set(i64::from(count));
    }

    /// One more decision by `policy`, started by `trigger`.
    pub fn inc_decisions(&self, policy: &str, trigger: &str) {
        let labels = vec![
            ("policy", policy.to_owned()),
            ("trigger", trigger.to_owned()),
        ];
        self.control.decisions.get_or_create(&labels).inc();
    }

    /// `n` more actions clipped by the envelope for `reason`.
    pub fn inc_clips(&self, reason: &str, n: u64) {
        self.control
            .clips
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc_by(n);
    }

    /// `n` more device faults of `kind`.
    pub fn inc_faults(&self, kind: &str, n: u64) {
        self.control
            .faults
            .get_or_create(&vec![("kind", kind.to_owned())])
            .inc_by(n);
    }

    /// One device command's duration, by command and outcome.
    pub fn observe_command(&self, command: &str, outcome: &str, seconds: f64) {
        let labels = vec![
            ("command", command.to_owned()),
            ("outcome", outcome.to_owned()),
        ];
        self.control
            .command_seconds
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// One policy decision's duration.
    pub fn observe_decision_seconds(&self, seconds: f64) {
        self.control
            .decision_seconds
            .get_or_create(&Vec::new())
            .observe(seconds);
    }

    /// One control-loop epoch's duration.
    pub fn observe_epoch_seconds(&self, seconds: f64) {
        self.control
            .epoch_seconds
            .get_or_create(&Vec::new())
            .observe(seconds);
    }

    /// One GPU's reading on `host`, under the DCGM exporter's names.
    pub fn set_gpu(&self, host: &str, reading: &GpuReading) {
        let labels = vec![
            ("gpu", reading.index.to_string()),
            ("UUID", reading.uuid.clone()),
            ("modelName", reading.name.clone()),
            ("Hostname", host.to_owned()),
        ];
        let free_bytes = reading
            .memory_total_bytes
            .saturating_sub(reading.memory_used_bytes);
        self.gpu.power_w.get_or_create(&labels).set(reading.power_w);
        self.gpu
            .energy_mj
            .get_or_create(&labels)
            .set(reading.energy_j * 1000.0);
        self.gpu
            .util_pct
            .get_or_create(&labels)
            .set(reading.utilisation_pct);
        self.gpu
            .fb_used_mib
            .get_or_create(&labels)
            .set(reading.memory_used_bytes as f64 / MIB);
        self.gpu
            .fb_free_mib
            .get_or_create(&labels)
            .set(free_bytes as f64 / MIB);
        self.gpu
            .temp_c
            .get_or_create(&labels)
            .set(reading.temperature_c);
    }
}

/// The label set of a per-site series.
fn site_labels(site: &str) -> Labels {
    vec![("site", site.to_owned())]
}

/// Sets the series to `value`, or removes it when the value is unknown.
fn set_or_remove(family: &GaugeF64, labels: &Labels, value: Option<f64>) {
    match value {
        Some(v) => {
            family.get_or_create(labels).set(v);
        }
        None => {
            family.remove(labels);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample lines of an exposition (no comments).
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    fn has_line(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    fn reading() -> GpuReading {
        GpuReading {
            uuid: "GPU-0a1b2c3d".to_owned(),
            index: 1,
            name: "NVIDIA H100 80GB HBM3".to_owned(),
            power_w: 612.5,
            energy_j: 1234.5,
            utilisation_pct: 87.0,
            memory_used_bytes: 10 * 1_048_576,
            memory_total_bytes: 80 * 1_048_576,
            temperature_c: 64.0,
            throttle_reasons: vec!["sw_power_cap".to_owned()],
        }
    }

    #[test]
    fn metrics_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<BridgeMetrics>();
    }

    #[test]
    fn site_values_are_exported_exactly() {
        let m = BridgeMetrics::new();
        m.set_site("tx-1", 41.5, 30.0, 50.0, Some(23.25), 1_250_000.0);
        m.set_armed("tx-1", true);
        m.set_armed("nd-2", false);
        let text = m.encode();
        for line in [
            "hcp_site_power_mw{site=\"tx-1\"} 41.5",
            "hcp_site_committed_mw{site=\"tx-1\"} 30.0",
            "hcp_site_cap_mw{site=\"tx-1\"} 50.0",
            "hcp_site_price_usd_per_mwh{site=\"tx-1\"} 23.25",
            "hcp_site_hashrate_ths{site=\"tx-1\"} 1250000.0",
            "hcp_site_armed{site=\"tx-1\"} 1",
            "hcp_site_armed{site=\"nd-2\"} 0",
            "# TYPE hcp_site_power_mw gauge",
        ] {
            assert!(has_line(&text, line), "missing {line:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn unknown_price_removes_the_series() {
        let m = BridgeMetrics::new();
        m.set_site("tx-1", 1.0, 1.0, 2.0, Some(40.0), 3.0);
        m.set_site("tx-1", 1.0, 1.0, 2.0, None, 3.0);
        let text = m.encode();
        assert!(
            !samples(&text)
                .iter()
                .any(|l| l.starts_with("hcp_site_price_usd_per_mwh")),
            "{text}"
        );
        assert!(!text.contains("NaN"), "{text}");
        assert!(has_line(&text, "hcp_site_cap_mw{site=\"tx-1\"} 2.0"));
    }

    #[test]
    fn market_gauges_have_no_labels_and_vanish_when_unknown() {
        let m = BridgeMetrics::new();
        m.set_market(Some(65_000.5), Some(0.052));
        let text = m.encode();
        assert!(has_line(&text, "hcp_btc_usd 65000.5"), "{text}");
        assert!(
            has_line(&text, "hcp_hashprice_usd_per_th_day 0.052"),
            "{text}"
        );
        m.set_market(None, Some(0.05));
        let text = m.encode();
        assert!(!samples(&text).iter().any(|l| l.starts_with("hcp_btc_usd")));
        assert!(has_line(&text, "hcp_hashprice_usd_per_th_day 0.05"));
    }

    #[test]
    fn devices_and_counters() {
        let m = BridgeMetrics::new();
        m.set_devices("tx-1", "fresh", 480);
        m.set_devices("tx-1", "quarantined", 2);
        m.set_devices("tx-1", "fresh", 479);
        m.inc_decisions("mpc", "epoch");
        m.inc_decisions("mpc", "epoch");
        m.inc_decisions("mpc", "grid_notice");
        m.inc_clips("site_cap", 3);
        m.inc_faults("timeout", 2);
        m.inc_faults("timeout", 5);
        let text = m.encode();
        for line in [
            "hcp_devices{site=\"tx-1\",health=\"fresh\"} 479",
            "hcp_devices{site=\"tx-1\",health=\"quarantined\"} 2",
            "hcp_decisions_total{policy=\"mpc\",trigger=\"epoch\"} 2",
            "hcp_decisions_total{policy=\"mpc\",trigger=\"grid_notice\"} 1",
            "hcp_clips_total{reason=\"site_cap\"} 3",
            "hcp_device_faults_total{kind=\"timeout\"} 7",
            "# TYPE hcp_decisions counter",
        ] {
            assert!(has_line(&text, line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn histograms_have_the_documented_buckets() {
        let m = BridgeMetrics::new();
        m.observe_command("curtail", "ok", 0.003);
        m.observe_command("curtail", "ok", 40.0);
        m.observe_decision_seconds(0.000_05);
        m.observe_epoch_seconds(1.5);
        let text = m.encode();
        for line in [
            "# TYPE hcp_command_duration_seconds histogram",
            "hcp_command_duration_seconds_count{command=\"curtail\",outcome=\"ok\"} 2",
            "hcp_command_duration_seconds_sum{command=\"curtail\",outcome=\"ok\"} 40.003",
            "hcp_command_duration_seconds_bucket{le=\"0.001\",command=\"curtail\",outcome=\"ok\"} 0",
            "hcp_command_duration_seconds_bucket{le=\"0.004\",command=\"curtail\",outcome=\"ok\"} 1",
            "hcp_command_duration_seconds_bucket{le=\"32.768\",command=\"curtail\",outcome=\"ok\"} 1",
            "hcp_command_duration_seconds_bucket{le=\"+Inf\",command=\"curtail\",outcome=\"ok\"} 2",
            "hcp_decision_duration_seconds_count 1",
            "hcp_decision_duration_seconds_bucket{le=\"0.0001\"} 1",
            "hcp_epoch_duration_seconds_count 1",
            "hcp_epoch_duration_seconds_sum 1.5",
            "hcp_epoch_duration_seconds_bucket{le=\"1.024\"} 0",
            "hcp_epoch_duration_seconds_bucket{le=\"2.048\"} 1",
        ] {
            assert!(has_line(&text, line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn gpu_series_use_dcgm_names_units_and_labels() {
        let m = BridgeMetrics::new();
        m.set_gpu("gpu-host-7", &reading());
        let text = m.encode();
        let labels = "{gpu=\"1\",UUID=\"GPU-0a1b2c3d\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-host-7\"}";
        for (name, value) in [
            ("DCGM_FI_DEV_POWER_USAGE", "612.5"),
            ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "1234500.0"),
            ("DCGM_FI_DEV_GPU_UTIL", "87.0"),
            ("DCGM_FI_DEV_FB_USED", "10.0"),
            ("DCGM_FI_DEV_FB_FREE", "70.0"),
            ("DCGM_FI_DEV_GPU_TEMP", "64.0"),
        ] {
            let line = format!("{name}{labels} {value}");
            assert!(has_line(&text, &line), "missing {line:?} in\n{text}");
            let type_line = format!("# TYPE {name} gauge");
            assert!(has_line(&text, &type_line), "missing {type_line:?}");
        }
        // No unit or counter suffix was appended to any DCGM name.
        for sample in samples(&text) {
            if let Some(rest) = sample.strip_prefix("DCGM_FI_DEV_") {
                let name = rest.split('{').next().unwrap_or(rest);
                assert!(
                    [
                        "POWER_USAGE",
                        "TOTAL_ENERGY_CONSUMPTION",
                        "GPU_UTIL",
                        "FB_USED",
                        "FB_FREE",
                        "GPU_TEMP"
                    ]
                    .contains(&name),
                    "unexpected series {sample}"
                );
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let m = BridgeMetrics::new();
        m.set_armed("a\"b\\c\nd", true);
        let text = m.encode();
        assert!(
            has_line(&text, "hcp_site_armed{site=\"a\\\"b\\\\c\\nd\"} 1"),
            "{text}"
        );
    }
}
