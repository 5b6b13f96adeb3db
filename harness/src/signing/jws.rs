//! Compact JWS assembly from a header and claims the caller chose, so a token can say anything an
//! attacker would make it say (`jwk`, `jku`, a kid and an alg that do not belong together) and
//! still carry a real signature.
//!
//! Headers are written with their keys sorted, as golang-jwt (a Go map) writes them for GoTrue
//! and the CLI; `jsonwebtoken::encode` would reorder them and refuse unknown algs.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;

use super::SigningError;

/// A JOSE header under construction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header(BTreeMap<&'static str, Value>);

impl Header {
    /// `{"alg": alg, "typ": "JWT"}`.
    pub(crate) fn new(alg: &str) -> Self {
        Header::default().with("alg", alg).with("typ", "JWT")
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.0.insert(name, value.into());
        self
    }
}

/// `header.claims.signature`, where `sign` turns `header.claims` into a base64url signature.
pub(crate) fn compact(
    header: &Header,
    claims: &impl Serialize,
    sign: impl FnOnce(&[u8]) -> Result<String, jsonwebtoken::errors::Error>,
) -> Result<String, SigningError> {
    let header =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header.0).expect("a header serialises"));
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let message = format!("{header}.{claims}");
    let signature = sign(message.as_bytes()).map_err(|e| SigningError::Crypto(e.to_string()))?;
    Ok(format!("{message}.{signature}"))
}
