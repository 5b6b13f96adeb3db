//! POST /token: the password and refresh_token grants (`grant_type` from the query string).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::extract::{JsonBody, RequestAud};
use crate::db::{audit, users};
use crate::error::ApiError;
use crate::{password, refresh, tokens};

#[derive(Deserialize)]
pub struct GrantQuery {
    grant_type: Option<String>,
}

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
    Query(query): Query<GrantQuery>,
    aud: RequestAud,
    JsonBody(params): JsonBody<TokenParams>,
) -> Result<Response, ApiError> {
    match query.grant_type.as_deref() {
        Some("password") => password_grant(state, aud, params).await,
        Some("refresh_token") => refresh_grant(state, params).await,
        _ => Err(ApiError::UnsupportedGrantType),
    }
}

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
            return Err(ApiError::InvalidCredentials);
        }
        return Err(ApiError::PhoneProviderDisabled("Phone logins are disabled"));
    }
    if !config.external_email_enabled {
        return Err(ApiError::EmailProviderDisabled("Email logins are disabled"));
    }

    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let mut user = users::find_by_email(&mut tx, params.email.trim(), &aud)
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
    // A typed nil in GoTrue: present, and null.
    issued.body.weak_password = Some(serde_json::Value::Null);
    Ok(issued.into_response())
}

async fn refresh_grant(state: AppState, params: TokenParams) -> Result<Response, ApiError> {
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
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
            Ok(issued.into_response())
        }
        Err(ApiError::RefreshTokenAlreadyUsed) => {
            // Keep the family revocation that came with the refusal.
            tx.commit().await?;
            Err(ApiError::RefreshTokenAlreadyUsed)
        }
        Err(e) => Err(e),
    }
}
