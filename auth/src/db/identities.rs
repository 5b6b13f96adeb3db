//! `auth.identities`: the email identity each email user gets, keyed by the user id.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Identity {
    pub id: Uuid,
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub email: Option<String>,
}

const COLUMNS: &str = "id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, email";

/// Creates the `email` identity; GoTrue lowercases the email in identity_data.
pub async fn create_email(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
    verified: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let data = json!({
        "sub": user_id.to_string(),
        "email": email.to_lowercase(),
        "email_verified": verified,
        "phone_verified": false,
    });
    sqlx::query(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
         values ($1, $2, $3, 'email', $4, $4, $4)",
    )
    .bind(user_id.to_string())
    .bind(user_id)
    .bind(data)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Merges `patch` into the email identity's data (e.g. a new email or email_verified).
pub async fn update_email_data(
    conn: &mut PgConnection,
    user_id: Uuid,
    patch: Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update auth.identities set identity_data = identity_data || $2, updated_at = $3
         where user_id = $1 and provider = 'email'",
    )
    .bind(user_id)
    .bind(patch)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// [`for_user`]'s statement: `$1` the user's id.
pub fn for_user_statement() -> String {
    format!("select {COLUMNS} from auth.identities where user_id = $1 order by created_at")
}

pub async fn for_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<Identity>> {
    sqlx::query_as(&for_user_statement())
        .bind(user_id)
        .fetch_all(conn)
        .await
}
