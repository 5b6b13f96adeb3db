//! One JSON Web Key of `GOTRUE_JWT_KEYS`, read the way GoTrue reads it, and the keys it yields.
//!
//! GoTrue parses each entry with lestrrat-go/jwx v2 (`jwk.ParseKey`, then `Validate`), so the
//! rules and the wording here are jwx's: `kty` picks the type, a `d` makes it a private key, the
//! required fields of that type must be present ("required field x is missing"), and EC
//! coordinates must have the curve's length. jwx keeps every other field as given, which is why
//! the public form ([`Jwk::public_jwk`]) is the whole object minus the private parameters, with
//! `use: "sig"` and `key_ops: ["verify"]` forced on it as GoTrue's `decodePublicKey` does.
//!
//! jwx only checks a key's shape; a signing key that cannot sign makes GoTrue start and then
//! answer every sign-in with a 500. [`Jwk::signer`] (in [`crate::signer`]) refuses such a key
//! instead, naming why, so a misconfigured stand-in fails at boot and never passes for a broken
//! project.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};

/// An EC curve a key may name. P-521 parses in GoTrue but `jsonwebtoken` has no ES512.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    /// Bytes of a coordinate (and of `d`).
    pub fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }
}

/// The public half of a key, as GoTrue's keyfunc hands it to golang-jwt.
#[derive(Clone)]
pub enum VerifyingKey {
    /// HMAC key bytes: an `oct` key, or `GOTRUE_JWT_SECRET`.
    Secret(Vec<u8>),
    Ec {
        curve: Curve,
        key: DecodingKey,
    },
    Rsa(DecodingKey),
    Ed25519(DecodingKey),
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key bytes: an HMAC key is a secret.
        match self {
            VerifyingKey::Secret(_) => f.write_str("Secret(..)"),
            VerifyingKey::Ec { curve, .. } => write!(f, "Ec({})", curve.name()),
            VerifyingKey::Rsa(_) => f.write_str("Rsa(..)"),
            VerifyingKey::Ed25519(_) => f.write_str("Ed25519(..)"),
        }
    }
}

/// What is wrong with one key, in jwx's words where jwx has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkProblem {
    #[error("is not a JSON object")]
    NotAnObject,
    #[error("invalid key type from JSON ({0})")]
    InvalidKeyType(String),
    #[error("required field {0} is missing")]
    MissingField(&'static str),
    #[error("field {0} must be a string")]
    NotAString(&'static str),
    #[error("field key_ops must be an array of strings")]
    BadKeyOps,
    #[error("field {0} is not base64url")]
    NotBase64(&'static str),
    #[error("missing {0:?} value")]
    Empty(&'static str),
    #[error("invalid curve algorithm {0:?}")]
    InvalidCurve(String),
    #[error(
        "curve {0} is not supported by this stand-in (jsonwebtoken has no P-521/ES512); use P-256"
    )]
    UnsupportedCurve(String),
    #[error("invalid {field:?} length ({len}) for curve {curve:?}")]
    InvalidLength {
        field: &'static str,
        len: usize,
        curve: &'static str,
    },
    #[error(
        "has {bits}-bit RSA modulus; this stand-in's RSA (ring) needs 2048 to 8192 bits, use a 2048-bit key"
    )]
    RsaSize { bits: usize },
    #[error(
        "signs but has no private part (no \"d\"); GoTrue would start and fail every sign-in; add \"d\" or drop \"sign\" from key_ops"
    )]
    NotPrivate,
    #[error(
        "signs with {method} (alg {alg:?}) but is a {kty} key; GoTrue would start and fail every sign-in; set \"alg\" to match the key (RS256, ES256, EdDSA; HS256 for oct)"
    )]
    WrongKeyForMethod {
        method: &'static str,
        alg: String,
        kty: &'static str,
    },
    #[error(
        "signs with ES512, which this stand-in cannot do (jsonwebtoken has no P-521); use ES256"
    )]
    Es512,
    #[error("is an RSA signing key without \"p\" and \"q\"; GoTrue cannot sign with it; add them")]
    RsaWithoutPrimes,
    #[error("has a private part that does not match its public part: {0}")]
    Mismatch(String),
    #[error("cannot be used to sign: {0}")]
    Crypto(String),
}

/// The key material of a parsed JWK.
#[derive(Clone)]
pub(crate) enum Material {
    Oct(Vec<u8>),
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
        d: Option<Vec<u8>>,
    },
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        private: Option<RsaPrivate>,
    },
    Ed25519 {
        x: Vec<u8>,
        d: Option<Vec<u8>>,
    },
}

#[derive(Clone)]
pub(crate) struct RsaPrivate {
    pub(crate) d: Vec<u8>,
    pub(crate) p: Option<Vec<u8>>,
    pub(crate) q: Option<Vec<u8>>,
}

/// Parameters that never leave the server, per key type (jwx's `makeXPublicKey`).
const PRIVATE_FIELDS: &[&str] = &["d", "p", "q", "dp", "dq", "qi"];

/// One JWK from `GOTRUE_JWT_KEYS`.
#[derive(Clone)]
pub struct Jwk {
    kid: String,
    alg: String,
    key_ops: Vec<String>,
    material: Material,
    fields: Map<String, Value>,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("kty", &self.kty())
            .field("key_ops", &self.key_ops)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Parses one entry by jwx's rules.
    ///
    /// ```
    /// let key = auth::jwk::Jwk::parse(&serde_json::json!({
    ///     "kty": "oct", "k": "c2VjcmV0", "kid": "legacy", "key_ops": ["verify"], "alg": "HS256"
    /// })).unwrap();
    /// assert_eq!(key.kid(), "legacy");
    /// assert!(key.public_jwk().is_none(), "HMAC keys are never published");
    /// ```
    pub fn parse(value: &Value) -> Result<Self, JwkProblem> {
        let fields = value.as_object().ok_or(JwkProblem::NotAnObject)?;
        let kty = optional_string(fields, "kty")?.unwrap_or_default();
        let private = fields.get("d").is_some_and(|d| !d.is_null());
        let material = match kty.as_str() {
            "oct" => Material::Oct(required_bytes(fields, "k")?),
            "EC" => parse_ec(fields, private)?,
            "RSA" => parse_rsa(fields, private)?,
            "OKP" => parse_okp(fields, private)?,
            other => return Err(JwkProblem::InvalidKeyType(other.to_owned())),
        };
        let key_ops = match fields.get("key_ops") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ops)) => ops
                .iter()
                .map(|op| op.as_str().map(str::to_owned).ok_or(JwkProblem::BadKeyOps))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(JwkProblem::BadKeyOps),
        };
        Ok(Jwk {
            kid: optional_string(fields, "kid")?.unwrap_or_default(),
            alg: optional_string(fields, "alg")?.unwrap_or_default(),
            key_ops,
            material,
            fields: fields.clone(),
        })
    }

    /// An `oct` HS256 key over `secret`, as GoTrue wraps `GOTRUE_JWT_SECRET` when no keys are set.
    pub fn from_secret(secret: &[u8], kid: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("kty".into(), "oct".into());
        fields.insert("k".into(), URL_SAFE_NO_PAD.encode(secret).into());
        Jwk {
            kid: kid.to_owned(),
            alg: "HS256".into(),
            key_ops: vec!["sign".into(), "verify".into()],
            material: Material::Oct(secret.to_vec()),
            fields,
        }
    }

    /// The parsed parameters, for [`crate::signer`].
    pub(crate) fn material(&self) -> &Material {
        &self.material
    }

    /// The `kid`, `""` when absent (jwx's `KeyID()`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `alg`, `""` when absent (jwx's `Algorithm().String()`).
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// The JWK `kty`.
    pub fn kty(&self) -> &'static str {
        match self.material {
            Material::Oct(_) => "oct",
            Material::Ec { .. } => "EC",
            Material::Rsa { .. } => "RSA",
            Material::Ed25519 { .. } => "OKP",
        }
    }

    /// Whether `key_ops` holds `sign`: the one key GoTrue signs with.
    pub fn signs(&self) -> bool {
        self.key_ops.iter().any(|op| op == "sign")
    }

    /// What GoTrue publishes for this key in `/.well-known/jwks.json`: every field but the
    /// private ones, `use` and `key_ops` forced, `aws:kms:arn` removed, keys sorted (jwx writes
    /// them so). None for `oct` keys, which are never published.
    pub fn public_jwk(&self) -> Option<std::collections::BTreeMap<String, Value>> {
        if matches!(self.material, Material::Oct(_)) {
            return None;
        }
        let mut public: std::collections::BTreeMap<String, Value> = self
            .fields
            .iter()
            .filter(|(name, _)| !PRIVATE_FIELDS.contains(&name.as_str()) && *name != "aws:kms:arn")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        // jwx stores binary fields decoded and writes them back as unpadded base64url.
        let canonical = |bytes: &[u8]| Value::from(URL_SAFE_NO_PAD.encode(bytes));
        match &self.material {
            Material::Ec { x, y, .. } => {
                public.insert("x".into(), canonical(x));
                public.insert("y".into(), canonical(y));
            }
            Material::Rsa { n, e, .. } => {
                public.insert("n".into(), canonical(n));
                public.insert("e".into(), canonical(e));
            }
            Material::Ed25519 { x, .. } => {
                public.insert("x".into(), canonical(x));
            }
            Material::Oct(_) => {}
        }
        public.insert("use".into(), "sig".into());
        public.insert("key_ops".into(), Value::from(vec!["verify"]));
        Some(public)
    }

    /// The key golang-jwt verifies with (jwx's `PublicKey().Raw()`).
    pub fn verifying_key(&self) -> VerifyingKey {
        match &self.material {
            Material::Oct(k) => VerifyingKey::Secret(k.clone()),
            Material::Ec { curve, x, y, .. } => {
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                VerifyingKey::Ec {
                    curve: *curve,
                    key: DecodingKey::from_ec_der(&point),
                }
            }
            Material::Rsa { n, e, .. } => {
                VerifyingKey::Rsa(DecodingKey::from_rsa_raw_components(n, e))
            }
            Material::Ed25519 { x, .. } => VerifyingKey::Ed25519(DecodingKey::from_ed_der(x)),
        }
    }
}

fn parse_ec(fields: &Map<String, Value>, private: bool) -> Result<Material, JwkProblem> {
    // jwx's generated UnmarshalJSON checks required fields in this order.
    let crv = optional_string(fields, "crv")?.ok_or(JwkProblem::MissingField("crv"))?;
    let d = if private {
        Some(required_bytes(fields, "d")?)
    } else {
        None
    };
    let x = required_bytes(fields, "x")?;
    let y = required_bytes(fields, "y")?;
    let curve = match crv.as_str() {
        "P-256" => Curve::P256,
        "P-384" => Curve::P384,
        "P-521" => return Err(JwkProblem::UnsupportedCurve(crv)),
        _ => return Err(JwkProblem::InvalidCurve(crv)),
    };
    for (field, bytes) in [("x", Some(&x)), ("y", Some(&y)), ("d", d.as_ref())] {
        if let Some(bytes) = bytes
            && bytes.len() != curve.size()
        {
            return Err(JwkProblem::InvalidLength {
                field,
                len: bytes.len(),
                curve: curve.name(),
            });
        }
    }
    Ok(Material::Ec { curve, x, y, d })
}

fn parse_rsa(fields: &Map<String, Value>, private: bool) -> Result<Material, JwkProblem> {
    let d = if private {
        Some(required_bytes(fields, "d")?)
    } else {
        None
    };
    let e = required_bytes(fields, "e")?;
    let n = required_bytes(fields, "n")?;
    for (name, bytes) in [("n", Some(&n)), ("e", Some(&e)), ("d", d.as_ref())] {
        if bytes.is_some_and(|b| b.is_empty()) {
            return Err(JwkProblem::Empty(name));
        }
    }
    let bits = n.len() * 8 - n.first().map_or(0, |b| b.leading_zeros() as usize);
    if !(2048..=8192).contains(&bits) {
        return Err(JwkProblem::RsaSize { bits });
    }
    let private = match d {
        None => None,
        Some(d) => Some(RsaPrivate {
            d,
            p: optional_bytes(fields, "p")?,
            q: optional_bytes(fields, "q")?,
        }),
    };
    Ok(Material::Rsa { n, e, private })
}

fn parse_okp(fields: &Map<String, Value>, private: bool) -> Result<Material, JwkProblem> {
    let crv = optional_string(fields, "crv")?.ok_or(JwkProblem::MissingField("crv"))?;
    let d = if private {
        Some(required_bytes(fields, "d")?)
    } else {
        None
    };
    let x = required_bytes(fields, "x")?;
    if crv != "Ed25519" {
        return Err(JwkProblem::InvalidCurve(crv));
    }
    for (field, bytes) in [("x", Some(&x)), ("d", d.as_ref())] {
        if let Some(bytes) = bytes
            && bytes.len() != 32
        {
            return Err(JwkProblem::InvalidLength {
                field,
                len: bytes.len(),
                curve: "Ed25519",
            });
        }
    }
    Ok(Material::Ed25519 { x, d })
}

fn optional_string(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, JwkProblem> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwkProblem::NotAString(name)),
    }
}

fn optional_bytes(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<u8>>, JwkProblem> {
    optional_string(fields, name)?
        .map(|text| decode_base64(&text).ok_or(JwkProblem::NotBase64(name)))
        .transpose()
}

fn required_bytes(fields: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkProblem> {
    optional_bytes(fields, name)?.ok_or(JwkProblem::MissingField(name))
}

/// jwx accepts either alphabet, padded or not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD_NO_PAD, STANDARD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

#[cfg(test)]
#[path = "jwk_tests.rs"]
mod tests;
