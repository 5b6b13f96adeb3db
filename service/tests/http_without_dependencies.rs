//! The service over real HTTP where no dependency needs to answer: credential and body checks,
//! routing, request ids, logs, and an auth server that is not there. Behaviour that needs the
//! real database and auth server is covered by the harness's `service_stages` tests.

use serde_json::Value;
mod common;

use common::{TOKEN, post, serve};
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
