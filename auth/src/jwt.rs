//! Access tokens: GoTrue's claims in GoTrue's order, signed HS256, and verification that fails
//! with golang-jwt's exact words.
//!
//! `jsonwebtoken` does the cryptography, but its parser checks things in a different order and
//! words errors differently, so parsing follows golang-jwt v5's `Parser.ParseWithClaims` step by
//! step: segments, header, claims, signature encoding, alg lookup, allowed methods, signature,
//! then exp/nbf with no leeway. The header is written by hand because golang-jwt serialises a Go
//! map (keys sorted: `alg` before `typ`) while `jsonwebtoken` writes `typ` first.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

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
    #[error("token has invalid claims: {}", .0.join(": "))]
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

/// Signs claims the way GoTrue does with only `GOTRUE_JWT_SECRET` configured.
pub fn sign(claims: &AccessClaims, secret: &str) -> String {
    let header = RAW_URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = RAW_URL.encode(serde_json::to_vec(claims).expect("claims always serialise"));
    let message = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing cannot fail");
    format!("{message}.{signature}")
}

/// Verifies an HS256 token at `now` (unix seconds, fractional) and returns its claims.
pub fn verify(token: &str, secret: &str, now: f64) -> Result<PresentedClaims, JwtError> {
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
    decode_segment(signature, "could not base64 decode signature")?;

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
    // With only a secret configured, HS256 is the one valid method.
    if alg != "HS256" {
        return Err(JwtError::SignatureInvalid(format!(
            "signing method {alg} is invalid"
        )));
    }

    let message = &token[..header.len() + 1 + payload.len()];
    let valid = jsonwebtoken::crypto::verify(
        signature,
        message.as_bytes(),
        &DecodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap_or(false);
    if !valid {
        return Err(JwtError::SignatureInvalid("signature is invalid".into()));
    }

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
mod tests {
    use super::*;

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
    const NOW: f64 = 1_700_000_000.0;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: None,
            sub: "6f1c0d5e-0000-4000-8000-000000000001".into(),
            aud: "authenticated".into(),
            exp: NOW as i64 + 3600,
            iat: NOW as i64,
            email: "a@example.com".into(),
            phone: String::new(),
            app_metadata: serde_json::json!({"provider":"email","providers":["email"]}),
            user_metadata: serde_json::json!({}),
            role: "authenticated".into(),
            aal: "aal1".into(),
            amr: vec![Amr {
                method: "password".into(),
                timestamp: NOW as i64,
            }],
            session_id: "6f1c0d5e-0000-4000-8000-000000000002".into(),
            is_anonymous: false,
        }
    }

    /// Builds a token from raw JSON parts, signed with `secret` under HS256.
    fn forge(header: &str, payload: &str, secret: &str) -> String {
        let msg = format!("{}.{}", RAW_URL.encode(header), RAW_URL.encode(payload));
        let sig = jsonwebtoken::crypto::sign(
            msg.as_bytes(),
            &EncodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{msg}.{sig}")
    }

    fn message(token: &str) -> String {
        verify(token, SECRET, NOW).unwrap_err().to_string()
    }

    #[test]
    fn header_and_claims_are_in_gotrue_order() {
        let token = sign(&claims(), SECRET);
        let parts: Vec<_> = token.split('.').collect();
        assert_eq!(
            RAW_URL.decode(parts[0]).unwrap(),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
        let payload = String::from_utf8(RAW_URL.decode(parts[1]).unwrap()).unwrap();
        let order = [
            "\"sub\"",
            "\"aud\"",
            "\"exp\"",
            "\"iat\"",
            "\"email\"",
            "\"phone\"",
            "\"app_metadata\"",
            "\"user_metadata\"",
            "\"role\"",
            "\"aal\"",
            "\"amr\"",
            "\"session_id\"",
            "\"is_anonymous\"",
        ];
        let positions: Vec<_> = order
            .iter()
            .map(|k| payload.find(k).unwrap_or_else(|| panic!("{k} missing")))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{payload}");
        assert!(
            !payload.contains("\"iss\""),
            "iss must be left out when unset: {payload}"
        );
        assert!(
            payload.contains(r#""aud":"authenticated""#),
            "aud must be a string: {payload}"
        );
    }

    #[test]
    fn issuer_comes_first_when_set() {
        let mut c = claims();
        c.iss = Some("http://127.0.0.1:54321/auth/v1".into());
        let token = sign(&c, SECRET);
        let payload =
            String::from_utf8(RAW_URL.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert!(
            payload.starts_with(r#"{"iss":"http://127.0.0.1:54321/auth/v1","sub":"#),
            "{payload}"
        );
    }

    #[test]
    fn round_trip_verifies() {
        let verified = verify(&sign(&claims(), SECRET), SECRET, NOW).unwrap();
        assert_eq!(
            verified.sub.as_deref(),
            Some("6f1c0d5e-0000-4000-8000-000000000001")
        );
        assert_eq!(verified.aud, Some(Audience::One("authenticated".into())));
        assert_eq!(verified.role.as_deref(), Some("authenticated"));
    }

    #[test]
    fn wrong_segment_count_is_malformed() {
        assert_eq!(
            message("abc.def"),
            "token is malformed: token contains an invalid number of segments"
        );
        assert_eq!(
            message("a.b.c.d"),
            "token is malformed: token contains an invalid number of segments"
        );
    }

    #[test]
    fn wrong_secret_is_an_invalid_signature() {
        let token = sign(&claims(), "another-secret-another-secret-another");
        assert_eq!(
            message(&token),
            "token signature is invalid: signature is invalid"
        );
    }

    #[test]
    fn expiry_is_checked_without_leeway() {
        let at = |exp: f64| {
            forge(
                r#"{"alg":"HS256","typ":"JWT"}"#,
                &format!(r#"{{"sub":"x","exp":{exp}}}"#),
                SECRET,
            )
        };
        assert_eq!(
            message(&at(NOW)),
            "token has invalid claims: token is expired"
        );
        assert!(verify(&at(NOW + 1.0), SECRET, NOW).is_ok());
        // No exp at all is fine, as in golang-jwt.
        assert!(
            verify(
                &forge(r#"{"alg":"HS256"}"#, r#"{"role":"anon"}"#, SECRET),
                SECRET,
                NOW
            )
            .is_ok()
        );
    }

    #[test]
    fn not_before_is_checked_when_present() {
        let token = forge(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"nbf":{}}}"#, NOW + 10.0),
            SECRET,
        );
        assert_eq!(
            message(&token),
            "token has invalid claims: token is not valid yet"
        );
        let both = forge(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"exp":{},"nbf":{}}}"#, NOW - 1.0, NOW + 10.0),
            SECRET,
        );
        assert_eq!(
            message(&both),
            "token has invalid claims: token is expired: token is not valid yet"
        );
    }

    #[test]
    fn other_algorithms_are_invalid_methods() {
        for alg in ["none", "HS512", "RS256", "ES256"] {
            let token = forge(
                &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
                r#"{"sub":"x"}"#,
                SECRET,
            );
            assert_eq!(
                message(&token),
                format!("token signature is invalid: signing method {alg} is invalid")
            );
        }
        // alg none with an empty signature, as attackers send it.
        let bare = format!(
            "{}.{}.",
            RAW_URL.encode(r#"{"alg":"none"}"#),
            RAW_URL.encode(r#"{"sub":"x"}"#)
        );
        assert_eq!(
            message(&bare),
            "token signature is invalid: signing method none is invalid"
        );
    }

    #[test]
    fn unknown_or_missing_alg_is_unverifiable() {
        let unknown = forge(r#"{"alg":"XYZ"}"#, "{}", SECRET);
        assert_eq!(
            message(&unknown),
            "token is unverifiable: signing method (alg) is unavailable"
        );
        let missing = forge(r#"{"typ":"JWT"}"#, "{}", SECRET);
        assert_eq!(
            message(&missing),
            "token is unverifiable: signing method (alg) is unspecified"
        );
    }

    #[test]
    fn undecodable_segments_are_malformed() {
        assert_eq!(
            message("a*b.e30.e30"),
            "token is malformed: could not base64 decode header: illegal base64 data at input byte 1"
        );
        let bad_json = format!("{}.e30.sig", RAW_URL.encode("{nope"));
        assert!(
            message(&bad_json).starts_with("token is malformed: could not JSON decode header: ")
        );
    }
}
