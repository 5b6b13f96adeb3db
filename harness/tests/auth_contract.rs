//! The auth server against GoTrue's contract, over real HTTP, on the harness's native stack
//! (real PostgreSQL, the real `auth` binary).
//!
//! Every failure mode of `GET /user` is one case: which credential is presented, and the status,
//! `error_code` and exact message GoTrue gives for it (docs: gotrue-contract.md §3). The flows
//! then walk a user's life: signup, password sign-in, refresh rotation and reuse, logout, and
//! the admin API. Tokens are minted here with `jsonwebtoken` so each one is wrong in exactly
//! one way.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use rstest::rstest;
use serde_json::{Value, json};

/// What a case needs to build its Authorization header.
struct Ctx {
    secret: String,
    anon_key: String,
    user_id: String,
    session_id: String,
    /// The audience the stack puts in user tokens (GOTRUE_JWT_AUD).
    aud: String,
    access_token: String,
}

/// A credential for a case: `None` sends no Authorization header at all.
type Credential = fn(&Ctx) -> Option<String>;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a well-formed user token for `ctx`, to be spoiled one field at a time.
fn user_claims(ctx: &Ctx) -> Value {
    json!({
        "sub": ctx.user_id,
        "aud": ctx.aud,
        "exp": now() + 600,
        "iat": now(),
        "email": "",
        "phone": "",
        "role": "authenticated",
        "aal": "aal1",
        "session_id": ctx.session_id,
        "is_anonymous": false,
    })
}

fn hs(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn with(ctx: &Ctx, field: &str, value: Value) -> Option<String> {
    let mut claims = user_claims(ctx);
    claims[field] = value;
    bearer(hs(Algorithm::HS256, &claims, &ctx.secret))
}

/// Unpadded base64url, for hand-built tokens jsonwebtoken refuses to make (alg none).
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// Boots a stack and signs a confirmed user in, returning the stack, the context and the
/// sign-in response body.
async fn signed_in_user(email: &str) -> (harness::Stack, Ctx, Value) {
    let stack = harness::Stack::start()
        .await
        .expect("the native stack should boot");
    let http = reqwest::Client::new();
    let password = "correct-horse-9";
    create_confirmed_user(&stack, &http, email, password).await;
    let session = password_grant(&stack, &http, email, password).await;
    let ctx = Ctx {
        secret: stack.jwt_secret().to_owned(),
        anon_key: stack.anon_key().to_owned(),
        user_id: session["user"]["id"].as_str().unwrap().to_owned(),
        session_id: claims_of(session["access_token"].as_str().unwrap())["session_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        aud: claims_of(session["access_token"].as_str().unwrap())["aud"]
            .as_str()
            .unwrap()
            .to_owned(),
        access_token: session["access_token"].as_str().unwrap().to_owned(),
    };
    (stack, ctx, session)
}

async fn create_confirmed_user(
    stack: &harness::Stack,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> Value {
    let res = http
        .post(format!("{}/admin/users", stack.auth_url()))
        .bearer_auth(stack.service_role_key())
        .json(&json!({"email": email, "password": password, "email_confirm": true}))
        .send()
        .await
        .unwrap();
    expect_ok(res, "POST /admin/users").await
}

async fn password_grant(
    stack: &harness::Stack,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> Value {
    let res = http
        .post(format!("{}/token?grant_type=password", stack.auth_url()))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    expect_ok(res, "POST /token?grant_type=password").await
}

async fn refresh(
    stack: &harness::Stack,
    http: &reqwest::Client,
    token: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(format!(
            "{}/token?grant_type=refresh_token",
            stack.auth_url()
        ))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn get_user(
    stack: &harness::Stack,
    http: &reqwest::Client,
    token: &str,
) -> (StatusCode, Value) {
    let res = http
        .get(format!("{}/user", stack.auth_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn expect_ok(res: reqwest::Response, what: &str) -> Value {
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "{what} should succeed; got {status}: {body}"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what} answered non-JSON ({e}): {body}"))
}

/// The payload of a JWT, unverified.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&b64url_decode(payload)).expect("payload is JSON")
}

fn b64url_decode(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sextets: Vec<u32> = s
        .bytes()
        .map(|c| A.iter().position(|a| *a == c).expect("base64url character") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn assert_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    want_code: &str,
    want_msg: &str,
    what: &str,
) {
    assert_eq!(status.as_u16(), want_status, "{what}: status; body {body}");
    assert_eq!(
        body,
        &json!({"code": want_status, "error_code": want_code, "msg": want_msg}),
        "{what}: body"
    );
}

#[rstest]
#[case::no_header(|_: &Ctx| None, 401, "no_authorization", "This endpoint requires a valid Bearer token")]
#[case::basic_scheme(|c: &Ctx| Some(format!("Basic {}", c.access_token)), 401, "no_authorization", "This endpoint requires a valid Bearer token")]
#[case::two_spaces(|c: &Ctx| Some(format!("Bearer  {}", c.access_token)), 401, "no_authorization", "This endpoint requires a valid Bearer token")]
#[case::empty_token(|_: &Ctx| Some("Bearer ".into()), 401, "no_authorization", "This endpoint requires a valid Bearer token")]
#[case::trailing_text(|c: &Ctx| Some(format!("Bearer {} extra", c.access_token)), 401, "no_authorization", "This endpoint requires a valid Bearer token")]
#[case::two_segments(|_: &Ctx| Some("Bearer abc.def".into()), 403, "bad_jwt",
    "invalid JWT: unable to parse or verify signature, token is malformed: token contains an invalid number of segments")]
#[case::wrong_secret(|c: &Ctx| bearer(hs(Algorithm::HS256, &user_claims(c), "not-the-secret-not-the-secret-not-the")), 403, "bad_jwt",
    "invalid JWT: unable to parse or verify signature, token signature is invalid: signature is invalid")]
#[case::expired(|c: &Ctx| with(c, "exp", json!(now() - 1)), 403, "bad_jwt",
    "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired")]
#[case::not_yet_valid(|c: &Ctx| with(c, "nbf", json!(now() + 600)), 403, "bad_jwt",
    "invalid JWT: unable to parse or verify signature, token has invalid claims: token is not valid yet")]
#[case::alg_none(|c: &Ctx| bearer(format!("{}.{}.", b64url(br#"{"alg":"none","typ":"JWT"}"#), b64url(user_claims(c).to_string().as_bytes()))),
    403, "bad_jwt", "invalid JWT: unable to parse or verify signature, token signature is invalid: signing method none is invalid")]
#[case::hs512(|c: &Ctx| bearer(hs(Algorithm::HS512, &user_claims(c), &c.secret)), 403, "bad_jwt",
    "invalid JWT: unable to parse or verify signature, token signature is invalid: signing method HS512 is invalid")]
#[case::anon_key_has_no_sub(|c: &Ctx| bearer(c.anon_key.clone()), 403, "bad_jwt", "invalid claim: missing sub claim")]
#[case::sub_not_uuid(|c: &Ctx| with(c, "sub", json!("not-a-uuid")), 400, "bad_jwt", "invalid claim: sub claim must be a UUID")]
#[case::unknown_user(|c: &Ctx| with(c, "sub", json!("6f1c0d5e-0000-4000-8000-00000000dead")), 403, "user_not_found",
    "User from sub claim in JWT does not exist")]
#[case::session_id_not_uuid(|c: &Ctx| with(c, "session_id", json!("nope")), 403, "bad_jwt", "invalid claim: session_id claim must be a UUID")]
#[case::unknown_session(|c: &Ctx| with(c, "session_id", json!("6f1c0d5e-0000-4000-8000-00000000beef")), 403, "session_not_found",
    "Session from session_id claim in JWT does not exist")]
#[case::audience_mismatch(|c: &Ctx| with(c, "aud", json!("someone-else")), 400, "validation_failed",
    "Token audience doesn't match request audience")]
#[tokio::test]
async fn get_user_failure_modes(
    #[case] credential: Credential,
    #[case] status: u16,
    #[case] error_code: &str,
    #[case] message: &str,
) {
    let (stack, ctx, _) = signed_in_user("failure-modes@example.com").await;
    let mut req = reqwest::Client::new().get(format!("{}/user", stack.auth_url()));
    let header = credential(&ctx);
    if let Some(h) = &header {
        req = req.header("Authorization", h);
    }
    let res = req.send().await.unwrap();
    let got_status = res.status();
    assert_eq!(
        res.headers()
            .get("x-sb-error-code")
            .and_then(|v| v.to_str().ok()),
        Some(error_code),
        "x-sb-error-code for Authorization {header:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert_error(
        got_status,
        &body,
        status,
        error_code,
        message,
        &format!("Authorization {header:?}"),
    );
}

#[tokio::test]
async fn scheme_is_case_insensitive() {
    let (stack, ctx, _) = signed_in_user("case@example.com").await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = reqwest::Client::new()
            .get(format!("{}/user", stack.auth_url()))
            .header("Authorization", format!("{scheme} {}", ctx.access_token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "scheme {scheme:?}: {}",
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn api_version_header_switches_the_error_shape() {
    let (stack, ctx, _) = signed_in_user("versioned@example.com").await;
    let res = reqwest::Client::new()
        .get(format!("{}/user", stack.auth_url()))
        .bearer_auth(&ctx.anon_key)
        .header("X-Supabase-Api-Version", "2024-01-01")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()["x-supabase-api-version"], "2024-01-01");
    let body = res.text().await.unwrap();
    assert_eq!(
        body,
        r#"{"code":"bad_jwt","message":"invalid claim: missing sub claim"}"#
    );
}

#[tokio::test]
async fn signup_sign_in_refresh_logout() {
    let stack = harness::Stack::start()
        .await
        .expect("the native stack should boot");
    let http = reqwest::Client::new();
    let base = stack.auth_url().to_owned();

    // Signup. Depending on GOTRUE_MAILER_AUTOCONFIRM the answer is a Session or an unconfirmed
    // User; confirm through the admin API in the latter case so both configurations sign in.
    let res = http
        .post(format!("{base}/signup"))
        .json(&json!({"email": "Flow@Example.com", "password": "correct-horse-9", "data": {"plan": "pro"}}))
        .send()
        .await
        .unwrap();
    let signup = expect_ok(res, "POST /signup").await;
    let user = if signup.get("access_token").is_some() {
        &signup["user"]
    } else {
        &signup
    };
    let user_id = user["id"]
        .as_str()
        .expect("signup returns the user id")
        .to_owned();
    assert_eq!(user["email"], "flow@example.com", "email is lowercased");
    assert_eq!(user["user_metadata"]["plan"], "pro");
    assert_eq!(user["identities"][0]["provider"], "email");
    if signup.get("access_token").is_none() {
        assert!(
            user["confirmation_sent_at"].is_string(),
            "unconfirmed signup: {signup}"
        );
        let res = http
            .put(format!("{base}/admin/users/{user_id}"))
            .bearer_auth(stack.service_role_key())
            .json(&json!({"email_confirm": true}))
            .send()
            .await
            .unwrap();
        expect_ok(res, "PUT /admin/users/{id} email_confirm").await;
    }

    // The row looks like GoTrue's: nil instance, '' token columns (NULL there breaks GoTrue).
    let db = sqlx::PgPool::connect(stack.db_url()).await.unwrap();
    let (instance, token): (uuid::Uuid, Option<String>) = sqlx::query_as(
        "select instance_id, confirmation_token from auth.users where id = $1::uuid",
    )
    .bind(&user_id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(instance.is_nil());
    assert!(token.is_some(), "confirmation_token must not be NULL");

    // Password sign-in.
    let res = http
        .post(format!("{base}/token?grant_type=password"))
        .json(&json!({"email": "flow@example.com", "password": "correct-horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["sb-auth-user-id"], user_id.as_str());
    let session = expect_ok(res, "password grant").await;
    assert!(
        session.as_object().unwrap().contains_key("weak_password")
            && session["weak_password"].is_null()
    );
    assert_eq!(session["token_type"], "bearer");
    let access = session["access_token"].as_str().unwrap().to_owned();
    let first_refresh = session["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        first_refresh.len(),
        12,
        "v1 refresh tokens are 12 characters"
    );
    let claims = claims_of(&access);
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["amr"][0]["method"], "password");
    let session_id = claims["session_id"].as_str().unwrap().to_owned();

    // The token is accepted on /user.
    let (status, me) = get_user(&stack, &http, &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], user_id.as_str());

    // Refresh rotates: a child token, same session.
    let (status, second) = refresh(&stack, &http, &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        claims_of(second["access_token"].as_str().unwrap())["session_id"],
        session_id.as_str()
    );
    let parent: Option<String> =
        sqlx::query_scalar("select parent from auth.refresh_tokens where token = $1")
            .bind(&second_refresh)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(parent.as_deref(), Some(first_refresh.as_str()));

    // The revoked parent of the active token gets the active token back (a retried refresh).
    let (status, retried) = refresh(&stack, &http, &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["refresh_token"], second_refresh.as_str());

    // Rotate once more; now the first token is an old revoked token: reuse is detected
    // (assumes GoTrue's default GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL of 0) and the family dies.
    let (status, third) = refresh(&stack, &http, &second_refresh).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let third_refresh = third["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&stack, &http, &first_refresh).await;
    assert_error(
        status,
        &body,
        400,
        "refresh_token_already_used",
        "Invalid Refresh Token: Already Used",
        "reused token",
    );
    let (status, body) = refresh(&stack, &http, &third_refresh).await;
    assert_error(
        status,
        &body,
        400,
        "refresh_token_already_used",
        "Invalid Refresh Token: Already Used",
        "revoked family",
    );

    // A fresh sign-in, then logout: its access token and refresh token stop working.
    let session = password_grant(&stack, &http, "flow@example.com", "correct-horse-9").await;
    let access = session["access_token"].as_str().unwrap();
    let refresh_token = session["refresh_token"].as_str().unwrap();
    let res = http
        .post(format!("{base}/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.text().await.unwrap().is_empty());
    let (status, body) = get_user(&stack, &http, access).await;
    assert_error(
        status,
        &body,
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
        "after logout",
    );
    let (status, body) = refresh(&stack, &http, refresh_token).await;
    assert_error(
        status,
        &body,
        400,
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
        "after logout",
    );
}

#[tokio::test]
async fn refresh_token_errors() {
    let stack = harness::Stack::start()
        .await
        .expect("the native stack should boot");
    let http = reqwest::Client::new();
    for bad in ["", "short", "ABCDEFGHIJKL", "abcdefghijklmnopqrstuvwxyz"] {
        let (status, body) = refresh(&stack, &http, bad).await;
        assert_error(
            status,
            &body,
            400,
            "validation_failed",
            "Refresh token is not valid",
            &format!("token {bad:?}"),
        );
    }
    let (status, body) = refresh(&stack, &http, "aaaaaaaaaaaa").await;
    assert_error(
        status,
        &body,
        400,
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
        "unknown token",
    );
}

#[tokio::test]
async fn sign_in_errors() {
    let stack = harness::Stack::start()
        .await
        .expect("the native stack should boot");
    let http = reqwest::Client::new();
    create_confirmed_user(&stack, &http, "login@example.com", "correct-horse-9").await;
    let base = stack.auth_url();
    let cases = [
        (
            format!("{base}/token?grant_type=password"),
            json!({"email": "login@example.com", "password": "wrong-horse"}),
            400,
            "invalid_credentials",
            "Invalid login credentials",
        ),
        (
            format!("{base}/token?grant_type=password"),
            json!({"email": "nobody@example.com", "password": "x"}),
            400,
            "invalid_credentials",
            "Invalid login credentials",
        ),
        (
            format!("{base}/token"),
            json!({}),
            400,
            "invalid_credentials",
            "unsupported_grant_type",
        ),
        (
            format!("{base}/token?grant_type=magic"),
            json!({}),
            400,
            "invalid_credentials",
            "unsupported_grant_type",
        ),
    ];
    for (url, body, status, code, msg) in cases {
        let res = http.post(&url).json(&body).send().await.unwrap();
        let got = res.status();
        let json: Value = res.json().await.unwrap();
        assert_error(got, &json, status, code, msg, &format!("POST {url} {body}"));
    }
    let res = http
        .post(format!("{base}/signup"))
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    let got = res.status();
    let json: Value = res.json().await.unwrap();
    assert_eq!(got, StatusCode::BAD_REQUEST, "{json}");
    assert_eq!(json["error_code"], "bad_json");
    assert!(
        json["msg"]
            .as_str()
            .unwrap()
            .starts_with("Could not parse request body as JSON: "),
        "{json}"
    );
}

#[tokio::test]
async fn admin_create_and_delete() {
    let (stack, ctx, _) = signed_in_user("admin-flow@example.com").await;
    let http = reqwest::Client::new();
    let base = stack.auth_url();

    // The anon key is not an admin.
    let res = http
        .get(format!("{base}/admin/users"))
        .bearer_auth(stack.anon_key())
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(
        status,
        &res.json().await.unwrap(),
        403,
        "not_admin",
        "User not allowed",
        "anon key on /admin/users",
    );

    // Create: 200 with a User; a duplicate email is refused.
    let created =
        create_confirmed_user(&stack, &http, "victim@example.com", "correct-horse-9").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["email"], "victim@example.com");
    let res = http
        .post(format!("{base}/admin/users"))
        .bearer_auth(stack.service_role_key())
        .json(&json!({"email": "victim@example.com", "password": "correct-horse-9"}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(
        status,
        &res.json().await.unwrap(),
        422,
        "email_exists",
        "A user with this email address has already been registered",
        "duplicate admin create",
    );

    // List: newest first, with the total in a header.
    let res = http
        .get(format!("{base}/admin/users"))
        .bearer_auth(stack.service_role_key())
        .send()
        .await
        .unwrap();
    let total: usize = res.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let list = expect_ok(res, "GET /admin/users").await;
    assert_eq!(total, 2);
    assert_eq!(list["users"][0]["id"], id.as_str(), "newest first");

    // Bad and unknown ids.
    let res = http
        .get(format!("{base}/admin/users/not-a-uuid"))
        .bearer_auth(stack.service_role_key())
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(
        status,
        &res.json().await.unwrap(),
        404,
        "validation_failed",
        "user_id must be an UUID",
        "bad id",
    );

    // Delete: 200 {}; the user's live token is then refused.
    let victim = password_grant(&stack, &http, "victim@example.com", "correct-horse-9").await;
    let res = http
        .delete(format!("{base}/admin/users/{id}"))
        .bearer_auth(stack.service_role_key())
        .send()
        .await
        .unwrap();
    assert_eq!(expect_ok(res, "DELETE /admin/users/{id}").await, json!({}));
    let (status, body) = get_user(&stack, &http, victim["access_token"].as_str().unwrap()).await;
    assert_error(
        status,
        &body,
        403,
        "user_not_found",
        "User from sub claim in JWT does not exist",
        "deleted user's token",
    );
    let res = http
        .get(format!("{base}/admin/users/{id}"))
        .bearer_auth(stack.service_role_key())
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(
        status,
        &res.json().await.unwrap(),
        404,
        "user_not_found",
        "User not found",
        "deleted user by id",
    );

    // The other user is untouched.
    let (status, _) = get_user(&stack, &http, &ctx.access_token).await;
    assert_eq!(status, StatusCode::OK);
}
