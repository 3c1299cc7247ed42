//! `GET /events`: the bridge's live stream as server-sent events. Each
//! message of [`OperatorPort::subscribe`](crate::operator::OperatorPort::subscribe)
//! becomes one event with a single `data:` line holding its JSON; a
//! subscriber that fell behind gets an event named `lagged` whose data is
//! how many messages it missed, then the stream goes on. A comment is sent
//! every [`KEEP_ALIVE`] so proxies keep the connection open, and the stream
//! ends when the bridge stops (the sender is dropped) or the server shuts
//! down gracefully ([`super::serve`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

/// How often a keep-alive comment is sent on an idle stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Set by [`super::serve`] on every request: becomes `true` when the server
/// starts shutting down, so open streams end and graceful shutdown does not
/// wait on them forever.
#[derive(Clone, Debug)]
pub(super) struct ShutdownSignal(pub(super) watch::Receiver<bool>);

/// The SSE response for one subscriber.
pub(super) fn stream(
    receiver: broadcast::Receiver<Arc<str>>,
    shutdown: Option<ShutdownSignal>,
) -> Response {
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(message) => message_event(&message),
            Err(RecvError::Lagged(missed)) => {
                Event::default().event("lagged").data(missed.to_string())
            }
            Err(RecvError::Closed) => return None,
        };
        Some((Ok::<Event, Infallible>(event), receiver))
    });
    let ended = async move {
        match shutdown {
            // An error means the server is gone: end as well.
            Some(ShutdownSignal(mut signal)) => {
                let _ = signal.wait_for(|&stopping| stopping).await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let sse = Sse::new(events.take_until(ended)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    // Tells reverse proxies such as nginx not to buffer the stream.
    ([("x-accel-buffering", "no")], sse).into_response()
}

/// One message as an event with a single `data:` line. The audit log's
/// documents are compact JSON; should one hold a line break, it is
/// re-encoded compactly (JSON escapes line breaks inside strings), so the
/// event still has one `data:` line and never panics the encoder.
fn message_event(message: &str) -> Event {
    if !message.contains(['\n', '\r']) {
        return Event::default().data(message);
    }
    match serde_json::from_str::<serde_json::Value>(message) {
        Ok(value) => Event::default().data(value.to_string()),
        Err(_) => Event::default().data(message.replace(['\r', '\n'], " ")),
    }
}
