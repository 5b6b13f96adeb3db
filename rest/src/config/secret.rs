//! `PGRST_JWT_SECRET` as verification keys: a passphrase (HS256/384/512), or a JWK or JWK Set
//! given inline as JSON or from `@file` (`oct` for HMAC, `EC` for ES256, `RSA` for RS256...).
//! No URL is ever fetched, as in PostgREST.

use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// PostgREST 13 refuses shorter passphrases at start.
const MIN_SECRET_LEN: usize = 32;

/// Which signature algorithms a key can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Hmac,
    Ec,
    Rsa,
    Ed,
}

/// One verification key.
#[derive(Clone)]
pub struct JwtKey {
    pub kid: Option<String>,
    pub family: KeyFamily,
    pub key: DecodingKey,
}

/// Every key a token may be verified with.
#[derive(Clone)]
pub struct KeySet(pub Vec<JwtKey>);

impl KeySet {
    /// Reads the secret as PostgREST does; the error says what is wrong with it (never the
    /// secret itself).
    pub fn from_secret(raw: &str, is_base64: bool) -> Result<KeySet, String> {
        let text = match raw.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the secret file {path}: {e}"))?,
            None => raw.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(trimmed)
                .map_err(|e| format!("the secret looks like JSON but does not parse: {e}"))?;
            let jwks: Vec<Jwk> = if value.get("keys").is_some() {
                serde_json::from_value::<JwkSet>(value)
                    .map_err(|e| format!("not a valid JWK Set: {e}"))?
                    .keys
            } else {
                vec![serde_json::from_value(value).map_err(|e| format!("not a valid JWK: {e}"))?]
            };
            let keys = jwks.iter().map(key_of_jwk).collect::<Result<Vec<_>, _>>()?;
            if keys.is_empty() {
                return Err("the JWK Set has no keys".into());
            }
            return Ok(KeySet(keys));
        }
        let bytes = if is_base64 {
            let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(cleaned.trim_end_matches('='))
                .or_else(|_| {
                    base64::engine::general_purpose::STANDARD_NO_PAD
                        .decode(cleaned.trim_end_matches('='))
                })
                .or_else(|_| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(cleaned.trim_end_matches('='))
                })
                .map_err(|e| {
                    format!("PGRST_JWT_SECRET_IS_BASE64 is set but the secret is not base64: {e}")
                })?
        } else {
            text.clone().into_bytes()
        };
        if bytes.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_LEN} characters long (it has {})",
                bytes.len()
            ));
        }
        Ok(KeySet(vec![JwtKey {
            kid: None,
            family: KeyFamily::Hmac,
            key: DecodingKey::from_secret(&bytes),
        }]))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never true for a parsed secret).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn key_of_jwk(jwk: &Jwk) -> Result<JwtKey, String> {
    let family = match &jwk.algorithm {
        AlgorithmParameters::OctetKey(_) => KeyFamily::Hmac,
        AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
        AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
        AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Ed,
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable JWK: {e}"))?;
    Ok(JwtKey {
        kid: jwk.common.key_id.clone(),
        family,
        key,
    })
}

impl KeyFamily {
    /// The family that verifies `alg`.
    pub fn of(alg: Algorithm) -> KeyFamily {
        match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Hmac,
            Algorithm::ES256 | Algorithm::ES384 => KeyFamily::Ec,
            Algorithm::EdDSA => KeyFamily::Ed,
            _ => KeyFamily::Rsa,
        }
    }
}
