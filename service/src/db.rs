//! Writing a session row as someone: the signed-in user, or (the debrief's fourth failure) anon.
//!
//! We do what PostgREST does for a supabase-js `.insert()`: log in as `authenticator`, and in
//! one transaction switch to the request's role with tx-local `set_config` calls, publish the
//! JWT claims as `request.jwt.claims` (which `auth.uid()` and so the RLS policy read), insert,
//! commit. Row-level security then judges the row exactly as it would behind the real gateway.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use uuid::Uuid;

use crate::Config;

/// Whom the insert runs as.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Role `authenticated` with the token's claims, as PostgREST does for a user's JWT.
    User { claims: Value },
    /// Role `anon` with no claims: a client holding only the anon key.
    Anon,
}

/// Why the row was not written.
#[derive(Debug, thiserror::Error)]
pub enum DbFailure {
    /// The database could not be reached or did not answer in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// PostgreSQL refused the statement (e.g. 42501, an RLS violation).
    #[error("{message}")]
    Refused { sqlstate: String, message: String },
}

/// A pool of `authenticator` connections and the time any one insert may take.
#[derive(Debug, Clone)]
pub struct Database {
    pool: pgpool::Pool,
    timeout: Duration,
}

impl Database {
    /// Builds the pool lazily, so a service whose database is down still starts and answers 503.
    pub fn connect_lazy(config: &Config) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = config.database_url.parse()?;
        // No timers of the pool's own: the insert's budget covers acquiring and connecting
        // too, and two timers would race and report the same outage two ways.
        let pool = pgpool::Pool::new(
            options,
            config.max_connections as usize,
            pgpool::Timeouts::default(),
        );
        Ok(Self {
            pool,
            timeout: config.db_timeout,
        })
    }

    /// Inserts `{user_id, turn_count: 0}` into `public.sessions` as `actor`; the new row's id.
    pub async fn insert_session(&self, actor: &Actor, user_id: Uuid) -> Result<Uuid, DbFailure> {
        match tokio::time::timeout(self.timeout, self.insert_in_transaction(actor, user_id)).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(DbFailure::Unavailable(format!(
                "the insert took longer than {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    async fn insert_in_transaction(
        &self,
        actor: &Actor,
        user_id: Uuid,
    ) -> Result<Uuid, sqlx::Error> {
        let (role, claims) = match actor {
            Actor::User { claims } => ("authenticated", with_role(claims, "authenticated")),
            Actor::Anon => ("anon", String::new()),
        };
        let insert = Insert {
            role,
            claims: &claims,
            // statement_timeout backs up our own timeout on the server side; SET ROLE would not
            // apply the role's own ALTER ROLE settings, so PostgREST sets it tx-locally too.
            statement_timeout: &format!("{}ms", self.timeout.as_millis()),
            user_id,
        };
        // A pooled connection that died while idle (the database restarted, a proxy cut it,
        // its backend was terminated) fails its BEGIN, on which nothing was done: it is closed
        // and BEGIN tried on the next one, as many times as the pool holds connections and
        // once more on a fresh one. That costs nothing on the way, unlike a ping per checkout.
        // A database that is really gone fails the fresh connection too, within the budget.
        let mut retries = self.pool.size();
        loop {
            let mut lease = self.pool.acquire().await?;
            match insert.run_on(&mut lease).await {
                Ok(id) => {
                    // Committed and answered: nothing is in flight, so it goes back unpinged.
                    // On an error it goes back as suspect instead, pinged before its next use.
                    lease.release();
                    return Ok(id);
                }
                // Not logged: the service's lines are in the snapshots, and this is routine.
                Err(Failed::Begin(error)) if retries > 0 && !is_pool_error(&error) => {
                    lease.discard();
                    retries -= 1;
                }
                Err(Failed::Begin(error) | Failed::Statement(error)) => return Err(error),
            }
        }
    }
}

/// The session row's transaction, as one request runs it.
struct Insert<'a> {
    role: &'a str,
    claims: &'a str,
    statement_timeout: &'a str,
    user_id: Uuid,
}

/// Where a transaction failed: a failed BEGIN did nothing, so it may be tried elsewhere.
enum Failed {
    Begin(sqlx::Error),
    Statement(sqlx::Error),
}

impl Insert<'_> {
    async fn run_on(&self, connection: &mut PgConnection) -> Result<Uuid, Failed> {
        let mut tx = connection.begin().await.map_err(Failed::Begin)?;
        sqlx::query(
            "select set_config('role', $1, true), \
                    set_config('request.jwt.claims', $2, true), \
                    set_config('statement_timeout', $3, true)",
        )
        .bind(self.role)
        .bind(self.claims)
        .bind(self.statement_timeout)
        .execute(&mut *tx)
        .await
        .map_err(Failed::Statement)?;
        let id: Uuid = sqlx::query_scalar(
            "insert into public.sessions (user_id, turn_count) values ($1, 0) returning id",
        )
        .bind(self.user_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(Failed::Statement)?;
        tx.commit().await.map_err(Failed::Statement)?;
        Ok(id)
    }
}

/// Errors of the pool itself, not of a connection: trying again cannot help.
fn is_pool_error(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
}

/// The claims as JSON with `role` set, as PostgREST publishes them.
fn with_role(claims: &Value, role: &str) -> String {
    let mut claims = claims.clone();
    if let Some(object) = claims.as_object_mut() {
        object.insert("role".into(), Value::String(role.into()));
    }
    claims.to_string()
}

/// Connection trouble and server-side cancellations are outages; anything else PostgreSQL said
/// is a refusal of this statement.
fn classify(error: sqlx::Error) -> DbFailure {
    match &error {
        sqlx::Error::Database(db) => {
            let sqlstate = db.code().map(|c| c.into_owned()).unwrap_or_default();
            // 08: connection exception; 53: insufficient resources; 57: operator intervention
            // (57014 statement timeout, 57P01 admin shutdown).
            if ["08", "53", "57"]
                .iter()
                .any(|class| sqlstate.starts_with(class))
            {
                DbFailure::Unavailable(format!("{} (SQLSTATE {sqlstate})", db.message()))
            } else {
                DbFailure::Refused {
                    sqlstate,
                    message: db.message().to_owned(),
                }
            }
        }
        sqlx::Error::PoolTimedOut => {
            DbFailure::Unavailable("no database connection could be acquired in time".into())
        }
        _ => DbFailure::Unavailable(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_get_the_role_we_switch_to() {
        let claims = serde_json::json!({"sub": "u", "role": "service_role"});
        let published: Value = serde_json::from_str(&with_role(&claims, "authenticated")).unwrap();
        assert_eq!(published["role"], "authenticated");
        assert_eq!(published["sub"], "u");
    }

    #[test]
    fn pool_trouble_is_an_outage() {
        assert!(matches!(
            classify(sqlx::Error::PoolTimedOut),
            DbFailure::Unavailable(_)
        ));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(
            classify(sqlx::Error::Io(io)),
            DbFailure::Unavailable(_)
        ));
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_within_the_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let config = Config::new(
            "http://127.0.0.1:1".parse().unwrap(),
            "anon",
            format!("postgres://authenticator@127.0.0.1:{port}/postgres"),
        )
        .with_db_timeout(Duration::from_millis(500));
        let db = Database::connect_lazy(&config).unwrap();
        let started = std::time::Instant::now();
        let result = db.insert_session(&Actor::Anon, Uuid::new_v4()).await;
        assert!(
            matches!(result, Err(DbFailure::Unavailable(_))),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
