use super::*;
use crate::signing::JWT_SECRET;
use crate::signing::{CLI_KID, SigningJwk};

/// A token as the auth server issues it with the CLI's key.
fn valid() -> String {
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:54321/auth/v1",
        "sub": "6f0b8a52-1d43-4c5e-9c49-3f0b0c9c1a10", "aud": "authenticated",
        "exp": 4_102_444_800i64, "iat": 1_700_000_000, "role": "authenticated",
        "session_id": "7f0b8a52-1d43-4c5e-9c49-3f0b0c9c1a10", "is_anonymous": false,
    });
    let signer = SigningJwk::cli_default().signer().unwrap();
    compact(&Header::new("ES256").with("kid", CLI_KID), &claims, |m| {
        signer.sign(m)
    })
    .unwrap()
}

/// The CLI key rotated out: a new key in use, the CLI key previously used, a third revoked.
fn rotated() -> (KeySet, String, String) {
    let mut keys = KeySet::new(SigningJwk::generate(KeyAlgorithm::Es256).unwrap());
    let first = keys.in_use().unwrap().kid().to_owned();
    keys.add_standby_key(SigningJwk::cli_default()).unwrap();
    keys.promote(CLI_KID).unwrap();
    keys.revoke(&first).unwrap();
    let next = keys.add_standby(KeyAlgorithm::Es256).unwrap();
    keys.promote(&next).unwrap();
    (keys, next, first)
}

/// GoTrue's verdict on `token` for the key set's current state, with the CLI's methods.
fn gotrue(keys: &KeySet, token: &str) -> Result<(), String> {
    let gotrue = auth::jwt_keys::JwtKeys::from_settings(
        JWT_SECRET,
        None,
        Some(&keys.gotrue_jwt_keys()),
        Some("HS256,RS256,ES256"),
    )
    .unwrap();
    auth::jwt::verify(token, &gotrue, 1_800_000_000.0)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn header(token: &str) -> serde_json::Value {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[test]
fn every_kind_keeps_the_users_claims() {
    let (keys, _, _) = rotated();
    let attacker = Attacker::new();
    let original = claims_of(&valid()).unwrap();
    for kind in KeyTokenKind::ALL {
        let token = mint(kind, &valid(), &keys, JWT_SECRET, &attacker).unwrap();
        assert_eq!(claims_of(&token).unwrap(), original, "{kind}");
    }
}

#[test]
fn accepted_kinds_verify_and_the_rest_fail_for_their_own_reason() {
    let (keys, next, revoked) = rotated();
    let attacker = Attacker::new();
    let verdict = |kind| {
        gotrue(
            &keys,
            &mint(kind, &valid(), &keys, JWT_SECRET, &attacker).unwrap(),
        )
    };
    for kind in [
        KeyTokenKind::Es256,
        KeyTokenKind::Hs256Legacy,
        KeyTokenKind::PreviouslyUsedKey,
    ] {
        assert_eq!(verdict(kind), Ok(()), "{kind}");
    }
    let unrecognized = |kid: &str| {
        format!(
            "token is unverifiable: error while executing keyfunc: unrecognized JWT kid {kid} for algorithm ES256"
        )
    };
    let attacker_kid = attacker.es256_key().unwrap().kid().to_owned();
    for (kind, reason) in [
        (KeyTokenKind::RevokedKey, unrecognized(&revoked)),
        (KeyTokenKind::UnknownKid, unrecognized(UNKNOWN_KID)),
        (
            KeyTokenKind::KeyConfusion,
            "token signature is invalid: key is of invalid type: HMAC verify expects []byte".into(),
        ),
        (KeyTokenKind::EmbeddedJwk, unrecognized("<nil>")),
        (KeyTokenKind::Jku, unrecognized(&attacker_kid)),
        (
            KeyTokenKind::WrongAlg,
            "token signature is invalid: key is of invalid type: RSA verify expects *rsa.PublicKey"
                .into(),
        ),
        (
            KeyTokenKind::WrongCurve,
            "token signature is invalid: crypto/ecdsa: verification error".into(),
        ),
    ] {
        assert_eq!(verdict(kind), Err(reason), "{kind}");
    }
    let es256 = mint(KeyTokenKind::Es256, &valid(), &keys, JWT_SECRET, &attacker).unwrap();
    assert_eq!(header(&es256)["kid"], next.as_str());
}

#[test]
fn headers_say_what_each_attack_claims() {
    let (keys, next, _) = rotated();
    let attacker = Attacker::new().with_jku("http://127.0.0.1:9/jwks.json");
    let mint = |kind| header(&mint(kind, &valid(), &keys, JWT_SECRET, &attacker).unwrap());
    assert_eq!(
        mint(KeyTokenKind::Hs256Legacy),
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    assert_eq!(mint(KeyTokenKind::KeyConfusion)["kid"], next.as_str());
    let embedded = mint(KeyTokenKind::EmbeddedJwk);
    assert_eq!(embedded["jwk"]["kty"], "EC");
    assert!(
        embedded["jwk"].get("d").is_none(),
        "only the public half is embedded"
    );
    assert!(embedded.get("kid").is_none());
    assert_eq!(
        mint(KeyTokenKind::Jku)["jku"],
        "http://127.0.0.1:9/jwks.json"
    );
    assert_eq!(mint(KeyTokenKind::WrongAlg)["alg"], "RS256");
    assert_eq!(mint(KeyTokenKind::WrongCurve)["alg"], "ES256");
    assert_eq!(mint(KeyTokenKind::WrongCurve)["kid"], next.as_str());
    let jwks = attacker.jwks().unwrap();
    assert_eq!(jwks["keys"][0]["kid"], attacker.es256_key().unwrap().kid());
}

#[test]
fn kinds_that_need_a_key_say_which_is_missing() {
    let keys = KeySet::new(SigningJwk::cli_default());
    let attacker = Attacker::new();
    let error = mint(
        KeyTokenKind::RevokedKey,
        &valid(),
        &keys,
        JWT_SECRET,
        &attacker,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "the key set has no revoked key");
    let legacy = KeySet::empty();
    assert!(matches!(
        mint(
            KeyTokenKind::Es256,
            &valid(),
            &legacy,
            JWT_SECRET,
            &attacker
        ),
        Err(SigningError::NoKey(KeyState::InUse))
    ));
    assert!(
        mint(
            KeyTokenKind::Hs256Legacy,
            &valid(),
            &legacy,
            JWT_SECRET,
            &attacker
        )
        .is_ok(),
        "the legacy secret needs no signing key"
    );
    let rsa = KeySet::new(SigningJwk::generate(KeyAlgorithm::Rs256).unwrap());
    assert!(matches!(
        mint(
            KeyTokenKind::WrongCurve,
            &valid(),
            &rsa,
            JWT_SECRET,
            &attacker
        ),
        Err(SigningError::NotApplicable { .. })
    ));
    let wrong_alg = mint(
        KeyTokenKind::WrongAlg,
        &valid(),
        &rsa,
        JWT_SECRET,
        &attacker,
    )
    .unwrap();
    assert_eq!(
        header(&wrong_alg)["alg"],
        "ES256",
        "an RSA key is attacked with ES256"
    );
}

#[test]
fn names_round_trip() {
    for kind in KeyTokenKind::ALL {
        assert_eq!(kind.name().parse::<KeyTokenKind>().unwrap(), kind);
    }
    let error = "es512".parse::<KeyTokenKind>().unwrap_err().to_string();
    assert!(error.contains("unknown key token kind `es512`"), "{error}");
}
