//! A real Prometheus scrapes the operator API: the bridge's metrics (site
//! gauges, a counter, and a GPU under its DCGM name) must arrive in
//! Prometheus' database with their values, through a bearer token read
//! from a file as an operator would configure it.
//!
//! Needs the `prometheus` binary (Debian: `apt-get install prometheus`),
//! hence ignored by default; CI runs it with
//! `cargo test -p hcp-bridge --test prometheus -- --ignored`. Everything
//! listens on 127.0.0.1 only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hcp_bridge::api;
use hcp_bridge::api::auth::TokenStore;
use hcp_bridge::metrics::BridgeMetrics;
use hcp_bridge::operator::{Actor, ArmRequest, FeedPush, LimitChange, OperatorPort, Refusal, Role};
use hcp_devices::gpu::GpuReading;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A bridge with nothing to say beyond its metrics.
struct QuietPort(broadcast::Sender<Arc<str>>);

impl OperatorPort for QuietPort {
    fn health(&self) -> Value {
        json!({ "ok": true })
    }
    fn status(&self) -> Value {
        json!({})
    }
    fn arm(&self, _: &Actor, _: ArmRequest) -> Result<Value, Refusal> {
        Err(Refusal::NotAllowed("test".to_owned()))
    }
    fn disarm(&self, _: &Actor) -> Value {
        json!({})
    }
    fn emergency_stop(&self, _: &Actor) -> Value {
        json!({})
    }
    fn push_feed(&self, _: &Actor, _: &str, _: FeedPush) -> Result<Value, Refusal> {
        Err(Refusal::BadRequest("test".to_owned()))
    }
    fn change_limit(&self, _: &Actor, _: LimitChange) -> Result<Value, Refusal> {
        Err(Refusal::BadRequest("test".to_owned()))
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.0.subscribe()
    }
}

/// The `prometheus` binary: on `PATH`, else Debian's `/usr/bin/prometheus`.
fn prometheus_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prometheus"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/bin/prometheus");
        debian.is_file().then_some(debian)
    })
}

/// Stops Prometheus and removes the temporary directory however the test
/// ends.
struct Guard {
    child: Option<Child>,
    dir: PathBuf,
}

impl Guard {
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on now, on loopback.
fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn unique_temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "hcp-bridge-prometheus-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write_config(dir: &Path, target: &str, credentials: &Path) -> PathBuf {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 800ms\n\
         scrape_configs:\n  - job_name: hcp-bridge\n    scrape_interval: 1s\n    \
         scrape_timeout: 800ms\n    metrics_path: /metrics\n    authorization:\n      \
         type: Bearer\n      credentials_file: {}\n    static_configs:\n      \
         - targets: ['{target}']\n",
        credentials.display()
    );
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).expect("write prometheus.yml");
    path
}

/// `text` percent-encoded for a query string (RFC 3986 unreserved kept).
fn percent_encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The instant vector a PromQL query returns, as (labels, value) pairs.
async fn query(client: &reqwest::Client, base: &str, promql: &str) -> Option<Vec<(Value, String)>> {
    let reply: Value = client
        .get(format!(
            "{base}/api/v1/query?query={}",
            percent_encode(promql)
        ))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let result = reply["data"]["result"].as_array()?;
    Some(
        result
            .iter()
            .map(|r| {
                let value = r["value"][1].as_str().unwrap_or_default().to_owned();
                (r["metric"].clone(), value)
            })
            .collect(),
    )
}

/// The bridge's side: real metrics with known values behind a viewer
/// token, served on a loopback port. Returns the target (`host:port`), the
/// sender that stops the server, and the server's task.
async fn start_bridge(
    token: &str,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let metrics = Arc::new(BridgeMetrics::new());
    metrics.set_site("tx-1", 41.5, 30.0, 50.0, Some(23.25), 1_250_000.0);
    metrics.set_armed("tx-1", true);
    metrics.inc_faults("timeout", 3);
    metrics.observe_command("curtail", "ok", 0.25);
    metrics.set_gpu(
        "gpu-host-7",
        &GpuReading {
            uuid: GPU_UUID.to_owned(),
            index: 0,
            name: "NVIDIA H200".to_owned(),
            power_w: 612.5,
            energy_j: 1234.5,
            utilisation_pct: 87.0,
            memory_used_bytes: 10 * 1_048_576,
            memory_total_bytes: 141 * 1_048_576,
            temperature_c: 64.0,
            throttle_reasons: Vec::new(),
        },
    );
    let line = TokenStore::hash_line(Role::Viewer, "prometheus", token);
    let store = TokenStore::from_lines(&line, "test").expect("token store");
    let router = api::router(
        Arc::new(QuietPort(broadcast::channel(4).0)),
        Arc::new(store),
        metrics,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let target = listener.local_addr().expect("address").to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    (target, stop, server)
}

/// Starts Prometheus on a free loopback port, scraping `target` every
/// second with `token` read from a credentials file. Returns its base URL
/// and the guard that stops it.
fn start_prometheus(binary: &Path, target: &str, token: &str) -> (String, Guard) {
    let dir = unique_temp_dir();
    let credentials = dir.join("viewer.token");
    std::fs::write(&credentials, token).expect("write token file");
    let config = write_config(&dir, target, &credentials);
    let web_port = free_loopback_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web_port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let guard = Guard {
        child: Some(child),
        dir,
    };
    (format!("http://127.0.0.1:{web_port}"), guard)
}

/// The GPU's UUID in the test.
const GPU_UUID: &str = "GPU-5f2e0c1a-0000-4000-8000-000000000001";

/// The series the test waits for, all stored once one scrape succeeded.
const AWAITED: [&str; 4] = [
    "hcp_site_cap_mw",
    "DCGM_FI_DEV_POWER_USAGE",
    "hcp_device_faults_total",
    "hcp_command_duration_seconds_count",
];

/// Polls Prometheus until every [`AWAITED`] series has a value, or panics
/// with its targets page and log after 60 s.
async fn wait_for_series(
    client: &reqwest::Client,
    base: &str,
    guard: &Guard,
) -> Vec<Vec<(Value, String)>> {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let mut found = Vec::new();
        for promql in AWAITED {
            match query(client, base, promql).await {
                Some(series) if !series.is_empty() => found.push(series),
                _ => break,
            }
        }
        if found.len() == AWAITED.len() {
            return found;
        }
        if Instant::now() >= deadline {
            let targets = match client.get(format!("{base}/api/v1/targets")).send().await {
                Ok(reply) => reply.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            panic!(
                "Prometheus did not store the bridge's metrics within 60 s.\n\
                 targets: {targets}\nprometheus log:\n{}",
                guard.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The value of the first series `promql` returns.
async fn first_value(client: &reqwest::Client, base: &str, promql: &str) -> Option<String> {
    query(client, base, promql)
        .await?
        .into_iter()
        .next()
        .map(|(_, value)| value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's prometheus package; CI runs it with --ignored"]
async fn prometheus_scrapes_the_bridge() {
    let Some(binary) = prometheus_binary() else {
        panic!(
            "no `prometheus` binary on PATH or at /usr/bin/prometheus: \
             install it (Debian: `apt-get install prometheus`) to run this test"
        );
    };
    let token = TokenStore::new_token().expect("random");
    let (target, stop, server) = start_bridge(&token).await;
    let (base, guard) = start_prometheus(&binary, &target, &token);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    let found = wait_for_series(&client, &base, &guard).await;
    let [cap, power, faults, commands] = &found[..] else {
        panic!("{found:?}");
    };
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert_eq!(cap[0].0["site"], "tx-1");
    assert_eq!(cap[0].0["job"], "hcp-bridge");
    assert_eq!(cap[0].1, "50");
    assert_eq!(power.len(), 1, "{power:?}");
    let labels = json!({
        "gpu": "0",
        "UUID": GPU_UUID,
        "modelName": "NVIDIA H200",
        "Hostname": "gpu-host-7",
    });
    for (label, value) in labels.as_object().expect("object") {
        assert_eq!(&power[0].0[label], value, "label {label} of {power:?}");
    }
    assert_eq!(power[0].1, "612.5");
    assert_eq!(faults[0].0["kind"], "timeout");
    assert_eq!(faults[0].1, "3");
    assert_eq!(commands[0].0["command"], "curtail");
    assert_eq!(commands[0].1, "1");
    for (promql, expected) in [
        ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "1234500"),
        ("DCGM_FI_DEV_FB_FREE", "131"),
        ("DCGM_FI_DEV_GPU_UTIL", "87"),
        ("hcp_site_price_usd_per_mwh", "23.25"),
        ("hcp_site_armed", "1"),
    ] {
        let value = first_value(&client, &base, promql).await;
        assert_eq!(value.as_deref(), Some(expected), "{promql}");
    }

    drop(guard);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped")
        .expect("joined")
        .expect("served");
}
