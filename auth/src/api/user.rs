//! GET and PUT /user: the signed-in user reading and editing themselves.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::AppState;
use super::extract::{CurrentUser, JsonBody, RequestAud};
use super::responses::UserBody;
use super::signup::{looks_like_email, merge};
use crate::db::{audit, identities, users};
use crate::error::ApiError;
use crate::password;

pub async fn get_user(
    State(state): State<AppState>,
    RequestAud(aud): RequestAud,
    current: CurrentUser,
) -> Result<Json<UserBody>, ApiError> {
    let token_aud = current.claims.aud.as_ref().and_then(|a| a.first());
    if token_aud != Some(aud.as_str()) {
        return Err(ApiError::AudienceMismatch);
    }
    let mut conn = state.pool.acquire().await?;
    let ids = identities::for_user(&mut conn, current.user.id).await?;
    Ok(Json(UserBody::new(current.user, ids)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UserUpdate {
    email: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    phone: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    current: CurrentUser,
    JsonBody(params): JsonBody<UserUpdate>,
) -> Result<Json<UserBody>, ApiError> {
    let config = &state.config;
    let now = Utc::now();
    let mut user = current.user;
    let mut tx = state.pool.begin().await?;

    if let Some(new_password) = params.password.as_deref().filter(|p| !p.is_empty()) {
        password::check_strength(new_password, config.password_min_length)?;
        if password::matches(new_password, user.encrypted_password.as_deref()).await {
            return Err(ApiError::SamePassword);
        }
        user.encrypted_password = Some(password::hash(new_password).await?);
    }
    if let Some(data) = params.data {
        user.raw_user_meta_data = Some(merge(user.raw_user_meta_data.take(), Value::Object(data)));
    }
    // Only admins may touch app_metadata through /user.
    let is_admin = current
        .claims
        .role
        .as_deref()
        .is_some_and(|r| config.jwt_admin_roles.iter().any(|a| a == r));
    if let (true, Some(app)) = (is_admin, params.app_metadata) {
        user.raw_app_meta_data = Some(merge(user.raw_app_meta_data.take(), Value::Object(app)));
    }
    if params.phone.as_deref().is_some_and(|p| !p.is_empty()) && !config.external_phone_enabled {
        return Err(ApiError::PhoneProviderDisabled("Phone logins are disabled"));
    }
    let new_email = params
        .email
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    if let Some(email) = new_email.filter(|e| user.email.as_deref() != Some(e.as_str())) {
        if !looks_like_email(&email) {
            return Err(ApiError::Validation(
                "Unable to validate email address: invalid format".into(),
            ));
        }
        if users::email_taken(&mut tx, &email, Some(user.id)).await? {
            return Err(ApiError::EmailExists);
        }
        if config.mailer_autoconfirm {
            user.email = Some(email.clone());
            identities::update_email_data(&mut tx, user.id, json!({"email": email}), now).await?;
        } else {
            // Waits for confirmation of the new address; no mail leaves this server.
            user.email_change = email;
            user.email_change_sent_at = Some(now);
            user.email_change_token_new = crate::refresh::generate() + &crate::refresh::generate();
        }
    }

    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "user_modified", "user", now).await?;
    let ids = identities::for_user(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(Json(UserBody::new(user, ids)))
}
