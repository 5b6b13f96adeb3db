use axum::body::to_bytes;
use rstest::rstest;
use serde_json::Value;

use super::*;

async fn render(error: ServiceError) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = error.into_response();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[rstest]
#[case::missing(ServiceError::MissingCredentials, "Bearer realm=\"api\"")]
#[case::malformed(ServiceError::MalformedCredentials, "error=\"invalid_request\"")]
#[case::rejected(ServiceError::TokenRejected("403 bad_jwt: token is expired".into()), "error=\"invalid_token\"")]
#[tokio::test]
async fn credential_failures_are_401_with_a_bearer_challenge(
    #[case] error: ServiceError,
    #[case] challenge: &str,
) {
    let (status, headers, body) = render(error).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let header = headers[WWW_AUTHENTICATE].to_str().unwrap();
    assert!(header.starts_with("Bearer "), "{header}");
    assert!(header.contains(challenge), "{header}");
    assert!(
        !body.contains("bad_jwt") && !body.contains("token is expired"),
        "leaks the cause: {body}"
    );
}

#[rstest]
#[case::auth(ServiceError::AuthUnavailable("connection failed: Connection refused (os error 111)".into()))]
#[case::database(ServiceError::DatabaseUnavailable("pool timed out at 10.0.0.5:5432".into()))]
#[tokio::test]
async fn outages_are_503_with_retry_after_and_no_internals(#[case] error: ServiceError) {
    let (status, headers, body) = render(error).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        headers[RETRY_AFTER],
        RETRY_AFTER_SECONDS.to_string().as_str()
    );
    assert!(
        !headers.contains_key(WWW_AUTHENTICATE),
        "an outage must not pose as bad credentials"
    );
    assert!(
        !body.contains("os error") && !body.contains("10.0.0.5"),
        "leaks internals: {body}"
    );
}

#[tokio::test]
async fn internal_errors_say_nothing_but_the_request_id() {
    let error = ServiceError::Internal("column \"secret_col\" does not exist".into());
    let response = request_id::scope_for_test("req-42", async { render(error).await }).await;
    let (status, _, body) = response;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("secret_col"), "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["request_id"], "req-42");
    assert_eq!(json["error"], "internal_error");
}

#[tokio::test]
async fn not_found_names_the_path_and_405_allows_post() {
    let path = "/api/session/create.".to_string();
    let (status, _, body) = render(ServiceError::NotFound {
        method: "POST".into(),
        path,
    })
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let json: Value = serde_json::from_str(&body).unwrap();
    // Quoted, so a trailing-dot typo cannot hide behind the sentence's own full stop.
    assert_eq!(
        json["message"],
        "No route for POST \"/api/session/create.\"."
    );

    let path = "/api/session/create".to_string();
    let (status, headers, _) = render(ServiceError::MethodNotAllowed {
        method: "GET".into(),
        path,
    })
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[ALLOW], "POST");
}

#[rstest]
#[case::bad_json(ServiceError::InvalidJson("EOF".into()), StatusCode::BAD_REQUEST)]
#[case::too_large(ServiceError::PayloadTooLarge { limit: 65536 }, StatusCode::PAYLOAD_TOO_LARGE)]
#[case::not_json(ServiceError::UnsupportedMediaType("text/plain".into()), StatusCode::UNSUPPORTED_MEDIA_TYPE)]
#[tokio::test]
async fn body_problems_have_their_own_statuses(
    #[case] error: ServiceError,
    #[case] expected: StatusCode,
) {
    assert_eq!(render(error).await.0, expected);
}

#[tokio::test]
async fn debrief_answers_are_reproduced_verbatim() {
    let (status, _, body) = render(ServiceError::DebriefUnauthorized("fetch failed".into())).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"Unauthorized: Invalid token."}"#
        )
    );

    let missing = "No valid Bearer token found in Authorization header.".to_string();
    let (status, _, body) = render(ServiceError::DebriefFailed(missing)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        r#"{"error":"Failed to create session: No valid Bearer token found in Authorization header."}"#
    );

    let cookie = crate::cookies::read_session([&b"sb-x-auth-token=nope"[..]], "sb-x-auth-token")
        .unwrap_err();
    let (status, _, body) = render(ServiceError::CookieParse(cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body.contains("Failed to parse cookie string: SyntaxError"),
        "{body}"
    );
}
