//! The web side of the virtual miners whose commands are not on 4028, on
//! port 80 of the miner's own address, as real units serve them:
//!
//! - stock Antminer: the CGI interface (`/cgi-bin/miner_type.cgi`,
//!   `summary.cgi`, `get_system_info.cgi`, `get_miner_conf.cgi`, and
//!   `set_miner_conf.cgi`, where `miner-mode` 1 sleeps and 0 wakes; reply
//!   `{"stats":"success","code":"M000"}`). Digest authentication is not
//!   challenged (clients answer a challenge only when one is made); an
//!   auth-failure fault answers 401.
//! - Braiins OS: the GraphQL API at `/graphql` of its 21.09–25.03 line
//!   (a login mutation setting a `session_id` cookie, `bosminer { stop }`,
//!   `bosminer { start }`, `updateAutotuning(input: { powerTarget })`, and
//!   the queries of model, version and power), answered by the request's
//!   operation.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hcp_devices::miner::Firmware;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::faults::Fault;
use crate::protocol::readings;
use crate::virtual_miner::VirtualMiner;

/// The router of `miner`'s web interface (empty for firmware that has none here).
pub fn router(miner: Arc<VirtualMiner>) -> Router {
    match miner.firmware() {
        Firmware::AntminerStock => Router::new()
            .route("/", get(antminer_root))
            .route("/cgi-bin/miner_type.cgi", get(miner_type))
            .route("/cgi-bin/summary.cgi", get(cgi_summary))
            .route("/cgi-bin/get_system_info.cgi", get(system_info))
            .route("/cgi-bin/get_blink_status.cgi", get(blink_status))
            .route("/cgi-bin/get_miner_conf.cgi", get(get_conf))
            .route("/cgi-bin/set_miner_conf.cgi", post(set_conf))
            .with_state(miner),
        Firmware::BraiinsOs => Router::new()
            .route("/", get(braiins_root))
            .route("/graphql", post(graphql))
            .with_state(miner),
        Firmware::LuxOs | Firmware::Whatsminer => Router::new(),
    }
}

/// Serves `miner`'s web interface on `addr` until `stop` turns true.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(
    bound: std::net::TcpListener,
    miner: Arc<VirtualMiner>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    bound.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(bound)?;
    axum::serve(listener, router(miner))
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

fn refused(miner: &VirtualMiner) -> Option<Response> {
    match miner.fault().get() {
        Fault::AuthFailure => Some(
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "Digest realm=\"antMiner Configuration\", nonce=\"0\", qop=\"auth\"",
                )],
            )
                .into_response(),
        ),
        Fault::Malformed => Some((StatusCode::OK, "{\"stats\":").into_response()),
        _ => None,
    }
}

async fn antminer_root() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Digest realm=\"antMiner Configuration\", nonce=\"0\", qop=\"auth\"",
        )],
    )
        .into_response()
}

async fn miner_type(State(m): State<Arc<VirtualMiner>>) -> Response {
    if let Some(r) = refused(&m) {
        return r;
    }
    let name = m.with_physics(|p| p.spec().name.clone());
    axum::Json(json!({ "miner_type": format!("Antminer {name}"), "subtype": "", "fw_version": "" }))
        .into_response()
}

async fn cgi_summary(State(m): State<Arc<VirtualMiner>>) -> Response {
    if let Some(r) = refused(&m) {
        return r;
    }
    let s = readings(&m, m.now());
    axum::Json(json!({
        "STATUS": { "STATUS": "S", "when": crate::protocol::when(m.now()), "Msg": "summary", "api_version": "1.0.0" },
        "INFO": { "miner_version": "uart_trans.1.3", "CompileTime": crate::protocol::antminer::COMPILE_TIME, "type": "Antminer" },
        "SUMMARY": [{ "elapsed": s.uptime_s.floor(), "rate_5s": s.hashrate_th * 1_000.0, "rate_unit": "GH/s", "status": [] }]
    }))
    .into_response()
}

async fn system_info(State(m): State<Arc<VirtualMiner>>) -> Response {
    if let Some(r) = refused(&m) {
        return r;
    }
    let serial = m.serial();
    axum::Json(json!({
        "minertype": format!("Antminer {}", m.with_physics(|p| p.spec().name.clone())),
        "macaddr": mac(serial), "hostname": format!("virtual-{serial}"),
        "system_filesystem_version": crate::protocol::antminer::COMPILE_TIME, "serinum": format!("HCP{serial:09}")
    }))
    .into_response()
}

async fn blink_status() -> Response {
    axum::Json(json!({ "blink": false })).into_response()
}

async fn get_conf(State(m): State<Arc<VirtualMiner>>) -> Response {
    if let Some(r) = refused(&m) {
        return r;
    }
    let asleep = readings(&m, m.now()).curtailed;
    let mode = i32::from(asleep);
    axum::Json(json!({
        "pools": [{ "url": "stratum+tcp://stratum.pool.invalid:3333", "user": "hcp.virtual", "pass": "x" }],
        "bitmain-fan-ctrl": false, "bitmain-fan-pwm": "100", "freq-level": "100",
        "miner-mode": mode, "bitmain-work-mode": mode.to_string()
    }))
    .into_response()
}

async fn set_conf(State(m): State<Arc<VirtualMiner>>, body: String) -> Response {
    if let Some(r) = refused(&m) {
        return r;
    }
    let Ok(conf) = serde_json::from_str::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "stats": "error", "code": "M001", "msg": "bad json" })),
        )
            .into_response();
    };
    let mode = conf
        .get("miner-mode")
        .or_else(|| conf.get("bitmain-work-mode"))
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
    let now = m.now();
    match mode {
        Some(1) => m.with_physics(|p| p.curtail(now)),
        Some(0) => m.with_physics(|p| p.resume(now)),
        _ => {}
    }
    axum::Json(json!({ "stats": "success", "code": "M000", "msg": "OK!" })).into_response()
}

async fn braiins_root() -> Response {
    (
        StatusCode::OK,
        "<html><head><title>Braiins OS</title></head><body>Braiins OS</body></html>",
    )
        .into_response()
}

async fn graphql(State(m): State<Arc<VirtualMiner>>, headers: HeaderMap, body: String) -> Response {
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return axum::Json(json!({ "data": null, "errors": [{ "message": "bad request" }] }))
            .into_response();
    };
    let query = request.get("query").and_then(Value::as_str).unwrap_or("");
    let auth_failure = m.fault().get() == Fault::AuthFailure;
    if query.contains("login(") {
        if auth_failure {
            return axum::Json(
                json!({ "data": { "auth": { "login": { "message": "Invalid credentials" } } } }),
            )
            .into_response();
        }
        let cookie = format!("session_id=hcp{:x}; Path=/; HttpOnly", m.serial());
        return (
            [(header::SET_COOKIE, cookie)],
            axum::Json(json!({ "data": { "auth": { "login": { "void": null } } } })),
        )
            .into_response();
    }
    let needs_session = query.contains("mutation") || query.contains("approxConsumptionW");
    let has_session = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains("session_id="));
    if needs_session && (auth_failure || !has_session) {
        return axum::Json(json!({ "data": null, "errors": [{ "message": "Unauthorized" }] }))
            .into_response();
    }
    let now = m.now();
    let data = if query.contains("modelName") {
        json!({ "bosminer": { "info": { "modelName": format!("Antminer {}", m.with_physics(|p| p.spec().name.clone())) } } })
    } else if query.contains("version { full }") && !query.contains("approxConsumptionW") {
        json!({ "bos": { "info": { "version": { "full": "2023-03-29-0-b9a6d6e9-23.03-plus" } } } })
    } else if query.contains("stop {") {
        m.with_physics(|p| p.curtail(now));
        json!({ "bosminer": { "stop": { "void": null } } })
    } else if query.contains("start {") {
        m.with_physics(|p| p.resume(now));
        json!({ "bosminer": { "start": { "void": null } } })
    } else if query.contains("updateAutotuning") {
        let limit = request
            .pointer("/variables/limit")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        m.with_physics(|p| p.set_target(now, limit));
        let target = m.with_physics(|p| p.snapshot(now).target_w);
        json!({ "bosminer": { "config": { "updateAutotuning": { "autotuning": { "powerTarget": target.round(), "enabled": true } } } } })
    } else if query.contains("approxConsumptionW") {
        let s = readings(&m, now);
        json!({
            "bos": { "faultLight": false, "hostname": format!("virtual-{}", m.serial()),
                     "info": { "version": { "full": "2023-03-29-0-b9a6d6e9-23.03-plus" } },
                     "uptime": { "durationS": s.uptime_s.floor() } },
            "bosminer": { "info": {
                "fans": [],
                "summary": { "power": { "approxConsumptionW": s.power_w.round(), "limitW": s.target_w.round() } },
                "workSolver": if s.curtailed && s.hashrate_th == 0.0 { Value::Null } else { json!({
                    "nominalMhs": m.with_physics(|p| p.spec().hashrate_th) * 1e6,
                    "realHashrate": { "mhs5S": s.hashrate_th * 1e6 }
                }) }
            } }
        })
    } else {
        return axum::Json(json!({ "data": null, "errors": [{ "message": "n/a" }] }))
            .into_response();
    };
    axum::Json(json!({ "data": data })).into_response()
}

fn mac(serial: u64) -> String {
    let b = serial.to_be_bytes();
    format!("02:48:43:{:02X}:{:02X}:{:02X}", b[5], b[6], b[7])
}
