//! `auth.sessions` and `auth.mfa_amr_claims`: a sign-in, and how it was authenticated.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jwt::Amr;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub not_after: Option<DateTime<Utc>>,
}

/// Starts an aal1 session and records the method that authenticated it.
pub async fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    method: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal)
         values ($1, $2, $3, $3, 'aal1')",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
         values ($1, $2, $3, $3, $4)
         on conflict (session_id, authentication_method) do update set updated_at = excluded.updated_at",
    )
    .bind(Uuid::new_v4())
    .bind(id)
    .bind(now)
    .bind(method)
    .execute(conn)
    .await?;
    Ok(id)
}

/// [`find`]'s statement: `$1` the session's id.
pub const FIND_STATEMENT: &str = "select id, user_id, not_after from auth.sessions where id = $1";

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(FIND_STATEMENT)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the session row so concurrent refreshes of one session queue up.
pub async fn find_for_update(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Session>> {
    sqlx::query_as("select id, user_id, not_after from auth.sessions where id = $1 for update")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Marks a refresh; `refreshed_at` is a timestamp without time zone, in UTC as GoTrue writes it.
pub async fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("update auth.sessions set refreshed_at = $2, updated_at = $3 where id = $1")
        .bind(id)
        .bind(now.naive_utc())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The `amr` claim: newest first.
pub async fn amr(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<Amr>> {
    let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "select authentication_method, updated_at from auth.mfa_amr_claims
         where session_id = $1 order by updated_at desc",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(method, at)| Amr {
            method,
            timestamp: at.timestamp(),
        })
        .collect())
}

/// Logout scopes; refresh tokens and amr claims go with their sessions (ON DELETE CASCADE).
pub async fn delete_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from auth.sessions where user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_one(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from auth.sessions where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_others(conn: &mut PgConnection, user_id: Uuid, keep: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from auth.sessions where user_id = $1 and id <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(())
}
