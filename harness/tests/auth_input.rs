//! The auth server on hostile input, one case per row: the request, GoTrue's answer, and, for a
//! refusal, GoTrue's error shape and no row written.
//!
//! Each case runs on its own stack holding one confirmed user (`target@example.com`), whose id,
//! access token and the service_role key stand in for `{id}`, `{token}` and `{admin}` (and
//! `{long}` for 300 letters, past every `varchar(255)`). GoTrue's
//! source (github.com/supabase/auth, `internal/api`) is the authority for every expected
//! answer; where GoTrue itself answers 5xx for a client's mistake, the case says what this
//! server answers instead.

mod auth_support;

use auth_support::{AuthRows, gotrue_shape_violation};
use rstest::rstest;
use serde_json::{Value, json};

const EMAIL: &str = "target@example.com";
const PASSWORD: &str = "correct-horse-9";

/// The stack, the placeholders' values and a superuser pool.
struct Setup {
    stack: harness::Stack,
    db: sqlx::PgPool,
    id: String,
    token: String,
}

async fn setup() -> Setup {
    let stack = harness::Stack::start().await.expect("the stack starts");
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/admin/users", stack.auth_url()))
        .bearer_auth(stack.service_role_key())
        .json(&json!({"email": EMAIL, "password": PASSWORD, "email_confirm": true}))
        .send()
        .await
        .expect("admin create answers")
        .json()
        .await
        .expect("admin create returns JSON");
    let session: Value = http
        .post(format!("{}/token?grant_type=password", stack.auth_url()))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("password grant answers")
        .json()
        .await
        .expect("password grant returns JSON");
    let db = sqlx::PgPool::connect(stack.db_url())
        .await
        .expect("the superuser connects");
    Setup {
        id: created["id"].as_str().expect("the user's id").to_owned(),
        token: session["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned(),
        stack,
        db,
    }
}

impl Setup {
    fn fill(&self, text: &str) -> String {
        text.replace("{id}", &self.id)
            .replace("{token}", &self.token)
            .replace("{admin}", self.stack.service_role_key())
            .replace("{long}", &"a".repeat(300))
    }
}

/// Sends the case and checks it: status, the JSON values at the given pointers, and for every
/// 4xx GoTrue's shape and unchanged row counts.
async fn check(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    status: u16,
    expect: &[(&str, Value)],
) {
    let setup = setup().await;
    let before = AuthRows::count(&setup.db).await;
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let body = match std::str::from_utf8(body) {
        Ok(text) => setup.fill(text).into_bytes(),
        Err(_) => body.to_vec(),
    };
    let mut request = reqwest::Client::new()
        .request(
            method.clone(),
            format!("{}{}", setup.stack.auth_url(), setup.fill(path)),
        )
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, setup.fill(value));
    }
    let response = request.send().await.expect("the auth server answers");
    let got = response.status().as_u16();
    let response_headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a whole body");
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(got, status, "{method} {path}: {text}");
    if (400..500).contains(&got) {
        if let Some(violation) = gotrue_shape_violation(got, &response_headers, &bytes) {
            panic!("{method} {path}: {violation}");
        }
        assert_eq!(
            AuthRows::count(&setup.db).await,
            before,
            "{method} {path} was refused but wrote rows"
        );
    }
    if !expect.is_empty() {
        let json: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
        for (pointer, want) in expect {
            assert_eq!(
                json.pointer(pointer),
                Some(want),
                "{method} {path}: {pointer} in {text}"
            );
        }
    }
    setup.stack.stop().await.expect("the stack stops");
}

const ADMIN: &[(&str, &str)] = &[("authorization", "Bearer {admin}")];

// The issue's examples.
#[rstest]
// GoTrue's decoder (encoding/json) turns a lone surrogate escape into U+FFFD and goes on.
#[case::signup_lone_surrogate(
    "POST", "/signup", &[],
    br#"{"email":"new@example.com","password":"secret-123","data":{"x":"\ud915"}}"#,
    200, &[("/user/user_metadata/x", json!("\u{fffd}"))]
)]
#[case::signup_surrogate_pair_is_one_character(
    "POST", "/signup", &[],
    br#"{"email":"new@example.com","password":"secret-123","data":{"x":"\ud83d\ude00"}}"#,
    200, &[("/user/user_metadata/x", json!("\u{1f600}"))]
)]
#[case::admin_update_lone_surrogate(
    "PUT", "/admin/users/{id}", ADMIN,
    br#"{"user_metadata":{"x":"\udead", "\ud800y":"\ud800\u0041"}}"#,
    200, &[("/user_metadata/x", json!("\u{fffd}")), ("/user_metadata/\u{fffd}y", json!("\u{fffd}A"))]
)]
// GoTrue parses per_page as a uint64 and pop pages with it as LIMIT: every user fits.
#[case::admin_list_per_page_past_any_table(
    "GET", "/admin/users?per_page=186495662215507552", ADMIN, b"",
    200, &[("/users/0/email", json!(EMAIL))]
)]
#[case::admin_list_per_page_at_i64_max(
    "GET", "/admin/users?per_page=9223372036854775807", ADMIN, b"",
    200, &[("/users/0/email", json!(EMAIL))]
)]
// Go's offset (page - 1) * per_page wraps negative here and PostgreSQL refuses it: GoTrue answers
// 500. A page past every row is an empty page.
#[case::admin_list_offset_past_i64(
    "GET", "/admin/users?page=3&per_page=9223372036854775807", ADMIN, b"",
    200, &[("/users", json!([]))]
)]
// Go's url.Values.Get takes the first of repeated parameters.
#[case::token_repeated_grant_type(
    "POST", "/token?grant_type=a&grant_type=b", &[], b"{}",
    400, &[("/error_code", json!("invalid_credentials")), ("/msg", json!("unsupported_grant_type"))]
)]
#[case::token_repeated_grant_type_first_decides(
    "POST", "/token?grant_type=password&grant_type=refresh_token", &[],
    br#"{"email":"target@example.com","password":"correct-horse-9"}"#,
    200, &[("/user/email", json!(EMAIL))]
)]
// The issue says GoTrue leaves weak_password out of the password grant. It does not: token.go
// assigns a nil *WeakPasswordError to the interface{} field, and encoding/json's omitempty drops
// only a nil interface, so the body carries `"weak_password": null`.
#[case::password_grant_weak_password_is_null(
    "POST", "/token?grant_type=password", &[],
    br#"{"email":"target@example.com","password":"correct-horse-9"}"#,
    200, &[("/weak_password", Value::Null)]
)]
#[tokio::test]
async fn issue_examples(
    #[case] method: &str,
    #[case] path: &str,
    #[case] headers: &[(&str, &str)],
    #[case] body: &[u8],
    #[case] status: u16,
    #[case] expect: &[(&str, Value)],
) {
    check(method, path, headers, body, status, expect).await;
}

const FORM: &[(&str, &str)] = &[("content-type", "application/x-www-form-urlencoded")];
const USER: &[(&str, &str)] = &[("authorization", "Bearer {token}")];

fn error(code: &str, message: &str) -> Vec<(&'static str, Value)> {
    vec![("/error_code", json!(code)), ("/msg", json!(message))]
}

fn nul(field: &str) -> Vec<(&'static str, Value)> {
    error(
        "validation_failed",
        &format!("{field} cannot contain the NUL character (\\u0000)"),
    )
}

fn too_long(field: &str) -> Vec<(&'static str, Value)> {
    error(
        "validation_failed",
        &format!("{field} cannot be longer than 255 characters"),
    )
}

// The classes the examples stand for. GoTrue answers 500 to the NUL, over-long and offset
// cases (PostgreSQL refuses the value or the offset and GoTrue reports a database error); every
// other answer is GoTrue's.
#[rstest]
// Text PostgreSQL refuses: NUL anywhere, varchar(255) overruns.
#[case::signup_nul_in_data_value("POST", "/signup", &[],
    br#"{"email":"new@example.com","password":"secret-123","data":{"x":"a\u0000b"}}"#, 400, nul("data"))]
#[case::signup_nul_in_data_key("POST", "/signup", &[],
    br#"{"email":"new@example.com","password":"secret-123","data":{"a":[{"\u0000":1}]}}"#, 400, nul("data"))]
#[case::signup_nul_in_email("POST", "/signup", &[],
    br#"{"email":"new\u0000@example.com","password":"secret-123"}"#,
    400, error("validation_failed", "Unable to validate email address: invalid format"))]
#[case::signup_email_is_not_trimmed("POST", "/signup", &[],
    br#"{"email":" new@example.com","password":"secret-123"}"#,
    400, error("validation_failed", "Unable to validate email address: invalid format"))]
#[case::signup_email_over_255_bytes("POST", "/signup", &[],
    br#"{"email":"{long}@example.com","password":"secret-123"}"#,
    400, error("validation_failed", "An email address is too long"))]
#[case::signup_audience_header_over_255("POST", "/signup",
    &[("x-jwt-aud", "{long}")],
    br#"{"email":"new@example.com","password":"secret-123"}"#, 400, too_long("aud"))]
#[case::admin_create_nul_role(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","role":"r\u0000"}"#,
    400,
    nul("role")
)]
#[case::admin_create_role_over_255(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","role":"{long}"}"#,
    400,
    too_long("role")
)]
#[case::admin_create_password_hash_over_255(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","password_hash":"$2a$10${long}"}"#,
    400,
    too_long("password_hash")
)]
#[case::admin_create_nul_in_app_metadata(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","app_metadata":{"plan":"\u0000"}}"#,
    400,
    nul("app_metadata")
)]
#[case::admin_update_nul_in_user_metadata(
    "PUT",
    "/admin/users/{id}",
    ADMIN,
    br#"{"user_metadata":{"x":"\u0000"}}"#,
    400,
    nul("user_metadata")
)]
#[case::user_update_nul_in_data(
    "PUT",
    "/user",
    USER,
    br#"{"data":{"x":"\u0000"}}"#,
    400,
    nul("data")
)]
#[case::token_nul_in_email("POST", "/token?grant_type=password", &[],
    br#"{"email":"target\u0000@example.com","password":"correct-horse-9"}"#,
    400, error("invalid_credentials", "Invalid login credentials"))]
#[case::refresh_token_with_nul("POST", "/token?grant_type=refresh_token", &[],
    br#"{"refresh_token":"abcdefghij\u0000k"}"#,
    400, error("validation_failed", "Refresh token is not valid"))]
// Odd but valid text is stored as GoTrue stores it.
#[case::signup_invalid_utf8_in_data(
    "POST", "/signup", &[], b"{\"email\":\"new@example.com\",\"password\":\"secret-123\",\"data\":{\"x\":\"a\xffb\"}}",
    200, vec![("/user/user_metadata/x", json!("a\u{fffd}b"))])]
#[case::signup_repeated_key_keeps_the_last("POST", "/signup", &[],
    br#"{"email":"target@example.com","email":"new@example.com","password":"secret-123"}"#,
    200, vec![("/user/email", json!("new@example.com"))])]
#[case::signup_content_type_is_not_checked("POST", "/signup", &[("content-type", "text/plain")],
    br#"{"email":"new@example.com","password":"secret-123"}"#, 200, vec![("/user/email", json!("new@example.com"))])]
// Admin fields GoTrue checks itself.
#[case::admin_create_id_not_a_uuid(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","id":"not-a-uuid"}"#,
    400,
    error("validation_failed", "ID must conform to the uuid v4 format")
)]
#[case::admin_create_nil_id(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","id":"00000000-0000-0000-0000-000000000000"}"#,
    400,
    error("validation_failed", "ID cannot be a nil uuid")
)]
#[case::admin_create_taken_id(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","id":"{id}"}"#,
    422,
    error("user_already_exists", "User already registered")
)]
#[case::admin_create_password_and_hash(
    "POST",
    "/admin/users",
    ADMIN,
    br#"{"email":"new@example.com","password":"secret-123","password_hash":"$2a$10$x"}"#,
    400,
    error(
        "validation_failed",
        "Only a password or a password hash should be provided"
    )
)]
#[case::admin_update_ban_past_go_durations(
    "PUT",
    "/admin/users/{id}",
    ADMIN,
    br#"{"ban_duration":"99999999999999999999h"}"#,
    400,
    error(
        "validation_failed",
        r#"invalid format for ban duration: time: invalid duration "99999999999999999999h""#
    )
)]
#[case::admin_update_ban_unknown_unit(
    "PUT",
    "/admin/users/{id}",
    ADMIN,
    br#"{"ban_duration":"1d"}"#,
    400,
    error(
        "validation_failed",
        r#"invalid format for ban duration: time: unknown unit "d" in duration "1d""#
    )
)]
#[case::admin_update_longest_go_ban("PUT", "/admin/users/{id}", ADMIN,
    br#"{"ban_duration":"2562047h"}"#, 200, vec![("/email", json!(EMAIL))])]
#[case::user_update_app_metadata_needs_an_admin(
    "PUT",
    "/user",
    USER,
    br#"{"app_metadata":{"plan":"pro"}}"#,
    403,
    error("not_admin", "Updating app_metadata requires admin privileges")
)]
// Integers at and past every bound of paging.
#[case::per_page_zero_is_pops_twenty("GET", "/admin/users?per_page=0", ADMIN, b"",
    200, vec![("/users/0/email", json!(EMAIL))])]
#[case::per_page_u64_max_is_pops_twenty("GET", "/admin/users?per_page=18446744073709551615", ADMIN, b"",
    200, vec![("/users/0/email", json!(EMAIL))])]
#[case::per_page_negative(
    "GET",
    "/admin/users?per_page=-1",
    ADMIN,
    b"",
    400,
    error(
        "validation_failed",
        r#"Bad Pagination Parameters: strconv.ParseUint: parsing "-1": invalid syntax"#
    )
)]
#[case::page_past_u64("GET", "/admin/users?page=18446744073709551616", ADMIN, b"",
    400, error("validation_failed", r#"Bad Pagination Parameters: strconv.ParseUint: parsing "18446744073709551616": value out of range"#))]
#[case::page_past_every_row("GET", "/admin/users?page=9223372036854775807", ADMIN, b"",
    200, vec![("/users", json!([]))])]
#[case::repeated_page_takes_the_first("GET", "/admin/users?page=2&page=1", ADMIN, b"",
    200, vec![("/users", json!([]))])]
#[case::sort_by_another_field(
    "GET",
    "/admin/users?sort=email",
    ADMIN,
    b"",
    400,
    error("validation_failed", "Bad Sort Parameters: bad field for sort 'email'")
)]
#[case::filter_with_nul_matches_nothing("GET", "/admin/users?filter=%00", ADMIN, b"",
    200, vec![("/users", json!([]))])]
#[case::versioned_shape_on_a_paging_error("GET", "/admin/users?per_page=x",
    &[("authorization", "Bearer {admin}"), ("x-supabase-api-version", "2024-01-01")], b"",
    400, vec![("/code", json!("validation_failed")), ("/message", json!(r#"Bad Pagination Parameters: strconv.ParseUint: parsing "x": invalid syntax"#))])]
// Path parameters that are not UUIDs, and bodies GoTrue reads whenever they are not empty.
#[case::user_id_not_utf8(
    "GET",
    "/admin/users/%FF",
    ADMIN,
    b"",
    404,
    error("validation_failed", "user_id must be an UUID")
)]
#[case::user_id_not_a_uuid(
    "DELETE",
    "/admin/users/nope",
    ADMIN,
    b"",
    404,
    error("validation_failed", "user_id must be an UUID")
)]
#[case::delete_with_a_blank_body(
    "DELETE",
    "/admin/users/{id}",
    ADMIN,
    b"  ",
    400,
    error(
        "bad_json",
        "Could not parse request body as JSON: unexpected end of JSON input"
    )
)]
// Query parameters GoTrue reads its own way.
#[case::token_without_email_or_phone("POST", "/token?grant_type=password", &[], br#"{"password":"x"}"#,
    400, error("validation_failed", "missing email or phone"))]
#[case::token_grant_checked_before_the_body("POST", "/token?grant_type=nope", &[], b"{",
    400, error("invalid_credentials", "unsupported_grant_type"))]
#[case::token_form_body_leaves_no_json(
    "POST",
    "/token",
    FORM,
    b"grant_type=password",
    400,
    error(
        "bad_json",
        "Could not parse request body as JSON: unexpected end of JSON input"
    )
)]
#[case::token_form_grant_before_the_query(
    "POST",
    "/token?grant_type=password",
    FORM,
    b"grant_type=x",
    400,
    error("invalid_credentials", "unsupported_grant_type")
)]
#[case::logout_repeated_scope_takes_the_first(
    "POST",
    "/logout?scope=nope&scope=local",
    USER,
    b"",
    400,
    error("validation_failed", r#"Unsupported logout scope "nope""#)
)]
// Methods and paths as GoTrue's router has them.
#[case::signup_has_no_patch("PATCH", "/signup", &[], b"", 405, vec![])]
#[case::health_has_no_head("HEAD", "/health", &[], b"", 405, vec![])]
#[case::token_has_no_get("GET", "/token", &[], b"", 405, vec![])]
#[case::admin_authenticates_before_405("DELETE", "/admin/users", &[], b"",
    401, error("no_authorization", "This endpoint requires a valid Bearer token"))]
#[case::admin_users_has_no_delete("DELETE", "/admin/users", ADMIN, b"", 405, vec![])]
#[case::admin_user_loads_before_405(
    "PATCH",
    "/admin/users/nope",
    ADMIN,
    b"",
    404,
    error("validation_failed", "user_id must be an UUID")
)]
#[case::admin_authenticates_before_404("GET", "/admin/nothing", &[], b"",
    401, error("no_authorization", "This endpoint requires a valid Bearer token"))]
#[case::admin_unknown_path("GET", "/admin/nothing", ADMIN, b"", 404, vec![])]
#[case::user_authenticates_before_405("DELETE", "/user", &[], b"",
    401, error("no_authorization", "This endpoint requires a valid Bearer token"))]
#[case::admin_users_with_a_trailing_slash("GET", "/admin/users/", ADMIN, b"",
    200, vec![("/users/0/email", json!(EMAIL))])]
#[tokio::test]
async fn input_classes(
    #[case] method: &str,
    #[case] path: &str,
    #[case] headers: &[(&str, &str)],
    #[case] body: &[u8],
    #[case] status: u16,
    #[case] expect: Vec<(&str, Value)>,
) {
    check(method, path, headers, body, status, &expect).await;
}
