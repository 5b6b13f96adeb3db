//! A project's API keys as the CLI issues them (cli:`pkg/config/apikeys.go`): the legacy `anon`
//! and `service_role` JWTs, and the opaque `sb_publishable_…` / `sb_secret_…` keys.
//!
//! The JWTs are HS256 over the JWT secret with `{"iss":"supabase-demo","role":…,"exp":1983812996}`
//! (the well-known demo keys), except when `signing_keys_path` is set: then they are signed with
//! the file's first key (its kid in the header) and expire ten years from when they are minted
//! (cli#4778). The opaque keys are the CLI's hard-coded defaults: a gateway swaps them for the
//! anon / service_role JWT, nothing else parses them.

use serde::Serialize;

use super::SigningError;
use super::jwk::SigningJwk;
use super::jws::{Header, compact};

/// The Supabase CLI's JWT secret (`supabase status` shows it as JWT secret): GoTrue's HS256
/// secret, PostgREST's `oct` key, and what the anon and service_role demo keys are signed with.
pub const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// The CLI's default publishable key (replaces the anon key for clients).
pub const PUBLISHABLE_KEY: &str = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
/// The CLI's default secret key (replaces the service_role key for servers).
pub const SECRET_KEY: &str = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

/// Expiry of the HS256 demo keys (2032-11-12).
const DEMO_EXPIRY: i64 = 1_983_812_996;
/// What the CLI adds to now for asymmetric API keys: 24 h × 365 × 10.
const TEN_YEARS: i64 = 24 * 365 * 10 * 3600;

/// The opaque new-style keys; None for a stack older than them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueKeys {
    pub publishable: String,
    pub secret: String,
}

impl OpaqueKeys {
    /// The CLI's defaults.
    pub fn cli() -> Self {
        OpaqueKeys {
            publishable: PUBLISHABLE_KEY.into(),
            secret: SECRET_KEY.into(),
        }
    }
}

/// The anon and service_role JWTs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyApiKeys {
    pub anon: String,
    pub service_role: String,
}

/// The CLI's `CustomClaims` as it serialises them: iss, role, exp.
#[derive(Serialize)]
struct ApiKeyClaims<'a> {
    iss: &'a str,
    role: &'a str,
    exp: i64,
}

impl LegacyApiKeys {
    /// HS256 keys over `secret`: with the CLI's secret, byte for byte the CLI's demo keys.
    pub fn hs256(secret: &str) -> Self {
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        let mint = |role| {
            let claims = ApiKeyClaims {
                iss: "supabase-demo",
                role,
                exp: DEMO_EXPIRY,
            };
            compact(&Header::new("HS256"), &claims, |message| {
                jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::HS256)
            })
            .expect("HMAC signing cannot fail")
        };
        LegacyApiKeys {
            anon: mint("anon"),
            service_role: mint("service_role"),
        }
    }

    /// Keys signed with `key` (the signing-keys file's first), expiring ten years after `now`.
    pub fn signed_with(key: &SigningJwk, now: i64) -> Result<Self, SigningError> {
        let signer = key.signer()?;
        let alg = format!("{:?}", signer.alg());
        let mut header = Header::new(&alg);
        if !key.kid().is_empty() {
            header = header.with("kid", key.kid());
        }
        let mint = |role| {
            let claims = ApiKeyClaims {
                iss: "supabase-demo",
                role,
                exp: now + TEN_YEARS,
            };
            compact(&header, &claims, |message| signer.sign(message))
        };
        Ok(LegacyApiKeys {
            anon: mint("anon")?,
            service_role: mint("service_role")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    #[test]
    fn hs256_keys_are_the_clis_demo_keys_byte_for_byte() {
        let keys = LegacyApiKeys::hs256(JWT_SECRET);
        assert_eq!(keys.anon, CLI_ANON_KEY);
        assert_eq!(keys.service_role, CLI_SERVICE_ROLE_KEY);
    }

    #[test]
    fn hs256_keys_verify_with_the_secret_and_carry_the_role() {
        let keys = LegacyApiKeys::hs256(JWT_SECRET);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
        let data = jsonwebtoken::decode::<serde_json::Value>(&keys.service_role, &key, &validation)
            .expect("service_role key verifies");
        assert_eq!(data.claims["role"], "service_role");
    }

    #[test]
    fn another_secret_gives_other_signatures_over_the_same_segments() {
        let keys = LegacyApiKeys::hs256("another-secret-that-is-at-least-32-characters");
        assert_ne!(keys.anon, CLI_ANON_KEY);
        assert_eq!(
            keys.anon.rsplit_once('.').unwrap().0,
            CLI_ANON_KEY.rsplit_once('.').unwrap().0
        );
    }

    #[test]
    fn asymmetric_keys_carry_the_kid_and_expire_in_ten_years() {
        let key = SigningJwk::cli_default();
        let keys = LegacyApiKeys::signed_with(&key, 1_700_000_000).unwrap();
        let header = jsonwebtoken::decode_header(&keys.service_role).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        let claims = crate::run::tokens::claims_of(&keys.anon).unwrap();
        assert_eq!(
            serde_json::Value::Object(claims),
            serde_json::json!({"iss": "supabase-demo", "role": "anon", "exp": 1_700_000_000 + TEN_YEARS})
        );
        let payload = keys.anon.split('.').nth(1).unwrap();
        assert!(
            payload.starts_with("eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24i"),
            "iss, role, exp in the CLI's order"
        );
    }
}
