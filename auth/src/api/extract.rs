//! Extractors: the JSON body with GoTrue's errors, and the two kinds of caller (a signed-in
//! user, an admin).
//!
//! [`CurrentUser`] runs GoTrue's `requireAuthentication` checks in its order: bearer header,
//! JWT verification, sub, user, session, ban. [`Admin`] only verifies the JWT and its role,
//! which is why the service_role key (no sub) works on /admin but not on /user.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::AppState;
use crate::bearer;
use crate::db::{sessions, users};
use crate::error::ApiError;
use crate::jwt::{self, PresentedClaims};

/// A JSON body; Content-Type is not checked, as in GoTrue.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BodyTooLarge)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a body, wording the common failure like Go's encoding/json.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let reason = if e.is_eof() {
            "unexpected end of JSON input".to_owned()
        } else {
            e.to_string()
        };
        ApiError::BadJson(reason)
    })
}

/// An optional JSON body: empty means default.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BodyTooLarge)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

/// Now as fractional unix seconds, for exp/nbf comparisons.
fn now_seconds() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9
}

fn verified_claims(parts: &Parts, state: &AppState) -> Result<PresentedClaims, ApiError> {
    let token = bearer::token(&parts.headers)?;
    Ok(jwt::verify(token, &state.config.jwt_secret, now_seconds())?)
}

/// The signed-in user behind the bearer token, and their session if the token names one.
pub struct CurrentUser {
    pub claims: PresentedClaims,
    pub user: users::User,
    pub session: Option<sessions::Session>,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = verified_claims(parts, state)?;
        let sub = claims
            .sub
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(ApiError::MissingSub)?;
        let user_id = Uuid::parse_str(sub).map_err(|_| ApiError::SubNotUuid)?;

        let mut conn = state.pool.acquire().await?;
        let user = users::find_by_id(&mut conn, user_id)
            .await?
            .ok_or(ApiError::UserFromClaimNotFound)?;

        let session = match claims.session_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => {
                let id = Uuid::parse_str(raw).map_err(|_| ApiError::SessionIdNotUuid)?;
                if id.is_nil() {
                    None
                } else {
                    Some(
                        sessions::find(&mut conn, id)
                            .await?
                            .ok_or(ApiError::SessionFromClaimNotFound)?,
                    )
                }
            }
        };
        if user.is_banned(chrono::Utc::now()) {
            return Err(ApiError::BannedToken);
        }
        Ok(CurrentUser {
            claims,
            user,
            session,
        })
    }
}

/// A caller whose token's role is one of GOTRUE_JWT_ADMIN_ROLES.
pub struct Admin {
    pub claims: PresentedClaims,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = verified_claims(parts, state)?;
        let role = claims.role.as_deref().unwrap_or_default();
        if !state.config.jwt_admin_roles.iter().any(|r| r == role) {
            return Err(ApiError::NotAdmin);
        }
        Ok(Admin { claims })
    }
}

/// The audience a request acts in: `X-JWT-AUD`, else GOTRUE_JWT_AUD.
pub struct RequestAud(pub String);

impl FromRequestParts<AppState> for RequestAud {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get("x-jwt-aud")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty());
        Ok(RequestAud(
            header
                .map(str::to_owned)
                .unwrap_or_else(|| state.config.jwt_aud.clone()),
        ))
    }
}
