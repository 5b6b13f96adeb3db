//! The one error type every handler returns, and its mapping to GoTrue's responses.
//!
//! Each variant's text is GoTrue's message byte for byte; [`ApiError::status_and_code`] is the
//! only place a failure gets its HTTP status and `error_code`. The body has two shapes: the
//! default `{code:int,error_code,msg}` written here, and `{code:"…",message}` for clients that
//! send `X-Supabase-Api-Version` ≥ 2024-01-01, which [`api_version`] rewrites on the way out
//! (the error itself does not see the request).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::jwt::JwtError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("This endpoint requires a valid Bearer token")]
    NoAuthorization,
    #[error("invalid JWT: unable to parse or verify signature, {0}")]
    BadJwt(#[from] JwtError),
    #[error("invalid claim: missing sub claim")]
    MissingSub,
    #[error("invalid claim: sub claim must be a UUID")]
    SubNotUuid,
    #[error("invalid claim: session_id claim must be a UUID")]
    SessionIdNotUuid,
    #[error("User from sub claim in JWT does not exist")]
    UserFromClaimNotFound,
    #[error("Session from session_id claim in JWT does not exist")]
    SessionFromClaimNotFound,
    /// A banned user presenting a live access token.
    #[error("User is banned")]
    BannedToken,
    /// A banned user trying to sign in.
    #[error("User is banned")]
    BannedLogin,
    #[error("User not allowed")]
    NotAdmin,
    #[error("Updating app_metadata requires admin privileges")]
    AppMetadataNotAdmin,
    #[error("Token audience doesn't match request audience")]
    AudienceMismatch,
    #[error("Invalid login credentials")]
    InvalidCredentials,
    #[error("Email not confirmed")]
    EmailNotConfirmed,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("User already registered")]
    UserAlreadyExists,
    #[error("A user with this email address has already been registered")]
    EmailExists,
    #[error("{message}")]
    WeakPassword {
        message: String,
        reasons: Vec<&'static str>,
    },
    #[error("New password should be different from the old password.")]
    SamePassword,
    /// 400 `validation_failed` with a request-specific message.
    #[error("{0}")]
    Validation(String),
    #[error("Signups not allowed for this instance")]
    SignupDisabled,
    #[error("Anonymous sign-ins are disabled")]
    AnonymousDisabled,
    #[error("{0}")]
    EmailProviderDisabled(&'static str),
    #[error("{0}")]
    PhoneProviderDisabled(&'static str),
    #[error("Could not parse request body as JSON: {0}")]
    BadJson(String),
    #[error("Request body too large (max 1048576 bytes)")]
    BodyTooLarge,
    /// The body was still arriving when the body timeout ran out: the client's slowness, so a
    /// 408, where GoTrue's request timeout answers 504 whatever was slow.
    #[error("Request body not received in full within {} seconds", .0.as_secs())]
    BodyTimeout(std::time::Duration),
    /// The body broke off or was malformed at the HTTP level (chunked encoding); GoTrue says
    /// this with a 500, though the client sent it.
    #[error("Could not read body into byte slice")]
    BodyUnreadable(String),
    /// PostgreSQL refused a value as data (SQLSTATE class 22): the checks in `api::input`
    /// should have caught it; this keeps any they miss a client error.
    #[error("A value in the request cannot be stored: {0}")]
    Unstorable(String),
    #[error("Refresh token is not valid")]
    RefreshTokenMalformed,
    #[error("Invalid Refresh Token: Refresh Token Not Found")]
    RefreshTokenNotFound,
    #[error("Invalid Refresh Token: Already Used")]
    RefreshTokenAlreadyUsed,
    #[error("Invalid Refresh Token: User Banned")]
    RefreshUserBanned,
    #[error("Invalid Refresh Token: Session Expired")]
    SessionExpired,
    #[error("Too many concurrent token refresh requests on the same session or refresh token")]
    RefreshConflict,
    #[error("user_id must be an UUID")]
    AdminBadUserId,
    #[error("User not found")]
    AdminUserNotFound,
    #[error("Database error querying schema")]
    Database(sqlx::Error),
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// The single mapping from a failure to its status and GoTrue `error_code`.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use ApiError::*;
        use StatusCode as S;
        match self {
            NoAuthorization => (S::UNAUTHORIZED, "no_authorization"),
            BadJwt(_) | MissingSub | SessionIdNotUuid => (S::FORBIDDEN, "bad_jwt"),
            SubNotUuid => (S::BAD_REQUEST, "bad_jwt"),
            UserFromClaimNotFound => (S::FORBIDDEN, "user_not_found"),
            SessionFromClaimNotFound => (S::FORBIDDEN, "session_not_found"),
            BannedToken => (S::FORBIDDEN, "user_banned"),
            BannedLogin | RefreshUserBanned => (S::BAD_REQUEST, "user_banned"),
            NotAdmin | AppMetadataNotAdmin => (S::FORBIDDEN, "not_admin"),
            AudienceMismatch | Validation(_) | RefreshTokenMalformed => {
                (S::BAD_REQUEST, "validation_failed")
            }
            InvalidCredentials | UnsupportedGrantType => (S::BAD_REQUEST, "invalid_credentials"),
            EmailNotConfirmed => (S::BAD_REQUEST, "email_not_confirmed"),
            UserAlreadyExists => (S::UNPROCESSABLE_ENTITY, "user_already_exists"),
            EmailExists => (S::UNPROCESSABLE_ENTITY, "email_exists"),
            WeakPassword { .. } => (S::UNPROCESSABLE_ENTITY, "weak_password"),
            SamePassword => (S::UNPROCESSABLE_ENTITY, "same_password"),
            SignupDisabled => (S::UNPROCESSABLE_ENTITY, "signup_disabled"),
            AnonymousDisabled => (S::UNPROCESSABLE_ENTITY, "anonymous_provider_disabled"),
            EmailProviderDisabled(_) => (S::UNPROCESSABLE_ENTITY, "email_provider_disabled"),
            PhoneProviderDisabled(_) => (S::UNPROCESSABLE_ENTITY, "phone_provider_disabled"),
            BadJson(_) | BodyUnreadable(_) => (S::BAD_REQUEST, "bad_json"),
            BodyTooLarge => (S::PAYLOAD_TOO_LARGE, "request_entity_too_large"),
            BodyTimeout(_) => (S::REQUEST_TIMEOUT, "request_timeout"),
            Unstorable(_) => (S::BAD_REQUEST, "validation_failed"),
            RefreshTokenNotFound => (S::BAD_REQUEST, "refresh_token_not_found"),
            RefreshTokenAlreadyUsed => (S::BAD_REQUEST, "refresh_token_already_used"),
            SessionExpired => (S::BAD_REQUEST, "session_expired"),
            RefreshConflict => (S::CONFLICT, "conflict"),
            AdminBadUserId => (S::NOT_FOUND, "validation_failed"),
            AdminUserNotFound => (S::NOT_FOUND, "user_not_found"),
            Database(_) | Internal(_) => (S::INTERNAL_SERVER_ERROR, "unexpected_failure"),
        }
    }
}

/// SQLSTATE class 22: data exceptions (a NUL byte, an over-long value, a number out of range).
const DATA_EXCEPTION_CLASS: &str = "22";
/// SQLSTATE unique_violation.
const UNIQUE_VIOLATION: &str = "23505";

impl From<sqlx::Error> for ApiError {
    /// A refusal of the request's own data is the client's; everything else is the database's.
    fn from(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return ApiError::Database(error);
        };
        match db.code().as_deref() {
            Some(code) if code.starts_with(DATA_EXCEPTION_CLASS) => {
                ApiError::Unstorable(db.message().to_owned())
            }
            // A concurrent request took the address or the id between our check and the insert.
            Some(UNIQUE_VIOLATION) if db.constraint().is_some_and(|c| c.contains("email")) => {
                ApiError::EmailExists
            }
            Some(UNIQUE_VIOLATION) if db.constraint() == Some("users_pkey") => {
                ApiError::UserAlreadyExists
            }
            _ => ApiError::Database(error),
        }
    }
}

/// A panic in a handler, answered as GoTrue's recoverer answers one (500, "Internal Server
/// Error") instead of a dropped connection.
pub fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response {
    ApiError::Internal("a handler panicked".into()).into_response()
}

/// What the version middleware needs to re-render an error in the 2024-01-01 shape.
#[derive(Clone, Debug)]
struct ErrorDetails {
    code: &'static str,
    message: String,
    weak_password: Option<WeakPasswordPayload>,
}

#[derive(Clone, Debug, Serialize)]
struct WeakPasswordPayload {
    reasons: Vec<&'static str>,
}

/// GoTrue's HTTPError field order: code, error_code, msg, error_id.
#[derive(Serialize)]
struct DefaultBody<'a> {
    code: u16,
    error_code: &'a str,
    msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weak_password: Option<&'a WeakPasswordPayload>,
}

#[derive(Serialize)]
struct VersionedBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    weak_password: Option<&'a WeakPasswordPayload>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = self.to_string();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let weak_password = match &self {
            ApiError::WeakPassword { reasons, .. } => Some(WeakPasswordPayload {
                reasons: reasons.clone(),
            }),
            _ => None,
        };
        let body = DefaultBody {
            code: status.as_u16(),
            error_code: code,
            msg: &message,
            error_id: status
                .is_server_error()
                .then(|| uuid::Uuid::new_v4().to_string()),
            weak_password: weak_password.as_ref(),
        };
        let mut response = (status, axum::Json(&body)).into_response();
        response
            .headers_mut()
            .insert("x-sb-error-code", HeaderValue::from_static(code));
        response.extensions_mut().insert(ErrorDetails {
            code,
            message,
            weak_password,
        });
        response
    }
}

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// The only dated API version GoTrue knows.
const API_VERSION_2024_01_01: &str = "2024-01-01";

/// Re-renders error bodies in the 2024-01-01 shape when the client asked for that version.
pub async fn api_version(request: Request, next: Next) -> Response {
    let versioned = request
        .headers()
        .get(API_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_at_least_2024_01_01);
    let response = next.run(request).await;
    if !versioned {
        return response;
    }
    let Some(details) = response.extensions().get::<ErrorDetails>().cloned() else {
        return response;
    };
    let body = VersionedBody {
        code: details.code,
        message: &details.message,
        weak_password: details.weak_password.as_ref(),
    };
    let mut rebuilt = (response.status(), axum::Json(&body)).into_response();
    for (name, value) in response.headers() {
        if name != axum::http::header::CONTENT_LENGTH {
            rebuilt.headers_mut().insert(name, value.clone());
        }
    }
    rebuilt.headers_mut().insert(
        API_VERSION_HEADER,
        HeaderValue::from_static(API_VERSION_2024_01_01),
    );
    rebuilt
}

/// Dates compare as strings once they have the exact `YYYY-MM-DD` shape.
fn is_at_least_2024_01_01(value: &str) -> bool {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").is_ok()
        && value.trim().len() == 10
        && value.trim() >= API_VERSION_2024_01_01
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn render(
        err: fn() -> ApiError,
        version: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let app = axum::Router::new()
            .route("/", get(move || async move { err() }))
            .layer(axum::middleware::from_fn(api_version));
        let mut req = axum::http::Request::get("/");
        if let Some(v) = version {
            req = req.header(API_VERSION_HEADER, v);
        }
        let res = app
            .oneshot(req.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        let body = to_bytes(body, usize::MAX).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn default_shape_is_byte_exact() {
        let (status, headers, body) = render(|| ApiError::NoAuthorization, None).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            r#"{"code":401,"error_code":"no_authorization","msg":"This endpoint requires a valid Bearer token"}"#
        );
        assert_eq!(headers["x-sb-error-code"], "no_authorization");
        assert!(headers.get(API_VERSION_HEADER).is_none());
    }

    #[tokio::test]
    async fn versioned_shape_is_byte_exact_and_echoes_the_header() {
        let (status, headers, body) = render(|| ApiError::SubNotUuid, Some("2024-01-01")).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            r#"{"code":"bad_jwt","message":"invalid claim: sub claim must be a UUID"}"#
        );
        assert_eq!(headers[API_VERSION_HEADER], "2024-01-01");
        assert_eq!(headers["x-sb-error-code"], "bad_jwt");
    }

    #[tokio::test]
    async fn older_or_garbled_versions_keep_the_default_shape() {
        for v in ["2023-12-31", "yesterday", "2024-1-1"] {
            let (_, _, body) = render(|| ApiError::NotAdmin, Some(v)).await;
            assert_eq!(
                body, r#"{"code":403,"error_code":"not_admin","msg":"User not allowed"}"#,
                "{v}"
            );
        }
    }

    #[tokio::test]
    async fn weak_password_carries_reasons_in_both_shapes() {
        fn weak() -> ApiError {
            ApiError::WeakPassword {
                message: "Password should be at least 6 characters.".into(),
                reasons: vec!["length"],
            }
        }
        let (status, _, body) = render(weak, None).await;
        assert_eq!(status, 422);
        assert_eq!(
            body,
            r#"{"code":422,"error_code":"weak_password","msg":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#
        );
        let (_, _, body) = render(weak, Some("2024-01-01")).await;
        assert_eq!(
            body,
            r#"{"code":"weak_password","message":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#
        );
    }

    #[tokio::test]
    async fn server_errors_carry_an_error_id() {
        let (status, _, body) = render(|| ApiError::Internal("boom".into()), None).await;
        assert_eq!(status, 500);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error_code"], "unexpected_failure");
        assert!(
            v["error_id"].as_str().is_some_and(|id| id.len() == 36),
            "{body}"
        );
        assert!(!body.contains("boom"), "internal detail leaked: {body}");
    }
}
