//! The database side: the connection pool ([`pool`]), the `LISTEN` channel ([`listener`]),
//! the in-database configuration ([`settings`]) and how sqlx's errors read as PostgREST's.

pub mod listener;
pub mod pool;
pub mod settings;

use crate::error::{ApiError, PgError};

/// A failure while a connection was in use: PostgreSQL's own error, or a broken connection.
pub fn query_error(e: sqlx::Error, authenticated: bool) -> ApiError {
    match e {
        sqlx::Error::Database(db) => {
            let pg = db.downcast_ref::<sqlx::postgres::PgDatabaseError>();
            ApiError::Postgres {
                error: PgError {
                    code: pg.code().to_owned(),
                    message: pg.message().to_owned(),
                    detail: pg.detail().map(str::to_owned),
                    hint: pg.hint().map(str::to_owned),
                },
                authenticated,
            }
        }
        sqlx::Error::PoolTimedOut => ApiError::PoolTimeout,
        other => ApiError::DbClient(other.to_string()),
    }
}

/// Whether an error means the connection can no longer be trusted.
pub fn is_connection_error(e: &ApiError) -> bool {
    match e {
        ApiError::DbClient(_) | ApiError::DbConnection(_) => true,
        ApiError::Postgres { error, .. } => {
            error.code.starts_with("08") || error.code == "57P01" || error.code == "57P02"
        }
        _ => false,
    }
}
