//! Starting and stopping: the data API on its listener, the admin server (`/live`, `/ready`)
//! when `PGRST_ADMIN_SERVER_PORT` is set, the schema loader and the `LISTEN` task, all ended
//! by the shutdown future.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::config::{Config, LogLevel};
use crate::state::AppState;

/// How long in-flight requests may run on after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one client may hold of the data API, as Warp (PostgREST's HTTP server) bounds it with
/// its defaults: one 30 s `settingsTimeout` for a request's head, its body and a kept-alive
/// connection's silence, and 50 KiB of head (`settingsMaxTotalHeaderLength`; more is 431).
/// Warp counts no header lines. The body bound is [`serving::Limits::head_timeout`] too: Warp
/// has one timer for both.
pub const LIMITS: serving::Limits = serving::Limits::go_net_http()
    .with_head_timeout(Duration::from_secs(30))
    .with_idle_timeout(Duration::from_secs(30))
    .with_max_head_bytes(50 * 1024);

/// Serves the data API on `listener` until `shutdown` completes.
///
/// ```no_run
/// # async fn run() -> anyhow::Result<()> {
/// let config = rest::Config::from_env()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// rest::serve(config, listener, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_within(config, listener, LIMITS, shutdown).await
}

/// [`serve`] within other connection bounds (tests shrink Warp's 30 s to wait less).
pub async fn serve_within(
    config: Config,
    listener: TcpListener,
    limits: serving::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::new(config.clone(), limits.head_timeout)?;
    let mut tasks = tokio::task::JoinSet::new();
    {
        let state = state.clone();
        tasks.spawn(async move { state.load_until_ready().await });
    }
    if config.db_channel_enabled {
        tasks.spawn(crate::db::listener::run(
            state.clone(),
            config.db_uri.clone(),
            config.db_channel.clone(),
        ));
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some(port) = config.admin_server_port {
        let address = format!("{}:{port}", config.admin_server_host);
        let admin = TcpListener::bind(&address).await.with_context(|| {
            format!("cannot bind the admin server to {address} (PGRST_ADMIN_SERVER_PORT)")
        })?;
        let app = admin_router(state.clone());
        let mut rx = stop_rx.clone();
        tasks.spawn(async move {
            let stopped = async move {
                let _ = rx.changed().await;
            };
            let _ = serving::serve(admin, app, limits, stopped).await;
        });
    }
    let app = crate::http::router(state);
    let mut stopped = stop_rx.clone();
    let server = serving::serve(listener, app, limits, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    // In-flight requests get a grace period; one stuck on a stalled database must not keep
    // the process alive forever.
    let grace = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let result = tokio::select! {
        r = server => r.context("the data API server failed"),
        _ = grace => {
            tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after shutdown; stopping anyway");
            Ok(())
        }
    };
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    result
}

/// PostgREST's admin endpoints: `/live` 200 while serving, `/ready` 200 once the schema
/// cache is loaded (503 before).
fn admin_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/live", get(|| async { StatusCode::OK }))
        .route(
            "/ready",
            get(move || {
                let state = state.clone();
                async move {
                    if state.ready() {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
}

/// What the binary runs: configuration from the environment, the data API on
/// `PGRST_SERVER_HOST:PGRST_SERVER_PORT` until SIGINT or SIGTERM.
pub fn main_from_env() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rest: refusing to start: {e}");
            return ExitCode::from(1);
        }
    };
    let level = match config.log_level {
        LogLevel::Crit | LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!("rest={level}")))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rest: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let address = config.listen_address();
        let listener = match TcpListener::bind(&address).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "rest: cannot listen on {address} (PGRST_SERVER_HOST/PGRST_SERVER_PORT): {e}"
                );
                return ExitCode::from(1);
            }
        };
        let bound = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(address);
        eprintln!("rest: listening on {bound}");
        match serve(config, listener, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rest: {e:#}");
                ExitCode::from(1)
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
