use super::*;
use crate::jwt_keys::tests::fixture_text;
use jsonwebtoken::{Algorithm, EncodingKey};

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const NOW: f64 = 1_700_000_000.0;

fn claims() -> AccessClaims {
    AccessClaims {
        iss: None,
        sub: "6f1c0d5e-0000-4000-8000-000000000001".into(),
        aud: "authenticated".into(),
        exp: NOW as i64 + 3600,
        iat: NOW as i64,
        email: "a@example.com".into(),
        phone: String::new(),
        app_metadata: serde_json::json!({"provider":"email","providers":["email"]}),
        user_metadata: serde_json::json!({}),
        role: "authenticated".into(),
        aal: "aal1".into(),
        amr: vec![Amr {
            method: "password".into(),
            timestamp: NOW as i64,
        }],
        session_id: "6f1c0d5e-0000-4000-8000-000000000002".into(),
        is_anonymous: false,
    }
}

/// Builds a token from raw JSON parts, signed with `secret` under HS256.
fn forge(header: &str, payload: &str, secret: &str) -> String {
    let msg = format!("{}.{}", RAW_URL.encode(header), RAW_URL.encode(payload));
    let sig = jsonwebtoken::crypto::sign(
        msg.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{msg}.{sig}")
}

/// Only the secret, as GoTrue runs with no GOTRUE_JWT_KEYS.
fn secret_only() -> JwtKeys {
    JwtKeys::from_settings(SECRET, None, None, None).unwrap()
}

/// A fixture's keys with the CLI's valid methods.
fn keys(name: &str) -> JwtKeys {
    JwtKeys::from_settings(
        SECRET,
        None,
        Some(&fixture_text(name)),
        Some("HS256,RS256,ES256,EdDSA"),
    )
    .unwrap()
}

fn message(token: &str) -> String {
    verify(token, &secret_only(), NOW).unwrap_err().to_string()
}

fn message_with(token: &str, keys: &JwtKeys) -> String {
    verify(token, keys, NOW).unwrap_err().to_string()
}

#[test]
fn header_and_claims_are_in_gotrue_order() {
    let token = sign(&claims(), &secret_only()).unwrap();
    let parts: Vec<_> = token.split('.').collect();
    assert_eq!(
        RAW_URL.decode(parts[0]).unwrap(),
        br#"{"alg":"HS256","typ":"JWT"}"#
    );
    let payload = String::from_utf8(RAW_URL.decode(parts[1]).unwrap()).unwrap();
    let order = [
        "\"sub\"",
        "\"aud\"",
        "\"exp\"",
        "\"iat\"",
        "\"email\"",
        "\"phone\"",
        "\"app_metadata\"",
        "\"user_metadata\"",
        "\"role\"",
        "\"aal\"",
        "\"amr\"",
        "\"session_id\"",
        "\"is_anonymous\"",
    ];
    let positions: Vec<_> = order
        .iter()
        .map(|k| payload.find(k).unwrap_or_else(|| panic!("{k} missing")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{payload}");
    assert!(
        !payload.contains("\"iss\""),
        "iss must be left out when unset: {payload}"
    );
    assert!(
        payload.contains(r#""aud":"authenticated""#),
        "aud must be a string: {payload}"
    );
}

#[test]
fn issuer_comes_first_when_set() {
    let mut c = claims();
    c.iss = Some("http://127.0.0.1:54321/auth/v1".into());
    let token = sign(&c, &secret_only()).unwrap();
    let payload =
        String::from_utf8(RAW_URL.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(
        payload.starts_with(r#"{"iss":"http://127.0.0.1:54321/auth/v1","sub":"#),
        "{payload}"
    );
}

#[test]
fn round_trip_verifies() {
    let verified = verify(
        &sign(&claims(), &secret_only()).unwrap(),
        &secret_only(),
        NOW,
    )
    .unwrap();
    assert_eq!(
        verified.sub.as_deref(),
        Some("6f1c0d5e-0000-4000-8000-000000000001")
    );
    assert_eq!(verified.aud, Some(Audience::One("authenticated".into())));
    assert_eq!(verified.role.as_deref(), Some("authenticated"));
}

#[test]
fn wrong_segment_count_is_malformed() {
    assert_eq!(
        message("abc.def"),
        "token is malformed: token contains an invalid number of segments"
    );
    assert_eq!(
        message("a.b.c.d"),
        "token is malformed: token contains an invalid number of segments"
    );
}

#[test]
fn wrong_secret_is_an_invalid_signature() {
    let other =
        JwtKeys::from_settings("another-secret-another-secret-another", None, None, None).unwrap();
    let token = sign(&claims(), &other).unwrap();
    assert_eq!(
        message(&token),
        "token signature is invalid: signature is invalid"
    );
}

#[test]
fn expiry_is_checked_without_leeway() {
    let at = |exp: f64| {
        forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(r#"{{"sub":"x","exp":{exp}}}"#),
            SECRET,
        )
    };
    assert_eq!(
        message(&at(NOW)),
        "token has invalid claims: token is expired"
    );
    assert!(verify(&at(NOW + 1.0), &secret_only(), NOW).is_ok());
    // No exp at all is fine, as in golang-jwt.
    assert!(
        verify(
            &forge(r#"{"alg":"HS256"}"#, r#"{"role":"anon"}"#, SECRET),
            &secret_only(),
            NOW
        )
        .is_ok()
    );
}

#[test]
fn not_before_is_checked_when_present() {
    let token = forge(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"nbf":{}}}"#, NOW + 10.0),
        SECRET,
    );
    assert_eq!(
        message(&token),
        "token has invalid claims: token is not valid yet"
    );
    let both = forge(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"exp":{},"nbf":{}}}"#, NOW - 1.0, NOW + 10.0),
        SECRET,
    );
    assert_eq!(
        message(&both),
        "token has invalid claims: token is expired, token is not valid yet"
    );
}

#[test]
fn other_algorithms_are_invalid_methods() {
    for alg in ["none", "HS512", "RS256", "ES256"] {
        let token = forge(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            r#"{"sub":"x"}"#,
            SECRET,
        );
        assert_eq!(
            message(&token),
            format!("token signature is invalid: signing method {alg} is invalid")
        );
    }
    // alg none with an empty signature, as attackers send it.
    let bare = format!(
        "{}.{}.",
        RAW_URL.encode(r#"{"alg":"none"}"#),
        RAW_URL.encode(r#"{"sub":"x"}"#)
    );
    assert_eq!(
        message(&bare),
        "token signature is invalid: signing method none is invalid"
    );
}

#[test]
fn unknown_or_missing_alg_is_unverifiable() {
    let unknown = forge(r#"{"alg":"XYZ"}"#, "{}", SECRET);
    assert_eq!(
        message(&unknown),
        "token is unverifiable: signing method (alg) is unavailable"
    );
    let missing = forge(r#"{"typ":"JWT"}"#, "{}", SECRET);
    assert_eq!(
        message(&missing),
        "token is unverifiable: signing method (alg) is unspecified"
    );
}

#[test]
fn undecodable_segments_are_malformed() {
    assert_eq!(
        message("a*b.e30.e30"),
        "token is malformed: could not base64 decode header: illegal base64 data at input byte 1"
    );
    let bad_json = format!("{}.e30.sig", RAW_URL.encode("{nope"));
    assert!(message(&bad_json).starts_with("token is malformed: could not JSON decode header: "));
}

/// Signs raw header and payload JSON with the signing key of a fixture.
fn sign_raw(fixture: &str, header: &str, payload: &str) -> String {
    let signer = keys(fixture).signer().clone();
    let message = format!("{}.{}", RAW_URL.encode(header), RAW_URL.encode(payload));
    format!("{message}.{}", signer.sign(message.as_bytes()).unwrap())
}

fn header_of(token: &str) -> String {
    String::from_utf8(RAW_URL.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

#[test]
fn each_algorithm_signs_with_gotrues_header_and_verifies() {
    for (fixture, alg) in [
        ("cli_default.json", "ES256"),
        ("gen_signing_key_rs256.json", "RS256"),
        ("eddsa.json", "EdDSA"),
        ("oct.json", "HS256"),
    ] {
        let keys = keys(fixture);
        let token = sign(&claims(), &keys).unwrap();
        let kid = keys.signer().kid().unwrap();
        assert_eq!(
            header_of(&token),
            format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#)
        );
        let verified = verify(&token, &keys, NOW).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        assert_eq!(verified.role.as_deref(), Some("authenticated"));
    }
}

#[test]
fn hs256_tokens_still_verify_with_the_secret_beside_the_keys() {
    // The #2072 path: no kid, or a kid no key has, falls back to GOTRUE_JWT_SECRET for HS256.
    let keys = keys("cli_default.json");
    let anon = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"role":"anon"}"#,
        SECRET,
    );
    assert!(verify(&anon, &keys, NOW).is_ok());
    let unknown_kid = forge(
        r#"{"alg":"HS256","kid":"gone"}"#,
        r#"{"role":"anon"}"#,
        SECRET,
    );
    assert!(verify(&unknown_kid, &keys, NOW).is_ok());
    // An oct key in the array verifies with its own bytes.
    let asymmetric = JwtKeys::from_settings(
        fixture_text("asymmetric.secret").trim(),
        None,
        Some(&fixture_text("asymmetric.json")),
        None,
    )
    .unwrap();
    let legacy = forge(
        r#"{"alg":"HS256","kid":"hs-legacy-0001"}"#,
        "{}",
        fixture_text("asymmetric.secret").trim(),
    );
    assert!(verify(&legacy, &asymmetric, NOW).is_ok());
}

#[test]
fn hs256_is_invalid_when_only_es256_keys_set_the_methods() {
    // supabase/supabase#42037: GOTRUE_JWT_VALID_METHODS unset, an ES256-only array.
    let keys = JwtKeys::from_settings(SECRET, None, Some(&fixture_text("cli_default.json")), None)
        .unwrap();
    let anon = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"role":"anon"}"#,
        SECRET,
    );
    assert_eq!(
        message_with(&anon, &keys),
        "token signature is invalid: signing method HS256 is invalid"
    );
}

#[test]
fn an_unknown_kid_is_unrecognized_for_asymmetric_algorithms() {
    let keys = keys("cli_default.json");
    let token = sign_raw(
        "cli_default.json",
        r#"{"alg":"ES256","kid":"no-such-key","typ":"JWT"}"#,
        "{}",
    );
    assert_eq!(
        message_with(&token, &keys),
        "token is unverifiable: error while executing keyfunc: unrecognized JWT kid no-such-key for algorithm ES256"
    );
    let no_kid = sign_raw("cli_default.json", r#"{"alg":"ES256","typ":"JWT"}"#, "{}");
    assert_eq!(
        message_with(&no_kid, &keys),
        "token is unverifiable: error while executing keyfunc: unrecognized JWT kid <nil> for algorithm ES256"
    );
    // A kid that is not a string is printed as Go prints the decoded value.
    let numeric = sign_raw("cli_default.json", r#"{"alg":"ES256","kid":1000000}"#, "{}");
    assert!(
        message_with(&numeric, &keys).ends_with("unrecognized JWT kid 1e+06 for algorithm ES256")
    );
}

#[test]
fn a_key_of_the_wrong_type_for_the_alg_is_golang_jwts_invalid_type() {
    let keys = keys("cli_default.json");
    let kid = "b81269f1-21d8-4f2e-b719-c2240a840d90";
    // Key confusion: HS256 naming the EC key's kid is not sent to the secret.
    let confused = forge(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), "{}", SECRET);
    assert_eq!(
        message_with(&confused, &keys),
        "token signature is invalid: key is of invalid type: HMAC verify expects []byte"
    );
    let rs256 = sign_raw(
        "gen_signing_key_rs256.json",
        &format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#),
        "{}",
    );
    assert_eq!(
        message_with(&rs256, &keys),
        "token signature is invalid: key is of invalid type: RSA verify expects *rsa.PublicKey"
    );
}

#[test]
fn a_bad_signature_is_the_crypto_packages_error() {
    let keys = keys("cli_default.json");
    let token = sign(&claims(), &keys).unwrap();
    let (signed, _) = token.rsplit_once('.').unwrap();
    // Another key's signature: right length, wrong value.
    let foreign = format!(
        "{signed}.{}",
        sign_raw("rotated.json", "{}", "{}")
            .rsplit_once('.')
            .unwrap()
            .1
    );
    assert_eq!(
        message_with(&foreign, &keys),
        "token signature is invalid: crypto/ecdsa: verification error"
    );
    let short = format!("{signed}.{}", RAW_URL.encode([1u8; 10]));
    assert_eq!(
        message_with(&short, &keys),
        "token signature is invalid: crypto/ecdsa: verification error"
    );
    let rsa = self::keys("gen_signing_key_rs256.json");
    let rs_token = sign(&claims(), &rsa).unwrap();
    let tampered = format!(
        "{}.{}",
        rs_token.rsplit_once('.').unwrap().0.replace('a', "b"),
        rs_token.rsplit_once('.').unwrap().1
    );
    assert_eq!(
        message_with(&tampered, &rsa),
        "token signature is invalid: crypto/rsa: verification error"
    );
}

#[test]
fn previously_used_keys_verify_and_revoked_ones_are_unknown() {
    let secret = fixture_text("asymmetric.secret");
    let before = JwtKeys::from_settings(
        secret.trim(),
        None,
        Some(&fixture_text("asymmetric.json")),
        None,
    )
    .unwrap();
    let old_token = sign(&claims(), &before).unwrap();
    // Rotated: a new signing key, the old one kept verify-only.
    let rotated = keys("rotated.json");
    assert!(verify(&old_token, &rotated, NOW).is_ok());
    let new_token = sign(&claims(), &rotated).unwrap();
    assert_ne!(header_of(&new_token), header_of(&old_token));
    // Revoked: the old key is gone from the array.
    let rotated_text = fixture_text("rotated.json");
    let array: Vec<serde_json::Value> = serde_json::from_str(&rotated_text).unwrap();
    let revoked = JwtKeys::from_settings(
        SECRET,
        None,
        Some(&serde_json::to_string(&array[..1]).unwrap()),
        Some("HS256,RS256,ES256"),
    )
    .unwrap();
    assert_eq!(
        message_with(&old_token, &revoked),
        "token is unverifiable: error while executing keyfunc: unrecognized JWT kid 6894a1d1-c95e-431c-b09c-fca6dc1003fe for algorithm ES256"
    );
}

#[test]
fn go_values_print_as_fmt_prints_them() {
    use serde_json::json;
    for (value, printed) in [
        (json!(null), "<nil>"),
        (json!(5), "5"),
        (json!(123456), "123456"),
        (json!(1234567), "1.234567e+06"),
        (json!(0.0001), "0.0001"),
        (json!(0.00001), "1e-05"),
        (json!(true), "true"),
        (json!(["a", 1]), "[a 1]"),
        (json!({"b": 1, "a": "x"}), "map[a:x b:1]"),
    ] {
        assert_eq!(go_value(Some(&value)), printed, "{value}");
    }
    assert_eq!(go_value(None), "<nil>");
}

#[test]
fn hmac_keys_of_other_lengths_use_golang_jwts_hs_methods() {
    let keys = JwtKeys::from_settings(SECRET, None, None, Some("HS256,HS512")).unwrap();
    let msg = format!(
        "{}.{}",
        RAW_URL.encode(r#"{"alg":"HS512"}"#),
        RAW_URL.encode("{}")
    );
    let sig = jsonwebtoken::crypto::sign(
        msg.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS512,
    )
    .unwrap();
    // HS512 is not HS256, so the secret fallback does not apply: no kid, no key.
    assert_eq!(
        message_with(&format!("{msg}.{sig}"), &keys),
        "token is unverifiable: error while executing keyfunc: unrecognized JWT kid <nil> for algorithm HS512"
    );
}
