//! The service over real HTTP where no dependency needs to answer: credential and body checks,
//! routing, request ids, logs, and an auth server that is not there. Behaviour that needs the
//! real database and auth server is covered by the harness's `service_stages` tests.

use serde_json::Value;
mod common;

use std::time::Duration;

use common::{TOKEN, nothing_listening, post, serve};
use service::{ROUTE, Stage};

#[tokio::test]
async fn reference_refuses_bad_credentials_before_asking_anyone() {
    let url = format!("{}{ROUTE}", serve(Stage::Reference).await);
    for (header, challenge) in [
        (None, "Bearer realm=\"api\""),
        (Some("Basic dXNlcjpwdw=="), "Bearer realm=\"api\""),
        (Some("Bearer a b"), "invalid_request"),
    ] {
        let headers: Vec<_> = header.map(|h| ("authorization", h)).into_iter().collect();
        let response = post(&url, &headers, "").await;
        assert_eq!(response.status(), 401, "{header:?}");
        let got = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(got.contains(challenge), "{header:?}: {got}");
    }
}

#[tokio::test]
async fn reference_reports_an_unreachable_auth_server_as_503() {
    let url = format!("{}{ROUTE}", serve(Stage::Reference).await);
    for scheme in [TOKEN.to_owned(), TOKEN.replacen("Bearer", "bEaReR", 1)] {
        let response = post(&url, &[("authorization", &scheme)], "").await;
        assert_eq!(response.status(), 503, "{scheme}");
        assert!(response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "auth_unavailable");
    }
}

#[tokio::test]
async fn reference_checks_the_body_before_calling_the_auth_server() {
    let url = format!("{}{ROUTE}", serve(Stage::Reference).await);
    let auth = ("authorization", TOKEN);
    let json = ("content-type", "application/json");
    assert_eq!(
        post(&url, &[auth, ("content-type", "text/plain")], "hi")
            .await
            .status(),
        415
    );
    assert_eq!(post(&url, &[auth, json], "{").await.status(), 400);
    assert_eq!(
        post(&url, &[auth, json], &" ".repeat(70 * 1024))
            .await
            .status(),
        413
    );
    // A valid JSON body passes the checks and meets the (absent) auth server.
    assert_eq!(
        post(&url, &[auth, json], r#"{"user_id":"x"}"#)
            .await
            .status(),
        503
    );
}

#[tokio::test]
async fn reference_routes_name_the_path_and_the_method() {
    let base = serve(Stage::Reference).await;
    let response = post(&format!("{base}/api/session/create."), &[], "").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "No route for POST \"/api/session/create.\"."
    );

    let response = reqwest::get(format!("{base}{ROUTE}")).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn debrief_final_calls_an_outage_an_invalid_token() {
    let url = format!("{}{ROUTE}", serve(Stage::DebriefFinal).await);
    let response = post(&url, &[("authorization", TOKEN)], "").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"Unauthorized: Invalid token."}"#
    );

    let response = post(&url, &[("authorization", "bearer x")], "").await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn cookie_first_crashes_on_the_phantom_cookie_before_the_token_matters() {
    let url = format!("{}{ROUTE}", serve(Stage::CookieFirst).await);
    let cookie = ("cookie", "sb-127-auth-token=eyJhbGciOiJIUzI1NiJ9.e30.sig");
    let response = post(&url, &[("authorization", TOKEN), cookie], "").await;
    assert_eq!(response.status(), 500);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Failed to parse cookie string")
    );

    let response = post(&url, &[("authorization", TOKEN)], "").await;
    assert_eq!(
        response.status(),
        401,
        "without a cookie the helpers see no session"
    );
}

#[tokio::test]
async fn route_missing_has_no_route_at_all() {
    let base = serve(Stage::RouteMissing).await;
    let response = post(&format!("{base}{ROUTE}"), &[("authorization", TOKEN)], "").await;
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This page could not be found")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_honours_the_callers() {
    for stage in Stage::ALL {
        let url = format!("{}{ROUTE}", serve(stage).await);
        let fresh = post(&url, &[], "").await;
        assert!(fresh.headers().contains_key("x-request-id"), "{stage}");
        let echoed = post(&url, &[("x-request-id", "caller-7")], "").await;
        assert_eq!(echoed.headers()["x-request-id"], "caller-7", "{stage}");
    }
}

#[tokio::test]
async fn reference_local_needs_the_jwt_secret_and_says_so() {
    let config = nothing_listening();
    let without = service::Config {
        jwt_secret: None,
        ..config
    };
    let error = service::app(&without, Stage::ReferenceLocal)
        .await
        .expect_err("no secret, no local verification");
    assert!(error.to_string().contains("SUPABASE_JWT_SECRET"), "{error}");
}

/// A server that answers mid-upload and then closes with bytes unread makes the client see a
/// broken pipe or a reset instead of the answer. So no stage answers before the whole body has
/// arrived: a raw client sends part of a declared 1 MiB body, hears nothing, sends the rest, and
/// only then gets its answer.
#[tokio::test]
async fn no_stage_answers_before_the_upload_is_complete() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const DECLARED: usize = 1024 * 1024;
    const FIRST_PART: usize = 128 * 1024; // past the reference's 64 KiB limit
    for (stage, expected) in [(Stage::Reference, "413"), (Stage::DebriefFinal, "401")] {
        let base = serve(stage).await;
        let address = base.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST {ROUTE} HTTP/1.1\r\nhost: {address}\r\nauthorization: {TOKEN}\r\n\
             content-type: application/json\r\ncontent-length: {DECLARED}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&vec![b'x'; FIRST_PART]).await.unwrap();

        let mut answer = vec![0; 1024];
        let early =
            tokio::time::timeout(Duration::from_millis(300), socket.read(&mut answer)).await;
        assert!(
            early.is_err(),
            "{stage} answered mid-upload: {:?}",
            early.map(|read| read.map(|n| String::from_utf8_lossy(&answer[..n]).into_owned()))
        );

        socket
            .write_all(&vec![b'x'; DECLARED - FIRST_PART])
            .await
            .unwrap();
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
            .await
            .expect("an answer once the body is complete")
            .unwrap();
        let status_line = String::from_utf8_lossy(&answer[..read])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(
            status_line.starts_with(&format!("HTTP/1.1 {expected}")),
            "{stage}: {status_line}"
        );
    }
}

/// Two Authorization headers are ambiguous credentials: which one the caller meant is not ours
/// to guess, so the reference refuses the pair with a 400 naming the cause, before anyone is
/// asked about either token (here no auth server is listening: a 503 would mean it tried).
#[tokio::test]
async fn reference_refuses_two_authorization_headers() {
    for stage in [Stage::Reference, Stage::ReferenceLocal] {
        let url = format!("{}{ROUTE}", serve(stage).await);
        for second in [TOKEN, "Bearer other.token.here", "Basic dXNlcjpwdw=="] {
            let response = post(
                &url,
                &[("authorization", TOKEN), ("authorization", second)],
                "",
            )
            .await;
            assert_eq!(response.status(), 400, "{stage}: {second}");
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                challenge.contains("error=\"invalid_request\""),
                "{stage}: {challenge}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "ambiguous_credentials", "{stage}: {body}");
            assert_eq!(
                body["message"], "The request carries 2 Authorization headers; send exactly one.",
                "{stage}"
            );
        }
    }
}
