//! `GOTRUE_JWT_KEYS` over HTTP, before any query runs: what `/.well-known/jwks.json` publishes for
//! each key array, and how `/user` and `/admin` answer tokens of each key state. The pool is lazy
//! and points nowhere, so only answers that need no database are checked here.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const CLI_KID: &str = "b81269f1-21d8-4f2e-b719-c2240a840d90";

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/jwt_keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn config(extra: &[(&str, &str)]) -> Result<auth::Config, auth::ConfigError> {
    let mut pairs = vec![
        ("GOTRUE_DB_DRIVER", "postgres"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("GOTRUE_JWT_SECRET", SECRET),
        ("API_EXTERNAL_URL", "http://localhost:9999"),
        ("GOTRUE_SITE_URL", "http://localhost:3000"),
    ];
    pairs.extend_from_slice(extra);
    auth::Config::from_pairs(pairs)
}

/// The CLI's setup: its key array, and the valid methods `supabase start` sets.
fn cli_config() -> auth::Config {
    config(&[
        ("GOTRUE_JWT_KEYS", &fixture("cli_default.json")),
        ("GOTRUE_JWT_VALID_METHODS", "HS256,RS256,ES256"),
    ])
    .unwrap()
}

async fn send(config: auth::Config, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let pool = pgpool::Pool::new(
        config.database_url.parse().unwrap(),
        1,
        pgpool::Timeouts::default(),
    );
    let app = auth::api::router(auth::api::AppState {
        config: Arc::new(config),
        pool,
    });
    let res = app.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn jwks(config: auth::Config) -> (HeaderMap, String) {
    let req = Request::get("/.well-known/jwks.json")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(config, req).await;
    assert_eq!(status, 200, "{body}");
    (headers, body)
}

/// A token over `claims` signed by the signing key of `keys_fixture`, with `header`.
fn token(keys_fixture: &str, header: Value, claims: Value) -> String {
    let keys =
        auth::jwt_keys::JwtKeys::from_settings(SECRET, None, Some(&fixture(keys_fixture)), None)
            .unwrap();
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    format!(
        "{message}.{}",
        keys.signer().sign(message.as_bytes()).unwrap()
    )
}

async fn admin_answer(config: auth::Config, token: &str) -> (u16, Value) {
    let req = Request::get("/admin/users")
        .header("authorization", format!("Bearer {token}"))
        .header("x-supabase-api-version", "2024-01-01")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(config, req).await;
    (status.as_u16(), serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn the_clis_key_is_published_without_its_private_part() {
    let (headers, body) = jwks(cli_config()).await;
    assert_eq!(headers["cache-control"], "public, max-age=600");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body,
        format!(
            r#"{{"keys":[{{"alg":"ES256","crv":"P-256","ext":true,"key_ops":["verify"],"kid":"{CLI_KID}","kty":"EC","use":"sig","x":"M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4","y":"P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"}}]}}"#
        )
    );
}

#[tokio::test]
async fn hmac_only_setups_publish_no_keys() {
    for extra in [
        vec![],
        vec![("GOTRUE_JWT_KEY_ID", "legacy")],
        vec![("GOTRUE_JWT_KEYS", "[]")],
    ] {
        let (_, body) = jwks(config(&extra).unwrap()).await;
        assert_eq!(body, r#"{"keys":[]}"#, "{extra:?}");
    }
    let oct = fixture("oct.json");
    let (_, body) = jwks(config(&[("GOTRUE_JWT_KEYS", &oct)]).unwrap()).await;
    assert_eq!(body, r#"{"keys":[]}"#);
}

#[tokio::test]
async fn every_asymmetric_key_is_published_and_no_private_parameter_or_oct_key() {
    let rotated = fixture("rotated.json");
    let rsa = fixture("gen_signing_key_rs256.json");
    let asymmetric = fixture("asymmetric.json");
    for (keys, count) in [(&rotated, 2), (&rsa, 1), (&asymmetric, 1)] {
        let (_, body) = jwks(config(&[("GOTRUE_JWT_KEYS", keys)]).unwrap()).await;
        let published: Value = serde_json::from_str(&body).unwrap();
        let published = published["keys"].as_array().unwrap();
        assert_eq!(published.len(), count, "{body}");
        for key in published {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "{private} published: {key}");
            }
            assert_ne!(key["kty"], "oct");
            assert_eq!(key["use"], "sig");
            assert_eq!(key["key_ops"], json!(["verify"]));
        }
    }
}

#[tokio::test]
async fn a_valid_es256_token_passes_verification_and_the_role_check_decides() {
    let user = token(
        "cli_default.json",
        json!({"alg": "ES256", "kid": CLI_KID, "typ": "JWT"}),
        json!({"role": "authenticated", "sub": "6f1c0d5e-0000-4000-8000-000000000001"}),
    );
    let (status, body) = admin_answer(cli_config(), &user).await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("not_admin")),
        "{body}"
    );
}

#[tokio::test]
async fn each_refused_token_is_403_bad_jwt_with_gotrues_reason() {
    let other_kid = "6894a1d1-c95e-431c-b09c-fca6dc1003fe";
    let hs256_with_kid = {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": CLI_KID}).to_string()),
            URL_SAFE_NO_PAD.encode(r#"{"role":"service_role"}"#)
        );
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{signature}")
    };
    let cases = [
        (
            // A key revoked from the array: its kid is no longer known.
            token(
                "asymmetric.json",
                json!({"alg": "ES256", "kid": other_kid, "typ": "JWT"}),
                json!({"role": "service_role"}),
            ),
            format!(
                "token is unverifiable: error while executing keyfunc: unrecognized JWT kid {other_kid} for algorithm ES256"
            ),
        ),
        (
            // Even signed with the secret, HS256 naming the EC key uses the EC key.
            hs256_with_kid,
            "token signature is invalid: key is of invalid type: HMAC verify expects []byte".into(),
        ),
        (
            token(
                "eddsa.json",
                json!({"alg": "EdDSA", "typ": "JWT"}),
                json!({"role": "service_role"}),
            ),
            "token signature is invalid: signing method EdDSA is invalid".into(),
        ),
    ];
    for (token, reason) in cases {
        let (status, body) = admin_answer(cli_config(), &token).await;
        assert_eq!(
            body,
            json!({
                "code": "bad_jwt",
                "message": format!("invalid JWT: unable to parse or verify signature, {reason}")
            })
        );
        assert_eq!(status, 403);
    }
}

#[tokio::test]
async fn the_legacy_anon_key_still_verifies_beside_the_keys() {
    // The CLI's anon key: HS256 with the secret, no kid. not_admin (not bad_jwt) means its
    // signature was accepted; the role check needs no database.
    let anon = {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iss":"supabase-demo","role":"anon","exp":1983812996}"#)
        );
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{signature}")
    };
    let (status, body) = admin_answer(cli_config(), &anon).await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("not_admin")),
        "{body}"
    );
}

#[test]
fn a_bad_key_array_stops_the_server_naming_the_variable_and_not_the_keys() {
    for (keys, reason) in [
        (
            fixture("two_signing_keys.json"),
            "multiple signing keys detected",
        ),
        (fixture("signing_key_without_d.json"), "has no private part"),
        (fixture("bad_json.txt"), "not a JSON array of JWKs"),
        (
            fixture("unknown_kty.json"),
            "invalid key type from JSON (XYZ)",
        ),
    ] {
        let error = config(&[("GOTRUE_JWT_KEYS", &keys)])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("environment variable GOTRUE_JWT_KEYS is invalid: "),
            "{error}"
        );
        assert!(error.contains(reason), "{error}");
        let private_d = "dIhR8wywJlqlua4y_yMq2SLhlFXDZJBCvFrY1DCHyVU";
        assert!(!error.contains(private_d));
    }
    let cli = fixture("cli_default.json");
    let error = config(&[("GOTRUE_JWT_KEYS", &cli.replace(r#""sign","#, ""))])
        .unwrap_err()
        .to_string();
    assert!(error.contains("no signing key found"), "{error}");
    assert!(!error.contains("dIhR8wywJlqlua4y"), "{error}");
}
