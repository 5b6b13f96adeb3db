//! `LISTEN pgrst`: `NOTIFY pgrst, 'reload schema'` (or an empty payload) reloads the schema
//! cache, `'reload config'` the in-database configuration. A dropped connection is
//! reconnected, and since notifications may have been missed meanwhile, both are reloaded
//! then.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::state::AppState;

/// Runs until the task is aborted.
pub async fn run(state: Arc<AppState>, uri: String, channel: String) {
    let Ok(options) = uri.parse::<PgConnectOptions>() else {
        return;
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.application_name("postgrest-listener"));
    let mut first = true;
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("listener cannot connect, retrying: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(&channel).await {
            tracing::warn!("LISTEN {channel} failed, retrying: {e}");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        tracing::info!("listening for notifications on channel {channel}");
        if !first {
            reload(&state, true, true).await;
        }
        first = false;
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => match n.payload() {
                    "" | "reload schema" => reload(&state, false, true).await,
                    "reload config" => reload(&state, true, true).await,
                    other => tracing::debug!("ignoring notification {other:?}"),
                },
                Ok(None) => {
                    tracing::warn!("listener connection lost, reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!("listener failed, reconnecting: {e}");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn reload(state: &AppState, config: bool, schema: bool) {
    if config && let Err(e) = state.reload_config().await {
        tracing::error!("reloading the configuration failed: {e}");
    }
    if schema && let Err(e) = state.reload_schema().await {
        tracing::error!("reloading the schema cache failed: {e}");
    }
}
