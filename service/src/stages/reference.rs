//! What the route should have been: every answer names its real cause.
//!
//! Bearer token only (cookies and `apikey` are not credentials for an API: neither is read, so
//! neither can contradict the token), matched like GoTrue, in exactly one Authorization header
//! (two are a 400, never resolved by picking one); 401 with an RFC 6750 challenge when the
//! credentials are at fault, 503 with `Retry-After` when the auth
//! server or the database is, 500 with only a request id when we are. The row is always the
//! token's user's: body fields are accepted but never trusted.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{AuthFailure, CredentialProblem, bearer_token};
use crate::db::{Actor, DbFailure};
use crate::error::ServiceError;

/// Largest request body we read.
pub const BODY_LIMIT: usize = 64 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            super::ROUTE,
            post(create_session).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .fallback(|method: Method, uri: Uri| async move {
            ServiceError::NotFound {
                method: method.to_string(),
                path: uri.path().to_owned(),
            }
        })
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move {
            ServiceError::MethodNotAllowed {
                method: method.to_string(),
                path: uri.path().to_owned(),
            }
        })
}

async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ServiceError> {
    let token = bearer_token(&headers).map_err(|problem| match problem {
        CredentialProblem::Missing => ServiceError::MissingCredentials,
        CredentialProblem::Malformed => ServiceError::MalformedCredentials,
        CredentialProblem::Ambiguous { headers } => ServiceError::AmbiguousCredentials { headers },
    })?;
    check_body(&headers, body)?;

    let user = state
        .auth
        .get_user(token)
        .await
        .map_err(|failure| match failure {
            AuthFailure::Rejected { .. } | AuthFailure::InvalidLocally(_) => {
                ServiceError::TokenRejected(failure.to_string())
            }
            AuthFailure::UnknownKid { ref kid, .. } => ServiceError::UnknownSigningKey {
                kid: kid.clone(),
                detail: failure.to_string(),
            },
            AuthFailure::Unavailable(why) => ServiceError::AuthUnavailable(why),
        })?;

    let actor = Actor::User {
        claims: user.claims,
    };
    let id = state
        .db
        .insert_session(&actor, user.id)
        .await
        .map_err(|failure| match failure {
            DbFailure::Unavailable(why) => ServiceError::DatabaseUnavailable(why),
            // The token's own user was refused (RLS, a deleted user's foreign key): our bug.
            DbFailure::Refused { sqlstate, message } => {
                ServiceError::Internal(format!("insert refused (SQLSTATE {sqlstate}): {message}"))
            }
        })?;
    tracing::info!(session_id = %id, user_id = %user.id, "session created");
    Ok(Json(json!({ "sessionId": id })))
}

/// The body is optional; when present it must be JSON, declared as JSON, and small.
fn check_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ServiceError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::PayloadTooLarge { limit: BODY_LIMIT },
        _ => ServiceError::InvalidJson(rejection.body_text()),
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_json(content_type) {
        return Err(ServiceError::UnsupportedMediaType(content_type.to_owned()));
    }
    serde_json::from_slice::<Value>(&body)
        .map(drop)
        .map_err(|e| ServiceError::InvalidJson(e.to_string()))
}

/// `application/json` or a `+json` type, parameters allowed.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn json_headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers
    }

    #[test]
    fn an_empty_body_needs_no_content_type() {
        assert!(check_body(&HeaderMap::new(), Ok(Bytes::new())).is_ok());
    }

    #[test]
    fn json_bodies_are_accepted_and_ignored() {
        let body = Bytes::from_static(br#"{"user_id":"someone-else"}"#);
        assert!(check_body(&json_headers("application/json; charset=utf-8"), Ok(body)).is_ok());
    }

    #[test]
    fn non_json_content_type_is_415() {
        let body = Bytes::from_static(b"user_id=1");
        let error = check_body(&json_headers("application/x-www-form-urlencoded"), Ok(body));
        assert!(matches!(error, Err(ServiceError::UnsupportedMediaType(_))));
    }

    #[test]
    fn broken_json_is_400() {
        let error = check_body(
            &json_headers("application/json"),
            Ok(Bytes::from_static(b"{")),
        );
        assert!(matches!(error, Err(ServiceError::InvalidJson(_))));
    }

    #[test]
    fn json_suffix_types_count_as_json() {
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/json-ish"));
    }
}
