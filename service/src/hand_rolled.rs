//! A JWKS verifier as teams write one by hand after the switch to signing keys, flaws kept:
//!
//! - the JWKS is fetched at the first request and kept for the life of the process
//!   ([`CachePolicy::Forever`]): after a rotation the new key's tokens are refused, and a
//!   revoked key's accepted, until the service restarts;
//! - a key the token offers is used: an embedded `jwk` header verifies the token with the
//!   attacker's own key, and a `jku` header is fetched (CVE-2018-0114 and its kin);
//! - every failure is the caller's: a JWKS that cannot be fetched answers 401, so an outage
//!   of the auth server reads as a bad token.
//!
//! [`CachePolicy::Forever`]: crate::jwks::CachePolicy::Forever

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::auth::{AuthFailure, User};
use crate::jwks::{JwksClient, Lookup};
use crate::local::user_of;

/// The hand-written verifier.
pub(crate) struct HandRolledVerifier {
    secret: DecodingKey,
    jwks: JwksClient,
    http: reqwest::Client,
}

impl HandRolledVerifier {
    pub(crate) fn new(secret: &str, jwks: JwksClient, http: reqwest::Client) -> Self {
        HandRolledVerifier {
            secret: DecodingKey::from_secret(secret.as_bytes()),
            jwks,
            http,
        }
    }

    /// Every failure, whatever its cause, is [`AuthFailure::InvalidLocally`] (a 401).
    pub(crate) async fn verify(&self, token: &str) -> Result<User, AuthFailure> {
        let rejected = AuthFailure::InvalidLocally;
        let header = jsonwebtoken::decode_header(token).map_err(|e| rejected(e.to_string()))?;
        let key = if let Some(jwk) = &header.jwk {
            tracing::info!("verifying with the key the token carries (its `jwk` header)");
            from_jwk(jwk)?
        } else if let Some(jku) = &header.jku {
            tracing::info!(jku = %jku, "fetching the key set the token names (its `jku` header)");
            let kid = header.kid.as_deref().unwrap_or_default();
            let set = self.fetch(jku).await.map_err(rejected)?;
            let jwk = set
                .find(kid)
                .ok_or_else(|| rejected(format!("no key {kid} at {jku}")))?;
            from_jwk(jwk)?
        } else if matches!(header.alg, Algorithm::HS256) {
            self.secret.clone()
        } else {
            let kid = header
                .kid
                .ok_or_else(|| rejected("no kid in the token".to_owned()))?;
            match self.jwks.find(&kid).await {
                Ok(Lookup::Found(jwk)) => from_jwk(&jwk)?,
                Ok(Lookup::Missing { .. }) => {
                    return Err(rejected(format!("no key with kid {kid} in the JWKS")));
                }
                Err(unavailable) => return Err(rejected(unavailable.to_string())),
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| rejected(format!("{e}")))?;
        user_of(data.claims)
    }

    /// A key set from wherever the token says (no allow-list: the flaw).
    async fn fetch(&self, url: &str) -> Result<JwkSet, String> {
        let response = self.http.get(url).send().await.map_err(|e| {
            // The resolver's own words differ between machines; what failed does not.
            let what = if e.is_timeout() {
                "timed out"
            } else {
                "connection failed"
            };
            format!("fetching {url}: {what}")
        })?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| format!("fetching {url}: not a JWK Set: {e}"))
    }
}

fn from_jwk(jwk: &Jwk) -> Result<DecodingKey, AuthFailure> {
    DecodingKey::from_jwk(jwk)
        .map_err(|e| AuthFailure::InvalidLocally(format!("unusable JWK: {e}")))
}
