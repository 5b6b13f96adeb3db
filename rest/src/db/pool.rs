//! The connection pool: at most `db-pool` connections as the authenticator, handed out for
//! one request at a time.
//!
//! Written by hand over `PgConnection` because sqlx's pool retries a refused connection until
//! the acquire timeout and then reports only "pool timed out": PostgREST answers a refused or
//! failing database at once with 503 PGRST000 and the connection error's text, and a pool
//! that is merely full after `db-pool-acquisition-timeout` with 504 PGRST003. A connection is
//! only put back after its transaction ended cleanly; any other one is dropped, never reused.
//! An idle connection is pinged before reuse, within what is left of the acquisition timeout,
//! so a database that stopped answering (paused, partitioned) gives 504 PGRST003 in time
//! instead of a request that hangs on a dead connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Settings of the pool, from the configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub size: u32,
    pub acquisition_timeout: Duration,
    pub max_lifetime: Duration,
    pub max_idletime: Duration,
}

struct Idle {
    conn: PgConnection,
    created: Instant,
    returned: Instant,
}

/// The pool; cheap to clone.
#[derive(Clone)]
pub struct Pool {
    options: PgConnectOptions,
    /// Where the database is, for connection error texts.
    target: String,
    settings: PoolSettings,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Idle>>>,
}

/// A connection checked out of the pool; dropping it closes it, [`Pool::release`] returns it.
pub struct PooledConnection {
    conn: Option<PgConnection>,
    created: Instant,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for PooledConnection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn
            .as_ref()
            .expect("connection present until released")
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("connection present until released")
    }
}

impl Pool {
    /// A pool for `uri`; connects lazily. The error names what is wrong with the URI.
    pub fn new(uri: &str, settings: PoolSettings) -> Result<Pool, sqlx::Error> {
        let options: PgConnectOptions = uri.parse()?;
        let options = options.application_name("postgrest");
        let target = format!("\"{}\", port {}", options.get_host(), options.get_port());
        Ok(Pool {
            options,
            target,
            permits: Arc::new(Semaphore::new(settings.size as usize)),
            settings,
            idle: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// A connection, waiting at most the acquisition timeout for a free slot or a new
    /// connection: 504 PGRST003 past it, 503 PGRST000 when connecting fails.
    pub async fn acquire(&self) -> Result<PooledConnection, ApiError> {
        let deadline = Instant::now() + self.settings.acquisition_timeout;
        let permit = tokio::time::timeout(
            self.settings.acquisition_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| ApiError::PoolTimeout)?
        .map_err(|_| ApiError::DbConnection("the pool is closed".into()))?;
        while let Some(mut idle) = self.take_idle() {
            let now = Instant::now();
            if now - idle.created >= self.settings.max_lifetime
                || now - idle.returned >= self.settings.max_idletime
            {
                continue;
            }
            let remaining = deadline.saturating_duration_since(now);
            match tokio::time::timeout(remaining, idle.conn.ping()).await {
                Ok(Ok(())) => {
                    return Ok(PooledConnection {
                        conn: Some(idle.conn),
                        created: idle.created,
                        _permit: permit,
                    });
                }
                // Dead: the others are likely dead too, and a new one is tried below.
                Ok(Err(_)) => self.clear_idle(),
                Err(_) => return Err(ApiError::PoolTimeout),
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let conn = self.connect(remaining).await?;
        Ok(PooledConnection {
            conn: Some(conn),
            created: Instant::now(),
            _permit: permit,
        })
    }

    /// A connection outside the pool's slots (the listener's and the schema loader's), with
    /// the same error mapping.
    pub async fn connect(&self, within: Duration) -> Result<PgConnection, ApiError> {
        match tokio::time::timeout(within, PgConnection::connect_with(&self.options)).await {
            Err(_) => Err(ApiError::PoolTimeout),
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(ApiError::DbConnection(self.connect_error_text(&e))),
        }
    }

    /// libpq's way of saying a connection failed, which PostgREST passes on as `details`.
    fn connect_error_text(&self, e: &sqlx::Error) -> String {
        let reason = match e {
            sqlx::Error::Database(db) => format!("FATAL:  {}", db.message()),
            sqlx::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        format!("connection to server at {} failed: {reason}", self.target)
    }

    /// Puts a connection whose transaction ended cleanly back.
    pub fn release(&self, mut conn: PooledConnection) {
        if let Some(c) = conn.conn.take()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(Idle {
                conn: c,
                created: conn.created,
                returned: Instant::now(),
            });
        }
    }

    /// Drops every idle connection (after a connection failure they are likely dead too).
    pub fn clear_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn take_idle(&self) -> Option<Idle> {
        self.idle.lock().ok()?.pop()
    }
}
