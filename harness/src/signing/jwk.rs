//! A signing key as the Supabase CLI holds it: its `JWK` struct (cli:`pkg/config/auth.go`),
//! fields in that struct's order, so a key serialises to the bytes `supabase start` passes as
//! `GOTRUE_JWT_KEYS` and `supabase gen signing-key` writes to a file.
//!
//! The CLI reads a `signing_keys_path` file into that struct: unknown fields are dropped, and an
//! `alg` other than RS256 or ES256 fails with "must be one of [RS256 ES256]" (which is how it
//! refuses an `oct`/HS256 key, supabase/cli#4524). Turning a key into a signer goes through the
//! auth crate's GoTrue parser, so the harness signs exactly as its auth server would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::SigningError;

/// The algorithms `supabase gen signing-key --algorithm` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Es256,
    Rs256,
}

impl KeyAlgorithm {
    /// The JWS name, `ES256` or `RS256`.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Es256 => "ES256",
            KeyAlgorithm::Rs256 => "RS256",
        }
    }
}

/// One key of a signing-keys file, in the CLI's field order (`omitempty` everywhere but `kty`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_ops: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// An `oct` key's bytes: only for the JWT secret imported as a key of its own
    /// ([`SigningJwk::imported_secret`]); the CLI's struct has no such field, and files never
    /// reach it ([`parse_signing_keys`] refuses `oct` keys first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

impl std::fmt::Debug for SigningJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A user's own private key must not reach a log through {:?}.
        f.debug_struct("SigningJwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key_ops", &self.key_ops)
            .finish_non_exhaustive()
    }
}

/// The CLI's hard-coded local-development key (cli:`pkg/config/config.go` `NewConfig`): public
/// knowledge, which is why it may live in the repository.
const CLI_SIGNING_KEY: &str = include_str!("cli_signing_key.json");

/// The kid of the CLI's key, in the header of every user token `supabase start` issues.
pub const CLI_KID: &str = "b81269f1-21d8-4f2e-b719-c2240a840d90";

impl SigningJwk {
    /// The CLI's default ES256 signing key.
    pub fn cli_default() -> Self {
        serde_json::from_str(CLI_SIGNING_KEY).expect("the CLI key is valid JSON")
    }

    /// A new key as `supabase gen signing-key --algorithm <alg>` makes it: a UUID kid, `use`
    /// sig, `key_ops` sign+verify, `ext` true; P-256, or RSA 2048 with its CRT values.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, SigningError> {
        let mut key = SigningJwk::new_signing("", alg.name());
        match alg {
            KeyAlgorithm::Es256 => {
                use p256::elliptic_curve::Generate;
                let secret = p256::SecretKey::generate();
                let point = secret.public_key().to_sec1_bytes();
                key.kty = "EC".into();
                key.crv = Some("P-256".into());
                key.x = Some(b64(&point[1..33]));
                key.y = Some(b64(&point[33..]));
                key.d = Some(b64(&secret.to_bytes()));
            }
            KeyAlgorithm::Rs256 => {
                use rsa::traits::{PrivateKeyParts, PublicKeyParts};
                let mut rng = p256::elliptic_curve::common::getrandom::SysRng;
                let private = rsa::PrivateKey::new(&mut rng, 2048)
                    .map_err(|e| SigningError::Crypto(format!("generating an RSA key: {e}")))?;
                let uint = |n: &rsa::BoxedUint| b64(&n.to_be_bytes_trimmed_vartime());
                let primes = private.primes();
                key.kty = "RSA".into();
                key.n = Some(uint(private.n().as_ref()));
                key.e = Some(uint(private.e()));
                key.d = Some(uint(private.d()));
                key.p = Some(uint(primes[0].as_ref()));
                key.q = Some(uint(primes[1].as_ref()));
                key.dp = private.dp().map(uint);
                key.dq = private.dq().map(uint);
                key.qi = private.crt_coefficient().as_ref().map(uint);
            }
        }
        Ok(key)
    }

    /// The project's JWT secret as a key of its own (an `oct` HS256 JWK with a UUID kid,
    /// signing): what the platform makes of a legacy project's secret before its first
    /// rotation, so that an asymmetric standby key can be added and promoted beside it.
    pub fn imported_secret(secret: &str) -> Self {
        SigningJwk {
            k: Some(b64(secret.as_bytes())),
            ..SigningJwk::new_signing("oct", "HS256")
        }
    }

    /// A new signing key's header as the CLI writes it (a UUID kid, `use` sig, `key_ops`
    /// sign+verify, `ext` true), with no key material yet.
    fn new_signing(kty: &str, alg: &str) -> Self {
        SigningJwk {
            kty: kty.into(),
            kid: Some(uuid::Uuid::new_v4().to_string()),
            use_: Some("sig".into()),
            key_ops: vec!["sign".into(), "verify".into()],
            alg: Some(alg.into()),
            ext: Some(true),
            n: None,
            e: None,
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
            crv: None,
            x: None,
            y: None,
            k: None,
        }
    }

    /// The kid, `""` when the key has none.
    pub fn kid(&self) -> &str {
        self.kid.as_deref().unwrap_or_default()
    }

    /// The same key with other `key_ops` (how a key's state is written for GoTrue).
    pub fn with_key_ops(&self, ops: &[&str]) -> Self {
        SigningJwk {
            key_ops: ops.iter().map(|op| (*op).to_owned()).collect(),
            ..self.clone()
        }
    }

    /// The CLI's `ToPublicJWK`: kty, kid, use, alg, ext, the public numbers, and only `verify`
    /// of the key_ops. This is what the CLI hands PostgREST, not what GoTrue publishes.
    pub fn public(&self) -> Self {
        let is = |kty: &str| self.kty == kty;
        SigningJwk {
            kty: self.kty.clone(),
            kid: self.kid.clone(),
            use_: self.use_.clone(),
            key_ops: self
                .key_ops
                .iter()
                .filter(|op| *op == "verify")
                .cloned()
                .collect(),
            alg: self.alg.clone(),
            ext: self.ext,
            n: self.n.clone().filter(|_| is("RSA")),
            e: self.e.clone().filter(|_| is("RSA")),
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
            crv: self.crv.clone().filter(|_| is("EC")),
            x: self.x.clone().filter(|_| is("EC")),
            y: self.y.clone().filter(|_| is("EC")),
            // A secret has no public half; PostgREST gets it as a secret (see ProjectKeys).
            k: None,
        }
    }

    /// The key as the auth server parses it from `GOTRUE_JWT_KEYS`.
    pub fn to_gotrue(&self) -> Result<auth::jwk::Jwk, SigningError> {
        let value = serde_json::to_value(self).expect("a JWK serialises");
        auth::jwk::Jwk::parse(&value).map_err(|problem| SigningError::Key {
            kid: self.kid().to_owned(),
            problem: problem.to_string(),
        })
    }

    /// A signer for this key whatever its `key_ops` (a revoked key still signs attackers'
    /// tokens), with the method GoTrue would pick.
    pub fn signer(&self) -> Result<auth::signer::Signer, SigningError> {
        self.with_key_ops(&["sign", "verify"])
            .to_gotrue()?
            .signer()
            .map_err(|problem| SigningError::Key {
                kid: self.kid().to_owned(),
                problem: problem.to_string(),
            })
    }

    /// The public key as SPKI PEM: what an attacker gets by converting the published JWK, and
    /// the "secret" of a key-confusion token.
    pub fn public_key_pem(&self) -> Result<String, SigningError> {
        use p256::pkcs8::{EncodePublicKey, LineEnding};
        let decode = |field: &Option<String>, name: &str| {
            field
                .as_deref()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or_else(|| SigningError::Key {
                    kid: self.kid().to_owned(),
                    problem: format!("no base64url {name:?}"),
                })
        };
        let crypto = |e: &dyn std::fmt::Display| SigningError::Crypto(e.to_string());
        match self.kty.as_str() {
            "EC" => {
                let point = [vec![4], decode(&self.x, "x")?, decode(&self.y, "y")?].concat();
                let public = p256::PublicKey::from_sec1_bytes(&point).map_err(|e| crypto(&e))?;
                public
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| crypto(&e))
            }
            "RSA" => {
                use rsa::BoxedUint;
                let uint = |b: Vec<u8>| BoxedUint::from_be_slice_vartime(&b);
                let public =
                    rsa::PublicKey::new(uint(decode(&self.n, "n")?), uint(decode(&self.e, "e")?))
                        .map_err(|e| crypto(&e))?;
                public
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| crypto(&e))
            }
            other => Err(SigningError::Key {
                kid: self.kid().to_owned(),
                problem: format!("a {other} key has no public key PEM"),
            }),
        }
    }
}

/// Reads a `signing_keys_path` file as the CLI does; `source` names it in errors.
pub fn parse_signing_keys(text: &str, source: &str) -> Result<Vec<SigningJwk>, SigningError> {
    let keys: Vec<SigningJwk> =
        serde_json::from_str(text).map_err(|e| SigningError::SigningKeysFile {
            file: source.to_owned(),
            reason: e.to_string(),
        })?;
    for (index, key) in keys.iter().enumerate() {
        let refused = |reason: String| SigningError::SigningKeysFile {
            file: source.to_owned(),
            reason: format!("key {} (kid {:?}): {reason}", index + 1, key.kid()),
        };
        match key.alg.as_deref() {
            None | Some("RS256" | "ES256") => {}
            Some(other) => {
                return Err(refused(format!(
                    "must be one of [RS256 ES256] (alg {other:?}): the CLI takes no HS256/oct keys in signing_keys_path"
                )));
            }
        }
        if key.kty == "oct" {
            // Without an alg the CLI parses it, drops its "k" (the struct has none) and GoTrue
            // then refuses to start ("required field k is missing").
            return Err(refused(
                "an oct key: the CLI drops its \"k\", and GoTrue then refuses to start".into(),
            ));
        }
    }
    Ok(keys)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
#[path = "jwk_tests.rs"]
pub(crate) mod tests;
