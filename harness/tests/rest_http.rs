//! The HTTP surface: authentication before routing (every row of contract §1.5 over the
//! wire), routing and methods (§2.1), OPTIONS, CORS (§3.2), body and header limits, and the
//! roles a token may never become.

mod rest_common;

use rest_common::*;
use serde_json::json;

#[tokio::test]
async fn jwt_errors_over_http() {
    let api = Api::start_with(&[("PGRST_JWT_AUD", "authenticated")]).await;
    let secret = api.stack.jwt_secret().to_owned();
    let wrong = "another-secret-that-is-at-least-32-characters";
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let rows: Vec<(String, &str, &str)> = vec![
        (
            "".into(),
            "PGRST301",
            "Empty JWT is sent in Authorization header",
        ),
        (
            "sb_publishable_xyz".into(),
            "PGRST301",
            "Expected 3 parts in JWT; got 1",
        ),
        (
            sign(json!({"role": "authenticated"}), wrong),
            "PGRST301",
            "No suitable key or wrong key type",
        ),
        (
            "aaa.bbb.ccc".into(),
            "PGRST301",
            "JWT cryptographic operation failed",
        ),
        (
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(r#"{"role":"service_role"}"#)
            ),
            "PGRST301",
            "Wrong or unsupported encoding algorithm",
        ),
        (
            sign(json!({"exp": now() - 31}), &secret),
            "PGRST303",
            "JWT expired",
        ),
        (
            sign(json!({"nbf": now() + 60}), &secret),
            "PGRST303",
            "JWT not yet valid",
        ),
        (
            sign(json!({"iat": now() + 60}), &secret),
            "PGRST303",
            "JWT issued at future",
        ),
        (
            sign(json!({"aud": "someone-else"}), &secret),
            "PGRST303",
            "JWT not in audience",
        ),
        (
            sign(json!({"exp": "tomorrow"}), &secret),
            "PGRST303",
            "The JWT 'exp' claim must be a number",
        ),
    ];
    for (token, code, message) in rows {
        // A path that does not exist: auth still answers first.
        for path in ["/authors", "/no/such/path"] {
            let r = api
                .get(path)
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            let (status, headers, body) = parts(r).await;
            assert_eq!(status, 401, "{message}: {body}");
            assert_eq!(
                body,
                json!({"code": code, "message": message, "details": body["details"], "hint": null})
            );
            assert_eq!(
                header(&headers, "www-authenticate").unwrap(),
                format!("Bearer error=\"invalid_token\", error_description=\"{message}\"")
            );
            assert_eq!(
                header(&headers, "proxy-status").unwrap(),
                format!("PostgREST; error={code}")
            );
        }
    }
    // 29 s past exp is inside the skew.
    let r = api
        .get("/authors?limit=1")
        .bearer_auth(sign(json!({"exp": now() - 29, "role": "anon"}), &secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Scheme case and non-bearer schemes.
    let token = api.stack.anon_key().to_owned();
    for value in [
        format!("bearer {token}"),
        format!("BEARER {token}"),
        "Basic dXNlcjpwYXNz".into(),
        token.clone(),
    ] {
        let r = api
            .get("/authors?limit=1")
            .header("Authorization", value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{value}");
    }
}

#[tokio::test]
async fn roles_a_token_cannot_become() {
    let api = Api::start().await;
    let secret = api.stack.jwt_secret().to_owned();
    for (role, status, code, message) in [
        (
            "nosuchrole",
            401u16,
            "22023",
            "role \"nosuchrole\" does not exist",
        ),
        (
            "postgres",
            403,
            "42501",
            "permission denied to set role \"postgres\"",
        ),
        (
            "supabase_admin",
            403,
            "42501",
            "permission denied to set role \"supabase_admin\"",
        ),
    ] {
        let r = api
            .get("/rpc/whoami")
            .bearer_auth(sign(json!({"role": role}), &secret))
            .send()
            .await
            .unwrap();
        let (s, headers, body) = parts(r).await;
        assert_eq!(s, status, "{role}: {body}");
        assert_eq!(body["code"], code, "{role}: {body}");
        assert_eq!(body["message"], message, "{role}: {body}");
        assert_eq!(
            header(&headers, "www-authenticate").is_some(),
            status == 401
        );
    }
    let r = api
        .get("/rpc/whoami")
        .bearer_auth(api.stack.service_role_key())
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await.2, json!("service_role"));
}

#[tokio::test]
async fn anonymous_disabled_and_no_secret() {
    let api = Api::start_with(&[("PGRST_DB_ANON_ROLE", "")]).await;
    let (status, headers, body) = parts(api.get("/authors").send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": "PGRST302", "message": "Anonymous access is disabled", "details": null, "hint": null})
    );
    assert_eq!(header(&headers, "www-authenticate"), Some("Bearer"));
    let api = Api::start_with(&[("PGRST_JWT_SECRET", "")]).await;
    let (status, _, body) = parts(
        api.get("/authors")
            .bearer_auth("a.b.c")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 500);
    assert_error(&body, "PGRST300");
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200,
        "no token, no secret: anonymous"
    );
}

#[tokio::test]
async fn routing_methods_and_cors() {
    let api = Api::start().await;
    api.check(vec![
        Case { name: "deep path: PGRST125", path: "/authors/1", status: 404, expect: Some(json!({"code": "PGRST125", "message": "Invalid path specified in request URL", "details": null, "hint": null})), ..Case::default() },
        Case { name: "deep rpc path", path: "/rpc/add/x", status: 404, code: Some("PGRST125"), ..Case::default() },
        Case { name: "unsupported method: PGRST117", method: "TRACE", path: "/authors", status: 405, expect: Some(json!({"code": "PGRST117", "message": "Unsupported HTTP method: TRACE", "details": null, "hint": null})), ..Case::default() },
        Case { name: "OPTIONS on a table", method: "OPTIONS", path: "/authors", expect_headers: &[("allow", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE")], ..Case::default() },
        Case { name: "OPTIONS on a materialized view", method: "OPTIONS", path: "/book_counts", expect_headers: &[("allow", "OPTIONS,GET,HEAD")], ..Case::default() },
        Case { name: "OPTIONS on a stable function", method: "OPTIONS", path: "/rpc/add", expect_headers: &[("allow", "OPTIONS,GET,HEAD,POST")], ..Case::default() },
        Case { name: "OPTIONS on a volatile function", method: "OPTIONS", path: "/rpc/bump", expect_headers: &[("allow", "OPTIONS,POST")], ..Case::default() },
        Case { name: "OPTIONS on a table without a key: no PUT", method: "OPTIONS", path: "/nopk", expect_headers: &[("allow", "OPTIONS,GET,HEAD,POST,PATCH,DELETE")], ..Case::default() },
        Case { name: "OPTIONS on an updatable view without a key", method: "OPTIONS", path: "/books_view", expect_headers: &[("allow", "OPTIONS,GET,HEAD,POST,PATCH,DELETE")], ..Case::default() },
        Case { name: "OPTIONS on an unknown table: PGRST205", method: "OPTIONS", path: "/nope", status: 404, code: Some("PGRST205"), ..Case::default() },
        Case { name: "CORS preflight", method: "OPTIONS", path: "/authors", headers: &[("Origin", "http://app.test"), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "apikey, content-type, prefer")], expect_headers: &[("access-control-allow-origin", "*"), ("access-control-allow-methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS"), ("access-control-allow-headers", "Authorization, apikey, content-type, prefer"), ("access-control-max-age", "86400")], ..Case::default() },
        Case { name: "CORS on a response", path: "/authors?limit=1", headers: &[("Origin", "http://app.test")], expect_headers: &[("access-control-allow-origin", "*"), ("access-control-expose-headers", "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit")], ..Case::default() },
        Case { name: "CORS on an error", path: "/nope", headers: &[("Origin", "http://app.test")], status: 404, expect_headers: &[("access-control-allow-origin", "*")], ..Case::default() },
        Case { name: "disabled root spec would be PGRST126; here it is served", path: "/", ..Case::default() },
    ])
    .await;
    // No CORS headers without Origin.
    let r = api.get("/authors?limit=1").send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // Content-Length is set on bodies and errors.
    let r = api.get("/nope").send().await.unwrap();
    assert!(r.headers().get("content-length").is_some());
}

#[tokio::test]
async fn limits_answer_in_the_servers_shape() {
    let api = Api::start_with(&[
        ("PGRST_SERVER_CORS_ALLOWED_ORIGINS", "http://ok.test"),
        ("PGRST_OPENAPI_MODE", "disabled"),
    ])
    .await;
    // A body over the limit: refused with a JSON error, not a framework text.
    let big = "x".repeat(rest::http::BODY_LIMIT + 1);
    let r = api
        .request(reqwest::Method::POST, "/items")
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(r).await;
    assert_eq!(status, 413, "{body}");
    assert_error(&body, "PGRST102");
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/json; charset=utf-8")
    );
    // Oversized headers are answered (431), not dropped.
    let r = api
        .get("/authors")
        .header("X-Big", "y".repeat(1_000_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    // Allowed origins: only those get CORS headers.
    let r = api
        .get("/authors?limit=1")
        .header("Origin", "http://ok.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("http://ok.test")
    );
    let r = api
        .get("/authors?limit=1")
        .header("Origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let (status, _, body) = parts(api.get("/").send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_error(&body, "PGRST126");
}

#[tokio::test]
async fn admin_server_reports_ready() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port_s = port.to_string();
    let api = Api::start_with(&[
        ("PGRST_ADMIN_SERVER_PORT", &port_s),
        ("PGRST_SERVER_HOST", "127.0.0.1"),
    ])
    .await;
    let admin = format!("http://127.0.0.1:{port}");
    assert_eq!(
        api.client
            .get(format!("{admin}/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        api.client
            .get(format!("{admin}/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    api.stop().await;
}
