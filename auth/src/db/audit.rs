//! `auth.audit_log_entries`: GoTrue's record of account and token events.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::users::User;

/// Appends one entry; `log_type` is GoTrue's category (`account`, `token`, `user`, `team`).
pub async fn record(
    conn: &mut PgConnection,
    actor: &User,
    action: &str,
    log_type: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let payload = json!({
        "actor_id": actor.id.to_string(),
        "actor_username": actor.email.clone().unwrap_or_default(),
        "actor_via_sso": false,
        "action": action,
        "log_type": log_type,
    });
    sqlx::query(
        "insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
         values ($1, $2, $3::text::json, $4, '')",
    )
    .bind(Uuid::nil())
    .bind(Uuid::new_v4())
    .bind(payload.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
