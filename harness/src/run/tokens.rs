//! Tokens that fail for one reason each, made from a real access token the auth server issued.
//!
//! Every kind starts from the valid token's own claims, and the kinds that change a claim are
//! signed as the auth server signs (the profile's key in use with its kid, or HS256 without
//! one), so the only difference between a `valid` and an `expired` token is the expiry: a
//! rejection then proves that one cause. The signing-key kinds come from [`crate::signing`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::scenario::TokenKind;
use crate::signing::{Attacker, KeyState, ProjectKeys, SigningError, sign_as_issued};

/// A secret no project of ours uses: tokens signed with it come from "another project".
pub const OTHER_PROJECT_SECRET: &str = "another-projects-secret-that-is-at-least-32-chars";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the auth server's access token is not a JWT with a JSON payload: {0}")]
    NotAJwt(String),
    #[error("cannot sign a test token: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
    #[error("token kind `{0}` is issued by the auth server, not minted")]
    NotMinted(TokenKind),
    #[error(
        "token kind `{kind}` needs a signing key in use, and this stack's `{profile}` key profile \
         signs with HS256 only: give the scenario `keys = \"cli\"`"
    )]
    NeedsSigningKey { kind: TokenKind, profile: String },
    #[error("token kind `{kind}`: {source}")]
    Key {
        kind: TokenKind,
        #[source]
        source: SigningError,
    },
}

/// The `kid` of `unknown-kid` tokens: no key of any stack has it.
pub const UNKNOWN_KID: &str = "no-such-key-0000";

/// Bytes of the padding claim in a `huge` token: far beyond any sane token, within one request.
pub const HUGE_PADDING: usize = 64 * 1024;

/// Makes every kind but `valid`, `refresh` and `logged-out` from `valid`, an access token the
/// auth server issued with `keys`; `attacker` holds the keys nobody trusts. `now` is unix
/// seconds.
pub fn mint(
    kind: TokenKind,
    valid: &str,
    keys: &ProjectKeys,
    attacker: &Attacker,
    now: i64,
) -> Result<String, TokenError> {
    let secret = keys.jwt_secret();
    let key_error = |source: SigningError| match source {
        SigningError::NoKey(KeyState::InUse) => TokenError::NeedsSigningKey {
            kind,
            profile: keys.profile().name().to_owned(),
        },
        source => TokenError::Key { kind, source },
    };
    if let TokenKind::Key(key_kind) = kind {
        return crate::signing::mint(key_kind, valid, keys.key_set(), secret, attacker)
            .map_err(key_error);
    }
    let claims = claims_of(valid)?;
    let resign = |claims: &Map<String, Value>| {
        sign_as_issued(keys.key_set(), secret, claims).map_err(key_error)
    };
    let hs256 = |claims: &Map<String, Value>, secret: &str| {
        jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
    };
    Ok(match kind {
        TokenKind::Expired => {
            let mut claims = claims;
            claims.insert("iat".into(), Value::from(now - 7200));
            claims.insert("exp".into(), Value::from(now - 3600));
            resign(&claims)?
        }
        TokenKind::WrongSecret => hs256(&claims, OTHER_PROJECT_SECRET)?,
        TokenKind::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            format!("{header}.{}.", encode_claims(&claims))
        }
        TokenKind::Tampered => {
            // Claim a stronger role and keep the old signature: only signature checking notices.
            let mut claims = claims;
            claims.insert("role".into(), Value::from("service_role"));
            let mut parts = valid.split('.');
            let (header, _, signature) = (parts.next(), parts.next(), parts.next());
            format!(
                "{}.{}.{}",
                header.unwrap_or_default(),
                encode_claims(&claims),
                signature.unwrap_or_default()
            )
        }
        TokenKind::NoSub => {
            let mut claims = claims;
            claims.remove("sub");
            resign(&claims)?
        }
        TokenKind::SubNotUuid => {
            let mut claims = claims;
            claims.insert("sub".into(), Value::from("not-a-uuid"));
            resign(&claims)?
        }
        TokenKind::NbfFuture => {
            let mut claims = claims;
            claims.insert("nbf".into(), Value::from(now + 3600));
            claims.insert("exp".into(), Value::from(now + 7200));
            resign(&claims)?
        }
        TokenKind::IatFuture => {
            let mut claims = claims;
            claims.insert("iat".into(), Value::from(now + 3600));
            claims.insert("exp".into(), Value::from(now + 7200));
            resign(&claims)?
        }
        TokenKind::Huge => {
            let mut claims = claims;
            claims.insert("padding".into(), Value::from("x".repeat(HUGE_PADDING)));
            resign(&claims)?
        }
        TokenKind::NotBase64 => {
            // `*` and `!` are outside the base64url alphabet; the signature segment is kept.
            let signature = valid.rsplit('.').next().unwrap_or_default();
            format!("*not!base64*.*not!base64*.{signature}")
        }
        TokenKind::NotJson => {
            // A correct signature over a payload that decodes to text, so only parsing fails.
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(b"this is not json");
            let message = format!("{header}.{payload}");
            let signature = jsonwebtoken::crypto::sign(
                message.as_bytes(),
                &EncodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            )?;
            format!("{message}.{signature}")
        }
        TokenKind::Hs256UnknownKid => {
            let header = Header {
                kid: Some(UNKNOWN_KID.into()),
                ..Header::default()
            };
            jsonwebtoken::encode(
                &header,
                &claims,
                &EncodingKey::from_secret(secret.as_bytes()),
            )?
        }
        TokenKind::SignatureStripped => {
            let (signed, _signature) = valid.rsplit_once('.').unwrap_or((valid, ""));
            format!("{signed}.")
        }
        TokenKind::Valid | TokenKind::Refresh | TokenKind::LoggedOut => {
            return Err(TokenError::NotMinted(kind));
        }
        TokenKind::Key(_) => unreachable!("minted by crate::signing above"),
    })
}

/// The payload of a JWT, unverified.
pub fn claims_of(token: &str) -> Result<Map<String, Value>, TokenError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| TokenError::NotAJwt("no payload segment".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|error| TokenError::NotAJwt(error.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|error| TokenError::NotAJwt(error.to_string()))
}

fn encode_claims(claims: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("a JSON map serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, errors::ErrorKind};

    use crate::signing::{CLI_KID, KeyTokenKind};

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

    /// `mint` with the legacy profile's keys (HS256 with SECRET) and a fresh attacker.
    fn mint(kind: TokenKind, valid: &str, _secret: &str, now: i64) -> Result<String, TokenError> {
        super::mint(kind, valid, &ProjectKeys::legacy(), &Attacker::new(), now)
    }
    // Verification compares with the real clock, so the tests mint against it too.
    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn valid() -> String {
        let claims = serde_json::json!({
            "sub": "6f0b8a52-1d43-4c5e-9c49-3f0b0c9c1a10", "aud": "authenticated",
            "exp": now() + 3600, "iat": now(), "role": "authenticated", "session_id": "s",
        });
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn verify(token: &str, secret: &str) -> Result<Map<String, Value>, ErrorKind> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        validation.validate_nbf = true;
        decode::<Map<String, Value>>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .map(|data| data.claims)
        .map_err(|error| error.into_kind())
    }

    #[test]
    fn each_minted_kind_fails_for_its_own_reason() {
        let valid = valid();
        let mint = |kind| mint(kind, &valid, SECRET, now()).unwrap();
        assert!(verify(&valid, SECRET).is_ok(), "the baseline verifies");
        assert_eq!(
            verify(&mint(TokenKind::Expired), SECRET),
            Err(ErrorKind::ExpiredSignature)
        );
        assert_eq!(
            verify(&mint(TokenKind::WrongSecret), SECRET),
            Err(ErrorKind::InvalidSignature)
        );
        assert_eq!(
            verify(&mint(TokenKind::Tampered), SECRET),
            Err(ErrorKind::InvalidSignature)
        );
        assert!(
            verify(&mint(TokenKind::WrongSecret), OTHER_PROJECT_SECRET).is_ok(),
            "signed, just elsewhere"
        );
        let no_sub = verify(&mint(TokenKind::NoSub), SECRET).expect("correctly signed");
        assert!(!no_sub.contains_key("sub"));
    }

    #[test]
    fn alg_none_has_an_empty_signature_and_the_same_claims() {
        let valid = valid();
        let token = mint(TokenKind::AlgNone, &valid, SECRET, now()).unwrap();
        assert!(token.ends_with('.'));
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        assert_eq!(header, br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(claims_of(&token).unwrap(), claims_of(&valid).unwrap());
    }

    #[test]
    fn expired_keeps_every_other_claim() {
        let valid = valid();
        let now = now();
        let mut expired =
            claims_of(&mint(TokenKind::Expired, &valid, SECRET, now).unwrap()).unwrap();
        let mut original = claims_of(&valid).unwrap();
        assert_eq!(expired.remove("exp"), Some(Value::from(now - 3600)));
        for claims in [&mut expired, &mut original] {
            claims.remove("exp");
            claims.remove("iat");
        }
        assert_eq!(expired, original);
    }

    #[test]
    fn claim_kinds_are_correctly_signed_and_differ_in_one_claim() {
        let valid = valid();
        let mint = |kind| mint(kind, &valid, SECRET, now()).unwrap();
        let sub = verify(&mint(TokenKind::SubNotUuid), SECRET).expect("correctly signed");
        assert_eq!(sub["sub"], "not-a-uuid");
        assert_eq!(
            verify(&mint(TokenKind::NbfFuture), SECRET),
            Err(ErrorKind::ImmatureSignature)
        );
        let iat = claims_of(&mint(TokenKind::IatFuture)).unwrap();
        assert!(
            iat["iat"].as_i64().unwrap() > now(),
            "iat is ahead of the clock"
        );
        assert!(
            verify(&mint(TokenKind::IatFuture), SECRET).is_ok(),
            "iat alone is not checked by JWT libraries: it is the server's decision"
        );
        let huge = mint(TokenKind::Huge);
        assert!(huge.len() > HUGE_PADDING, "{} bytes", huge.len());
        assert!(verify(&huge, SECRET).is_ok(), "huge but genuine");
    }

    #[test]
    fn malformed_kinds_fail_before_any_signature_check() {
        let valid = valid();
        let mint = |kind| mint(kind, &valid, SECRET, now()).unwrap();
        let not_base64 = mint(TokenKind::NotBase64);
        assert_eq!(not_base64.split('.').count(), 3);
        assert!(matches!(
            verify(&not_base64, SECRET),
            Err(ErrorKind::Base64(_))
        ));
        let not_json = mint(TokenKind::NotJson);
        assert!(claims_of(&not_json).is_err(), "the payload is not JSON");
        assert!(matches!(verify(&not_json, SECRET), Err(ErrorKind::Json(_))));
        let stripped = mint(TokenKind::SignatureStripped);
        assert_eq!(stripped, format!("{}.", valid.rsplit_once('.').unwrap().0));
        assert_eq!(verify(&stripped, SECRET), Err(ErrorKind::InvalidSignature));
    }

    #[test]
    fn unknown_kid_is_signed_with_the_secret_and_names_a_kid_nobody_has() {
        let valid = valid();
        let token = mint(TokenKind::Hs256UnknownKid, &valid, SECRET, now()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(UNKNOWN_KID));
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(verify(&token, SECRET).unwrap(), claims_of(&valid).unwrap());
    }

    #[test]
    fn under_the_cli_profile_claim_kinds_are_signed_like_the_valid_token() {
        let keys = ProjectKeys::cli();
        let token =
            super::mint(TokenKind::Expired, &valid(), &keys, &Attacker::new(), now()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::ES256, Some(CLI_KID))
        );
        let wrong = super::mint(
            TokenKind::WrongSecret,
            &valid(),
            &keys,
            &Attacker::new(),
            now(),
        );
        let header = jsonwebtoken::decode_header(&wrong.unwrap()).unwrap();
        assert_eq!(
            header.alg,
            Algorithm::HS256,
            "another project's secret stays HS256"
        );
    }

    #[test]
    fn key_kinds_under_the_legacy_profile_say_what_the_scenario_needs() {
        let error = mint(TokenKind::Key(KeyTokenKind::Es256), &valid(), SECRET, now()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "token kind `es256` needs a signing key in use, and this stack's `legacy` key profile \
             signs with HS256 only: give the scenario `keys = \"cli\"`"
        );
        assert!(
            mint(
                TokenKind::Key(KeyTokenKind::Hs256Legacy),
                &valid(),
                SECRET,
                now()
            )
            .is_ok()
        );
    }

    #[test]
    fn issued_kinds_are_not_minted() {
        assert!(matches!(
            mint(TokenKind::Refresh, &valid(), SECRET, now()),
            Err(TokenError::NotMinted(_))
        ));
    }
}
