//! POST /logout: deletes sessions (their refresh tokens cascade), answering 204.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::extract::CurrentUser;
use crate::db::{audit, sessions};
use crate::error::ApiError;

#[derive(Deserialize)]
pub struct LogoutQuery {
    scope: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    Query(query): Query<LogoutQuery>,
    current: CurrentUser,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.pool.begin().await?;
    let user_id = current.user.id;
    let session = current.session.as_ref().map(|s| s.id);
    match (query.scope.as_deref().unwrap_or("global"), session) {
        ("global" | "", _) => sessions::delete_all(&mut tx, user_id).await?,
        ("local", Some(id)) => sessions::delete_one(&mut tx, id).await?,
        ("others", Some(id)) => sessions::delete_others(&mut tx, user_id, id).await?,
        // A token without a session has nothing local to end, and no "others" to tell apart.
        ("local", None) => {}
        ("others", None) => sessions::delete_all(&mut tx, user_id).await?,
        (other, _) => {
            return Err(ApiError::Validation(format!(
                "Unsupported logout scope {other:?}"
            )));
        }
    }
    audit::record(&mut tx, &current.user, "logout", "account", Utc::now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
