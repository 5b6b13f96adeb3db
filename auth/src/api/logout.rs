//! POST /logout: deletes sessions (their refresh tokens cascade), answering 204.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use sqlx::Connection as _;

use super::AppState;
use super::extract::CurrentUser;
use super::query::GoQuery;
use crate::db::{audit, sessions};
use crate::error::ApiError;

/// `?scope=global|local|others`, the first of repeated values, as GoTrue reads it. A token
/// without a session (a nil `session_id`) ends every session of its user whatever the scope,
/// as in GoTrue: there is no "this session" to keep or end alone.
pub async fn logout(
    State(state): State<AppState>,
    query: GoQuery,
    current: CurrentUser,
) -> Result<StatusCode, ApiError> {
    let scope = query.get("scope").unwrap_or_default();
    if !matches!(scope, "" | "global" | "local" | "others") {
        return Err(ApiError::Validation(format!(
            "Unsupported logout scope {}",
            super::go_quote::strconv(scope)
        )));
    }
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let user_id = current.user.id;
    audit::record(&mut tx, &current.user, "logout", "account", Utc::now()).await?;
    match (scope, current.session.as_ref().map(|s| s.id)) {
        ("local", Some(id)) => sessions::delete_one(&mut tx, id).await?,
        ("others", Some(id)) => sessions::delete_others(&mut tx, user_id, id).await?,
        _ => sessions::delete_all(&mut tx, user_id).await?,
    }
    tx.commit().await?;
    conn.release();
    Ok(StatusCode::NO_CONTENT)
}
