//! The Supabase CLI's well-known development secret and API keys.
//!
//! Services and client libraries are configured with these exact strings in local development,
//! so the stack mints the same bytes: an HS256 JWT whose header and claims are serialised in the
//! CLI's order. `jsonwebtoken` writes the header as `{"typ":…,"alg":…}`, which would give a
//! different (equally valid, but not byte-identical) token, so the segments are built here and
//! only the signature comes from `jsonwebtoken`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::Serialize;

/// The Supabase CLI's JWT secret (`supabase status` shows it as JWT secret).
pub const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// The CLI keys' issuer and expiry (2032-11-12); they carry no `iat`, `sub` or `aud`.
const ISSUER: &str = "supabase-demo";
const EXPIRES_AT: i64 = 1_983_812_996;

/// Field order is the wire order: it must stay iss, role, exp.
#[derive(Serialize)]
struct ApiKeyClaims<'a> {
    iss: &'a str,
    role: &'a str,
    exp: i64,
}

/// The anon and service_role keys signed with one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiKeys {
    pub anon: String,
    pub service_role: String,
}

impl ApiKeys {
    pub(crate) fn mint(secret: &str) -> Self {
        Self {
            anon: api_key(secret, "anon"),
            service_role: api_key(secret, "service_role"),
        }
    }
}

/// An HS256 API key for `role`, as the CLI mints it.
fn api_key(secret: &str, role: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = ApiKeyClaims {
        iss: ISSUER,
        role,
        exp: EXPIRES_AT,
    };
    let claims = serde_json::to_vec(&claims).expect("claims serialise");
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let key = EncodingKey::from_secret(secret.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signing cannot fail");
    format!("{message}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    #[test]
    fn keys_equal_the_cli_well_known_keys_byte_for_byte() {
        let keys = ApiKeys::mint(JWT_SECRET);
        assert_eq!(keys.anon, CLI_ANON_KEY);
        assert_eq!(keys.service_role, CLI_SERVICE_ROLE_KEY);
    }

    #[test]
    fn keys_verify_with_the_secret_and_carry_the_role() {
        let keys = ApiKeys::mint(JWT_SECRET);
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
        let data = jsonwebtoken::decode::<serde_json::Value>(&keys.service_role, &key, &validation)
            .expect("service_role key verifies");
        assert_eq!(data.claims["role"], "service_role");
    }

    #[test]
    fn another_secret_gives_other_signatures() {
        let keys = ApiKeys::mint("another-secret-that-is-at-least-32-characters");
        assert_ne!(keys.anon, CLI_ANON_KEY);
        assert_eq!(
            keys.anon.rsplit_once('.').unwrap().0,
            CLI_ANON_KEY.rsplit_once('.').unwrap().0
        );
    }
}
