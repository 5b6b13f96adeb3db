//! `auth.users`.
//!
//! The four token columns GoTrue reads into Go strings are decoded as `String` here too, so a
//! seeded row with NULL in them fails the same way GoTrue does (500 "Database error querying
//! schema") instead of being silently papered over.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub aud: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub encrypted_password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub confirmation_token: String,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub recovery_token: String,
    pub recovery_sent_at: Option<DateTime<Utc>>,
    pub email_change_token_new: String,
    pub email_change: String,
    pub email_change_sent_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub raw_app_meta_data: Option<Value>,
    pub raw_user_meta_data: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    pub phone_change: Option<String>,
    pub phone_change_sent_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub reauthentication_sent_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
}

impl User {
    pub fn is_banned(&self, now: DateTime<Utc>) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    pub fn email_confirmed(&self) -> bool {
        self.email_confirmed_at.is_some()
    }
}

const COLUMNS: &str =
    "id, aud, role, email, encrypted_password, email_confirmed_at, confirmation_token,
    confirmation_sent_at, recovery_token, recovery_sent_at, email_change_token_new, email_change,
    email_change_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at,
    updated_at, phone, phone_confirmed_at, phone_change, phone_change_sent_at, confirmed_at,
    banned_until, reauthentication_sent_at, deleted_at, is_anonymous";

/// [`find_by_id`]'s statement: `$1` the (nil) instance id, `$2` the user's.
pub fn find_by_id_statement() -> String {
    format!("select {COLUMNS} from auth.users where instance_id = $1 and id = $2")
}

pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&find_by_id_statement())
        .bind(Uuid::nil())
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn find_by_email(
    conn: &mut PgConnection,
    email: &str,
    aud: &str,
) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from auth.users
         where instance_id = $1 and lower(email) = lower($2) and aud = $3 and is_sso_user = false
         limit 1"
    ))
    .bind(Uuid::nil())
    .bind(email)
    .bind(aud)
    .fetch_optional(conn)
    .await
}

/// Whether any non-SSO user (of any audience) holds `email`; the unique index spans audiences.
pub async fn email_taken(
    conn: &mut PgConnection,
    email: &str,
    except: Option<Uuid>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from auth.users
         where lower(email) = lower($1) and is_sso_user = false and ($2::uuid is null or id <> $2))",
    )
    .bind(email)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Fields of a new row; the rest take GoTrue's values ('' tokens, nil instance).
pub struct NewUser<'a> {
    pub id: Uuid,
    pub aud: &'a str,
    pub role: &'a str,
    pub email: Option<&'a str>,
    pub encrypted_password: Option<&'a str>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub confirmation_token: &'a str,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub app_metadata: &'a Value,
    pub user_metadata: &'a Value,
    pub banned_until: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
}

pub async fn insert(
    conn: &mut PgConnection,
    u: &NewUser<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<User> {
    sqlx::query_as(&format!(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
             email_confirmed_at, confirmation_token, confirmation_sent_at, recovery_token,
             email_change_token_new, email_change, raw_app_meta_data, raw_user_meta_data,
             is_super_admin, created_at, updated_at, banned_until, is_anonymous)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', '', $10, $11, false, $12, $12, $13, $14)
         returning {COLUMNS}"
    ))
    .bind(Uuid::nil())
    .bind(u.id)
    .bind(u.aud)
    .bind(u.role)
    .bind(u.email)
    .bind(u.encrypted_password)
    .bind(u.email_confirmed_at)
    .bind(u.confirmation_token)
    .bind(u.confirmation_sent_at)
    .bind(u.app_metadata)
    .bind(u.user_metadata)
    .bind(now)
    .bind(u.banned_until)
    .bind(u.is_anonymous)
    .fetch_one(conn)
    .await
}

/// The mutable part of a user, written back whole after a handler edited it.
pub async fn save(conn: &mut PgConnection, u: &User, now: DateTime<Utc>) -> sqlx::Result<User> {
    sqlx::query_as(&format!(
        "update auth.users set aud = $2, role = $3, email = $4, encrypted_password = $5,
             email_confirmed_at = $6, confirmation_token = $7, confirmation_sent_at = $8,
             email_change_token_new = $9, email_change = $10, email_change_sent_at = $11,
             last_sign_in_at = $12, raw_app_meta_data = $13, raw_user_meta_data = $14,
             banned_until = $15, deleted_at = $16, phone = $17, updated_at = $18
         where id = $1
         returning {COLUMNS}"
    ))
    .bind(u.id)
    .bind(&u.aud)
    .bind(&u.role)
    .bind(&u.email)
    .bind(&u.encrypted_password)
    .bind(u.email_confirmed_at)
    .bind(&u.confirmation_token)
    .bind(u.confirmation_sent_at)
    .bind(&u.email_change_token_new)
    .bind(&u.email_change)
    .bind(u.email_change_sent_at)
    .bind(u.last_sign_in_at)
    .bind(&u.raw_app_meta_data)
    .bind(&u.raw_user_meta_data)
    .bind(u.banned_until)
    .bind(u.deleted_at)
    .bind(&u.phone)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from auth.users where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One page of an audience's users, newest (or oldest) first, and the audience's total.
///
/// As in GoTrue, `filter` matches the email with LIKE (case-sensitive) and the metadata's
/// `full_name` with ILIKE, its own `%` and `_` acting as wildcards.
pub async fn page(
    conn: &mut PgConnection,
    aud: &str,
    filter: Option<&str>,
    oldest_first: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<User>, i64)> {
    let pattern = filter.map(|f| format!("%{f}%"));
    let total: i64 = sqlx::query_scalar(
        "select count(*) from auth.users where instance_id = $1 and aud = $2
         and ($3::text is null or email like $3 or raw_user_meta_data->>'full_name' ilike $3)",
    )
    .bind(Uuid::nil())
    .bind(aud)
    .bind(&pattern)
    .fetch_one(&mut *conn)
    .await?;
    let order = if oldest_first {
        "created_at asc, id asc"
    } else {
        "created_at desc, id desc"
    };
    let users = sqlx::query_as(&format!(
        "select {COLUMNS} from auth.users where instance_id = $1 and aud = $2
         and ($3::text is null or email like $3 or raw_user_meta_data->>'full_name' ilike $3)
         order by {order} limit $4 offset $5"
    ))
    .bind(Uuid::nil())
    .bind(aud)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((users, total))
}
