//! A virtual GPU inference server: vLLM's sleep-mode API (`POST
//! /sleep?level=1|2`, `POST /wake_up`, `GET /is_sleeping`) and NVML-like
//! telemetry as JSON (`GET /nvml`, one reading per GPU with a stable
//! `GPU-…` UUID), on its own loopback address.
//!
//! A sleep or wake takes a switch drawn from the twin's switching model
//! (`SwitchingParams::sample`: pre-warmed for a level-1 sleep and its wake,
//! a cold load to wake from level 2), in fleet time, and the reply comes
//! when it is done, as vLLM replies. Board power follows the spec: idle
//! draw asleep, `idle + (TDP − idle)·u` awake at a serving utilisation `u`
//! of 0.6 (a stated assumption); the energy counter integrates it over
//! fleet time. Faults answer as a server would: 401, 503, bad JSON,
//! impossible readings, no answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hcp_engine::rng::StreamRng;
use hcp_models::plant::{GpuSpec, SwitchingParams};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::FleetClock;
use crate::faults::{Fault, FaultSlot};

/// Utilisation of an awake, serving GPU (a stated assumption).
pub const SERVING_UTILISATION: f64 = 0.6;

/// One GPU reading, the field names of `hcp_devices::gpu::GpuReading`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvmlReading {
    /// `GPU-…`.
    pub uuid: String,
    /// Index on the server.
    pub index: u32,
    /// Product name.
    pub name: String,
    /// W.
    pub power_w: f64,
    /// J since the server started.
    pub energy_j: f64,
    /// %.
    pub utilisation_pct: f64,
    /// Bytes.
    pub memory_used_bytes: u64,
    /// Bytes.
    pub memory_total_bytes: u64,
    /// °C.
    pub temperature_c: f64,
    /// NVML names.
    pub throttle_reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Engine {
    Awake,
    Asleep(u8),
}

#[derive(Debug)]
struct GpuState {
    engine: Engine,
    energy_j: f64,
    last_s: f64,
    rng: StreamRng,
}

/// One virtual inference server.
#[derive(Debug)]
pub struct VirtualGpuServer {
    spec: GpuSpec,
    gpus: u32,
    switching: SwitchingParams,
    clock: FleetClock,
    fault: FaultSlot,
    seed: u64,
    state: Mutex<GpuState>,
}

impl VirtualGpuServer {
    /// A server of `gpus` GPUs of `spec`, awake, its switches drawn from `switching`.
    pub fn new(
        spec: GpuSpec,
        gpus: u32,
        switching: SwitchingParams,
        clock: FleetClock,
        seed: u64,
    ) -> Self {
        let now = clock.now_s();
        VirtualGpuServer {
            spec,
            gpus,
            switching,
            clock,
            fault: FaultSlot::default(),
            seed,
            state: Mutex::new(GpuState {
                engine: Engine::Awake,
                energy_j: 0.0,
                last_s: now,
                rng: StreamRng::seed_from_u64(seed),
            }),
        }
    }

    /// Its fault slot.
    pub fn fault(&self) -> &FaultSlot {
        &self.fault
    }

    fn board_w(&self, engine: Engine) -> f64 {
        match engine {
            Engine::Awake => {
                self.spec.idle_w + (self.spec.tdp_w - self.spec.idle_w) * SERVING_UTILISATION
            }
            Engine::Asleep(_) => self.spec.idle_w,
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut GpuState) -> T) -> T {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.clock.now_s();
        s.energy_j += self.board_w(s.engine) * (now - s.last_s).max(0.0);
        s.last_s = now;
        f(&mut s)
    }

    /// The readings now.
    // Memory sizes in bytes from GB: positive, far below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn readings(&self) -> Vec<NvmlReading> {
        let (engine, energy) = self.with_state(|s| (s.engine, s.energy_j));
        let total = (self.spec.memory_gb * 1e9) as u64;
        let (used, util) = match engine {
            Engine::Awake => ((total as f64 * 0.9) as u64, SERVING_UTILISATION * 100.0),
            Engine::Asleep(1) => ((total as f64 * 0.05) as u64, 0.0),
            Engine::Asleep(_) => ((total as f64 * 0.01) as u64, 0.0),
        };
        (0..self.gpus)
            .map(|index| NvmlReading {
                uuid: format!("GPU-{:016x}-{index:04x}", self.seed),
                index,
                name: self.spec.full_name.clone(),
                power_w: self.board_w(engine),
                energy_j: energy,
                utilisation_pct: util,
                memory_used_bytes: used,
                memory_total_bytes: total,
                temperature_c: 35.0 + 40.0 * util / 100.0,
                throttle_reasons: if engine == Engine::Awake {
                    Vec::new()
                } else {
                    vec!["gpu_idle".into()]
                },
            })
            .collect()
    }

    /// Whether the engine is asleep.
    pub fn is_sleeping(&self) -> bool {
        self.with_state(|s| s.engine != Engine::Awake)
    }

    /// Draws the fleet time a switch from `engine` takes.
    fn switch_s(&self, prewarmed: bool) -> f64 {
        self.with_state(|s| {
            self.switching
                .sample(&mut s.rng, prewarmed)
                .total
                .as_secs_f64()
        })
    }
}

#[derive(Deserialize)]
struct Level {
    level: Option<u8>,
}

/// The server's routes.
pub fn router(server: Arc<VirtualGpuServer>) -> Router {
    Router::new()
        .route("/sleep", post(sleep))
        .route("/wake_up", post(wake))
        .route("/is_sleeping", get(is_sleeping))
        .route("/nvml", get(nvml))
        .with_state(server)
}

async fn faulted(server: &VirtualGpuServer) -> Option<Response> {
    match server.fault().get() {
        Fault::None | Fault::Impossible => None,
        Fault::NoAnswer => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
        Fault::Slow { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            None
        }
        Fault::AuthFailure => Some(StatusCode::UNAUTHORIZED.into_response()),
        Fault::Malformed => Some((StatusCode::OK, "{not json").into_response()),
        // A refused connection cannot be made per request here: the
        // server answers as an overloaded one would.
        Fault::Refused => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        Fault::RebootMidCommand => {
            server.fault().take_if(Fault::RebootMidCommand);
            server.with_state(|s| s.engine = Engine::Asleep(2));
            Some(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

async fn sleep(State(server): State<Arc<VirtualGpuServer>>, Query(q): Query<Level>) -> Response {
    if let Some(r) = faulted(&server).await {
        return r;
    }
    let level = q.level.unwrap_or(1).clamp(1, 2);
    if !server.is_sleeping() {
        let takes = server.switch_s(true);
        tokio::time::sleep(server.clock.wall(takes)).await;
        server.with_state(|s| s.engine = Engine::Asleep(level));
    }
    StatusCode::OK.into_response()
}

async fn wake(State(server): State<Arc<VirtualGpuServer>>) -> Response {
    if let Some(r) = faulted(&server).await {
        return r;
    }
    let engine = server.with_state(|s| s.engine);
    if let Engine::Asleep(level) = engine {
        let takes = server.switch_s(level == 1);
        tokio::time::sleep(server.clock.wall(takes)).await;
        server.with_state(|s| s.engine = Engine::Awake);
    }
    StatusCode::OK.into_response()
}

async fn is_sleeping(State(server): State<Arc<VirtualGpuServer>>) -> Response {
    if let Some(r) = faulted(&server).await {
        return r;
    }
    axum::Json(json!({ "is_sleeping": server.is_sleeping() })).into_response()
}

async fn nvml(State(server): State<Arc<VirtualGpuServer>>) -> Response {
    if let Some(r) = faulted(&server).await {
        return r;
    }
    let mut readings = server.readings();
    if server.fault().get() == Fault::Impossible {
        for r in &mut readings {
            r.power_w = 2_147_483_647.0;
            r.utilisation_pct = -5.0;
        }
    }
    axum::Json(readings).into_response()
}
