//! Verifying a token the way supabase-js `auth.getClaims(jwt)` does (auth-js
//! `GoTrueClient.getClaims`, 2026): locally against the JWKS when it can, through `GET /user`
//! where getClaims falls back.
//!
//! In order: three segments of base64url; `exp` present and in the future; then an `alg`
//! starting with `HS`, or no `kid`, goes to `GET /user`; otherwise the kid is looked up in the
//! JWKS, cached for 10 minutes and fetched again once for a kid it lacks; a kid still missing
//! also goes to `GET /user` (auth-js #1080, for rotations faster than the caches); only ES256
//! and RS256 are verified locally. Like getClaims it checks neither `iss`, `aud` nor the
//! session, so a logged-out session's token, or a revoked key's while the cache still holds
//! it, verifies until it expires.
//!
//! Where getClaims is vague this stage tells the truth: a JWKS it cannot fetch is the auth
//! server's outage (503), and a kid no fresh JWKS has, refused by the auth server too, is
//! reported as exactly that.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::auth::{AuthClient, AuthFailure, User};
use crate::jwks::{JwksClient, Lookup};
use crate::local::user_of;

/// getClaims' verification, with the JWKS cache it keeps.
pub(crate) struct ClaimsVerifier {
    jwks: JwksClient,
}

impl ClaimsVerifier {
    pub(crate) fn new(jwks: JwksClient) -> ClaimsVerifier {
        ClaimsVerifier { jwks }
    }

    /// The token's user; `auth` is asked (`GET /user`) where getClaims asks the server.
    pub(crate) async fn verify(&self, token: &str, auth: &AuthClient) -> Result<User, AuthFailure> {
        let rejected = |why: &str| AuthFailure::InvalidLocally(why.to_owned());
        let segments: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = segments[..] else {
            return Err(rejected("Invalid JWT structure"));
        };
        let decode = |segment: &str| -> Option<Value> {
            let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .filter(Value::is_object)
        };
        let (Some(header_json), Some(claims)) = (decode(header), decode(payload)) else {
            return Err(rejected("JWT not in base64url format"));
        };
        match claims.get("exp").and_then(Value::as_f64) {
            None => return Err(rejected("Missing exp claim")),
            Some(exp) if exp <= now() => return Err(rejected("JWT has expired")),
            Some(_) => {}
        }
        for offered in ["jwk", "jku", "x5u", "x5c"] {
            if header_json.get(offered).is_some() {
                tracing::info!(
                    "the token offers its own key (a `{offered}` header): never used, only the \
                     project's JWKS is trusted"
                );
            }
        }
        let alg = header_json
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kid = header_json.get("kid").and_then(Value::as_str);
        let kid = match kid {
            Some(kid) if !alg.is_empty() && !alg.starts_with("HS") => kid,
            _ => {
                let why = if alg.starts_with("HS") {
                    format!("an {alg} token")
                } else {
                    "a token without a kid".to_owned()
                };
                tracing::info!(
                    "{why} cannot be verified with the JWKS: asking the auth server (GET /user), \
                     as getClaims does"
                );
                return auth.remote_user(token).await;
            }
        };
        let jwk = match self.jwks.find(kid).await {
            Ok(Lookup::Found(jwk)) => jwk,
            Ok(Lookup::Missing { .. }) => {
                tracing::info!(
                    kid,
                    "the kid is not in the JWKS, even freshly fetched: asking the auth server \
                     (GET /user), as getClaims does"
                );
                return match auth.remote_user(token).await {
                    Err(AuthFailure::Rejected {
                        status,
                        code,
                        message,
                    }) => Err(AuthFailure::UnknownKid {
                        kid: kid.to_owned(),
                        detail: format!(
                            "the auth server refused it too: {status} {code}: {message}"
                        ),
                    }),
                    other => other,
                };
            }
            Err(unavailable) => return Err(AuthFailure::Unavailable(unavailable.to_string())),
        };
        let alg = match alg {
            "ES256" => Algorithm::ES256,
            "RS256" => Algorithm::RS256,
            other => return Err(rejected(&format!("Invalid alg claim: {other}"))),
        };
        let message = format!("{header}.{payload}");
        let verified = DecodingKey::from_jwk(&jwk)
            .and_then(|key| jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, alg));
        if !matches!(verified, Ok(true)) {
            return Err(rejected("Invalid JWT signature"));
        }
        user_of(claims)
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
