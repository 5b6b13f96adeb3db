//! Token verification in PostgREST 13's order: three parts, header, signature (trying the
//! keys the `kid` allows), then the claims `exp`, `nbf`, `iat`, `aud` with 30 s of skew.
//! `jsonwebtoken` does the cryptography; the claim checks are PostgREST's, not the crate's,
//! because the crate's texts and rules (types, skew, empty `aud`) differ.

use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::config::KeySet;
use crate::config::secret_family;
use crate::error::JwtError;

/// PostgREST's allowed clock skew on `exp`, `nbf` and `iat`.
const SKEW_SECONDS: i64 = 30;

/// The verified claims of `token`, or why it is refused.
pub fn verify_token(
    token: &str,
    keys: &KeySet,
    audience: Option<&str>,
    now: i64,
) -> Result<serde_json::Map<String, Value>, JwtError> {
    if token.is_empty() {
        return Err(JwtError::EmptyToken);
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Parts(parts.len()));
    }
    let header: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0].trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(JwtError::BadCrypto)?;
    if header.get("enc").is_some() {
        return Err(JwtError::UnsupportedTokenType);
    }
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::BadCrypto)?;
    if alg_name == "none" {
        return Err(JwtError::BadAlgorithm(
            "JWT is unsecured but expected 'alg' was not 'none'".into(),
        ));
    }
    let alg: Algorithm = alg_name
        .parse()
        .map_err(|_| JwtError::BadAlgorithm(format!("Unsupported algorithm {alg_name}")))?;
    let kid = header.get("kid").and_then(Value::as_str);

    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();

    let family = secret_family(alg);
    let candidates = keys
        .0
        .iter()
        .filter(|k| k.family == family)
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid);
    let mut claims = None;
    for key in candidates {
        match jsonwebtoken::decode::<Value>(token, &key.key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    // The signature held but the payload is not JSON.
                    ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                        return Err(JwtError::ParsingClaimsFailed);
                    }
                    ErrorKind::Base64(_) => return Err(JwtError::BadCrypto),
                    _ => continue,
                }
            }
        }
    }
    let claims = claims.ok_or_else(|| {
        JwtError::NoSuitableKey("None of the keys was able to decode the JWT".into())
    })?;
    let Value::Object(claims) = claims else {
        return Err(JwtError::ParsingClaimsFailed);
    };
    check_claims(&claims, audience, now)?;
    Ok(claims)
}

/// PostgREST's claim checks, first failure wins: an absent or null claim passes.
fn check_claims(
    claims: &serde_json::Map<String, Value>,
    audience: Option<&str>,
    now: i64,
) -> Result<(), JwtError> {
    let time = |name: &'static str| -> Result<Option<i64>, JwtError> {
        match claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            // A fractional time is not an integer; PostgREST then reads it as 0.
            Some(Value::Number(n)) => Ok(Some(n.as_i64().unwrap_or(0))),
            Some(_) => Err(JwtError::ClaimNotNumber(name)),
        }
    };
    if let Some(exp) = time("exp")?
        && now - SKEW_SECONDS > exp
    {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = time("nbf")?
        && now + SKEW_SECONDS < nbf
    {
        return Err(JwtError::NotYetValid);
    }
    if let Some(iat) = time("iat")?
        && now + SKEW_SECONDS < iat
    {
        return Err(JwtError::IssuedAtFuture);
    }
    let matches = |aud: &str| audience.is_none_or(|want| want == aud);
    match claims.get("aud") {
        None | Some(Value::Null) => {}
        Some(Value::String(aud)) => {
            if !matches(aud) {
                return Err(JwtError::NotInAudience);
            }
        }
        Some(Value::Array(items)) => {
            let auds: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            let auds = auds.ok_or(JwtError::AudNotStringOrArray)?;
            if !auds.is_empty() && !auds.iter().any(|a| matches(a)) {
                return Err(JwtError::NotInAudience);
            }
        }
        Some(_) => return Err(JwtError::AudNotStringOrArray),
    }
    Ok(())
}
