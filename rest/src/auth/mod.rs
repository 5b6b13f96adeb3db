//! Who a request runs as: the Bearer token of `Authorization` verified as PostgREST does
//! (contract §1), the role read at `jwt-role-claim-key`, the anonymous role otherwise.
//!
//! Only `Authorization` counts (the `apikey` header means nothing here). The scheme is compared
//! case-insensitively; a header of another scheme, or none, is anonymous.

mod verify;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::config::Config;
use crate::error::ApiError;

pub use verify::verify_token;

/// The outcome of authentication: the role to switch to and the claims to expose as
/// `request.jwt.claims` (with `role` written in).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthResult {
    pub role: String,
    pub claims: serde_json::Map<String, Value>,
}

impl AuthResult {
    /// Whether the role differs from the anonymous role (PostgREST's "authenticated", which
    /// decides 401 or 403 for 42501).
    pub fn authenticated(&self, config: &Config) -> bool {
        config.db_anon_role.as_deref() != Some(self.role.as_str())
    }
}

/// The token of a `Bearer` Authorization header: None when absent or of another scheme,
/// `Some("")` for a bare `Bearer`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], &value[i..]),
        None => (value, ""),
    };
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_start())
}

/// Authenticates a request's headers against `config`, now being `now` (seconds).
pub fn authenticate(
    headers: &HeaderMap,
    config: &Config,
    now: i64,
) -> Result<AuthResult, ApiError> {
    let claims = match bearer_token(headers) {
        None => serde_json::Map::new(),
        Some(token) => {
            let keys = config.jwt_keys.as_ref().ok_or(ApiError::JwtSecretMissing)?;
            verify_token(token, keys, config.jwt_aud.as_deref(), now).map_err(ApiError::Jwt)?
        }
    };
    role_of(claims, config)
}

/// The role at the claim key (JSON-encoded when it is not a string), else the anonymous role,
/// written back into the claims.
pub fn role_of(
    mut claims: serde_json::Map<String, Value>,
    config: &Config,
) -> Result<AuthResult, ApiError> {
    let object = Value::Object(claims.clone());
    let role = match config.jwt_role_claim_key.walk(&object) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => config
            .db_anon_role
            .clone()
            .ok_or(ApiError::AnonymousDisabled)?,
    };
    claims.insert("role".into(), Value::String(role.clone()));
    Ok(AuthResult { role, claims })
}

#[cfg(test)]
mod tests;
