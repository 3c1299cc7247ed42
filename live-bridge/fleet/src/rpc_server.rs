//! The TCP side of a virtual miner: one listener on its own loopback
//! address, port 4028 by default, speaking the cgminer-family framing (one
//! JSON request per connection; the reply, a NUL byte, then the miner
//! closes). What to answer is the miner's business
//! ([`VirtualMiner::answer`]); this module owns the sockets and the
//! connection-level faults: refusing connections (the listener is closed
//! until the fault is cleared), hanging, answering late, dropping.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::Fault;
use crate::virtual_miner::{Answer, VirtualMiner};

/// Longest a client may take to send its request, wall time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request read, bytes.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How long a hanging miner holds a connection before closing it.
const HANG_FOR: Duration = Duration::from_secs(30);

/// Serves `miner` on `addr` until `stop` turns true.
///
/// # Errors
/// The address cannot be bound (in use, not a local address, no
/// permission).
pub async fn serve(
    bound: std::net::TcpListener,
    miner: Arc<VirtualMiner>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // Bound by the caller before anything is served, so a client that
    // connects as soon as the fleet has started finds it listening.
    let addr = bound.local_addr()?;
    bound.set_nonblocking(true)?;
    let mut listener = Some(TcpListener::from_std(bound)?);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if miner.fault().get() == Fault::Refused {
            listener = None; // closed: connections are refused by the kernel
        } else if listener.is_none() {
            listener = Some(TcpListener::bind(addr).await?);
        }
        let Some(open) = listener.as_ref() else {
            tokio::select! {
                () = miner.fault().changed() => continue,
                _ = stop.changed() => continue,
            }
        };
        tokio::select! {
            accepted = open.accept() => {
                if let Ok((stream, _)) = accepted {
                    let miner = Arc::clone(&miner);
                    tokio::spawn(async move { connection(stream, &miner).await });
                }
            }
            () = miner.fault().changed() => {}
            _ = stop.changed() => {}
        }
    }
}

async fn connection(mut stream: TcpStream, miner: &VirtualMiner) {
    let Ok(Ok(Some(request))) =
        tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream)).await
    else {
        return;
    };
    match miner.answer(&request) {
        Answer::Reply(mut bytes) => {
            if let Fault::Slow { delay_ms } = miner.fault().get() {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            bytes.push(0);
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Answer::Hang => {
            // Hold the connection, say nothing, then let it go.
            let mut sink = [0_u8; 64];
            let _ = tokio::time::timeout(HANG_FOR, stream.read(&mut sink)).await;
        }
        Answer::Drop => {
            let _ = stream.set_zero_linger();
        }
    }
}

/// Reads one request: bytes until they parse as JSON, a NUL, or the end of
/// the stream. `None` when the client sent nothing.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut request = Vec::with_capacity(128);
    let mut chunk = [0_u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok((!request.is_empty()).then_some(request));
        }
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0 || b == b'\n') {
            request.extend_from_slice(&chunk[..end]);
            return Ok(Some(request));
        }
        request.extend_from_slice(&chunk[..n]);
        if serde_json::from_slice::<serde_json::Value>(&request).is_ok()
            || request.len() > MAX_REQUEST_BYTES
        {
            return Ok(Some(request));
        }
    }
}
