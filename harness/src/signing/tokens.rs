//! Tokens about signing keys, each made from a real access token's claims so that only the key,
//! the header or the algorithm differs: a rejection then proves that one cause (as
//! [`crate::run::tokens`] does for expiry, signature and claim faults).
//!
//! What GoTrue answers to each, on `/user` with the CLI's valid methods:
//!
//! | kind | GoTrue |
//! |---|---|
//! | `es256` | accepted (the in-use key) |
//! | `hs256-legacy` | accepted (HS256 falls back to the secret) |
//! | `previously-used-key` | accepted while the key is previously used |
//! | `revoked-key` | 403 "unrecognized JWT kid <kid> for algorithm ES256" |
//! | `unknown-kid` | 403 "unrecognized JWT kid no-such-key-0000 for algorithm ES256" |
//! | `key-confusion` | 403 "key is of invalid type: HMAC verify expects []byte" |
//! | `embedded-jwk` | 403 "unrecognized JWT kid <nil> for algorithm ES256" |
//! | `jku` | 403 "unrecognized JWT kid <attacker's kid> for algorithm ES256" |
//! | `wrong-alg` | 403 "key is of invalid type: RSA verify expects *rsa.PublicKey" |
//! | `wrong-curve` | 403 "crypto/ecdsa: verification error" |

use std::sync::OnceLock;

use serde_json::Value;

use super::SigningError;
use super::jwk::{KeyAlgorithm, SigningJwk};
use super::jws::{Header, compact};
use super::rotation::{KeySet, KeyState};
use crate::run::tokens::{UNKNOWN_KID, claims_of};

/// Where a `jku` token says its key set is: `.invalid` never resolves (RFC 2606), so a verifier
/// that follows it fails without sending anything anywhere.
pub const ATTACKER_JKU: &str = "https://attacker.invalid/.well-known/jwks.json";

/// A token kind a scenario may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyTokenKind {
    /// The user's claims signed by the in-use key.
    Es256,
    /// The user's claims signed HS256 with the JWT secret, no kid.
    Hs256Legacy,
    /// Signed by a previously used key, with its kid.
    PreviouslyUsedKey,
    /// Signed by a revoked key, with its kid.
    RevokedKey,
    /// Signed by the in-use key under a kid no key has.
    UnknownKid,
    /// HS256 with the in-use key's public key (SPKI PEM) as the HMAC secret, and its kid.
    KeyConfusion,
    /// The attacker's own public key in the `jwk` header, signed with it.
    EmbeddedJwk,
    /// A `jku` header pointing at the attacker's key set, signed with the attacker's key.
    Jku,
    /// The in-use kid with another algorithm (RS256 for an EC key, ES256 for an RSA key),
    /// signed by the attacker.
    WrongAlg,
    /// The in-use kid and alg ES256, signed on P-384 by the attacker.
    WrongCurve,
}

impl KeyTokenKind {
    /// Every kind, in the order of the table above.
    pub const ALL: [KeyTokenKind; 10] = [
        KeyTokenKind::Es256,
        KeyTokenKind::Hs256Legacy,
        KeyTokenKind::PreviouslyUsedKey,
        KeyTokenKind::RevokedKey,
        KeyTokenKind::UnknownKid,
        KeyTokenKind::KeyConfusion,
        KeyTokenKind::EmbeddedJwk,
        KeyTokenKind::Jku,
        KeyTokenKind::WrongAlg,
        KeyTokenKind::WrongCurve,
    ];

    /// The scenario name, e.g. `previously-used-key`.
    pub fn name(self) -> &'static str {
        match self {
            KeyTokenKind::Es256 => "es256",
            KeyTokenKind::Hs256Legacy => "hs256-legacy",
            KeyTokenKind::PreviouslyUsedKey => "previously-used-key",
            KeyTokenKind::RevokedKey => "revoked-key",
            KeyTokenKind::UnknownKid => "unknown-kid",
            KeyTokenKind::KeyConfusion => "key-confusion",
            KeyTokenKind::EmbeddedJwk => "embedded-jwk",
            KeyTokenKind::Jku => "jku",
            KeyTokenKind::WrongAlg => "wrong-alg",
            KeyTokenKind::WrongCurve => "wrong-curve",
        }
    }
}

impl std::fmt::Display for KeyTokenKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyTokenKind {
    type Err = SigningError;

    fn from_str(text: &str) -> Result<Self, SigningError> {
        KeyTokenKind::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| SigningError::UnknownTokenKind(text.to_owned()))
    }
}

/// Keys nobody trusts: the attacker's. Made on first use (an RSA key takes a moment).
#[derive(Debug, Default)]
pub struct Attacker {
    jku: Option<String>,
    p256: OnceLock<SigningJwk>,
    rsa: OnceLock<SigningJwk>,
    /// PKCS#8 DER: the harness has no P-384 JWKs, only this one key to sign with.
    p384: OnceLock<Vec<u8>>,
}

impl Attacker {
    /// An attacker whose `jku` tokens point at [`ATTACKER_JKU`].
    pub fn new() -> Self {
        Attacker::default()
    }

    /// Points `jku` tokens at `url` instead (a test's own server, to see whether a verifier
    /// fetches it).
    pub fn with_jku(self, url: impl Into<String>) -> Self {
        Attacker {
            jku: Some(url.into()),
            ..self
        }
    }

    /// The `jku` URL.
    pub fn jku(&self) -> &str {
        self.jku.as_deref().unwrap_or(ATTACKER_JKU)
    }

    /// The attacker's ES256 key.
    pub fn es256_key(&self) -> Result<&SigningJwk, SigningError> {
        get_or_make(&self.p256, || SigningJwk::generate(KeyAlgorithm::Es256))
    }

    /// The key set the attacker would serve at its `jku` URL.
    pub fn jwks(&self) -> Result<Value, SigningError> {
        KeySet::new(self.es256_key()?.clone()).jwks()
    }

    fn rs256_key(&self) -> Result<&SigningJwk, SigningError> {
        get_or_make(&self.rsa, || SigningJwk::generate(KeyAlgorithm::Rs256))
    }

    fn p384_key(&self) -> Result<jsonwebtoken::EncodingKey, SigningError> {
        let der = get_or_make(&self.p384, || {
            use p384::elliptic_curve::Generate;
            use p384::pkcs8::EncodePrivateKey;
            let der = p384::SecretKey::generate()
                .to_pkcs8_der()
                .map_err(|e| SigningError::Crypto(e.to_string()))?;
            Ok(der.as_bytes().to_vec())
        })?;
        Ok(jsonwebtoken::EncodingKey::from_ec_der(der))
    }
}

fn get_or_make<T>(
    cell: &OnceLock<T>,
    make: impl FnOnce() -> Result<T, SigningError>,
) -> Result<&T, SigningError> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = make()?;
    Ok(cell.get_or_init(|| value))
}

/// Makes a `kind` token from `valid` (an access token the auth server issued), with the keys of
/// `keys`, the JWT `secret` and the `attacker`'s keys.
pub fn mint(
    kind: KeyTokenKind,
    valid: &str,
    keys: &KeySet,
    secret: &str,
    attacker: &Attacker,
) -> Result<String, SigningError> {
    let claims = claims_of(valid).map_err(|e| SigningError::NotAJwt(e.to_string()))?;
    let in_use = || keys.in_use().ok_or(SigningError::NoKey(KeyState::InUse));
    let first_in = |state| {
        keys.in_state(state)
            .next()
            .ok_or(SigningError::NoKey(state))
    };
    match kind {
        KeyTokenKind::Es256 => {
            let key = in_use()?;
            if key.kty == "oct" {
                return Err(SigningError::NotApplicable {
                    kind,
                    why: "the key in use is the imported JWT secret (HS256): promote an \
                          asymmetric key first",
                });
            }
            signed_by(key, key.kid(), &claims)
        }
        KeyTokenKind::PreviouslyUsedKey => {
            let key = first_in(KeyState::PreviouslyUsed)?;
            signed_by(key, key.kid(), &claims)
        }
        KeyTokenKind::RevokedKey => {
            let key = first_in(KeyState::Revoked)?;
            signed_by(key, key.kid(), &claims)
        }
        KeyTokenKind::UnknownKid => signed_by(in_use()?, UNKNOWN_KID, &claims),
        KeyTokenKind::Hs256Legacy => hmac(Header::new("HS256"), secret.as_bytes(), &claims),
        KeyTokenKind::KeyConfusion => {
            let key = in_use()?;
            let pem = key.public_key_pem()?;
            hmac(
                Header::new("HS256").with("kid", key.kid()),
                pem.as_bytes(),
                &claims,
            )
        }
        KeyTokenKind::EmbeddedJwk => {
            let own = attacker.es256_key()?;
            let public = own.to_gotrue()?.public_jwk();
            let header = Header::new("ES256").with(
                "jwk",
                serde_json::to_value(public).expect("a JWK serialises"),
            );
            let signer = own.signer()?;
            compact(&header, &claims, |m| signer.sign(m))
        }
        KeyTokenKind::Jku => {
            let own = attacker.es256_key()?;
            let header = Header::new("ES256")
                .with("jku", attacker.jku())
                .with("kid", own.kid());
            let signer = own.signer()?;
            compact(&header, &claims, |m| signer.sign(m))
        }
        KeyTokenKind::WrongAlg => {
            let target = in_use()?;
            let own = if target.kty == "RSA" {
                attacker.es256_key()?
            } else {
                attacker.rs256_key()?
            };
            signed_by(own, target.kid(), &claims)
        }
        KeyTokenKind::WrongCurve => {
            let target = in_use()?;
            if target.alg.as_deref() != Some("ES256") {
                return Err(SigningError::NotApplicable {
                    kind,
                    why: "it needs an ES256 key in use",
                });
            }
            let p384 = attacker.p384_key()?;
            let header = Header::new("ES256").with("kid", target.kid());
            compact(&header, &claims, |m| {
                jsonwebtoken::crypto::sign(m, &p384, jsonwebtoken::Algorithm::ES384)
            })
        }
    }
}

/// `claims` signed as the auth server signs what it issues with `keys`: by the in-use key with
/// its kid, or HS256 with `secret` and no kid when no key is in use (the legacy profile). Tokens
/// that differ from an issued one in a claim only are made with it, so the claim is the one
/// difference a verifier sees.
pub fn sign_as_issued(
    keys: &KeySet,
    secret: &str,
    claims: &serde_json::Map<String, Value>,
) -> Result<String, SigningError> {
    match keys.in_use() {
        Some(key) => signed_by(key, key.kid(), claims),
        None => hmac(Header::new("HS256"), secret.as_bytes(), claims),
    }
}

/// `claims` signed by `key` with the method GoTrue would use for it, under `kid`.
fn signed_by(
    key: &SigningJwk,
    kid: &str,
    claims: &serde_json::Map<String, Value>,
) -> Result<String, SigningError> {
    let signer = key.signer()?;
    let header = Header::new(&format!("{:?}", signer.alg())).with("kid", kid);
    compact(&header, claims, |m| signer.sign(m))
}

fn hmac(
    header: Header,
    secret: &[u8],
    claims: &serde_json::Map<String, Value>,
) -> Result<String, SigningError> {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    compact(&header, claims, |m| {
        jsonwebtoken::crypto::sign(m, &key, jsonwebtoken::Algorithm::HS256)
    })
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
