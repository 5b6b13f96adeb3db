//! Refresh tokens in GoTrue's default (v1) algorithm: opaque 12-character strings stored in
//! `auth.refresh_tokens`, each pointing at the token it replaced through `parent`.
//!
//! Exchanging one revokes it and issues its child. Two rules keep flaky clients working
//! without letting a stolen token live on: the revoked *parent of the active token* simply gets
//! the active token back (the client lost the previous response), and any other revoked token
//! presented after the reuse interval is a replay: 400 `refresh_token_already_used`, and with
//! rotation enabled the whole session's family is revoked.

use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::Config;
use crate::db::{refresh_tokens, sessions, users};
use crate::error::ApiError;

/// Length of a v1 token; GoTrue's pre-check is keyed on it.
pub const TOKEN_LEN: usize = 12;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A fresh random token: 12 characters of lowercase base32.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    (0..TOKEN_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// GoTrue's shape check before any lookup. Longer values would be v2 tokens, which this server
/// never issues, so they can only fail to parse.
pub fn precheck(token: &str) -> Result<(), ApiError> {
    let v1 = token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if v1 {
        Ok(())
    } else {
        Err(ApiError::RefreshTokenMalformed)
    }
}

/// The outcome of a successful exchange.
pub struct Exchanged {
    pub user: users::User,
    pub session_id: Uuid,
    pub refresh_token: String,
}

/// Postgres `lock_not_available`, raised when `lock_timeout` fires.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Exchanges `token` inside the caller's transaction. On `Err` the caller must still commit if
/// [`ApiError::RefreshTokenAlreadyUsed`] is returned, so the family revocation sticks.
pub async fn exchange(
    tx: &mut PgConnection,
    config: &Config,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Exchanged, ApiError> {
    precheck(token)?;
    sqlx::query("set local lock_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let presented = refresh_tokens::find_for_update(tx, token)
        .await
        .map_err(lock_conflict)?
        .ok_or(ApiError::RefreshTokenNotFound)?;
    let user = match Uuid::parse_str(&presented.user_id) {
        Ok(id) => users::find_by_id(tx, id).await?,
        Err(_) => None,
    }
    .ok_or(ApiError::RefreshTokenNotFound)?;
    if user.is_banned(now) {
        return Err(ApiError::RefreshUserBanned);
    }
    let session = match presented.session_id {
        Some(id) => sessions::find_for_update(tx, id)
            .await
            .map_err(lock_conflict)?,
        None => None,
    }
    .ok_or(ApiError::RefreshTokenNotFound)?;
    if session.not_after.is_some_and(|t| now >= t) {
        return Err(ApiError::SessionExpired);
    }

    if presented.revoked {
        let active = refresh_tokens::active_for_session(tx, session.id).await?;
        if let Some(active) = active.filter(|a| a.parent.as_deref() == Some(token)) {
            // The client lost our last answer; hand the same active token back.
            sessions::touch(tx, session.id, now).await?;
            return Ok(Exchanged {
                user,
                session_id: session.id,
                refresh_token: active.token,
            });
        }
        let reusable_until = presented.updated_at.unwrap_or(now)
            + chrono::Duration::seconds(config.refresh_token_reuse_interval);
        if now >= reusable_until {
            if config.refresh_token_rotation_enabled {
                refresh_tokens::revoke_family(tx, session.id, now).await?;
            }
            return Err(ApiError::RefreshTokenAlreadyUsed);
        }
    }

    refresh_tokens::revoke(tx, presented.id, now).await?;
    let child = refresh_tokens::create(tx, user.id, session.id, Some(token), now).await?;
    sessions::touch(tx, session.id, now).await?;
    Ok(Exchanged {
        user,
        session_id: session.id,
        refresh_token: child,
    })
}

fn lock_conflict(e: sqlx::Error) -> ApiError {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
            ApiError::RefreshConflict
        }
        _ => ApiError::Database(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_pass_the_precheck() {
        for _ in 0..200 {
            let t = generate();
            assert_eq!(t.len(), 12);
            assert!(t.bytes().all(|b| ALPHABET.contains(&b)), "{t}");
            precheck(&t).unwrap();
        }
        assert_ne!(generate(), generate());
    }

    #[test]
    fn precheck_rejects_what_gotrue_rejects() {
        for bad in [
            "",
            "short",
            "ABCDEFGHIJKL",
            "abcdefghijk!",
            "abcdefghij k",
            "abcdefghijklmnop",
        ] {
            assert!(
                matches!(precheck(bad), Err(ApiError::RefreshTokenMalformed)),
                "{bad:?}"
            );
        }
        // Digits 0, 1, 8, 9 are outside base32 but inside GoTrue's regexp.
        precheck("abcdefgh0189").unwrap();
    }
}
