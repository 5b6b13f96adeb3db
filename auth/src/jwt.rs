//! Access tokens: GoTrue's claims in GoTrue's order, signed with the configured signing key, and
//! verification that fails with golang-jwt's exact words.
//!
//! `jsonwebtoken` does the cryptography, but its parser checks things in a different order and
//! words errors differently, so parsing follows golang-jwt v5.3's `Parser.ParseWithClaims` step
//! by step: segments, header, claims, alg lookup, signature encoding, allowed methods, GoTrue's
//! keyfunc (kid, then the HS256 secret fallback), signature, then exp/nbf with no leeway. The
//! header is written by hand because golang-jwt serialises a Go map (keys sorted: `alg`, `kid`,
//! `typ`) while `jsonwebtoken` writes `typ` first.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};

use crate::jwk::VerifyingKey;
use crate::jwt_keys::JwtKeys;
use crate::signature;

/// One entry of the `amr` claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amr {
    pub method: String,
    pub timestamp: i64,
}

/// The claims GoTrue puts in an access token, in its payload order.
#[derive(Debug, Clone, Serialize)]
pub struct AccessClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub email: String,
    pub phone: String,
    pub app_metadata: serde_json::Value,
    pub user_metadata: serde_json::Value,
    pub role: String,
    pub aal: String,
    pub amr: Vec<Amr>,
    pub session_id: String,
    pub is_anonymous: bool,
}

/// `aud` may be one string or an array (golang-jwt's ClaimStrings).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn first(&self) -> Option<&str> {
        match self {
            Audience::One(a) => Some(a),
            Audience::Many(v) => v.first().map(String::as_str),
        }
    }
}

/// What a verified token may carry; everything optional, as presented tokens vary.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PresentedClaims {
    pub sub: Option<String>,
    pub aud: Option<Audience>,
    pub exp: Option<f64>,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    pub session_id: Option<String>,
    pub is_anonymous: Option<bool>,
}

/// A verification failure, displayed exactly as golang-jwt v5 formats it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JwtError {
    #[error("token is malformed: {0}")]
    Malformed(String),
    #[error("token is unverifiable: {0}")]
    Unverifiable(String),
    #[error("token signature is invalid: {0}")]
    SignatureInvalid(String),
    /// golang-jwt joins several claim failures with ", ".
    #[error("token has invalid claims: {}", .0.join(", "))]
    InvalidClaims(Vec<&'static str>),
}

/// Algorithms golang-jwt knows; anything else is "unavailable" rather than "invalid".
const KNOWN_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "EdDSA", "none",
];

/// Go's base64.RawURLEncoding: no padding, lenient about trailing bits.
const RAW_URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// GoTrue's header: golang-jwt serialises a Go map, so the keys come sorted (alg, kid, typ).
#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    typ: &'static str,
}

/// Signs claims with the configured signing key, as GoTrue's `SignJWT`: its method, and its
/// `kid` in the header only when it has one.
pub fn sign(claims: &AccessClaims, keys: &JwtKeys) -> Result<String, jsonwebtoken::errors::Error> {
    let signer = keys.signer();
    let alg = format!("{:?}", signer.alg());
    let header = Header {
        alg: &alg,
        kid: signer.kid(),
        typ: "JWT",
    };
    let header = RAW_URL.encode(serde_json::to_vec(&header).expect("a header always serialises"));
    let payload = RAW_URL.encode(serde_json::to_vec(claims).expect("claims always serialise"));
    let message = format!("{header}.{payload}");
    let signature = signer.sign(message.as_bytes())?;
    Ok(format!("{message}.{signature}"))
}

/// Verifies a token at `now` (unix seconds, fractional) and returns its claims: golang-jwt's
/// `ParseWithClaims` with GoTrue's valid methods and keyfunc (`parseJWTClaims`).
pub fn verify(token: &str, keys: &JwtKeys, now: f64) -> Result<PresentedClaims, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(JwtError::Malformed(
            "token contains an invalid number of segments".into(),
        ));
    };

    let header_bytes = decode_segment(header, "could not base64 decode header")?;
    let header_json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header_bytes)
            .map_err(|e| JwtError::Malformed(format!("could not JSON decode header: {e}")))?;
    let payload_bytes = decode_segment(payload, "could not base64 decode claim")?;
    let claims: PresentedClaims = serde_json::from_slice(&payload_bytes)
        .map_err(|e| JwtError::Malformed(format!("could not JSON decode claim: {e}")))?;

    let alg = match header_json.get("alg") {
        Some(serde_json::Value::String(alg)) => alg.as_str(),
        _ => {
            return Err(JwtError::Unverifiable(
                "signing method (alg) is unspecified".into(),
            ));
        }
    };
    if !KNOWN_ALGS.contains(&alg) {
        return Err(JwtError::Unverifiable(
            "signing method (alg) is unavailable".into(),
        ));
    }
    let signature = decode_segment(signature, "could not base64 decode signature")?;
    if !keys.valid_methods().iter().any(|m| m == alg) {
        return Err(JwtError::SignatureInvalid(format!(
            "signing method {alg} is invalid"
        )));
    }

    let kid = header_json.get("kid");
    let key = kid
        .and_then(serde_json::Value::as_str)
        .and_then(|kid| keys.find(kid))
        .or_else(|| (alg == "HS256").then(|| VerifyingKey::Secret(keys.secret().to_vec())))
        .ok_or_else(|| {
            JwtError::Unverifiable(format!(
                "error while executing keyfunc: unrecognized JWT kid {} for algorithm {alg}",
                go_value(kid)
            ))
        })?;

    let message = &token[..header.len() + 1 + payload.len()];
    signature::verify(alg, &key, message.as_bytes(), &signature)
        .map_err(JwtError::SignatureInvalid)?;

    let mut problems = Vec::new();
    if claims.exp.is_some_and(|exp| now >= exp) {
        problems.push("token is expired");
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        problems.push("token is not valid yet");
    }
    if problems.is_empty() {
        Ok(claims)
    } else {
        Err(JwtError::InvalidClaims(problems))
    }
}

/// A header value as Go's `%v` prints an `interface{}` decoded from JSON.
fn go_value(value: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        // %v of a float64 is %g with the shortest digits: an exponent below -4 or from 6 up
        // gives e-notation with at least two exponent digits (1e+06).
        Some(Value::Number(n)) => {
            let f = n.as_f64().unwrap_or_default();
            let exponent = if f == 0.0 {
                0
            } else {
                f.abs().log10().floor() as i32
            };
            if (-4..6).contains(&exponent) {
                format!("{f}")
            } else {
                let scientific = format!("{f:e}");
                let (mantissa, exp) = scientific.split_once('e').unwrap_or((&scientific, "0"));
                let exp: i32 = exp.parse().unwrap_or_default();
                let sign = if exp < 0 { '-' } else { '+' };
                format!("{mantissa}e{sign}{:02}", exp.abs())
            }
        }
        Some(Value::Array(items)) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| go_value(Some(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Some(Value::Object(map)) => {
            let mut entries: Vec<_> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_value(Some(v))))
                .collect();
            entries.sort();
            format!("map[{}]", entries.join(" "))
        }
    }
}

fn decode_segment(segment: &str, what: &str) -> Result<Vec<u8>, JwtError> {
    RAW_URL.decode(segment).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol(at, _) => at,
            _ => segment.len(),
        };
        JwtError::Malformed(format!("{what}: illegal base64 data at input byte {at}"))
    })
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
