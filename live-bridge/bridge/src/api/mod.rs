//! The operator API: HTTP/1 and JSON over the bridge's [`OperatorPort`],
//! with bearer tokens ([`auth`]) checked on every route but one.
//!
//! # Routes
//!
//! | route | role | does |
//! |---|---|---|
//! | `GET /health` | **public** | [`OperatorPort::health`] as JSON, for liveness probes |
//! | `GET /status` | viewer | [`OperatorPort::status`] as JSON |
//! | `GET /metrics` | viewer | [`BridgeMetrics::encode`], OpenMetrics text, for Prometheus |
//! | `GET /events` | viewer | the live stream as server-sent events (see below) |
//! | `POST /arm` | operator | [`OperatorPort::arm`]; JSON [`ArmRequest`], an empty body arms every site the configuration allows |
//! | `POST /disarm` | operator | [`OperatorPort::disarm`] (the body is ignored) |
//! | `POST /emergency-stop` | operator | [`OperatorPort::emergency_stop`] (the body is ignored) |
//! | `POST /feeds/{name}` | operator | [`OperatorPort::push_feed`]; JSON [`FeedPush`] |
//! | `POST /limits` | admin | [`OperatorPort::change_limit`]; JSON [`LimitChange`] |
//!
//! `GET /health` is the only route answered without a token, and it tells
//! nothing about the fleet. Everything else, including paths that do not
//! exist, fails closed:
//!
//! * no `Authorization: Bearer <token>` header, a malformed one, or an
//!   unknown token: `401` with `WWW-Authenticate: Bearer realm="hcp-bridge"`;
//! * a valid token whose role is too low: `403`;
//! * a valid token and a path that does not exist: `404`;
//! * a body that is not the expected JSON: `400`; over [`BODY_LIMIT`]: `413`;
//! * [`Refusal::NotAllowed`]: `409`; [`Refusal::BadRequest`]: `400`.
//!
//! Errors are JSON, `{"error": "..."}`; no response ever holds a token,
//! and the `Authorization` header is removed from the request once checked.
//! Who called (the token's [`Actor`]: name and role) is passed to the port
//! so the bridge's audit log records who did what. The port's methods are
//! synchronous: they run on the blocking thread pool, so a slow bridge
//! cannot stall the server's workers.
//!
//! # Events
//!
//! `GET /events` sends each document of [`OperatorPort::subscribe`] as one
//! SSE event with one `data:` line of JSON; a subscriber that fell behind
//! receives `event: lagged` with the number of documents it missed as data,
//! and the stream goes on. An SSE comment is sent every 15 s on an idle
//! stream.
//!
//! # Serving
//!
//! [`serve`] runs the router on a listener until a shutdown future
//! completes, then finishes the requests in flight (open event streams are
//! ended) and returns. Bind the listener to the addresses the
//! configuration names; the API has no TLS of its own, so anything beyond
//! loopback belongs behind a TLS-terminating proxy.

pub mod auth;
mod sse;

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;

pub use self::auth::{TokenFileError, TokenStore};
use self::sse::ShutdownSignal;
use crate::metrics::BridgeMetrics;
use crate::operator::{Actor, ArmRequest, FeedPush, LimitChange, OperatorPort, Refusal, Role};

/// The largest request body accepted, bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The content type of `GET /metrics`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The only route answered without a token.
const HEALTH_PATH: &str = "/health";

/// The `WWW-Authenticate` challenge of a `401`.
const CHALLENGE: &str = "Bearer realm=\"hcp-bridge\"";

/// The `WWW-Authenticate` challenge of a `401` for a token that was
/// presented but is not known (RFC 6750 §3.1).
const CHALLENGE_INVALID: &str = "Bearer realm=\"hcp-bridge\", error=\"invalid_token\"";

/// What every handler shares.
#[derive(Clone)]
struct ApiState {
    port: Arc<dyn OperatorPort>,
    metrics: Arc<BridgeMetrics>,
}

/// The operator API's router (routes and rules in the [module](self)
/// documentation), ready for [`serve`] or for in-process requests.
pub fn router(
    port: Arc<dyn OperatorPort>,
    tokens: Arc<TokenStore>,
    metrics: Arc<BridgeMetrics>,
) -> Router {
    let public = Router::new().route(HEALTH_PATH, get(health));
    let viewer = Router::new()
        .route("/status", get(status))
        .route("/metrics", get(metrics_text))
        .route("/events", get(events))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let operator = Router::new()
        .route("/arm", post(arm))
        .route("/disarm", post(disarm))
        .route("/emergency-stop", post(emergency_stop))
        .route("/feeds/{name}", post(push_feed))
        .route_layer(middleware::from_fn_with_state(Role::Operator, require_role));
    let admin = Router::new()
        .route("/limits", post(change_limit))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    Router::new()
        .merge(public)
        .merge(viewer)
        .merge(operator)
        .merge(admin)
        .fallback(not_found)
        // Applied to every route and to the fallback: nothing but
        // `/health` is reached without a known token.
        .layer(middleware::from_fn_with_state(tokens, authenticate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(ApiState { port, metrics })
}

/// Serves `router` on `listener` until `shutdown` completes, then ends open
/// event streams, lets requests in flight finish, and returns.
///
/// # Errors
/// What the listener reports (axum retries failed accepts itself).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping, signal) = tokio::sync::watch::channel(false);
    let router = router.layer(Extension(ShutdownSignal(signal)));
    let shutdown = async move {
        shutdown.await;
        // No receiver left is fine: no stream is open.
        let _ = stopping.send(true);
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// An error response: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    challenge: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            challenge: None,
        }
    }

    fn unauthorised(message: &str, challenge: &'static str) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: message.to_owned(),
            challenge: Some(challenge),
        }
    }

    fn internal() -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        let mut response = (self.status, body).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotAllowed(message) => ApiError::new(StatusCode::CONFLICT, message),
            Refusal::BadRequest(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme
/// case-insensitive, RFC 7235), or the `401` for a missing or malformed one.
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::unauthorised(
            "an `Authorization: Bearer <token>` header is needed",
            CHALLENGE,
        ));
    };
    let malformed = || {
        ApiError::unauthorised(
            "the Authorization header must be `Bearer <token>`",
            CHALLENGE,
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim_start();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(|c: char| c.is_ascii_whitespace())
    {
        return Err(malformed());
    }
    Ok(token)
}

/// Authenticates every request but `GET /health`: the token's [`Actor`]
/// goes into the request's extensions, the token itself is removed.
async fn authenticate(
    State(tokens): State<Arc<TokenStore>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == HEALTH_PATH {
        return next.run(request).await;
    }
    let actor = match bearer_token(request.headers()) {
        Ok(token) => tokens.authenticate(token),
        Err(error) => return error.into_response(),
    };
    let Some(actor) = actor else {
        return ApiError::unauthorised("unknown token", CHALLENGE_INVALID).into_response();
    };
    request.headers_mut().remove(header::AUTHORIZATION);
    request.extensions_mut().insert(actor);
    next.run(request).await
}

/// Lets the request through only for an actor whose role allows `needed`.
async fn require_role(State(needed): State<Role>, request: Request, next: Next) -> Response {
    match request.extensions().get::<Actor>() {
        Some(actor) if actor.role.allows(needed) => next.run(request).await,
        Some(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this needs the {} role", needed.name()),
        )
        .into_response(),
        // Unreachable behind `authenticate`, but fail closed regardless.
        None => ApiError::unauthorised("not authenticated", CHALLENGE).into_response(),
    }
}

/// Runs a port call on the blocking pool.
async fn call<T: Send + 'static>(
    port: &Arc<dyn OperatorPort>,
    f: impl FnOnce(&dyn OperatorPort) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let port = Arc::clone(port);
    tokio::task::spawn_blocking(move || f(port.as_ref()))
        .await
        .map_err(|_| ApiError::internal())
}

/// A JSON body; an empty one (only whitespace) is `empty`'s value when
/// given, else an error.
fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    empty: Option<T>,
) -> Result<T, ApiError> {
    let body = body?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty
            .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "a JSON body is needed"));
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

async fn health(State(state): State<ApiState>) -> Result<Json<serde_json::Value>, ApiError> {
    call(&state.port, OperatorPort::health).await.map(Json)
}

async fn status(State(state): State<ApiState>) -> Result<Json<serde_json::Value>, ApiError> {
    call(&state.port, OperatorPort::status).await.map(Json)
}

async fn metrics_text(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        state.metrics.encode(),
    )
        .into_response()
}

async fn events(
    State(state): State<ApiState>,
    shutdown: Option<Extension<ShutdownSignal>>,
) -> Response {
    sse::stream(state.port.subscribe(), shutdown.map(|Extension(s)| s))
}

async fn arm(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request: ArmRequest = parse_body(body, Some(ArmRequest::default()))?;
    Ok(Json(
        call(&state.port, move |port| port.arm(&actor, request)).await??,
    ))
}

async fn disarm(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<serde_json::Value>, ApiError> {
    call(&state.port, move |port| port.disarm(&actor))
        .await
        .map(Json)
}

async fn emergency_stop(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<serde_json::Value>, ApiError> {
    call(&state.port, move |port| port.emergency_stop(&actor))
        .await
        .map(Json)
}

async fn push_feed(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(name) = name?;
    let push: FeedPush = parse_body(body, None)?;
    Ok(Json(
        call(&state.port, move |port| port.push_feed(&actor, &name, push)).await??,
    ))
}

async fn change_limit(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let change: LimitChange = parse_body(body, None)?;
    Ok(Json(
        call(&state.port, move |port| port.change_limit(&actor, change)).await??,
    ))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}
