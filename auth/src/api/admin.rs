//! /admin/users: user management for callers whose role is in GOTRUE_JWT_ADMIN_ROLES (the
//! service_role key, typically).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sqlx::Connection as _;
use uuid::Uuid;

use super::AppState;
use super::body::{JsonBody, OptionalJsonBody};
use super::extract::{Admin, RequestAud, UserId};
use super::pagination::{self, Order};
use super::query::GoQuery;
use super::responses::UserBody;
use super::signup::merge;
use super::{ban, input};
use crate::db::{audit, identities, sessions, users};
use crate::error::ApiError;
use crate::password;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminUserParams {
    id: Option<String>,
    aud: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    password_hash: Option<String>,
    email_confirm: bool,
    user_metadata: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    role: Option<String>,
    ban_duration: Option<String>,
}

async fn user_body(state: &AppState, user: users::User) -> Result<Json<UserBody>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let ids = identities::for_user(&mut conn, user.id).await?;
    conn.release();
    Ok(Json(UserBody::new(user, ids)))
}

pub async fn create_user(
    State(state): State<AppState>,
    _admin: Admin,
    RequestAud(aud): RequestAud,
    JsonBody(params): JsonBody<AdminUserParams>,
) -> Result<Json<UserBody>, ApiError> {
    let config = &state.config;
    let now = Utc::now();
    let aud = params.aud.clone().filter(|a| !a.is_empty()).unwrap_or(aud);
    let email = params.email.as_deref().filter(|e| !e.is_empty());
    let phone = params.phone.as_deref().filter(|p| !p.is_empty());
    // GoTrue validates the email before it looks at the phone.
    let email = email.map(input::email).transpose()?;
    let (Some(email), None) = (email, phone) else {
        return Err(if phone.is_some() {
            ApiError::PhoneProviderDisabled("Phone logins are disabled")
        } else {
            ApiError::Validation("Cannot create a user without either an email or phone".into())
        });
    };
    let password = params.password.as_deref().filter(|p| !p.is_empty());
    let password_hash = params.password_hash.as_deref().filter(|h| !h.is_empty());
    if params.password.is_some() && password_hash.is_some() {
        return Err(ApiError::Validation(
            "Only a password or a password hash should be provided".into(),
        ));
    }
    let id = custom_id(params.id.as_deref())?;
    check_stored_fields(&params, &aud)?;
    let hash = match (password, password_hash) {
        (Some(p), _) => {
            password::check_strength(p, config.password_min_length)?;
            Some(password::hash(p).await?)
        }
        (_, Some(h)) => Some(h.to_owned()),
        _ => None,
    };
    let banned_until = ban::until(params.ban_duration.as_deref(), now)?.flatten();

    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    if users::email_taken(&mut tx, &email, None).await? {
        return Err(ApiError::EmailExists);
    }
    if let Some(id) = id
        && users::find_by_id(&mut tx, id).await?.is_some()
    {
        return Err(ApiError::UserAlreadyExists);
    }
    let mut app = json!({"provider": "email", "providers": ["email"]});
    if let Some(extra) = params.app_metadata {
        app = merge(Some(app), Value::Object(extra));
    }
    let mut meta = Value::Object(params.user_metadata.unwrap_or_default());
    if params.email_confirm {
        meta["email_verified"] = json!(true);
    }
    let user = users::insert(
        &mut tx,
        &users::NewUser {
            id: id.unwrap_or_else(Uuid::new_v4),
            aud: &aud,
            role: params
                .role
                .as_deref()
                .filter(|r| !r.is_empty())
                .unwrap_or(&config.jwt_default_group_name),
            email: Some(&email),
            encrypted_password: hash.as_deref(),
            email_confirmed_at: params.email_confirm.then_some(now),
            confirmation_token: "",
            confirmation_sent_at: None,
            app_metadata: &app,
            user_metadata: &meta,
            banned_until,
            is_anonymous: false,
        },
        now,
    )
    .await?;
    identities::create_email(&mut tx, user.id, &email, params.email_confirm, now).await?;
    audit::record(&mut tx, &user, "user_signedup", "team", now).await?;
    tx.commit().await?;
    conn.release();
    user_body(&state, user).await
}

/// GoTrue's checks on a client-chosen user id.
fn custom_id(raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let id = Uuid::parse_str(raw)
        .map_err(|_| ApiError::Validation("ID must conform to the uuid v4 format".into()))?;
    if id.is_nil() {
        return Err(ApiError::Validation("ID cannot be a nil uuid".into()));
    }
    Ok(Some(id))
}

/// What PostgreSQL would refuse in the fields stored as they come: the `varchar(255)` columns
/// and the two metadata objects.
fn check_stored_fields(params: &AdminUserParams, aud: &str) -> Result<(), ApiError> {
    input::short_text("aud", aud)?;
    if let Some(role) = &params.role {
        input::short_text("role", role)?;
    }
    if let Some(hash) = &params.password_hash {
        input::short_text("password_hash", hash)?;
    }
    if let Some(meta) = &params.user_metadata {
        input::metadata("user_metadata", meta)?;
    }
    if let Some(app) = &params.app_metadata {
        input::metadata("app_metadata", app)?;
    }
    Ok(())
}

pub async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    RequestAud(aud): RequestAud,
    uri: Uri,
    query: GoQuery,
) -> Result<Response, ApiError> {
    // GoTrue checks the order before the page.
    let order = pagination::order(&query)?;
    let page = pagination::page(&query)?;
    let filter = query.get("filter").filter(|f| !f.is_empty());
    let (rows, total) = if filter.is_some_and(|f| f.contains('\0')) {
        // No stored email or name holds a NUL, and PostgreSQL would refuse the pattern.
        (Vec::new(), 0)
    } else {
        let mut conn = state.pool.acquire().await?;
        let found = users::page(
            &mut conn,
            &aud,
            filter,
            order == Order::OldestFirst,
            page.limit,
            page.offset,
        )
        .await?;
        conn.release();
        found
    };
    let mut bodies = Vec::with_capacity(rows.len());
    let mut conn = state.pool.acquire().await?;
    for user in rows {
        let ids = identities::for_user(&mut conn, user.id).await?;
        bodies.push(UserBody::new(user, ids));
    }
    conn.release();
    let total = u64::try_from(total).unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    if let Ok(link) = HeaderValue::from_str(&pagination::link(uri.path(), &query, &page, total)) {
        headers.insert("link", link);
    }
    Ok((headers, Json(json!({"users": bodies, "aud": aud}))).into_response())
}

/// The user behind an /admin/users/{id} path, or GoTrue's 404.
pub async fn load(state: &AppState, id: Uuid) -> Result<users::User, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let user = users::find_by_id(&mut conn, id).await?;
    conn.release();
    user.ok_or(ApiError::AdminUserNotFound)
}

pub async fn get_user(
    State(state): State<AppState>,
    _admin: Admin,
    UserId(id): UserId,
) -> Result<Json<UserBody>, ApiError> {
    let user = load(&state, id).await?;
    user_body(&state, user).await
}

pub async fn update_user(
    State(state): State<AppState>,
    _admin: Admin,
    UserId(id): UserId,
    JsonBody(params): JsonBody<AdminUserParams>,
) -> Result<Json<UserBody>, ApiError> {
    let config = &state.config;
    let now = Utc::now();
    let mut user = load(&state, id).await?;
    let email = params
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(input::email)
        .transpose()?;
    let banned_until = ban::until(params.ban_duration.as_deref(), now)?;
    check_stored_fields(&params, "")?;
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;

    if let Some(email) = email {
        if users::email_taken(&mut tx, &email, Some(user.id)).await? {
            return Err(ApiError::EmailExists);
        }
        identities::update_email_data(&mut tx, user.id, json!({"email": email}), now).await?;
        user.email = Some(email);
    }
    if let Some(p) = params.password.as_deref().filter(|p| !p.is_empty()) {
        password::check_strength(p, config.password_min_length)?;
        user.encrypted_password = Some(password::hash(p).await?);
    } else if let Some(h) = params.password_hash.filter(|h| !h.is_empty()) {
        user.encrypted_password = Some(h);
    }
    if params.email_confirm && user.email_confirmed_at.is_none() {
        user.email_confirmed_at = Some(now);
        identities::update_email_data(&mut tx, user.id, json!({"email_verified": true}), now)
            .await?;
    }
    if let Some(role) = params.role.filter(|r| !r.is_empty()) {
        user.role = Some(role);
    }
    if let Some(meta) = params.user_metadata {
        user.raw_user_meta_data = Some(merge(user.raw_user_meta_data.take(), Value::Object(meta)));
    }
    if let Some(app) = params.app_metadata {
        user.raw_app_meta_data = Some(merge(user.raw_app_meta_data.take(), Value::Object(app)));
    }
    if let Some(until) = banned_until {
        user.banned_until = until;
    }
    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "user_modified", "user", now).await?;
    tx.commit().await?;
    conn.release();
    user_body(&state, user).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeleteParams {
    should_soft_delete: bool,
}

pub async fn delete_user(
    State(state): State<AppState>,
    _admin: Admin,
    UserId(id): UserId,
    OptionalJsonBody(params): OptionalJsonBody<DeleteParams>,
) -> Result<Json<Value>, ApiError> {
    let mut user = load(&state, id).await?;
    let now = Utc::now();
    let mut conn = state.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    audit::record(&mut tx, &user, "user_deleted", "team", now).await?;
    if params.should_soft_delete {
        // Keep the row for references but end every way back in.
        sessions::delete_all(&mut tx, user.id).await?;
        user.deleted_at = Some(now);
        user.email = None;
        user.phone = None;
        user.encrypted_password = None;
        users::save(&mut tx, &user, now).await?;
    } else {
        users::delete(&mut tx, user.id).await?;
    }
    tx.commit().await?;
    conn.release();
    Ok(Json(json!({})))
}
