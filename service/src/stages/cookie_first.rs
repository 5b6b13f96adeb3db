//! Failures 2 and 3: `createRouteHandlerClient` from `@supabase/auth-helpers-nextjs`.
//!
//! The helper is built for browsers: it takes the session from the `sb-<ref>-auth-token`
//! cookie and never looks at `Authorization`. No cookie means "not logged in" (401, however
//! good the bearer token); a phantom cookie from the API client's jar crashes the route with
//! "Failed to parse cookie string" before any token is checked.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::cookies;
use crate::db::Actor;
use crate::error::ServiceError;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(super::ROUTE, post(create_session))
}

async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ServiceError> {
    let cookie_headers = headers.get_all(COOKIE).iter().map(|value| value.as_bytes());
    let session = cookies::read_session(cookie_headers, &state.cookie_name)
        .map_err(ServiceError::CookieParse)?
        .ok_or(ServiceError::SessionMissing)?;

    let user = state
        .auth
        .get_user(&session.access_token)
        .await
        .map_err(|failure| ServiceError::DebriefUnauthorized(failure.to_string()))?;
    tracing::info!(user_id = %user.id, "cookie session belongs to a user; creating session");

    // The helper's client forwards the cookie session's token, so the insert runs as the user.
    let id = state
        .db
        .insert_session(
            &Actor::User {
                claims: user.claims,
            },
            user.id,
        )
        .await
        .map_err(|failure| ServiceError::DebriefFailed(failure.to_string()))?;
    Ok(Json(json!({ "sessionId": id })))
}
