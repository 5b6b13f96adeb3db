//! What every request shares: the pool, the configuration in force (the environment's, with
//! the in-database settings on top) and the schema cache, both swapped whole on reload.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::Config;
use crate::db::pool::{Pool, PoolSettings};
use crate::db::settings;
use crate::error::ApiError;
use crate::schema::{self, SchemaCache};

/// The server's shared state.
pub struct AppState {
    pub pool: Pool,
    /// The configuration from the environment alone.
    base: Config,
    config: RwLock<Arc<Config>>,
    schema: RwLock<Option<Arc<SchemaCache>>>,
    /// How long a request body may take to arrive in full.
    pub body_timeout: Duration,
}

impl AppState {
    /// State for `config`; nothing is loaded yet (requests get PGRST002 until it is).
    pub fn new(config: Config, body_timeout: Duration) -> anyhow::Result<Arc<AppState>> {
        let pool = Pool::new(
            &config.db_uri,
            PoolSettings {
                size: config.db_pool,
                acquisition_timeout: config.db_pool_acquisition_timeout,
                max_lifetime: config.db_pool_max_lifetime,
                max_idletime: config.db_pool_max_idletime,
            },
        )
        .map_err(|e| anyhow::anyhow!("PGRST_DB_URI is not a usable PostgreSQL URI: {e}"))?;
        Ok(Arc::new(AppState {
            pool,
            config: RwLock::new(Arc::new(config.clone())),
            base: config,
            schema: RwLock::new(None),
            body_timeout,
        }))
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// The schema cache, or PGRST002 while it is not loaded.
    pub fn schema(&self) -> Result<Arc<SchemaCache>, ApiError> {
        self.schema
            .read()
            .expect("schema lock")
            .clone()
            .ok_or(ApiError::SchemaCacheNotLoaded)
    }

    /// Whether the schema cache is loaded (`/ready`).
    pub fn ready(&self) -> bool {
        self.schema.read().map(|s| s.is_some()).unwrap_or(false)
    }

    fn connect_timeout(&self) -> Duration {
        self.base.db_pool_acquisition_timeout
    }

    /// Re-reads the in-database configuration (when `db-config` is on) over the environment's.
    /// A bad value keeps the configuration in force and is logged, as PostgREST does.
    pub async fn reload_config(&self) -> Result<(), ApiError> {
        if !self.base.db_config {
            return Ok(());
        }
        let mut conn = self.pool.connect(self.connect_timeout()).await?;
        let pairs = settings::read(&mut conn)
            .await
            .map_err(|e| crate::db::query_error(e, true))?;
        match self.base.with_db_settings(&pairs) {
            Ok(config) => {
                *self.config.write().expect("config lock") = Arc::new(config);
                tracing::info!(
                    "configuration reloaded ({} in-database settings)",
                    pairs.len()
                );
            }
            Err(e) => {
                tracing::error!("in-database configuration refused, keeping the current one: {e}")
            }
        }
        Ok(())
    }

    /// Re-reads the schema cache for the exposed schemas.
    pub async fn reload_schema(&self) -> Result<(), ApiError> {
        let config = self.config();
        let schemas = config.db_schemas.clone();
        let mut conn = self.pool.connect(self.connect_timeout()).await?;
        let mut all = schemas.clone();
        all.extend(config.db_extra_search_path.iter().cloned());
        if let Err(e) = schema::check_schemas(&mut conn, &all).await {
            tracing::error!("{e}");
            *self.schema.write().expect("schema lock") = None;
            return Err(ApiError::SchemaCacheNotLoaded);
        }
        let cache = schema::load(&mut conn, &schemas)
            .await
            .map_err(|e| crate::db::query_error(e, true))?;
        tracing::info!(
            "schema cache loaded: {} relations, {} functions",
            cache.tables.len(),
            cache.functions.len()
        );
        *self.schema.write().expect("schema lock") = Some(Arc::new(cache));
        Ok(())
    }

    /// Configuration then schema, retrying with backoff until both load.
    pub async fn load_until_ready(&self) {
        let mut delay = Duration::from_millis(100);
        loop {
            let result = async {
                self.reload_config().await?;
                self.reload_schema().await
            }
            .await;
            match result {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!("loading the schema cache failed, retrying in {delay:?}: {e}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}
