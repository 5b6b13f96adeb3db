//! Every way a request can fail, and the one place each becomes a response.
//!
//! The reference variants follow RFC 6750 and tell the caller the truth: 401 only when the
//! credentials are at fault, 503 with `Retry-After` when a dependency is, 500 with nothing but
//! a request id when we are. The debrief variants reproduce the original route's answers,
//! misleading ones included, so the harness can show what they hid. The full cause of every
//! failure goes to the log, inside the request's span; bodies never carry internals.

use axum::Json;
use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::cookies::CookieError;
use crate::request_id;

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;
const REALM: &str = "Bearer realm=\"api\"";

/// A failed request, or a service that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot build the HTTP client for the auth server: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("DATABASE_URL is not usable: {0}")]
    DatabaseUrl(#[source] sqlx::Error),
    #[error("this stage verifies tokens itself and needs the JWT secret (SUPABASE_JWT_SECRET)")]
    NoJwtSecret,

    /// No bearer credentials at all (no header, or another scheme).
    #[error("no bearer token in the Authorization header")]
    MissingCredentials,
    /// `Bearer` followed by something that is not one token.
    #[error("the Authorization header is not `Bearer <token>`")]
    MalformedCredentials,
    /// More than one Authorization header: refused rather than resolved by picking one.
    #[error("{headers} Authorization headers in one request")]
    AmbiguousCredentials { headers: usize },
    /// The auth server rejected the token.
    #[error("token rejected: {0}")]
    TokenRejected(String),
    /// The token's kid is in no fresh JWKS of the project: a revoked key, or another project's.
    #[error("token rejected: {detail}")]
    UnknownSigningKey { kid: String, detail: String },
    #[error("auth server unavailable: {0}")]
    AuthUnavailable(String),
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Our own fault; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("no route for {method} {path}")]
    NotFound { method: String, path: String },
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client stopped sending the body half-way (or sent a broken chunked encoding).
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
    /// The client was still sending the body when the body timeout ran out.
    #[error("the request body did not arrive within {} ms", timeout.as_millis())]
    BodyTimeout { timeout: std::time::Duration },
    #[error("request body has content type `{0}`, expected application/json")]
    UnsupportedMediaType(String),

    /// cookie-first: the helpers choked on the Cookie header and the route crashed.
    #[error(transparent)]
    CookieParse(CookieError),
    /// cookie-first: no session cookie, so the helpers' getUser() found no user.
    #[error("Auth session missing!")]
    SessionMissing,
    /// debrief code: getUser() returned an error, whatever its cause.
    #[error("getUser() failed: {0}")]
    DebriefUnauthorized(String),
    /// debrief code: anything thrown inside its try block, message echoed.
    #[error("Failed to create session: {0}")]
    DebriefFailed(String),
    /// A Next.js app with no matching route.
    #[error("Next.js: no page for {0}")]
    NextNotFound(String),
    /// A Next.js route file without a handler for this method.
    #[error("Next.js: route has no {0} handler")]
    NextMethodNotAllowed(String),
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        self.log();
        let request_id = request_id::current().unwrap_or_default();
        let reply = |status: StatusCode, code: &str, message: String| {
            (
                status,
                Json(json!({ "error": code, "message": message, "request_id": request_id })),
            )
                .into_response()
        };
        match self {
            Self::MissingCredentials => with_header(
                reply(StatusCode::UNAUTHORIZED, "unauthorized", "This endpoint requires a Bearer token.".into()),
                WWW_AUTHENTICATE,
                REALM.into(),
            ),
            Self::MalformedCredentials => with_header(
                reply(StatusCode::UNAUTHORIZED, "unauthorized", "The Authorization header must be `Bearer <token>`.".into()),
                WWW_AUTHENTICATE,
                format!("{REALM}, error=\"invalid_request\", error_description=\"malformed Authorization header\""),
            ),
            Self::AmbiguousCredentials { headers } => with_header(
                reply(StatusCode::BAD_REQUEST, "ambiguous_credentials", format!("The request carries {headers} Authorization headers; send exactly one.")),
                WWW_AUTHENTICATE,
                format!("{REALM}, error=\"invalid_request\", error_description=\"more than one Authorization header\""),
            ),
            Self::TokenRejected(_) => with_header(
                reply(StatusCode::UNAUTHORIZED, "invalid_token", "The access token was rejected: it is invalid, expired or revoked.".into()),
                WWW_AUTHENTICATE,
                format!("{REALM}, error=\"invalid_token\", error_description=\"the access token was rejected\""),
            ),
            Self::UnknownSigningKey { kid, .. } => with_header(
                reply(StatusCode::UNAUTHORIZED, "invalid_token", format!("The access token is signed with a key this project does not publish (kid {kid}): revoked, or not this project's.")),
                WWW_AUTHENTICATE,
                format!("{REALM}, error=\"invalid_token\", error_description=\"unknown signing key\""),
            ),
            Self::AuthUnavailable(_) => with_header(
                reply(StatusCode::SERVICE_UNAVAILABLE, "auth_unavailable", "The auth server is unavailable, so the token could not be checked. Try again shortly.".into()),
                RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            ),
            Self::DatabaseUnavailable(_) => with_header(
                reply(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "The database is unavailable. Try again shortly.".into()),
                RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            ),
            Self::HttpClient(_) | Self::DatabaseUrl(_) | Self::NoJwtSecret | Self::Internal(_) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Unexpected error. Quote the request id when reporting it.".into(),
            ),
            Self::NotFound { method, path } => {
                reply(StatusCode::NOT_FOUND, "not_found", format!("No route for {method} \"{path}\"."))
            }
            Self::MethodNotAllowed { method, path } => with_header(
                reply(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{method} is not allowed on {path}; use POST.")),
                ALLOW,
                "POST".into(),
            ),
            Self::InvalidJson(detail) => {
                reply(StatusCode::BAD_REQUEST, "invalid_json", format!("The request body is not valid JSON: {detail}"))
            }
            Self::BodyUnreadable(_) => reply(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "The request body could not be read to its end.".into(),
            ),
            Self::BodyTimeout { timeout } => reply(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("The request body did not arrive within {} ms.", timeout.as_millis()),
            ),
            Self::PayloadTooLarge { limit } => reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The request body is larger than {limit} bytes."),
            ),
            Self::UnsupportedMediaType(found) => reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("The request body must be application/json, not `{found}`."),
            ),
            // The debrief's stages answer as the original Next.js route did.
            Self::CookieParse(error) => debrief_body(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
            Self::SessionMissing => debrief_body(StatusCode::UNAUTHORIZED, "Unauthorized: Auth session missing!".into()),
            Self::DebriefUnauthorized(_) => debrief_body(StatusCode::UNAUTHORIZED, "Unauthorized: Invalid token.".into()),
            Self::DebriefFailed(message) => {
                debrief_body(StatusCode::INTERNAL_SERVER_ERROR, format!("Failed to create session: {message}"))
            }
            Self::NextNotFound(_) => (
                StatusCode::NOT_FOUND,
                [(CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head>\
                 <body><h1>404</h1><h2>This page could not be found.</h2></body></html>",
            )
                .into_response(),
            Self::NextMethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }
}

impl ServiceError {
    /// Logs the whole cause at a level matching whose fault it is.
    fn log(&self) {
        match self {
            Self::AuthUnavailable(_)
            | Self::DatabaseUnavailable(_)
            | Self::Internal(_)
            | Self::HttpClient(_)
            | Self::DatabaseUrl(_)
            | Self::NoJwtSecret
            | Self::CookieParse(_)
            | Self::DebriefFailed(_) => tracing::error!(error = %self, "request failed"),
            _ => tracing::info!(error = %self, "request refused"),
        }
    }
}

fn debrief_body(status: StatusCode, error: String) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

fn with_header(mut response: Response, name: axum::http::HeaderName, value: String) -> Response {
    let value = HeaderValue::from_str(&value).expect("header values built here are ASCII");
    response.headers_mut().insert(name, value);
    response
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
