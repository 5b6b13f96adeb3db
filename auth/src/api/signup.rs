//! POST /signup: email + password sign-up, and anonymous sign-up when no email is given.
//!
//! With GOTRUE_MAILER_AUTOCONFIRM the user is confirmed at once and signed in (Session);
//! otherwise the answer is the unconfirmed User and no mail is actually sent. A repeated signup
//! must not reveal whether an address is registered unless autoconfirm already gives it away,
//! hence the fake user.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sqlx::Connection as _;
use uuid::Uuid;

use super::AppState;
use super::body::JsonBody;
use super::extract::RequestAud;
use super::input;
use super::responses::UserBody;
use crate::db::{audit, identities, users};
use crate::error::ApiError;
use crate::{password, tokens};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupParams {
    email: String,
    phone: String,
    password: String,
    data: Option<Map<String, Value>>,
}

pub async fn signup(
    State(state): State<AppState>,
    RequestAud(aud): RequestAud,
    JsonBody(params): JsonBody<SignupParams>,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let now = Utc::now();
    let data = params.data.clone().unwrap_or_default();
    // GoTrue's order: anonymous or not, signups allowed, the password, one identifier, its
    // provider, the email's format. The data is checked last, against what PostgreSQL stores.
    if params.email.is_empty() && params.phone.is_empty() {
        if !config.anonymous_users_enabled {
            return Err(ApiError::AnonymousDisabled);
        }
        if config.disable_signup {
            return Err(ApiError::SignupDisabled);
        }
        input::metadata("data", &data)?;
        input::short_text("aud", &aud)?;
        return signup_anonymously(&state, &aud, Value::Object(data), now).await;
    }
    if config.disable_signup {
        return Err(ApiError::SignupDisabled);
    }
    if params.password.is_empty() {
        return Err(ApiError::Validation(
            "Signup requires a valid password".into(),
        ));
    }
    password::check_strength(&params.password, config.password_min_length)?;
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(ApiError::Validation(
            "Only an email address or phone number should be provided on signup.".into(),
        ));
    }
    if params.email.is_empty() {
        return Err(ApiError::PhoneProviderDisabled(
            "Phone signups are disabled",
        ));
    }
    if !config.external_email_enabled {
        return Err(ApiError::EmailProviderDisabled(
            "Email signups are disabled",
        ));
    }
    let email = input::email(&params.email)?;
    input::metadata("data", &data)?;
    input::short_text("aud", &aud)?;
    let data = Value::Object(data);

    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    if let Some(mut existing) = users::find_by_email(&mut tx, &email, &aud).await? {
        if existing.email_confirmed() {
            if config.mailer_autoconfirm {
                return Err(ApiError::UserAlreadyExists);
            }
            return Ok(Json(fake_user(
                &email,
                &aud,
                &config.jwt_default_group_name,
                data,
                now,
            ))
            .into_response());
        }
        // Unconfirmed: GoTrue takes the new password and metadata and "resends" the mail.
        existing.encrypted_password = Some(password::hash(&params.password).await?);
        existing.raw_user_meta_data = Some(merge(existing.raw_user_meta_data.take(), data));
        existing.confirmation_sent_at = Some(now);
        let user = users::save(&mut tx, &existing, now).await?;
        let ids = identities::for_user(&mut tx, user.id).await?;
        tx.commit().await?;
        conn.release();
        return Ok(Json(UserBody::new(user, ids)).into_response());
    }

    let hash = password::hash(&params.password).await?;
    let confirmed = config.mailer_autoconfirm;
    let mut metadata = data;
    if confirmed {
        metadata["email_verified"] = json!(true);
    }
    let token = if confirmed {
        String::new()
    } else {
        crate::refresh::generate() + &crate::refresh::generate()
    };
    let user = users::insert(
        &mut tx,
        &users::NewUser {
            id: Uuid::new_v4(),
            aud: &aud,
            role: &config.jwt_default_group_name,
            email: Some(&email),
            encrypted_password: Some(&hash),
            email_confirmed_at: confirmed.then_some(now),
            confirmation_token: &token,
            confirmation_sent_at: (!confirmed).then_some(now),
            app_metadata: &json!({"provider": "email", "providers": ["email"]}),
            user_metadata: &metadata,
            banned_until: None,
            is_anonymous: false,
        },
        now,
    )
    .await?;
    identities::create_email(&mut tx, user.id, &email, confirmed, now).await?;
    audit::record(&mut tx, &user, "user_signedup", "team", now).await?;

    if !confirmed {
        let ids = identities::for_user(&mut tx, user.id).await?;
        tx.commit().await?;
        conn.release();
        return Ok(Json(UserBody::new(user, ids)).into_response());
    }
    let mut user = user;
    user.last_sign_in_at = Some(now);
    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "login", "account", now).await?;
    let issued = tokens::start_session(&mut tx, config, user, "password", now).await?;
    tx.commit().await?;
    conn.release();
    Ok(issued.into_response())
}

async fn signup_anonymously(
    state: &AppState,
    aud: &str,
    data: Value,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let user = users::insert(
        &mut tx,
        &users::NewUser {
            id: Uuid::new_v4(),
            aud,
            role: &state.config.jwt_default_group_name,
            email: None,
            encrypted_password: None,
            email_confirmed_at: None,
            confirmation_token: "",
            confirmation_sent_at: None,
            app_metadata: &json!({}),
            user_metadata: &data,
            banned_until: None,
            is_anonymous: true,
        },
        now,
    )
    .await?;
    let mut user = user;
    user.last_sign_in_at = Some(now);
    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "user_signedup", "team", now).await?;
    let issued = tokens::start_session(&mut tx, &state.config, user, "anonymous", now).await?;
    tx.commit().await?;
    conn.release();
    Ok(issued.into_response())
}

/// What an already-registered address gets when autoconfirm is off: a plausible, unsaved user.
fn fake_user(email: &str, aud: &str, role: &str, data: Value, now: DateTime<Utc>) -> UserBody {
    let user = users::User {
        id: Uuid::new_v4(),
        aud: Some(aud.into()),
        role: Some(role.into()),
        email: Some(email.into()),
        encrypted_password: None,
        email_confirmed_at: None,
        confirmation_token: String::new(),
        confirmation_sent_at: Some(now),
        recovery_token: String::new(),
        recovery_sent_at: None,
        email_change_token_new: String::new(),
        email_change: String::new(),
        email_change_sent_at: None,
        last_sign_in_at: None,
        raw_app_meta_data: Some(json!({"provider": "email", "providers": ["email"]})),
        raw_user_meta_data: Some(data),
        created_at: Some(now),
        updated_at: Some(now),
        phone: None,
        phone_confirmed_at: None,
        phone_change: None,
        phone_change_sent_at: None,
        confirmed_at: None,
        banned_until: None,
        reauthentication_sent_at: None,
        deleted_at: None,
        is_anonymous: false,
    };
    UserBody::new(user, Vec::new())
}

/// Shallow merge as GoTrue's UpdateUserMetaData: new keys win, null deletes.
pub fn merge(existing: Option<Value>, patch: Value) -> Value {
    let mut base = match existing {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Value::Object(patch) = patch {
        for (k, v) in patch {
            if v.is_null() {
                base.remove(&k);
            } else {
                base.insert(k, v);
            }
        }
    }
    Value::Object(base)
}
