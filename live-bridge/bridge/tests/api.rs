//! The operator API in process: authentication and roles on every route,
//! the mapping of refusals and bad bodies to statuses, metrics, the event
//! stream over a real loopback socket, graceful shutdown, and the token
//! file's parser.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use hcp_bridge::api::auth::{LineProblem, TokenFileError, TokenStore};
use hcp_bridge::api::{self, OPENMETRICS_CONTENT_TYPE};
use hcp_bridge::metrics::BridgeMetrics;
use hcp_bridge::operator::{Actor, ArmRequest, FeedPush, LimitChange, OperatorPort, Refusal, Role};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tower::ServiceExt as _;

/// What the fake bridge was asked.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Arm(Actor, ArmRequest),
    Disarm(Actor),
    Stop(Actor),
    Feed(Actor, String, FeedPush),
    Limit(Actor, LimitChange),
}

/// A bridge that records every call and answers as told.
struct FakePort {
    calls: Mutex<Vec<Call>>,
    refuse: Mutex<Option<Refusal>>,
    events: broadcast::Sender<Arc<str>>,
}

impl FakePort {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(FakePort {
            calls: Mutex::new(Vec::new()),
            refuse: Mutex::new(None),
            events: broadcast::channel(capacity).0,
        })
    }

    fn record(&self, call: Call) {
        self.calls.lock().expect("lock").push(call);
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    fn refuse_with(&self, refusal: Refusal) {
        *self.refuse.lock().expect("lock") = Some(refusal);
    }

    fn answer(&self, what: &str) -> Result<Value, Refusal> {
        match self.refuse.lock().expect("lock").clone() {
            Some(refusal) => Err(refusal),
            None => Ok(json!({ "done": what })),
        }
    }
}

impl OperatorPort for FakePort {
    fn health(&self) -> Value {
        json!({ "ok": true, "mode": "shadow" })
    }

    fn status(&self) -> Value {
        json!({ "sites": ["tx-1"] })
    }

    fn arm(&self, actor: &Actor, request: ArmRequest) -> Result<Value, Refusal> {
        self.record(Call::Arm(actor.clone(), request));
        self.answer("arm")
    }

    fn disarm(&self, actor: &Actor) -> Value {
        self.record(Call::Disarm(actor.clone()));
        json!({ "done": "disarm" })
    }

    fn emergency_stop(&self, actor: &Actor) -> Value {
        self.record(Call::Stop(actor.clone()));
        json!({ "done": "emergency_stop" })
    }

    fn push_feed(&self, actor: &Actor, feed: &str, push: FeedPush) -> Result<Value, Refusal> {
        self.record(Call::Feed(actor.clone(), feed.to_owned(), push));
        self.answer("feed")
    }

    fn change_limit(&self, actor: &Actor, change: LimitChange) -> Result<Value, Refusal> {
        self.record(Call::Limit(actor.clone(), change));
        self.answer("limit")
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.events.subscribe()
    }
}

/// The three tokens the tests hold.
struct Tokens {
    viewer: String,
    operator: String,
    admin: String,
}

struct Fixture {
    port: Arc<FakePort>,
    metrics: Arc<BridgeMetrics>,
    router: Router,
    tokens: Tokens,
}

fn fixture_with_capacity(capacity: usize) -> Fixture {
    let tokens = Tokens {
        viewer: TokenStore::new_token().expect("random"),
        operator: TokenStore::new_token().expect("random"),
        admin: TokenStore::new_token().expect("random"),
    };
    let file = format!(
        "# test tokens\n{}\n\n{}\n{}\n",
        TokenStore::hash_line(Role::Viewer, "vera", &tokens.viewer),
        TokenStore::hash_line(Role::Operator, "alice", &tokens.operator),
        TokenStore::hash_line(Role::Admin, "root", &tokens.admin),
    );
    let store = TokenStore::from_lines(&file, "test").expect("token file");
    let port = FakePort::new(capacity);
    let metrics = Arc::new(BridgeMetrics::new());
    let router = api::router(port.clone(), Arc::new(store), metrics.clone());
    Fixture {
        port,
        metrics,
        router,
        tokens,
    }
}

fn fixture() -> Fixture {
    fixture_with_capacity(16)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {}", self.body))
            .to_owned()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// A request with an optional `Authorization` header value and body.
fn request(method: Method, path: &str, authorization: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    if !body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder.body(Body::from(body.to_owned())).expect("request")
}

async fn get(router: &Router, path: &str, token: Option<&str>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    send(router, request(Method::GET, path, auth.as_deref(), "")).await
}

async fn post(router: &Router, path: &str, token: Option<&str>, body: &str) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    send(router, request(Method::POST, path, auth.as_deref(), body)).await
}

fn alice() -> Actor {
    Actor {
        name: "alice".to_owned(),
        role: Role::Operator,
    }
}

fn assert_unauthorised(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply
        .headers
        .get(header::WWW_AUTHENTICATE)
        .expect("WWW-Authenticate")
        .to_str()
        .expect("ascii");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(!reply.error().is_empty());
}

#[tokio::test]
async fn health_is_public() {
    let f = fixture();
    let reply = get(&f.router, "/health", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "ok": true, "mode": "shadow" }));
    // A bad token does not stop a probe either.
    let reply = get(&f.router, "/health", Some("nonsense")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn every_other_route_needs_a_token() {
    let f = fixture();
    for path in ["/status", "/metrics", "/events"] {
        assert_unauthorised(&get(&f.router, path, None).await);
    }
    for path in [
        "/arm",
        "/disarm",
        "/emergency-stop",
        "/feeds/btc_usd",
        "/limits",
    ] {
        assert_unauthorised(&post(&f.router, path, None, "{}").await);
    }
    assert!(f.port.calls().is_empty());
}

#[tokio::test]
async fn wrong_token_is_401_and_not_echoed() {
    let f = fixture();
    let wrong = TokenStore::new_token().expect("random");
    let reply = get(&f.router, "/status", Some(&wrong)).await;
    assert_unauthorised(&reply);
    assert!(!reply.body.contains(&wrong));
    let challenge = reply.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // The stored hash is not a token.
    let line = TokenStore::hash_line(Role::Viewer, "x", &f.tokens.viewer);
    let hash = line.rsplit(' ').next().expect("hash field");
    assert_unauthorised(&get(&f.router, "/status", Some(hash)).await);
    let hex = hash.trim_start_matches("sha256:");
    assert_unauthorised(&get(&f.router, "/status", Some(hex)).await);
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let f = fixture();
    let token = &f.tokens.viewer;
    for header_value in [
        token.clone(),
        format!("Basic {token}"),
        format!("Token {token}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {token} extra"),
        format!("Bearer{token}"),
    ] {
        let reply = send(
            &f.router,
            request(Method::GET, "/status", Some(&header_value), ""),
        )
        .await;
        assert_unauthorised(&reply);
        assert!(!reply.body.contains(token.as_str()), "{}", reply.body);
    }
    // Two Authorization headers are ambiguous.
    let twice = Request::builder()
        .uri("/status")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    assert_unauthorised(&send(&f.router, twice).await);
    // The scheme is case-insensitive (RFC 7235).
    let lower = format!("bearer {token}");
    let reply = send(&f.router, request(Method::GET, "/status", Some(&lower), "")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn viewer_reads_status() {
    let f = fixture();
    let reply = get(&f.router, "/status", Some(&f.tokens.viewer)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "sites": ["tx-1"] }));
}

#[tokio::test]
async fn viewer_may_not_act() {
    let f = fixture();
    for (path, body) in [
        ("/arm", ""),
        ("/disarm", ""),
        ("/emergency-stop", ""),
        ("/feeds/btc_usd", r#"{"value": 1.0}"#),
        ("/limits", r#"{"key": "max_ramp_mw_per_min", "value": 2.0}"#),
    ] {
        let reply = post(&f.router, path, Some(&f.tokens.viewer), body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.body
        );
        assert!(reply.error().contains("role"), "{}", reply.body);
    }
    assert!(f.port.calls().is_empty(), "{:?}", f.port.calls());
}

#[tokio::test]
async fn operator_arms_and_the_bridge_sees_who() {
    let f = fixture();
    let reply = post(
        &f.router,
        "/arm",
        Some(&f.tokens.operator),
        r#"{"sites": ["tx-1"]}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), json!({ "done": "arm" }));
    // An empty body arms every site the configuration allows.
    let reply = post(&f.router, "/arm", Some(&f.tokens.operator), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        f.port.calls(),
        vec![
            Call::Arm(
                alice(),
                ArmRequest {
                    sites: vec!["tx-1".to_owned()]
                }
            ),
            Call::Arm(alice(), ArmRequest::default()),
        ]
    );
    // An admin may do what an operator may.
    let reply = post(&f.router, "/arm", Some(&f.tokens.admin), "{}").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let Some(Call::Arm(actor, _)) = f.port.calls().last().cloned() else {
        panic!("no arm call");
    };
    assert_eq!(
        actor,
        Actor {
            name: "root".to_owned(),
            role: Role::Admin
        }
    );
}

#[tokio::test]
async fn operator_disarms_stops_and_pushes_feeds() {
    let f = fixture();
    let token = Some(f.tokens.operator.as_str());
    let reply = post(&f.router, "/disarm", token, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), json!({ "done": "disarm" }));
    let reply = post(&f.router, "/emergency-stop", token, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = post(
        &f.router,
        "/feeds/ercot_lz_west",
        token,
        r#"{"value": 31.5, "at": "2026-03-01T12:00:00Z"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let at = "2026-03-01T12:00:00Z".parse().expect("time");
    assert_eq!(
        f.port.calls(),
        vec![
            Call::Disarm(alice()),
            Call::Stop(alice()),
            Call::Feed(
                alice(),
                "ercot_lz_west".to_owned(),
                FeedPush {
                    value: 31.5,
                    at: Some(at)
                }
            ),
        ]
    );
}

#[tokio::test]
async fn only_admins_change_limits() {
    let f = fixture();
    let body = r#"{"key": "max_ramp_mw_per_min", "value": 2.5}"#;
    let reply = post(&f.router, "/limits", Some(&f.tokens.operator), body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(f.port.calls().is_empty());
    let reply = post(&f.router, "/limits", Some(&f.tokens.admin), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        f.port.calls(),
        vec![Call::Limit(
            Actor {
                name: "root".to_owned(),
                role: Role::Admin
            },
            LimitChange {
                key: "max_ramp_mw_per_min".to_owned(),
                value: 2.5
            }
        )]
    );
}

#[tokio::test]
async fn refusals_map_to_409_and_400() {
    let f = fixture();
    f.port
        .refuse_with(Refusal::NotAllowed("site tx-1 may not be armed".to_owned()));
    let reply = post(&f.router, "/arm", Some(&f.tokens.operator), "").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error(), "site tx-1 may not be armed");

    f.port
        .refuse_with(Refusal::BadRequest("unknown feed `nope`".to_owned()));
    let reply = post(
        &f.router,
        "/feeds/nope",
        Some(&f.tokens.operator),
        r#"{"value": 1.0}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "unknown feed `nope`");

    let reply = post(
        &f.router,
        "/limits",
        Some(&f.tokens.admin),
        r#"{"key": "nope", "value": 1.0}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "unknown feed `nope`");
}

#[tokio::test]
async fn bad_bodies_are_400_with_a_json_error() {
    let f = fixture();
    let operator = Some(f.tokens.operator.as_str());
    for (path, body) in [
        ("/arm", "{"),
        ("/arm", r#"{"sites": "tx-1"}"#),
        ("/arm", r#"{"sites": [], "force": true}"#),
        ("/feeds/btc_usd", ""),
        ("/feeds/btc_usd", r#"{"value": "high"}"#),
        ("/feeds/btc_usd", "not json"),
    ] {
        let reply = post(&f.router, path, operator, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(!reply.error().is_empty());
    }
    let reply = post(&f.router, "/limits", Some(&f.tokens.admin), "[]").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("JSON"), "{}", reply.body);
    assert!(f.port.calls().is_empty(), "{:?}", f.port.calls());
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let f = fixture();
    let sites: Vec<String> = (0..20_000).map(|i| format!("site-{i}")).collect();
    let body = json!({ "sites": sites }).to_string();
    assert!(body.len() > api::BODY_LIMIT);
    let reply = post(&f.router, "/arm", Some(&f.tokens.operator), &body).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(!reply.error().is_empty());
    assert!(f.port.calls().is_empty());
}

#[tokio::test]
async fn unknown_routes_fail_closed() {
    let f = fixture();
    assert_unauthorised(&get(&f.router, "/nope", None).await);
    assert_unauthorised(&post(&f.router, "/admin/shutdown", None, "").await);
    assert_unauthorised(&get(&f.router, "/health/", None).await);
    let reply = get(&f.router, "/nope", Some(&f.tokens.viewer)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(!reply.error().is_empty());
    let reply = post(&f.router, "/admin/shutdown", Some(&f.tokens.admin), "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_are_served_to_viewers() {
    let f = fixture();
    f.metrics
        .set_site("tx-1", 41.5, 30.0, 50.0, Some(23.25), 1_250_000.0);
    f.metrics.inc_faults("timeout", 3);
    let reply = get(&f.router, "/metrics", Some(&f.tokens.viewer)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE].to_str().expect("ascii"),
        OPENMETRICS_CONTENT_TYPE
    );
    let lines: Vec<&str> = reply.body.lines().collect();
    assert!(
        lines.contains(&"hcp_site_cap_mw{site=\"tx-1\"} 50.0"),
        "{}",
        reply.body
    );
    assert!(
        lines.contains(&"hcp_device_faults_total{kind=\"timeout\"} 3"),
        "{}",
        reply.body
    );
    assert_eq!(lines.last(), Some(&"# EOF"));
}

#[tokio::test]
async fn no_response_holds_a_token() {
    let f = fixture();
    let all = [&f.tokens.viewer, &f.tokens.operator, &f.tokens.admin];
    let mut replies = Vec::new();
    for token in all {
        replies.push(get(&f.router, "/status", Some(token)).await);
        replies.push(get(&f.router, "/nope", Some(token)).await);
        replies.push(post(&f.router, "/limits", Some(token), "{").await);
        replies.push(post(&f.router, "/arm", Some(token), "{").await);
    }
    for reply in &replies {
        for token in all {
            assert!(!reply.body.contains(token.as_str()), "{}", reply.body);
            for value in reply.headers.values() {
                assert!(
                    !value
                        .as_bytes()
                        .windows(token.len())
                        .any(|w| w == token.as_bytes())
                );
            }
        }
    }
}

/// Reads from an event stream until one complete event (a blank line) has
/// arrived; returns its lines.
async fn next_event(response: &mut reqwest::Response, buffer: &mut String) -> Vec<String> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let lines: Vec<String> = buffer[..end].lines().map(str::to_owned).collect();
            buffer.drain(..end + 2);
            // Skip keep-alive comments.
            if lines.iter().all(|l| l.starts_with(':')) {
                continue;
            }
            return lines;
        }
        let chunk = response
            .chunk()
            .await
            .expect("stream read")
            .expect("stream ended before an event");
        buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
    }
}

/// Binds the router on a loopback port and serves it until `shutdown`.
async fn serve_on_loopback(
    router: Router,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(api::serve(listener, router, async move {
        let _ = shutdown.await;
    }));
    (format!("http://{address}"), server)
}

#[tokio::test]
async fn events_stream_over_sse() {
    let f = fixture();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (base, server) = serve_on_loopback(f.router.clone(), stopped).await;
    let client = reqwest::Client::new();

    let unauthorised = client
        .get(format!("{base}/events"))
        .send()
        .await
        .expect("request");
    assert_eq!(unauthorised.status(), reqwest::StatusCode::UNAUTHORIZED);

    let run = async {
        let mut response = client
            .get(format!("{base}/events"))
            .bearer_auth(&f.tokens.viewer)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        // The handler subscribed before the headers were sent.
        let document = r#"{"kind":"decision","epoch":7,"actions":[]}"#;
        f.port
            .events
            .send(Arc::from(document))
            .expect("a subscriber");
        let mut buffer = String::new();
        let event = next_event(&mut response, &mut buffer).await;
        assert_eq!(event, vec![format!("data: {document}")]);

        // A document with a line break still arrives as one data line.
        let pretty = "{\n  \"kind\": \"fault\",\n  \"note\": \"a\\nb\"\n}";
        f.port.events.send(Arc::from(pretty)).expect("a subscriber");
        let event = next_event(&mut response, &mut buffer).await;
        assert_eq!(event.len(), 1, "{event:?}");
        let data = event[0].strip_prefix("data: ").expect("data line");
        let parsed: Value = serde_json::from_str(data).expect("json");
        assert_eq!(parsed, json!({ "kind": "fault", "note": "a\nb" }));
    };
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the event arrived in time");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped")
        .expect("joined")
        .expect("served");
}

#[tokio::test]
async fn a_lagging_subscriber_is_told_and_goes_on() {
    // Capacity 2: five documents sent while the server cannot read drop
    // the first three.
    let f = fixture_with_capacity(2);
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (base, server) = serve_on_loopback(f.router.clone(), stopped).await;
    let run = async {
        let mut response = reqwest::Client::new()
            .get(format!("{base}/events"))
            .bearer_auth(&f.tokens.viewer)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        // The test runtime has one thread: no await between the sends, so
        // the server reads none of them before all five are in.
        for i in 0..5 {
            f.port
                .events
                .send(Arc::from(format!("{{\"n\":{i}}}")))
                .expect("a subscriber");
        }
        let mut buffer = String::new();
        let lagged = next_event(&mut response, &mut buffer).await;
        assert_eq!(
            lagged,
            vec!["event: lagged".to_owned(), "data: 3".to_owned()]
        );
        let next = next_event(&mut response, &mut buffer).await;
        assert_eq!(next, vec!["data: {\"n\":3}".to_owned()]);
        let next = next_event(&mut response, &mut buffer).await;
        assert_eq!(next, vec!["data: {\"n\":4}".to_owned()]);
    };
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("events arrived in time");
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped")
        .expect("joined")
        .expect("served");
}

#[tokio::test]
async fn shutdown_ends_open_event_streams() {
    let f = fixture();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (base, server) = serve_on_loopback(f.router.clone(), stopped).await;
    let mut response = reqwest::Client::new()
        .get(format!("{base}/events"))
        .bearer_auth(&f.tokens.viewer)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let _ = stop.send(());
    // Graceful shutdown does not wait on the stream forever...
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped while a stream was open")
        .expect("joined")
        .expect("served");
    // ...and the client sees the stream end.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if chunk.starts_with(b":") => {}
                Ok(Some(chunk)) => panic!("unexpected data {chunk:?}"),
                Ok(None) | Err(_) => break,
            }
        }
    });
    end.await.expect("stream ended");
}

// The token file.

/// A unique empty directory under the system's temporary directory.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "hcp-bridge-{tag}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const HASH: &str = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

#[test]
fn token_file_errors_name_the_line_never_its_text() {
    let hex = HASH.trim_start_matches("sha256:");
    let upper = hex.to_uppercase();
    let cases: Vec<(String, usize, LineProblem)> = vec![
        (
            format!("# c\n\nsuperuser bob {HASH}\n"),
            3,
            LineProblem::UnknownRole,
        ),
        (format!("viewer {HASH}\n"), 1, LineProblem::FieldCount(2)),
        (
            format!("viewer bob carol {HASH}\n"),
            1,
            LineProblem::FieldCount(4),
        ),
        (
            format!("viewer bob md5:{hex}\n"),
            1,
            LineProblem::HashPrefix,
        ),
        (format!("viewer bob {hex}\n"), 1, LineProblem::HashPrefix),
        (
            format!("viewer bob sha256:{upper}\n"),
            1,
            LineProblem::HashDigits,
        ),
        (format!("viewer bob {HASH}0\n"), 1, LineProblem::HashDigits),
        (
            format!("viewer bob {}\n", &HASH[..70]),
            1,
            LineProblem::HashDigits,
        ),
        (format!("viewer b\u{7}b {HASH}\n"), 1, LineProblem::BadName),
        (
            format!("viewer bob {HASH}\n# x\nadmin eve {HASH}\n"),
            3,
            LineProblem::DuplicateHash(1),
        ),
    ];
    for (text, line, problem) in cases {
        let error = TokenStore::from_lines(&text, "/etc/hcp/tokens").expect_err(&text);
        let TokenFileError::Line {
            origin,
            line: at,
            problem: found,
        } = &error
        else {
            panic!("not a line error: {error:?}");
        };
        assert_eq!(
            (origin.as_str(), *at, found),
            ("/etc/hcp/tokens", line, &problem)
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("/etc/hcp/tokens, line {line}: ")),
            "{message}"
        );
        for secret in [hex, upper.as_str(), &hex[..16], "superuser", "carol", "md5"] {
            assert!(!message.contains(secret), "{message} shows {secret}");
            assert!(!format!("{error:?}").contains(secret), "{error:?}");
        }
    }
}

#[test]
fn token_files_without_tokens_are_refused() {
    for text in ["", "\n\n", "# only a comment\n   \n# another\n"] {
        let error = TokenStore::from_lines(text, "tokens.txt").expect_err("no tokens");
        assert!(
            matches!(error, TokenFileError::NoTokens { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("no tokens"), "{error}");
        assert!(error.to_string().contains("tokens.txt"), "{error}");
    }
}

#[test]
fn token_files_load_from_disk() {
    let dir = temp_dir("tokens");
    let missing = dir.join("absent");
    let error = TokenStore::load(&missing).expect_err("missing");
    assert!(matches!(error, TokenFileError::Missing { .. }), "{error:?}");
    assert!(error.to_string().contains(&missing.display().to_string()));

    let token = TokenStore::new_token().expect("random");
    let path = dir.join("tokens");
    let text = format!(
        "# issued 2026-03-01\n{}   # laptop\n\tviewer\tgrafana\t{HASH}\n",
        TokenStore::hash_line(Role::Admin, "ops@site", &token)
    );
    std::fs::write(&path, text).expect("write");
    let store = TokenStore::load(&path).expect("loads");
    assert_eq!(store.len(), 2);
    assert_eq!(
        store.authenticate(&token),
        Some(Actor {
            name: "ops@site".to_owned(),
            role: Role::Admin
        })
    );
    let debug = format!("{store:?}");
    assert!(
        debug.contains("ops@site") && debug.contains("grafana"),
        "{debug}"
    );
    assert!(
        !debug.contains(HASH.trim_start_matches("sha256:")),
        "{debug}"
    );
    assert!(!debug.contains("sha256"), "{debug}");

    std::fs::write(&path, "viewer x sha256:zz\n").expect("write");
    let error = TokenStore::load(&path).expect_err("bad hash");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}, line 1: ", path.display())),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn authentication_accepts_exactly_the_issued_tokens() {
    let tokens: Vec<String> = (0..3)
        .map(|_| TokenStore::new_token().expect("random"))
        .collect();
    let text = [Role::Viewer, Role::Operator, Role::Admin]
        .iter()
        .zip(["v", "o", "a"])
        .zip(&tokens)
        .map(|((role, name), token)| TokenStore::hash_line(*role, name, token))
        .collect::<Vec<_>>()
        .join("\n");
    let store = TokenStore::from_lines(&text, "t").expect("parses");
    for ((role, name), token) in [Role::Viewer, Role::Operator, Role::Admin]
        .iter()
        .zip(["v", "o", "a"])
        .zip(&tokens)
    {
        assert_eq!(
            store.authenticate(token),
            Some(Actor {
                name: name.to_owned(),
                role: *role
            })
        );
    }
    let first = &tokens[0];
    let mut flipped = first.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    for wrong in [
        String::new(),
        first[..first.len() - 1].to_owned(),
        format!("{first}0"),
        format!(" {first}"),
        first.to_uppercase(),
        flipped,
        TokenStore::new_token().expect("random"),
        text.lines().next().expect("line").to_owned(),
    ] {
        assert_eq!(store.authenticate(&wrong), None, "{wrong}");
    }
}

#[test]
fn new_tokens_are_distinct_and_well_formed() {
    let a = TokenStore::new_token().expect("random");
    let b = TokenStore::new_token().expect("random");
    assert_ne!(a, b);
    for token in [&a, &b] {
        let hex = token.strip_prefix("hcp_").expect("prefix");
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
    }
}
