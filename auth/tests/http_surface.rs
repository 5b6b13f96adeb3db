//! The parts of the HTTP surface that answer before any query runs: routing, body limits, JSON
//! errors, bearer and JWT checks, admin role checks and the discovery endpoints. The pool is
//! lazy and points nowhere, so a handler that touched the database would fail these tests.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
/// The CLI's anon and service_role keys for SECRET.
const ANON: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

fn app() -> axum::Router {
    let config = auth::Config::from_pairs([
        ("GOTRUE_DB_DRIVER", "postgres"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("GOTRUE_JWT_SECRET", SECRET),
        ("API_EXTERNAL_URL", "http://localhost:9999"),
        ("GOTRUE_SITE_URL", "http://localhost:3000"),
    ])
    .unwrap();
    let pool = pgpool::Pool::new(
        config.database_url.parse().unwrap(),
        1,
        pgpool::Timeouts::default(),
    );
    auth::api::router(auth::api::AppState {
        config: Arc::new(config),
        pool,
    })
}

async fn send(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn get(path: &str) -> axum::http::request::Builder {
    Request::get(path)
}

#[tokio::test]
async fn unknown_path_is_plain_text_404_and_wrong_method_is_empty_405() {
    let (status, headers, body) = send(get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(body, "404 page not found\n");

    let (status, _, body) = send(Request::delete("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 405);
    assert_eq!(body, "");
}

#[tokio::test]
async fn discovery_endpoints() {
    let (status, _, body) = send(get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"version":"#), "{body}");
    assert!(body.ends_with(r#""name":"GoTrue","description":"GoTrue is a user registration and authentication API"}"#), "{body}");

    let (_, _, body) = send(get("/settings").body(Body::empty()).unwrap()).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["external"].as_object().unwrap().len(), 26);
    assert_eq!(v["external"]["email"], true);
    assert_eq!(v["external"]["anonymous_users"], false);
    assert_eq!(v["disable_signup"], false);

    let (_, headers, body) = send(get("/.well-known/jwks.json").body(Body::empty()).unwrap()).await;
    assert_eq!(body, r#"{"keys":[]}"#);
    assert_eq!(headers["cache-control"], "public, max-age=600");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let big = vec![b' '; (1 << 20) + 1];
    let (status, headers, body) =
        send(Request::post("/signup").body(Body::from(big)).unwrap()).await;
    assert_eq!(status, 413);
    assert_eq!(headers["x-sb-error-code"], "request_entity_too_large");
    assert_eq!(
        body,
        r#"{"code":413,"error_code":"request_entity_too_large","msg":"Request body too large (max 1048576 bytes)"}"#
    );
}

#[tokio::test]
async fn bad_json_is_400_whatever_the_content_type() {
    let (status, _, body) = send(
        Request::post("/token?grant_type=password")
            .body(Body::from("{\"email\":"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"code":400,"error_code":"bad_json","msg":"Could not parse request body as JSON: unexpected end of JSON input"}"#
    );
}

#[tokio::test]
async fn grant_type_comes_from_the_query() {
    let (status, _, body) = send(
        Request::post("/token")
            .body(Body::from(r#"{"grant_type":"password"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"code":400,"error_code":"invalid_credentials","msg":"unsupported_grant_type"}"#
    );
}

#[tokio::test]
async fn user_endpoint_rejects_before_touching_the_database() {
    let cases = [
        (
            None,
            401,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        ),
        (
            Some("Token abc"),
            401,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        ),
        (
            Some("Bearer a.b"),
            403,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token is malformed: token contains an invalid number of segments",
        ),
        (
            Some(&*format!("Bearer {ANON}")),
            403,
            "bad_jwt",
            "invalid claim: missing sub claim",
        ),
    ];
    for (header, status, code, msg) in cases {
        let mut req = get("/user");
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let (got, headers, body) = send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(got.as_u16(), status, "{header:?}: {body}");
        assert_eq!(headers["x-sb-error-code"], code);
        let want = serde_json::json!({"code": status, "error_code": code, "msg": msg});
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            want,
            "{header:?}"
        );
    }
}

#[tokio::test]
async fn anon_key_is_not_admin_and_the_versioned_shape_applies() {
    let req = get("/admin/users")
        .header("authorization", format!("Bearer {ANON}"))
        .header("x-supabase-api-version", "2024-01-01")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(req).await;
    assert_eq!(status, 403);
    assert_eq!(headers["x-supabase-api-version"], "2024-01-01");
    assert_eq!(body, r#"{"code":"not_admin","message":"User not allowed"}"#);
}
