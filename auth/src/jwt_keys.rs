//! The server's JWT keys: `GOTRUE_JWT_KEYS`, `GOTRUE_JWT_SECRET`, `GOTRUE_JWT_KEY_ID` and
//! `GOTRUE_JWT_VALID_METHODS` combined the way GoTrue's configuration combines them.
//!
//! - `GOTRUE_JWT_KEYS` is a bare JSON array of JWKs, stored by `kid` (a later key with the same
//!   kid replaces the earlier one, as in GoTrue's map). Unset or `[]`, the secret becomes the one
//!   key: `oct`, HS256, `key_ops` sign+verify, kid `GOTRUE_JWT_KEY_ID` (`applyDefaultsJWT`).
//! - Exactly one key has `sign` in `key_ops`; with none GoTrue stops at `GetSigningJwk` ("no
//!   signing key found", which runs before `Validate` could say "no signing key detected"), with
//!   two at `Validate` ("multiple signing keys detected, only 1 signing key is supported").
//! - The valid methods are `GOTRUE_JWT_VALID_METHODS` split on commas (no trimming, as
//!   envconfig), else the `alg` of every key: an ES256-only array makes HS256 invalid.
//! - A kid is looked up in the keys, then compared with `GOTRUE_JWT_KEY_ID` (the raw secret);
//!   the HS256-with-the-secret fallback itself lives in [`crate::jwt::verify`].
//!
//! Key states (Supabase's standby / in use / previously used / revoked) are not GoTrue's: it only
//! knows sign and verify. In use is the `sign` key, standby and previously used are verify-only
//! entries, revoked is absent. Rotation is a restart with another array; nothing reloads.

use serde::Serialize;
use serde_json::Value;

use crate::jwk::{Jwk, JwkProblem, VerifyingKey};
use crate::signer::Signer;

/// Why `GOTRUE_JWT_KEYS` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtKeysError {
    #[error("{hint}: {reason}")]
    NotAnArray { reason: String, hint: &'static str },
    #[error("key {position}{}: {problem}", kid_note(kid))]
    Key {
        /// 1-based position in the array.
        position: usize,
        kid: Option<String>,
        problem: JwkProblem,
    },
    #[error("no signing key found: exactly one key needs \"sign\" in its key_ops")]
    NoSigningKey,
    #[error(
        "multiple signing keys detected, only 1 signing key is supported (kids {}): keep \"sign\" in the key_ops of one",
        .0.join(", ")
    )]
    MultipleSigningKeys(Vec<String>),
    #[error("signing key{}: {problem}", kid_note(kid))]
    Signing {
        kid: Option<String>,
        problem: JwkProblem,
    },
}

fn kid_note(kid: &Option<String>) -> String {
    match kid {
        Some(kid) if !kid.is_empty() => format!(" (kid {kid:?})"),
        _ => String::new(),
    }
}

/// The configured keys, the one signer and the methods tokens may use.
#[derive(Clone)]
pub struct JwtKeys {
    keys: Vec<Jwk>,
    signer: Signer,
    secret: Vec<u8>,
    key_id: String,
    valid_methods: Vec<String>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs; keys and signer print without their material.
        f.debug_struct("JwtKeys")
            .field("keys", &self.keys)
            .field("signer", &self.signer)
            .field("key_id", &self.key_id)
            .field("valid_methods", &self.valid_methods)
            .finish_non_exhaustive()
    }
}

/// The body of `/.well-known/jwks.json`.
#[derive(Debug, Serialize)]
pub struct JwksDocument {
    pub keys: Vec<std::collections::BTreeMap<String, Value>>,
}

impl JwtKeys {
    /// Builds the keys from the four variables' values (None or `""` meaning unset).
    ///
    /// ```
    /// let keys = auth::jwt_keys::JwtKeys::from_settings("secret", None, None, None).unwrap();
    /// assert_eq!(keys.valid_methods(), ["HS256"]);
    /// assert_eq!(keys.signer().kid(), None, "no GOTRUE_JWT_KEY_ID, no kid");
    /// ```
    pub fn from_settings(
        secret: &str,
        key_id: Option<&str>,
        keys: Option<&str>,
        valid_methods: Option<&str>,
    ) -> Result<Self, JwtKeysError> {
        let key_id = key_id.unwrap_or_default().to_owned();
        let parsed = match keys.filter(|k| !k.trim().is_empty()) {
            Some(text) => parse_array(text)?,
            None => Vec::new(),
        };
        let (keys, signer) = if parsed.is_empty() {
            let key = Jwk::from_secret(secret.as_bytes(), &key_id);
            let signer = Signer::hmac(
                secret.as_bytes(),
                (!key_id.is_empty()).then(|| key_id.clone()),
            );
            (vec![key], signer)
        } else {
            let signer = signing_key(&parsed)?;
            (parsed, signer)
        };
        let valid_methods = match valid_methods.filter(|m| !m.is_empty()) {
            Some(list) => list.split(',').map(str::to_owned).collect(),
            None => keys.iter().map(|k| k.alg().to_owned()).collect(),
        };
        Ok(JwtKeys {
            keys,
            signer,
            secret: secret.as_bytes().to_vec(),
            key_id,
            valid_methods,
        })
    }

    /// The key every token is signed with.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The `alg` values a presented token may have.
    pub fn valid_methods(&self) -> &[String] {
        &self.valid_methods
    }

    /// `GOTRUE_JWT_SECRET`'s bytes, the HS256 fallback key.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// GoTrue's `FindPublicKeyByKid`: the key with this kid, else the secret when the kid is
    /// `GOTRUE_JWT_KEY_ID`, else None (the caller may still fall back to the secret for HS256).
    pub fn find(&self, kid: &str) -> Option<VerifyingKey> {
        if let Some(key) = self.keys.iter().find(|k| k.kid() == kid) {
            return Some(key.verifying_key());
        }
        (kid == self.key_id).then(|| VerifyingKey::Secret(self.secret.clone()))
    }

    /// The public keys, in the array's order (GoTrue iterates a map, so its order varies).
    pub fn jwks(&self) -> JwksDocument {
        JwksDocument {
            keys: self.keys.iter().filter_map(Jwk::public_jwk).collect(),
        }
    }
}

fn parse_array(text: &str) -> Result<Vec<Jwk>, JwtKeysError> {
    let values: Vec<Value> = serde_json::from_str(text).map_err(|e| {
        let is_set = serde_json::from_str::<Value>(text)
            .is_ok_and(|v| v.get("keys").is_some_and(Value::is_array));
        JwtKeysError::NotAnArray {
            reason: e.to_string(),
            hint: if is_set {
                "this is a JWK Set object; GoTrue wants the bare array that is under \"keys\""
            } else {
                "not a JSON array of JWKs ([{\"kty\":…}, …])"
            },
        }
    })?;
    let mut keys: Vec<Jwk> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let key = Jwk::parse(value).map_err(|problem| JwtKeysError::Key {
            position: index + 1,
            kid: value.get("kid").and_then(Value::as_str).map(str::to_owned),
            problem,
        })?;
        match keys.iter_mut().find(|k| k.kid() == key.kid()) {
            Some(existing) => *existing = key,
            None => keys.push(key),
        }
    }
    Ok(keys)
}

fn signing_key(keys: &[Jwk]) -> Result<Signer, JwtKeysError> {
    let signing: Vec<&Jwk> = keys.iter().filter(|k| k.signs()).collect();
    match signing[..] {
        [] => Err(JwtKeysError::NoSigningKey),
        [key] => key.signer().map_err(|problem| JwtKeysError::Signing {
            kid: Some(key.kid().to_owned()),
            problem,
        }),
        _ => Err(JwtKeysError::MultipleSigningKeys(
            signing.iter().map(|k| format!("{:?}", k.kid())).collect(),
        )),
    }
}

#[cfg(test)]
#[path = "jwt_keys_tests.rs"]
pub(crate) mod tests;
