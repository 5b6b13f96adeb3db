//! `auth.refresh_tokens`: the v1 token chain of each session.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshToken {
    pub id: i64,
    pub token: String,
    /// varchar in GoTrue's schema, not uuid.
    pub user_id: String,
    pub revoked: bool,
    pub parent: Option<String>,
    pub session_id: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, token, user_id, coalesce(revoked, false) as revoked, parent, session_id, updated_at";

/// Stores a new token for the session and returns it.
pub async fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    parent: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<String> {
    let token = crate::refresh::generate();
    sqlx::query(
        "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id, created_at, updated_at)
         values ($1, $2, $3, false, $4, $5, $6, $6)",
    )
    .bind(Uuid::nil())
    .bind(&token)
    .bind(user_id.to_string())
    .bind(parent)
    .bind(session_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(token)
}

pub async fn find_for_update(
    conn: &mut PgConnection,
    token: &str,
) -> sqlx::Result<Option<RefreshToken>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from auth.refresh_tokens where token = $1 for update"
    ))
    .bind(token)
    .fetch_optional(conn)
    .await
}

/// The session's newest unrevoked token, if any.
pub async fn active_for_session(
    conn: &mut PgConnection,
    session_id: Uuid,
) -> sqlx::Result<Option<RefreshToken>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from auth.refresh_tokens
         where session_id = $1 and revoked = false order by id desc limit 1"
    ))
    .bind(session_id)
    .fetch_optional(conn)
    .await
}

pub async fn revoke(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("update auth.refresh_tokens set revoked = true, updated_at = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every live token of the session: the response to a replayed token.
pub async fn revoke_family(
    conn: &mut PgConnection,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update auth.refresh_tokens set revoked = true, updated_at = $2 where session_id = $1 and revoked = false")
        .bind(session_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
