//! Verifying a token in the service itself, as GoTrue would (signature, `exp`, `aud` =
//! authenticated, a UUID `sub`), without asking the auth server.
//!
//! HS256 tokens are checked against the project's JWT secret. Tokens signed with an asymmetric
//! key (ES256, RS256, with a kid: what `supabase start` issues since CLI v2.71) are checked
//! against the project's JWKS when the verifier has one ([`LocalVerifier::with_jwks`]); without
//! it (`secret-only`, the service as it was written before the upgrade) every such token fails
//! with `InvalidAlgorithm`: a valid user refused, which is the cascade the stage reproduces.
//!
//! What no local check can see is the session: a token whose session logged out, or whose key
//! was revoked after the JWKS was cached, verifies until it expires.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{AuthFailure, User};
use crate::jwks::{JwksClient, Lookup};

/// Local verification with the secret and, optionally, the JWKS.
pub(crate) struct LocalVerifier {
    secret: DecodingKey,
    jwks: Option<JwksClient>,
}

impl LocalVerifier {
    /// HS256 with `secret` only.
    pub(crate) fn secret_only(secret: &str) -> LocalVerifier {
        LocalVerifier {
            secret: DecodingKey::from_secret(secret.as_bytes()),
            jwks: None,
        }
    }

    /// HS256 with `secret`, ES256 and RS256 with the keys of `jwks`.
    pub(crate) fn with_jwks(secret: &str, jwks: JwksClient) -> LocalVerifier {
        LocalVerifier {
            jwks: Some(jwks),
            ..LocalVerifier::secret_only(secret)
        }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<User, AuthFailure> {
        let rejected = AuthFailure::InvalidLocally;
        let header = jsonwebtoken::decode_header(token).map_err(|e| rejected(e.to_string()))?;
        let (key, alg) = match (&self.jwks, header.alg) {
            // Without a JWKS every token is taken for an HS256 one: the secret is all there is.
            (None, _) | (Some(_), Algorithm::HS256) => (self.secret.clone(), Algorithm::HS256),
            (Some(jwks), alg @ (Algorithm::ES256 | Algorithm::RS256)) => {
                let kid = header.kid.ok_or_else(|| {
                    rejected(format!(
                        "an {alg:?} token without a kid: no key of the JWKS to verify it with"
                    ))
                })?;
                let jwk = match jwks.find(&kid).await {
                    Ok(Lookup::Found(jwk)) => jwk,
                    Ok(Lookup::Missing { .. }) => {
                        return Err(AuthFailure::UnknownKid {
                            kid,
                            detail: "this stage verifies locally and never asks the auth server"
                                .to_owned(),
                        });
                    }
                    Err(unavailable) => {
                        return Err(AuthFailure::Unavailable(unavailable.to_string()));
                    }
                };
                let key = DecodingKey::from_jwk(&jwk)
                    .map_err(|e| rejected(format!("the JWKS key {kid} is unusable: {e}")))?;
                (key, alg)
            }
            (Some(_), other) => {
                return Err(rejected(format!(
                    "{other:?} tokens are not verified here: HS256 with the secret, ES256 and \
                     RS256 with the JWKS"
                )));
            }
        };
        let mut validation = Validation::new(alg);
        validation.set_audience(&["authenticated"]);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        // GoTrue allows no clock skew either.
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| rejected(format!("{e}")))?;
        user_of(data.claims)
    }
}

/// The user a verified token names: its `sub`, which must be a UUID.
pub(crate) fn user_of(claims: Value) -> Result<User, AuthFailure> {
    let id = claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| sub.parse::<Uuid>().ok())
        .ok_or_else(|| AuthFailure::InvalidLocally("the sub claim is not a UUID".to_owned()))?;
    Ok(User { id, claims })
}
