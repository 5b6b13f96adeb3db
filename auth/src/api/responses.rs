//! The JSON bodies GoTrue returns: User (models/user.go) and Session (AccessTokenResponse).
//!
//! Field order and omission rules follow the Go structs: `?` fields are `omitempty` there, a
//! NULL email or phone is sent as `""`, and times use Go's RFC 3339 with trailing zeros of the
//! fraction trimmed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::identities::Identity;
use crate::db::users::User;

/// Go's `time.RFC3339Nano` rendering of a UTC instant.
pub fn go_time(t: DateTime<Utc>) -> String {
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let fraction = nanos.trim_end_matches('0');
    let dot = if fraction.is_empty() { "" } else { "." };
    format!("{}{dot}{fraction}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(go_time)
}

/// GoTrue sends the zero time for unset non-pointer times.
fn req_time(t: Option<DateTime<Utc>>) -> String {
    t.map(go_time)
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

#[derive(Debug, Serialize)]
pub struct IdentityBody {
    pub identity_id: Uuid,
    pub id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl From<Identity> for IdentityBody {
    fn from(i: Identity) -> Self {
        IdentityBody {
            identity_id: i.id,
            id: i.provider_id,
            user_id: i.user_id,
            identity_data: i.identity_data,
            provider: i.provider,
            last_sign_in_at: opt_time(i.last_sign_in_at),
            created_at: req_time(i.created_at),
            updated_at: req_time(i.updated_at),
            email: i.email.filter(|e| !e.is_empty()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UserBody {
    pub id: Uuid,
    pub aud: String,
    pub role: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_confirmed_at: Option<String>,
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_change_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_change_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reauthentication_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<String>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub identities: Vec<IdentityBody>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banned_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    pub is_anonymous: bool,
}

impl UserBody {
    pub fn new(u: User, identities: Vec<Identity>) -> Self {
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        UserBody {
            id: u.id,
            aud: u.aud.unwrap_or_default(),
            role: u.role.unwrap_or_default(),
            email: u.email.unwrap_or_default().to_lowercase(),
            email_confirmed_at: opt_time(u.email_confirmed_at),
            phone: u.phone.unwrap_or_default(),
            phone_confirmed_at: opt_time(u.phone_confirmed_at),
            confirmation_sent_at: opt_time(u.confirmation_sent_at),
            confirmed_at: opt_time(u.confirmed_at),
            recovery_sent_at: opt_time(u.recovery_sent_at),
            new_email: nonempty(Some(u.email_change)),
            email_change_sent_at: opt_time(u.email_change_sent_at),
            new_phone: nonempty(u.phone_change),
            phone_change_sent_at: opt_time(u.phone_change_sent_at),
            reauthentication_sent_at: opt_time(u.reauthentication_sent_at),
            last_sign_in_at: opt_time(u.last_sign_in_at),
            app_metadata: u
                .raw_app_meta_data
                .unwrap_or_else(|| Value::Object(Default::default())),
            user_metadata: u
                .raw_user_meta_data
                .unwrap_or_else(|| Value::Object(Default::default())),
            identities: identities.into_iter().map(IdentityBody::from).collect(),
            created_at: req_time(u.created_at),
            updated_at: req_time(u.updated_at),
            banned_until: opt_time(u.banned_until),
            deleted_at: opt_time(u.deleted_at),
            is_anonymous: u.is_anonymous,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionBody {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub expires_at: i64,
    pub refresh_token: String,
    pub user: UserBody,
    /// `Some(Value::Null)` renders GoTrue's `"weak_password": null` on the password grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weak_password: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_render_like_go() {
        let t = Utc.with_ymd_and_hms(2024, 6, 12, 9, 33, 10).unwrap();
        assert_eq!(go_time(t), "2024-06-12T09:33:10Z");
        let t = t + chrono::Duration::microseconds(916_010);
        assert_eq!(go_time(t), "2024-06-12T09:33:10.91601Z");
    }
}
