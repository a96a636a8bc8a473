//! The connection loop: HTTP/1.1 over TCP with a bound on the request head (size and the time
//! to send it), graceful shutdown, and accept errors that do not stop the service.
//!
//! `axum::serve` sets no header read time-out, so a client that sends its head one byte a
//! minute would hold a connection for ever; here hyper's timer closes it.

use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::error::Result;

/// The read buffer of a connection, in bytes: a request head (request line and headers) that
/// has not ended when the buffer is this full is answered 431 (hyper checks between reads, so
/// a head that arrives in one large read may pass by up to that read's size).
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// Serves `router` on `listener` until `shutdown` completes, then waits for the connections
/// under way to finish their requests. With `tls`, each connection first completes a TLS
/// handshake, within the head time-out.
pub(crate) async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    limits: ConnectionLimits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let ConnectionLimits { header_timeout, max_connections } = limits;
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    // At most `max_connections` open at once: the next is accepted when one closes (the
    // kernel's backlog holds the waiting ones), so file descriptors and the blocking pool stay
    // bounded however many clients connect.
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                // The semaphore is never closed.
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // The peer gave up before we accepted: nothing to do.
                Err(error) if is_connection_error(error.kind()) => continue,
                // Out of file descriptors or memory: wait for connections to close.
                Err(error) if is_resource_error(&error) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            },
            () = &mut shutdown => break,
        };
        // Responses go out as soon as they are written, not after the client's next ACK
        // (Nagle's algorithm would hold a response's last segment back).
        stream.set_nodelay(true).ok();
        let service = TowerToHyperService::new(router.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).max_buf_size(MAX_HEAD_BYTES);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // A connection's own failure (reset, time-out, malformed head answered by hyper,
            // failed handshake) concerns that client only.
            match tls {
                None => drop(watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await),
                #[cfg(feature = "tls")]
                Some(acceptor) => {
                    if let Ok(Ok(stream)) = tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        drop(watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await);
                    }
                }
                #[cfg(not(feature = "tls"))]
                Some(never) => match never {},
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The bounds of the connection loop (from [`crate::ServiceConfig`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// What a TLS connection is accepted with.
#[cfg(feature = "tls")]
pub(crate) type Tls = tokio_rustls::TlsAcceptor;
/// Without the `tls` feature there is no TLS connection.
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
pub(crate) enum Tls {}

fn is_connection_error(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
}

fn is_resource_error(error: &std::io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(error.raw_os_error(), Some(23 | 24 | 55 | 105 | 12)) || error.kind() == ErrorKind::OutOfMemory
}
