//! POST /token: the password and refresh_token grants.
//!
//! GoTrue reads `grant_type` with Go's `r.FormValue` before it reads the body: from a form body
//! (`application/x-www-form-urlencoded`) first, else from the query string, the first of
//! repeated values either way. Parsing a form body consumes it, so such a request then fails
//! with an empty JSON body, as it does in GoTrue. An unknown grant is refused before a bad
//! body is noticed.

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use sqlx::Connection as _;

use super::AppState;
use super::body;
use super::extract::RequestAud;
use super::query::GoQuery;
use crate::db::{audit, users};
use crate::error::ApiError;
use crate::{password, refresh, tokens};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenParams {
    email: String,
    phone: String,
    password: String,
    refresh_token: String,
}

pub async fn token(
    State(state): State<AppState>,
    query: GoQuery,
    aud: RequestAud,
    request: Request,
) -> Result<Response, ApiError> {
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(FORM));
    let (grant_type, json) = if is_form {
        // A body too large to parse as a form leaves Go's FormValue the query alone; the
        // JSON decoding that follows then meets the same limit.
        match body::read(request).await {
            Ok(bytes) => {
                let form = GoQuery::parse(&String::from_utf8_lossy(&bytes));
                let grant = form.get("grant_type").or_else(|| query.get("grant_type"));
                (grant.map(str::to_owned), Body::Consumed)
            }
            Err(error) => (
                query.get("grant_type").map(str::to_owned),
                Body::Failed(error),
            ),
        }
    } else {
        (
            query.get("grant_type").map(str::to_owned),
            Body::Unread(request),
        )
    };
    match grant_type.as_deref() {
        Some("password") => password_grant(state, aud, json.parse().await?).await,
        Some("refresh_token") => refresh_grant(state, json.parse().await?).await,
        _ => Err(ApiError::UnsupportedGrantType),
    }
}

/// The JSON body, still to be read, already consumed by form parsing, or unreadable.
enum Body {
    Unread(Request),
    Consumed,
    Failed(ApiError),
}

impl Body {
    async fn parse(self) -> Result<TokenParams, ApiError> {
        match self {
            Body::Unread(request) => body::parse_json(&body::read(request).await?),
            Body::Consumed => body::parse_json(b""),
            Body::Failed(error) => Err(error),
        }
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

async fn password_grant(
    state: AppState,
    RequestAud(aud): RequestAud,
    params: TokenParams,
) -> Result<Response, ApiError> {
    let config = &state.config;
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(ApiError::Validation(
            "Only an email address or phone number should be provided on login.".into(),
        ));
    }
    if params.email.is_empty() {
        if params.phone.is_empty() {
            return Err(ApiError::Validation("missing email or phone".into()));
        }
        return Err(ApiError::PhoneProviderDisabled("Phone logins are disabled"));
    }
    if !config.external_email_enabled {
        return Err(ApiError::EmailProviderDisabled("Email logins are disabled"));
    }
    if params.email.contains('\0') {
        // No stored address holds a NUL (PostgreSQL cannot store one), and the lookup would
        // be refused: GoTrue answers 500 here, the truth is that no such user exists.
        return Err(ApiError::InvalidCredentials);
    }

    let now = Utc::now();
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let mut user = users::find_by_email(&mut tx, &params.email, &aud)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    if user.is_banned(now) {
        return Err(ApiError::BannedLogin);
    }
    if !password::matches(&params.password, user.encrypted_password.as_deref()).await {
        return Err(ApiError::InvalidCredentials);
    }
    if !user.email_confirmed() {
        return Err(ApiError::EmailNotConfirmed);
    }

    user.last_sign_in_at = Some(now);
    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "login", "account", now).await?;
    let mut issued = tokens::start_session(&mut tx, config, user, "password", now).await?;
    tx.commit().await?;
    conn.release();
    // A typed nil in GoTrue: present, and null.
    issued.body.weak_password = Some(serde_json::Value::Null);
    Ok(issued.into_response())
}

async fn refresh_grant(state: AppState, params: TokenParams) -> Result<Response, ApiError> {
    let now = Utc::now();
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    match refresh::exchange(&mut tx, &state.config, &params.refresh_token, now).await {
        Ok(exchanged) => {
            audit::record(&mut tx, &exchanged.user, "token_refreshed", "token", now).await?;
            let issued = tokens::issue(
                &mut tx,
                &state.config,
                exchanged.user,
                exchanged.session_id,
                exchanged.refresh_token,
                now,
            )
            .await?;
            tx.commit().await?;
            conn.release();
            Ok(issued.into_response())
        }
        Err(ApiError::RefreshTokenAlreadyUsed) => {
            // Keep the family revocation that came with the refusal.
            tx.commit().await?;
            conn.release();
            Err(ApiError::RefreshTokenAlreadyUsed)
        }
        Err(e) => Err(e),
    }
}
