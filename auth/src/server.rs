//! Serving: pool, router and graceful shutdown, for the binary and for in-process tests alike.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;

use crate::api::{self, AppState};
use crate::config::Config;

/// Serves on `listener` until `shutdown` resolves, then lets in-flight requests finish.
///
/// Does not migrate; call [`crate::migrate`] first (the binary does).
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let options: PgConnectOptions = config
        .database_url
        .parse()
        .context("GOTRUE_DB_DATABASE_URL is not a PostgreSQL URL")?;
    // As GoTrue's database/sql: dialled on demand, a refusal failing the request at once (a
    // 500 "Database error querying schema"), no ping before a pooled connection's use, so a
    // frozen database hangs the request until the caller's timeout rather than a quick 500.
    // The bounds keep a dead database from holding a request longer than a second.
    let pool = pgpool::Pool::new(
        options,
        10,
        pgpool::Timeouts {
            wait: Some(Duration::from_secs(1)),
            connect: Some(Duration::from_secs(1)),
        },
    );
    // GoTrue refuses to start without its database.
    pool.acquire()
        .await
        .context("cannot connect to the database named by GOTRUE_DB_DATABASE_URL")?
        .release();
    let address = listener
        .local_addr()
        .context("listener has no local address")?;
    let app = api::router(AppState {
        config: Arc::new(config),
        pool: pool.clone(),
    });
    tracing::info!(%address, "GoTrue API started on: {address}");
    // Go's net/http bounds, as GoTrue's serve command sets them (ReadHeaderTimeout 2 s, 1 MiB
    // of headers), so a slow or oversized head meets the answer GoTrue would give.
    serving::serve(listener, app, serving::Limits::go_net_http(), shutdown)
        .await
        .context("server error")?;
    pool.close();
    tracing::info!("shut down");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("received shutdown signal");
}
