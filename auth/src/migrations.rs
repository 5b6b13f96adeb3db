//! The embedded auth schema and the runner that applies it.
//!
//! Like GoTrue (which embeds its migrations and runs them with pop at boot), versions are
//! recorded in `auth.schema_migrations`, one transaction per migration, so a second run is a
//! no-op and a failed migration leaves nothing half-applied. An advisory lock serialises
//! servers booting against the same database at once.

use sqlx::{Connection, PgConnection};

/// One embedded migration, tracked by version in `auth.schema_migrations` as GoTrue does.
pub struct Migration {
    pub version: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $file:literal) => {
        Migration {
            version: $version,
            sql: include_str!(concat!("../migrations/", $file)),
        }
    };
}

/// The auth schema, oldest first.
pub static MIGRATIONS: &[Migration] = &[
    migration!("20260101000001", "20260101000001_users.sql"),
    migration!("20260101000002", "20260101000002_sessions.sql"),
    migration!("20260101000003", "20260101000003_jwt_functions.sql"),
    migration!("20260101000004", "20260101000004_enable_rls.sql"),
];

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect to the auth database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error(
        "cannot prepare auth.schema_migrations (does schema auth exist and belong to this role?): {0}"
    )]
    Bookkeeping(#[source] sqlx::Error),
    #[error("auth migration {version} failed: {source}")]
    Apply {
        version: &'static str,
        source: sqlx::Error,
    },
}

/// Key for `pg_advisory_lock`; any constant shared by all servers works.
const LOCK_KEY: i64 = 0x676f_7472_7565;

/// Applies every migration not yet recorded in `schema_migrations`.
///
/// Connect as `supabase_auth_admin` (search_path `auth`); schema `auth` must already exist.
pub async fn migrate(database_url: &str) -> Result<(), MigrateError> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .map_err(MigrateError::Connect)?;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut conn)
        .await
        .map_err(MigrateError::Bookkeeping)?;
    let result = apply_missing(&mut conn).await;
    // Closing the connection releases the lock even if this fails.
    let _ = sqlx::query("select pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    result
}

async fn apply_missing(conn: &mut PgConnection) -> Result<(), MigrateError> {
    // "already exists, skipping" notices on every boot would only be noise.
    sqlx::query("set client_min_messages = warning")
        .execute(&mut *conn)
        .await
        .map_err(MigrateError::Bookkeeping)?;
    // pop's own bookkeeping table, same shape.
    sqlx::raw_sql(
        "create table if not exists auth.schema_migrations (version varchar(14) not null);
         create unique index if not exists schema_migrations_version_idx
             on auth.schema_migrations (version);",
    )
    .execute(&mut *conn)
    .await
    .map_err(MigrateError::Bookkeeping)?;

    let applied: Vec<String> = sqlx::query_scalar("select version from auth.schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(MigrateError::Bookkeeping)?;

    for m in MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|v| v == m.version))
    {
        let fail = |source| MigrateError::Apply {
            version: m.version,
            source,
        };
        let mut tx = conn.begin().await.map_err(fail)?;
        sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query("insert into auth.schema_migrations (version) values ($1)")
            .bind(m.version)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, "applied auth migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_ordered_pop_sized_and_unique() {
        for pair in MIGRATIONS.windows(2) {
            assert!(
                pair[0].version < pair[1].version,
                "{} before {}",
                pair[0].version,
                pair[1].version
            );
        }
        for m in MIGRATIONS {
            assert_eq!(
                m.version.len(),
                14,
                "pop versions are varchar(14): {}",
                m.version
            );
        }
    }

    #[test]
    fn schema_auth_is_never_created() {
        for m in MIGRATIONS {
            assert!(
                !m.sql.to_lowercase().contains("create schema"),
                "{} creates a schema",
                m.version
            );
        }
    }
}
