//! /admin/users: user management for callers whose role is in GOTRUE_JWT_ADMIN_ROLES (the
//! service_role key, typically).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{Admin, JsonBody, OptionalJsonBody, RequestAud};
use super::responses::UserBody;
use super::signup::{looks_like_email, merge};
use crate::db::{audit, identities, sessions, users};
use crate::error::ApiError;
use crate::password;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminUserParams {
    id: Option<Uuid>,
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
    let email = params
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    if params.phone.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::PhoneProviderDisabled("Phone logins are disabled"));
    }
    let Some(email) = email else {
        return Err(ApiError::Validation(
            "Cannot create a user without either an email or phone".into(),
        ));
    };
    if !looks_like_email(&email) {
        return Err(ApiError::Validation(
            "Unable to validate email address: invalid format".into(),
        ));
    }
    let hash = match (&params.password, &params.password_hash) {
        (Some(p), _) if !p.is_empty() => {
            password::check_strength(p, config.password_min_length)?;
            Some(password::hash(p).await?)
        }
        (_, Some(h)) if !h.is_empty() => Some(h.clone()),
        _ => None,
    };
    let banned_until = ban_until(params.ban_duration.as_deref(), now)?.flatten();

    let mut tx = state.pool.begin().await?;
    if users::email_taken(&mut tx, &email, None).await? {
        return Err(ApiError::EmailExists);
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
            id: params.id.unwrap_or_else(Uuid::new_v4),
            aud: &aud,
            role: params
                .role
                .as_deref()
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
    user_body(&state, user).await
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
    filter: Option<String>,
}

pub async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    RequestAud(aud): RequestAud,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let number = |v: &Option<String>, name: &str, default: i64| -> Result<i64, ApiError> {
        match v.as_deref() {
            None | Some("") => Ok(default),
            Some(s) => s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::Validation(format!(
                    "Bad Pagination Parameters: {name} must be a positive integer"
                ))
            }),
        }
    };
    let page = number(&q.page, "page", 1)?;
    let per_page = number(&q.per_page, "per_page", 50)?;
    let mut conn = state.pool.acquire().await?;
    let filter = q.filter.as_deref().filter(|f| !f.is_empty());
    let (rows, total) =
        users::page(&mut conn, &aud, filter, per_page, (page - 1) * per_page).await?;
    let mut bodies = Vec::with_capacity(rows.len());
    for user in rows {
        let ids = identities::for_user(&mut conn, user.id).await?;
        bodies.push(UserBody::new(user, ids));
    }
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    let last = ((total + per_page - 1) / per_page).max(1);
    let link =
        |p: i64, rel: &str| format!("</admin/users?page={p}&per_page={per_page}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
    }
    links.push(link(last, "last"));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert("link", v);
    }
    Ok((headers, Json(json!({"users": bodies, "aud": aud}))).into_response())
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::AdminBadUserId)
}

async fn load(state: &AppState, raw_id: &str) -> Result<users::User, ApiError> {
    let id = parse_id(raw_id)?;
    let mut conn = state.pool.acquire().await?;
    users::find_by_id(&mut conn, id)
        .await?
        .ok_or(ApiError::AdminUserNotFound)
}

pub async fn get_user(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<UserBody>, ApiError> {
    let user = load(&state, &id).await?;
    user_body(&state, user).await
}

pub async fn update_user(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    JsonBody(params): JsonBody<AdminUserParams>,
) -> Result<Json<UserBody>, ApiError> {
    let config = &state.config;
    let now = Utc::now();
    let mut user = load(&state, &id).await?;
    let mut tx = state.pool.begin().await?;

    if let Some(email) = params
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
    {
        if !looks_like_email(&email) {
            return Err(ApiError::Validation(
                "Unable to validate email address: invalid format".into(),
            ));
        }
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
    if let Some(role) = params.role {
        user.role = Some(role);
    }
    if let Some(meta) = params.user_metadata {
        user.raw_user_meta_data = Some(merge(user.raw_user_meta_data.take(), Value::Object(meta)));
    }
    if let Some(app) = params.app_metadata {
        user.raw_app_meta_data = Some(merge(user.raw_app_meta_data.take(), Value::Object(app)));
    }
    if let Some(until) = ban_until(params.ban_duration.as_deref(), now)? {
        user.banned_until = until;
    }
    let user = users::save(&mut tx, &user, now).await?;
    audit::record(&mut tx, &user, "user_modified", "user", now).await?;
    tx.commit().await?;
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
    Path(id): Path<String>,
    OptionalJsonBody(params): OptionalJsonBody<DeleteParams>,
) -> Result<Json<Value>, ApiError> {
    let mut user = load(&state, &id).await?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
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
    Ok(Json(json!({})))
}

/// `None`: leave as is; `Some(None)`: lift the ban ("none"); `Some(Some(t))`: banned until t.
fn ban_until(
    duration: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Option<DateTime<Utc>>>, ApiError> {
    match duration {
        None | Some("") => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(d) => {
            let span = parse_go_duration(d).ok_or_else(|| {
                ApiError::Validation(format!(
                    "invalid format for ban duration: time: invalid duration {d:?}"
                ))
            })?;
            Ok(Some(Some(now + span)))
        }
    }
}

/// Go's time.ParseDuration: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h.
pub fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut nanos = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += value * scale;
    }
    let d = chrono::Duration::nanoseconds(nanos as i64);
    Some(if negative { -d } else { d })
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;
    use chrono::Duration;

    #[test]
    fn go_durations_parse() {
        assert_eq!(p("24h"), Some(Duration::hours(24)));
        assert_eq!(p("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(p("1.5s"), Some(Duration::milliseconds(1500)));
        assert_eq!(p("0"), Some(Duration::zero()));
        for bad in ["", "24", "h", "1d", "1h x"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
