//! The debrief's "final, corrected code", behaviour for behaviour.
//!
//! It works for the happy path, and it is what the harness measures the reference against:
//! a missing header is a 500 (thrown inside the try block), `bearer` in lower case is refused,
//! `split(' ')[1]` picks the token, every getUser() error (an outage included) becomes
//! 401 "Unauthorized: Invalid token.", and database errors are echoed into the 500 body.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::debrief_bearer_token;
use crate::db::Actor;
use crate::error::ServiceError;

/// Which Supabase client performs the insert.
#[derive(Debug, Clone, Copy)]
pub(super) enum DataClient {
    /// The final code: a client created per request with `Authorization: Bearer <jwt>`.
    RequestScoped,
    /// The attempt before it: the anon-key client, whatever user getUser(jwt) found.
    AnonKeyOnly,
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        super::ROUTE,
        post(|state, headers| create_session_with(DataClient::RequestScoped, state, headers)),
    )
}

pub(super) async fn create_session_with(
    client: DataClient,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ServiceError> {
    let jwt = debrief_bearer_token(&headers)
        .map_err(|message| ServiceError::DebriefFailed(message.to_owned()))?;

    let user = match state.auth.get_user(&jwt).await {
        Ok(user) => user,
        Err(failure) => {
            tracing::error!(
                error = %failure,
                "Create Session API Error: The provided token is invalid or expired."
            );
            return Err(ServiceError::DebriefUnauthorized(failure.to_string()));
        }
    };
    tracing::info!(
        user_id = %user.id,
        "Create Session API: Client authenticated for user {}. Creating session...",
        user.id
    );

    let actor = match client {
        DataClient::RequestScoped => Actor::User {
            claims: user.claims,
        },
        DataClient::AnonKeyOnly => Actor::Anon,
    };
    let id = state
        .db
        .insert_session(&actor, user.id)
        .await
        .map_err(|failure| ServiceError::DebriefFailed(failure.to_string()))?;
    tracing::info!(session_id = %id, "SUCCESS: Session {id} created for user {}.", user.id);
    Ok(Json(json!({ "sessionId": id })))
}
