//! GET and PUT /user: the signed-in user reading and editing themselves.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sqlx::Connection as _;

use super::AppState;
use super::body::JsonBody;
use super::extract::{CurrentUser, RequestAud};
use super::input;
use super::responses::UserBody;
use super::signup::merge;
use crate::db::{audit, identities, sessions, users};
use crate::error::ApiError;
use crate::password;

/// What `GET /user` asks the database for a token naming a session, in order, each on its own
/// outside any transaction: the user, the session, the user's identities. A benchmark replays
/// them (`harness bench`'s whole-request limit); the queries below run these very texts.
pub fn get_user_statements() -> [String; 3] {
    [
        users::find_by_id_statement(),
        sessions::FIND_STATEMENT.to_owned(),
        identities::for_user_statement(),
    ]
}

pub async fn get_user(
    State(state): State<AppState>,
    RequestAud(aud): RequestAud,
    parts: Parts,
) -> Result<Json<UserBody>, ApiError> {
    // CurrentUser's checks, on the connection the identities are read on too.
    let (current, mut conn) = CurrentUser::load(&parts, &state).await?;
    let token_aud = current.claims.aud.as_ref().and_then(|a| a.first());
    if token_aud != Some(aud.as_str()) {
        return Err(ApiError::AudienceMismatch);
    }
    let ids = identities::for_user(&mut conn, current.user.id).await?;
    conn.release();
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
    // GoTrue validates the email first, then refuses app_metadata from a non-admin.
    let new_email = params
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(input::email)
        .transpose()?;
    let is_admin = current
        .claims
        .role
        .as_deref()
        .is_some_and(|r| config.jwt_admin_roles.iter().any(|a| a == r));
    if params.app_metadata.is_some() && !is_admin {
        return Err(ApiError::AppMetadataNotAdmin);
    }
    if let Some(data) = &params.data {
        input::metadata("data", data)?;
    }
    if let Some(app) = &params.app_metadata {
        input::metadata("app_metadata", app)?;
    }
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;

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
    if let Some(app) = params.app_metadata {
        user.raw_app_meta_data = Some(merge(user.raw_app_meta_data.take(), Value::Object(app)));
    }
    if params.phone.as_deref().is_some_and(|p| !p.is_empty()) && !config.external_phone_enabled {
        return Err(ApiError::PhoneProviderDisabled("Phone logins are disabled"));
    }
    if let Some(email) = new_email.filter(|e| user.email.as_deref() != Some(e.as_str())) {
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
    conn.release();
    Ok(Json(UserBody::new(user, ids)))
}
