//! Turning the signing JWK into a signer: GoTrue's `GetSigningAlg` picks the method from `alg`
//! (RS256, RS512, ES256, ES512, EdDSA; anything else HS256), and the key's parameters become the
//! DER `jsonwebtoken` signs with.
//!
//! `jsonwebtoken` takes private keys only as DER or PEM, so `p256`, `rsa` and `ed25519-dalek`
//! build the DER from the JWK's numbers, checking on the way that the private part matches the
//! public part GoTrue publishes (GoTrue does not check, and would sign tokens its own JWKS cannot
//! verify).

use jsonwebtoken::{Algorithm, EncodingKey};

use crate::jwk::{Curve, Jwk, JwkProblem, Material, RsaPrivate};

/// A private key ready to sign, with the method and `kid` GoTrue's `SignJWT` would use.
#[derive(Clone)]
pub struct Signer {
    alg: Algorithm,
    kid: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// An HMAC signer over raw bytes (the `GOTRUE_JWT_SECRET` path).
    pub fn hmac(secret: &[u8], kid: Option<String>) -> Self {
        Signer {
            alg: Algorithm::HS256,
            kid,
            key: EncodingKey::from_secret(secret),
        }
    }

    /// The JWS `alg` this key signs with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The `kid` to put in the header; None when the key has none (GoTrue then writes none).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The base64url signature of `message` (`header.payload`).
    pub fn sign(&self, message: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::crypto::sign(message, &self.key, self.alg)
    }
}

impl Jwk {
    /// The signer GoTrue's `SignJWT` would build from this key (`GetSigningAlg`: RS256, RS512,
    /// ES256, ES512 and EdDSA by `alg`, anything else HS256), or why that could not sign.
    pub fn signer(&self) -> Result<Signer, JwkProblem> {
        let method = match self.alg() {
            "RS256" => Algorithm::RS256,
            "RS512" => Algorithm::RS512,
            "ES256" => Algorithm::ES256,
            "ES512" => return Err(JwkProblem::Es512),
            "EdDSA" => Algorithm::EdDSA,
            _ => Algorithm::HS256,
        };
        let wrong_key = || JwkProblem::WrongKeyForMethod {
            method: method_name(method),
            alg: self.alg().to_owned(),
            kty: self.kty(),
        };
        let key = match (self.material(), method) {
            (Material::Oct(k), Algorithm::HS256) => EncodingKey::from_secret(k),
            (Material::Ec { d: None, .. }, Algorithm::ES256)
            | (Material::Rsa { private: None, .. }, Algorithm::RS256 | Algorithm::RS512)
            | (Material::Ed25519 { d: None, .. }, Algorithm::EdDSA) => {
                return Err(JwkProblem::NotPrivate);
            }
            (
                Material::Ec {
                    curve: Curve::P256,
                    x,
                    y,
                    d: Some(d),
                },
                Algorithm::ES256,
            ) => p256_signing_key(x, y, d)?,
            (
                Material::Rsa {
                    n,
                    e,
                    private: Some(private),
                },
                Algorithm::RS256 | Algorithm::RS512,
            ) => rsa_signing_key(n, e, private)?,
            (Material::Ed25519 { x, d: Some(d) }, Algorithm::EdDSA) => ed25519_signing_key(x, d)?,
            _ => return Err(wrong_key()),
        };
        let signer = Signer {
            alg: method,
            kid: (!self.kid().is_empty()).then(|| self.kid().to_owned()),
            key,
        };
        // ring refuses some keys only when asked to sign (an RSA modulus it will not use, say):
        // find out now, not at the first sign-in.
        signer
            .sign(b"probe")
            .map_err(|e| JwkProblem::Crypto(e.to_string()))?;
        Ok(signer)
    }
}

fn method_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::RS512 => "RS512",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => "HS256",
    }
}

fn p256_signing_key(x: &[u8], y: &[u8], d: &[u8]) -> Result<EncodingKey, JwkProblem> {
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::SecretKey::from_slice(d)
        .map_err(|_| JwkProblem::Mismatch("\"d\" is not a P-256 scalar".into()))?;
    let point = secret.public_key().to_sec1_bytes();
    if point[1..] != [x, y].concat()[..] {
        return Err(JwkProblem::Mismatch(
            "\"x\" and \"y\" are not the public key of \"d\"".into(),
        ));
    }
    let der = secret
        .to_pkcs8_der()
        .map_err(|e| JwkProblem::Crypto(e.to_string()))?;
    Ok(EncodingKey::from_ec_der(der.as_bytes()))
}

fn rsa_signing_key(n: &[u8], e: &[u8], private: &RsaPrivate) -> Result<EncodingKey, JwkProblem> {
    use rsa::BoxedUint;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let (Some(p), Some(q)) = (&private.p, &private.q) else {
        return Err(JwkProblem::RsaWithoutPrimes);
    };
    let uint = BoxedUint::from_be_slice_vartime;
    let key = rsa::PrivateKey::from_components(
        uint(n),
        uint(e),
        uint(&private.d),
        vec![uint(p), uint(q)],
    )
    .map_err(|e| JwkProblem::Mismatch(format!("RSA parameters are inconsistent ({e})")))?;
    let der = key
        .to_pkcs1_der()
        .map_err(|e| JwkProblem::Crypto(e.to_string()))?;
    Ok(EncodingKey::from_rsa_der(der.as_bytes()))
}

fn ed25519_signing_key(x: &[u8], d: &[u8]) -> Result<EncodingKey, JwkProblem> {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let seed: [u8; 32] = d.try_into().expect("length checked at parse");
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    if key.verifying_key().to_bytes()[..] != *x {
        return Err(JwkProblem::Mismatch(
            "\"x\" is not the public key of \"d\"".into(),
        ));
    }
    let der = key
        .to_pkcs8_der()
        .map_err(|e| JwkProblem::Crypto(e.to_string()))?;
    Ok(EncodingKey::from_ed_der(der.as_bytes()))
}
