//! Serving an axum router over TCP within bounds a hostile client cannot stretch.
//!
//! `axum::serve` takes no configuration: no bound on how long a request head may take (one
//! client trickling headers holds a connection forever), hyper's defaults for head sizes, and
//! an abrupt close that can reset a connection before the client read the answer. The
//! harness's servers (the auth server, the service's stages) run hostile tests, so they serve
//! through this crate instead: HTTP/1.1 (what GoTrue and Next.js speak in clear text) with the
//! [`Limits`] given, and graceful shutdown as `axum::serve` has it.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! serving::serve(listener, router, serving::Limits::go_net_http(), std::future::pending()).await
//! # }
//! ```

mod head_clock;
mod limits;
mod socket;

pub use limits::Limits;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use head_clock::HeadClock;
use socket::Socket;

/// hyper's own read-buffer bound, kept when the head limit is below it.
const HYPER_DEFAULT_BUFFER: usize = 8192 + 4096 * 100;

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // Connections watch `stop` for the shutdown; the server waits until every `done` is dropped.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, _) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let stop = stop_rx.clone();
        let done = done_tx.subscribe();
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            limits,
            stop,
            done,
        ));
    }
    drop(listener);
    drop(stop_rx);
    stop_tx.send_replace(());
    drop(stop_tx);
    done_tx.closed().await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<()>,
    _done: watch::Receiver<()>,
) {
    let clock = HeadClock::new(&limits);
    let io = TokioIo::new(Socket::new(stream, clock.clone(), limits.linger));
    // The peer's address, as `axum::serve`'s `into_make_service_with_connect_info` gives it.
    let connect_info = axum::extract::ConnectInfo(peer);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(connect_info);
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(clock)
        .header_read_timeout(limits.head_timeout)
        .max_header_size(limits.max_head_bytes)
        .max_buf_size(limits.max_head_bytes.max(HYPER_DEFAULT_BUFFER))
        .max_headers(limits.max_headers);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    // Late heads, resets, clients gone: routine for a server, not its fault.
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            // The shutdown signal, or the server gone: both mean finish and close.
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Per-connection errors (the client left before the accept) are nothing; others (out of file
/// descriptors) pass with time, so the loop waits a little instead of spinning.
async fn wait_after_accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
