//! Extractors: the two kinds of caller (a signed-in user, an admin), the request's audience,
//! and the user id of an /admin/users/{id} path. (Bodies are in `body`, queries in `query`.)
//!
//! [`CurrentUser`] runs GoTrue's `requireAuthentication` checks in its order: bearer header,
//! JWT verification, sub, user, session, ban. [`Admin`] only verifies the JWT and its role,
//! which is why the service_role key (no sub) works on /admin but not on /user.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use pgpool::Lease;
use uuid::Uuid;

use super::AppState;
use crate::bearer;
use crate::db::{sessions, users};
use crate::error::ApiError;
use crate::jwt::{self, PresentedClaims};

/// Now as fractional unix seconds, for exp/nbf comparisons.
fn now_seconds() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9
}

fn verified_claims(parts: &Parts, state: &AppState) -> Result<PresentedClaims, ApiError> {
    let token = bearer::token(&parts.headers)?;
    Ok(jwt::verify(token, &state.config.jwt_keys, now_seconds())?)
}

/// The signed-in user behind the bearer token, and their session if the token names one.
pub struct CurrentUser {
    pub claims: PresentedClaims,
    pub user: users::User,
    pub session: Option<sessions::Session>,
}

impl CurrentUser {
    /// GoTrue's checks, the user and session looked up on a connection taken once the token
    /// itself passed; it is returned with the caller, so a handler that queries on needs no
    /// second checkout.
    pub async fn load(parts: &Parts, state: &AppState) -> Result<(Self, Lease), ApiError> {
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
        let current = CurrentUser {
            claims,
            user,
            session,
        };
        Ok((current, conn))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The connection goes back now: the handler may begin a transaction of its own.
        let (current, conn) = CurrentUser::load(parts, state).await?;
        conn.release();
        Ok(current)
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

/// The `{id}` of /admin/users/{id}. Whatever fails to be a UUID (text, percent-escapes that are
/// not UTF-8) is GoTrue's 404 `validation_failed` "user_id must be an UUID", never axum's
/// `text/plain` rejection.
pub struct UserId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::AdminBadUserId)?;
        params
            .get("id")
            .and_then(|raw| Uuid::parse_str(raw).ok())
            .map(UserId)
            .ok_or(ApiError::AdminBadUserId)
    }
}
