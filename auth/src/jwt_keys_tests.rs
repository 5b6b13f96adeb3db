use super::*;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

pub(crate) fn fixture_text(name: &str) -> String {
    let path = format!("{}/testdata/jwt_keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn keys(name: &str) -> Result<JwtKeys, JwtKeysError> {
    JwtKeys::from_settings(SECRET, None, Some(&fixture_text(name)), None)
}

#[test]
fn gotrues_asymmetric_shape_signs_es256_and_publishes_only_the_ec_key() {
    let secret = fixture_text("asymmetric.secret");
    let keys = JwtKeys::from_settings(
        secret.trim(),
        None,
        Some(&fixture_text("asymmetric.json")),
        None,
    )
    .unwrap();
    assert_eq!(keys.signer().alg(), jsonwebtoken::Algorithm::ES256);
    assert_eq!(
        keys.signer().kid(),
        Some("6894a1d1-c95e-431c-b09c-fca6dc1003fe")
    );
    assert_eq!(keys.valid_methods(), ["HS256", "ES256"]);
    let jwks = keys.jwks();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0]["kty"], "EC");
    // The oct key's k is the base64url of the secret's bytes, so it verifies like the secret.
    let Some(VerifyingKey::Secret(bytes)) = keys.find("hs-legacy-0001") else {
        panic!("the oct key is found by its kid")
    };
    assert_eq!(bytes, secret.trim().as_bytes());
}

#[test]
fn the_clis_key_alone_makes_hs256_an_invalid_method() {
    let keys = keys("cli_default.json").unwrap();
    assert_eq!(keys.valid_methods(), ["ES256"]);
    let listed = JwtKeys::from_settings(
        SECRET,
        None,
        Some(&fixture_text("cli_default.json")),
        Some("HS256,RS256,ES256"),
    )
    .unwrap();
    assert_eq!(listed.valid_methods(), ["HS256", "RS256", "ES256"]);
}

#[test]
fn valid_methods_are_split_on_commas_without_trimming_as_envconfig_does() {
    let keys = JwtKeys::from_settings(SECRET, None, None, Some("HS256, ES256")).unwrap();
    assert_eq!(keys.valid_methods(), ["HS256", " ES256"]);
}

#[test]
fn an_oct_key_signs_hs256_with_its_kid_and_is_never_published() {
    let keys = keys("oct.json").unwrap();
    assert_eq!(keys.signer().alg(), jsonwebtoken::Algorithm::HS256);
    assert_eq!(keys.signer().kid(), Some("oct-signer"));
    assert_eq!(
        serde_json::to_string(&keys.jwks()).unwrap(),
        r#"{"keys":[]}"#
    );
}

#[test]
fn without_keys_the_secret_is_the_one_hs256_key_named_by_the_key_id() {
    for unset in [None, Some(""), Some("[]")] {
        let keys = JwtKeys::from_settings(SECRET, None, unset, None).unwrap();
        assert_eq!(keys.valid_methods(), ["HS256"]);
        assert_eq!(keys.signer().kid(), None);
        assert_eq!(
            serde_json::to_string(&keys.jwks()).unwrap(),
            r#"{"keys":[]}"#
        );
    }
    let keys = JwtKeys::from_settings(SECRET, Some("legacy-kid"), None, None).unwrap();
    assert_eq!(keys.signer().kid(), Some("legacy-kid"));
    assert!(matches!(
        keys.find("legacy-kid"),
        Some(VerifyingKey::Secret(_))
    ));
    assert!(keys.find("other").is_none());
    // With keys configured, GOTRUE_JWT_KEY_ID still names the raw secret.
    let keys = JwtKeys::from_settings(
        SECRET,
        Some("legacy-kid"),
        Some(&fixture_text("cli_default.json")),
        None,
    )
    .unwrap();
    let Some(VerifyingKey::Secret(bytes)) = keys.find("legacy-kid") else {
        panic!("the key id names the secret")
    };
    assert_eq!(bytes, SECRET.as_bytes());
}

#[test]
fn two_signing_keys_are_refused_in_gotrues_words() {
    let message = keys("two_signing_keys.json").unwrap_err().to_string();
    assert!(
        message.starts_with("multiple signing keys detected, only 1 signing key is supported"),
        "{message}"
    );
}

#[test]
fn no_signing_key_is_refused_in_gotrues_words() {
    let verify_only = fixture_text("cli_default.json").replace(r#""sign","#, "");
    let error = JwtKeys::from_settings(SECRET, None, Some(&verify_only), None).unwrap_err();
    assert_eq!(error, JwtKeysError::NoSigningKey);
    assert!(
        error.to_string().starts_with("no signing key found"),
        "{error}"
    );
}

#[test]
fn a_signing_key_without_its_private_part_is_refused() {
    let error = keys("signing_key_without_d.json").unwrap_err();
    assert!(
        matches!(
            &error,
            JwtKeysError::Signing {
                problem: JwkProblem::NotPrivate,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("no \"d\""), "{error}");
}

#[test]
fn malformed_arrays_and_unknown_key_types_say_where() {
    let error = keys("bad_json.txt").unwrap_err();
    assert!(
        error.to_string().starts_with("not a JSON array of JWKs"),
        "{error}"
    );
    let set = format!(r#"{{"keys":{}}}"#, fixture_text("cli_default.json"));
    let error = JwtKeys::from_settings(SECRET, None, Some(&set), None).unwrap_err();
    assert!(
        error.to_string().starts_with("this is a JWK Set object"),
        "{error}"
    );
    assert_eq!(
        keys("unknown_kty.json").unwrap_err().to_string(),
        r#"key 1 (kid "strange"): invalid key type from JSON (XYZ)"#
    );
}

#[test]
fn a_later_key_with_the_same_kid_replaces_the_earlier_one() {
    let cli = fixture_text("cli_default.json");
    let verify_only = cli.replace(r#""sign","#, "");
    let both = format!(
        "[{},{}]",
        &verify_only.trim()[1..verify_only.trim().len() - 1],
        &cli.trim()[1..cli.trim().len() - 1]
    );
    let keys = JwtKeys::from_settings(SECRET, None, Some(&both), None).unwrap();
    assert_eq!(keys.jwks().keys.len(), 1);
    assert_eq!(keys.valid_methods(), ["ES256"]);
}
