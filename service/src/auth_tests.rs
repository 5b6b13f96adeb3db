use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use rstest::rstest;

use super::*;

fn with_authorization(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    headers
}

#[rstest]
#[case::canonical("Bearer abc.def.ghi", Ok("abc.def.ghi"))]
#[case::lowercase_scheme("bearer abc", Ok("abc"))]
#[case::shouting_scheme("BEARER abc", Ok("abc"))]
#[case::basic_scheme("Basic dXNlcjpwdw==", Err(CredentialProblem::Missing))]
#[case::scheme_only("Bearer", Err(CredentialProblem::Missing))]
#[case::empty_token("Bearer ", Err(CredentialProblem::Malformed))]
#[case::two_spaces("Bearer  abc", Err(CredentialProblem::Malformed))]
#[case::trailing_text("Bearer abc def", Err(CredentialProblem::Malformed))]
fn reference_extraction_matches_gotrue(
    #[case] header: &str,
    #[case] expected: Result<&str, CredentialProblem>,
) {
    assert_eq!(bearer_token(&with_authorization(header)), expected);
}

#[test]
fn reference_extraction_without_header_is_missing() {
    assert_eq!(
        bearer_token(&HeaderMap::new()),
        Err(CredentialProblem::Missing)
    );
}

#[test]
fn reference_extraction_refuses_two_headers_even_when_equal() {
    let mut headers = with_authorization("Bearer abc");
    headers.append(AUTHORIZATION, "Bearer abc".parse().unwrap());
    assert_eq!(
        bearer_token(&headers),
        Err(CredentialProblem::Ambiguous { headers: 2 })
    );
    headers.append(AUTHORIZATION, "Basic x".parse().unwrap());
    assert_eq!(
        bearer_token(&headers),
        Err(CredentialProblem::Ambiguous { headers: 3 })
    );
}

#[rstest]
#[case::canonical("Bearer abc", Ok("abc"))]
#[case::lowercase_scheme_rejected("bearer abc", Err(()))]
#[case::basic_scheme("Basic abc", Err(()))]
#[case::empty_token_passes_as_empty("Bearer ", Ok(""))]
#[case::second_space_gives_empty("Bearer  abc", Ok(""))]
#[case::trailing_text_dropped("Bearer abc def", Ok("abc"))]
fn debrief_extraction_keeps_its_flaws(#[case] header: &str, #[case] expected: Result<&str, ()>) {
    let got = debrief_bearer_token(&with_authorization(header));
    assert_eq!(got.as_deref().map_err(|_| ()), expected);
}

#[test]
fn debrief_extraction_without_header_gives_its_message() {
    assert_eq!(
        debrief_bearer_token(&HeaderMap::new()),
        Err("No valid Bearer token found in Authorization header.")
    );
}

const USER_ID: &str = "5b7e4bd3-35c3-4e9c-9a0c-4a1f9e6f1c11";

#[test]
fn a_user_is_accepted() {
    let body = format!(r#"{{"id":"{USER_ID}","aud":"authenticated","role":"authenticated"}}"#);
    assert_eq!(
        classify(StatusCode::OK, body.as_bytes()),
        Ok(USER_ID.parse().unwrap())
    );
}

#[rstest]
#[case::missing_header(
    401,
    r#"{"code":"no_authorization","message":"This endpoint requires a valid Bearer token"}"#,
    "no_authorization"
)]
#[case::expired(
    403,
    r#"{"code":"bad_jwt","message":"invalid JWT: ... token is expired"}"#,
    "bad_jwt"
)]
#[case::deleted_user(
    403,
    r#"{"code":"user_not_found","message":"User from sub claim in JWT does not exist"}"#,
    "user_not_found"
)]
#[case::non_uuid_sub(
    400,
    r#"{"code":"bad_jwt","message":"invalid claim: sub claim must be a UUID"}"#,
    "bad_jwt"
)]
#[case::legacy_shape(
    403,
    r#"{"code":403,"error_code":"bad_jwt","msg":"invalid JWT"}"#,
    "bad_jwt"
)]
#[case::not_json(401, "nope", "unknown")]
fn token_problems_are_rejections(#[case] status: u16, #[case] body: &str, #[case] code: &str) {
    let status = StatusCode::from_u16(status).unwrap();
    match classify(status, body.as_bytes()) {
        Err(AuthFailure::Rejected { code: got, .. }) => assert_eq!(got, code),
        other => panic!("{status} {body} should be a rejection, got {other:?}"),
    }
}

#[rstest]
#[case::server_error(500, r#"{"code":"unexpected_failure","message":"boom"}"#)]
#[case::bad_gateway(502, "<html>bad gateway</html>")]
#[case::unavailable(503, "")]
#[case::rate_limited(429, r#"{"code":"over_request_rate_limit"}"#)]
#[case::not_found_means_misconfigured(404, "404 page not found")]
#[case::ok_but_not_json(200, "<html>captive portal</html>")]
#[case::ok_but_no_user(200, r#"{"hello":"world"}"#)]
#[case::ok_but_id_not_uuid(200, r#"{"id":"admin"}"#)]
fn outages_and_nonsense_are_unavailable(#[case] status: u16, #[case] body: &str) {
    let status = StatusCode::from_u16(status).unwrap();
    let got = classify(status, body.as_bytes());
    assert!(
        matches!(got, Err(AuthFailure::Unavailable(_))),
        "{status} {body}: {got:?}"
    );
}

fn client_for(url: &str, timeout: Duration) -> AuthClient {
    let config =
        Config::new(url.parse().unwrap(), "anon", "postgres://unused").with_auth_timeout(timeout);
    AuthClient::new(&config).unwrap()
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = client_for(&format!("http://{address}"), Duration::from_secs(2));
    match client.get_user("a.b.c").await {
        Err(AuthFailure::Unavailable(why)) => assert!(why.contains("connection"), "{why}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_silent_server_times_out_as_unavailable() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let client = client_for(&format!("http://{address}"), Duration::from_millis(300));
    let started = std::time::Instant::now();
    match client.get_user("a.b.c").await {
        Err(AuthFailure::Unavailable(why)) => assert!(why.contains("timed out"), "{why}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout was not applied"
    );
}

#[tokio::test]
async fn get_user_sends_what_supabase_js_sends_and_reads_the_claims() {
    use axum::Json;
    use axum::routing::get;

    let payload =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{USER_ID}","role":"authenticated"}}"#));
    let token = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig");
    let expected = format!("Bearer {token}");
    let app = axum::Router::new().route(
        "/auth/v1/user",
        get(move |headers: HeaderMap| async move {
            let ok = headers["apikey"] == "anon"
                && headers[AUTHORIZATION] == expected.as_str()
                && headers["x-supabase-api-version"] == API_VERSION;
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::IM_A_TEAPOT
            };
            (status, Json(serde_json::json!({ "id": USER_ID })))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = client_for(&format!("http://{address}/auth/v1"), Duration::from_secs(2));
    let user = client
        .get_user(&token)
        .await
        .expect("the fake auth server accepts");
    assert_eq!(user.id.to_string(), USER_ID);
    assert_eq!(user.claims["role"], "authenticated");
}

#[test]
fn claims_need_a_json_object_payload() {
    assert!(token_claims("only-one-segment").is_none());
    assert!(token_claims("a.!!!.c").is_none());
    assert!(token_claims(&format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"))).is_none());
}
