//! Checking a JWS signature by its `alg` against the key GoTrue's keyfunc chose, with the error
//! each golang-jwt signing method returns.
//!
//! golang-jwt lets the header pick the method and hands it whatever key the keyfunc found, so a
//! mismatch (an HS256 token naming an EC key's kid) is the method's own "key is of invalid type",
//! and a bad signature is the underlying crypto package's error (`crypto/ecdsa: verification
//! error`). `jsonwebtoken` does the arithmetic; only the words are golang-jwt's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::jwk::VerifyingKey;

/// Verifies `signature` (raw bytes) over `message`; the error is what follows "token signature is
/// invalid: " in golang-jwt.
pub fn verify(
    alg: &str,
    key: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let invalid_type = |expects: &str| format!("key is of invalid type: {expects}");
    let (algorithm, decoding, failure) = match (alg, key) {
        ("HS256" | "HS384" | "HS512", VerifyingKey::Secret(secret)) => (
            alg.parse().ok(),
            DecodingKey::from_secret(secret),
            "signature is invalid",
        ),
        ("HS256" | "HS384" | "HS512", _) => return Err(invalid_type("HMAC verify expects []byte")),
        ("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512", VerifyingKey::Rsa(key)) => (
            alg.parse().ok(),
            key.clone(),
            "crypto/rsa: verification error",
        ),
        ("RS256" | "RS384" | "RS512", _) => {
            return Err(invalid_type("RSA verify expects *rsa.PublicKey"));
        }
        ("PS256" | "PS384" | "PS512", _) => {
            return Err(invalid_type("RSA-PSS verify expects *rsa.PublicKey"));
        }
        ("ES256" | "ES384" | "ES512", VerifyingKey::Ec { key, .. }) => {
            // golang-jwt rejects a signature of the wrong length before any arithmetic; ES512
            // (P-521) cannot be configured here, so nothing verifies under it.
            let expected = match alg {
                "ES256" => Some(64),
                "ES384" => Some(96),
                _ => None,
            };
            if expected != Some(signature.len()) {
                return Err("crypto/ecdsa: verification error".into());
            }
            (
                alg.parse().ok(),
                key.clone(),
                "crypto/ecdsa: verification error",
            )
        }
        ("ES256" | "ES384" | "ES512", _) => {
            return Err(invalid_type("ECDSA verify expects *ecdsa.PublicKey"));
        }
        ("EdDSA", VerifyingKey::Ed25519(key)) => (
            Some(Algorithm::EdDSA),
            key.clone(),
            "ed25519: verification error",
        ),
        ("EdDSA", _) => return Err(invalid_type("Ed25519 verify expects ed25519.PublicKey")),
        // Only reachable when GOTRUE_JWT_VALID_METHODS lists "none": golang-jwt's none method
        // refuses every real key.
        _ => return Err("token is unverifiable: 'none' signature type is not allowed".into()),
    };
    let algorithm: Algorithm = algorithm.expect("every alg matched above is a jsonwebtoken one");
    // Go decodes leniently (trailing bits ignored); hand jsonwebtoken the canonical encoding.
    let encoded = URL_SAFE_NO_PAD.encode(signature);
    match jsonwebtoken::crypto::verify(&encoded, message, &decoding, algorithm) {
        Ok(true) => Ok(()),
        _ => Err(failure.into()),
    }
}
