//! Turning a user and a session into GoTrue's Session response: access token, refresh token,
//! expiry and the user, plus the `sb-auth-*` headers GoTrue adds on every token issue.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::api::responses::{SessionBody, UserBody};
use crate::config::Config;
use crate::db::{identities, refresh_tokens, sessions, users::User};
use crate::error::ApiError;
use crate::jwt::{self, AccessClaims};

/// A session ready to send, with the ids for the response headers.
pub struct Issued {
    pub body: SessionBody,
    pub session_id: Uuid,
}

impl IntoResponse for Issued {
    fn into_response(self) -> Response {
        let user_id = self.body.user.id.to_string();
        let session_id = self.session_id.to_string();
        let mut response = axum::Json(self.body).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&user_id) {
            headers.insert("sb-auth-user-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&session_id) {
            headers.insert("sb-auth-session-id", v);
        }
        response
    }
}

/// Signs in: a new aal1 session authenticated by `method`, and its first refresh token.
pub async fn start_session(
    conn: &mut PgConnection,
    config: &Config,
    user: User,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Issued, ApiError> {
    let session_id = sessions::create(conn, user.id, method, now).await?;
    let refresh_token = refresh_tokens::create(conn, user.id, session_id, None, now).await?;
    issue(conn, config, user, session_id, refresh_token, now).await
}

/// Builds the response for an existing session (sign-in or refresh); session_id and amr carry over.
pub async fn issue(
    conn: &mut PgConnection,
    config: &Config,
    user: User,
    session_id: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<Issued, ApiError> {
    let amr = sessions::amr(conn, session_id).await?;
    let iat = now.timestamp();
    let exp = iat + config.jwt_exp;
    let claims = AccessClaims {
        iss: config.jwt_issuer.clone(),
        sub: user.id.to_string(),
        aud: user.aud.clone().unwrap_or_default(),
        exp,
        iat,
        email: user.email.clone().unwrap_or_default(),
        phone: user.phone.clone().unwrap_or_default(),
        app_metadata: user
            .raw_app_meta_data
            .clone()
            .unwrap_or_else(|| serde_json::json!({})),
        user_metadata: user
            .raw_user_meta_data
            .clone()
            .unwrap_or_else(|| serde_json::json!({})),
        role: user.role.clone().unwrap_or_default(),
        aal: "aal1".into(),
        amr,
        session_id: session_id.to_string(),
        is_anonymous: user.is_anonymous,
    };
    let access_token = jwt::sign(&claims, &config.jwt_keys)
        .map_err(|e| ApiError::Internal(format!("signing the access token: {e}")))?;
    let identities = identities::for_user(conn, user.id).await?;
    Ok(Issued {
        body: SessionBody {
            access_token,
            token_type: "bearer",
            expires_in: config.jwt_exp,
            expires_at: exp,
            refresh_token,
            user: UserBody::new(user, identities),
            weak_password: None,
        },
        session_id,
    })
}
