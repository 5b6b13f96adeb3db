//! Every row of the contract's §1.5 table (v13 texts), plus bearer parsing and roles.

use super::*;
use crate::error::JwtError;
use axum::http::HeaderValue;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters";
const NOW: i64 = 1_800_000_000;
const EC_PEM: &str = include_str!("../../testdata/es256-test-key.pem");
const EC_JWK: &str = include_str!("../../testdata/es256-test-key.jwk.json");

fn config(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![("PGRST_JWT_SECRET", SECRET), ("PGRST_DB_ANON_ROLE", "anon")];
    pairs.extend_from_slice(extra);
    Config::from_pairs(pairs).unwrap()
}

fn hs(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn es(claims: serde_json::Value, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(Into::into);
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn auth_header(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("authorization", HeaderValue::from_str(value).unwrap());
    h
}

fn run(value: Option<&str>, config: &Config) -> Result<AuthResult, ApiError> {
    let headers = value.map(auth_header).unwrap_or_default();
    authenticate(&headers, config, NOW)
}

fn jwt_error(token: &str, config: &Config) -> (String, String) {
    match run(Some(&format!("Bearer {token}")), config) {
        Err(ApiError::Jwt(e)) => (e.code().to_owned(), e.message()),
        other => panic!("expected a JWT error, got {other:?}"),
    }
}

#[test]
fn table_of_jwt_errors() {
    let c = config(&[]);
    let ok = json!({"role": "authenticated", "exp": NOW + 60});
    let rows: Vec<(String, &str, &str)> = vec![
        ("a.b".into(), "PGRST301", "Expected 3 parts in JWT; got 2"),
        (
            "sb_publishable_abc".into(),
            "PGRST301",
            "Expected 3 parts in JWT; got 1",
        ),
        (
            hs(ok.clone(), "another-secret-that-is-at-least-32-characters"),
            "PGRST301",
            "No suitable key or wrong key type",
        ),
        (
            "abc.def.ghi".into(),
            "PGRST301",
            "JWT cryptographic operation failed",
        ),
        (
            format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"role":"x"}"#)),
            "PGRST301",
            "Wrong or unsupported encoding algorithm",
        ),
        (
            format!(
                "{}.{}.x",
                b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
                b64("{}")
            ),
            "PGRST301",
            "Unsupported token type",
        ),
        (
            hs(json!({"exp": NOW - 31}), SECRET),
            "PGRST303",
            "JWT expired",
        ),
        (
            hs(json!({"nbf": NOW + 31}), SECRET),
            "PGRST303",
            "JWT not yet valid",
        ),
        (
            hs(json!({"iat": NOW + 31}), SECRET),
            "PGRST303",
            "JWT issued at future",
        ),
        (
            hs(json!({"exp": "soon"}), SECRET),
            "PGRST303",
            "The JWT 'exp' claim must be a number",
        ),
        (
            hs(json!({"nbf": true}), SECRET),
            "PGRST303",
            "The JWT 'nbf' claim must be a number",
        ),
        (
            hs(json!({"iat": "x"}), SECRET),
            "PGRST303",
            "The JWT 'iat' claim must be a number",
        ),
        (
            hs(json!({"aud": 5}), SECRET),
            "PGRST303",
            "The JWT 'aud' claim must be a string or an array of strings",
        ),
        (
            hs(json!([1, 2]), SECRET),
            "PGRST303",
            "Parsing claims failed",
        ),
    ];
    for (token, code, message) in rows {
        assert_eq!(
            jwt_error(&token, &c),
            (code.to_owned(), message.to_owned()),
            "{token}"
        );
    }
    // The 30 s skew: just inside passes.
    assert!(
        run(
            Some(&format!(
                "Bearer {}",
                hs(
                    json!({"exp": NOW - 29, "nbf": NOW + 29, "iat": NOW + 29}),
                    SECRET
                )
            )),
            &c
        )
        .is_ok()
    );
}

#[test]
fn details_of_decode_errors() {
    let c = config(&[]);
    let token = hs(json!({}), "another-secret-that-is-at-least-32-characters");
    match run(Some(&format!("Bearer {token}")), &c) {
        Err(ApiError::Jwt(JwtError::NoSuitableKey(d))) => {
            assert_eq!(d, "None of the keys was able to decode the JWT")
        }
        other => panic!("{other:?}"),
    }
    let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
    match run(Some(&format!("Bearer {none}")), &c) {
        Err(ApiError::Jwt(JwtError::BadAlgorithm(d))) => {
            assert_eq!(d, "JWT is unsecured but expected 'alg' was not 'none'")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn audience() {
    let c = config(&[("PGRST_JWT_AUD", "authenticated")]);
    let pass = |aud: serde_json::Value| {
        run(
            Some(&format!("Bearer {}", hs(json!({"aud": aud}), SECRET))),
            &c,
        )
        .is_ok()
    };
    assert!(pass(json!("authenticated")));
    assert!(pass(json!(["x", "authenticated"])));
    assert!(pass(json!([])));
    assert!(pass(serde_json::Value::Null));
    assert!(!pass(json!("other")));
    assert!(!pass(json!(["other"])));
    assert_eq!(
        jwt_error(&hs(json!({"aud": "other"}), SECRET), &c).1,
        "JWT not in audience"
    );
    // Unset: every audience passes.
    assert!(
        run(
            Some(&format!("Bearer {}", hs(json!({"aud": "other"}), SECRET))),
            &config(&[])
        )
        .is_ok()
    );
}

#[test]
fn empty_token_missing_secret_and_anonymous() {
    let c = config(&[]);
    assert_eq!(
        jwt_error("", &c).1,
        "Empty JWT is sent in Authorization header"
    );
    assert!(matches!(
        run(Some("Bearer"), &c),
        Err(ApiError::Jwt(JwtError::EmptyToken))
    ));
    let no_secret = Config::from_pairs([("PGRST_DB_ANON_ROLE", "anon")]).unwrap();
    assert_eq!(
        run(Some("Bearer a.b.c"), &no_secret),
        Err(ApiError::JwtSecretMissing)
    );
    assert_eq!(run(None, &no_secret).unwrap().role, "anon");
    let no_anon = Config::from_pairs([("PGRST_JWT_SECRET", SECRET)]).unwrap();
    assert_eq!(run(None, &no_anon), Err(ApiError::AnonymousDisabled));
    assert_eq!(
        run(
            Some(&format!("Bearer {}", hs(json!({"sub": "x"}), SECRET))),
            &no_anon
        ),
        Err(ApiError::AnonymousDisabled)
    );
}

#[test]
fn bearer_scheme_is_case_insensitive_and_others_are_anonymous() {
    let c = config(&[]);
    let token = hs(json!({"role": "authenticated"}), SECRET);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(
            run(Some(&format!("{scheme}   {token}")), &c).unwrap().role,
            "authenticated"
        );
    }
    for value in ["Basic dXNlcjpwdw==", token.as_str()] {
        let r = run(Some(value), &c).unwrap();
        assert_eq!(r.role, "anon");
        assert_eq!(serde_json::Value::Object(r.claims), json!({"role": "anon"}));
    }
}

#[test]
fn role_claim_key_and_claims() {
    let c = config(&[("PGRST_JWT_ROLE_CLAIM_KEY", r#"."https://x".roles[1]"#)]);
    let token = hs(
        json!({"https://x": {"roles": ["a", "editor"]}, "sub": "u1"}),
        SECRET,
    );
    let r = run(Some(&format!("Bearer {token}")), &c).unwrap();
    assert_eq!(r.role, "editor");
    assert_eq!(r.claims["role"], "editor");
    assert_eq!(r.claims["sub"], "u1");
    assert!(r.authenticated(&c));
    // A non-string role is JSON-encoded.
    let token = hs(json!({"role": 5}), SECRET);
    assert_eq!(
        run(Some(&format!("Bearer {token}")), &config(&[]))
            .unwrap()
            .role,
        "5"
    );
    // The anon role is not "authenticated" (42501 is then 401).
    let anon = hs(json!({"role": "anon"}), SECRET);
    assert!(
        !run(Some(&format!("Bearer {anon}")), &c)
            .unwrap()
            .authenticated(&c)
    );
}

#[test]
fn es256_from_a_jwks_with_kid_matching() {
    let jwks = format!(r#"{{"keys":[{EC_JWK}]}}"#);
    let c = config(&[("PGRST_JWT_SECRET", &jwks)]);
    let claims = json!({"role": "authenticated"});
    assert_eq!(
        run(
            Some(&format!(
                "Bearer {}",
                es(claims.clone(), Some("test-es256"))
            )),
            &c
        )
        .unwrap()
        .role,
        "authenticated"
    );
    // No kid: every key is tried.
    assert!(run(Some(&format!("Bearer {}", es(claims.clone(), None))), &c).is_ok());
    // A kid no key has: refused, even though the key would verify it.
    assert_eq!(
        jwt_error(&es(claims.clone(), Some("other")), &c).1,
        "No suitable key or wrong key type"
    );
    // An HS256 token against an EC-only set.
    assert_eq!(
        jwt_error(&hs(claims, SECRET), &c).1,
        "No suitable key or wrong key type"
    );
}

#[test]
fn mixed_jwks_accepts_both_kinds() {
    let k = b64(SECRET);
    let jwks = format!(r#"{{"keys":[{{"kty":"oct","k":"{k}"}},{EC_JWK}]}}"#);
    let c = config(&[("PGRST_JWT_SECRET", &jwks)]);
    assert!(run(Some(&format!("Bearer {}", hs(json!({}), SECRET))), &c).is_ok());
    assert!(
        run(
            Some(&format!("Bearer {}", es(json!({}), Some("test-es256")))),
            &c
        )
        .is_ok()
    );
}
