//! Each stage of the reference service against the real stack: native PostgreSQL with the
//! Supabase roles and RLS, the GoTrue-compatible auth server, real tokens, real HTTP.
//!
//! Needs in harness/Cargo.toml `[dev-dependencies]`: `service.workspace = true`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harness::Stack;
use serde_json::{Value, json};
use service::{Config, ROUTE, Stage};
use tokio::sync::oneshot;
use uuid::Uuid;

/// A stage served in-process on 127.0.0.1:0; stops when dropped.
struct Served {
    base: String,
    _stop: oneshot::Sender<()>,
}

impl Served {
    async fn start(stage: Stage, config: &Config) -> Self {
        let router = service::app(config, stage)
            .await
            .unwrap_or_else(|e| panic!("building stage {stage}: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(service::serve(listener, router, async {
            let _ = stopped.await;
        }));
        Self { base, _stop: stop }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// `path` on one of the stages the stack serves (the same ones `harness up` serves).
fn stage_url(stack: &Stack, stage: Stage, path: &str) -> String {
    format!("{}{path}", stack.stages().url(stage))
}

/// A config whose auth server is a port nobody listens on, and whose database is never reached.
fn config_with_unreachable_auth() -> Config {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    Config::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        "anon-key",
        format!("postgres://authenticator@127.0.0.1:{port}/postgres"),
    )
    .with_auth_timeout(Duration::from_secs(1))
    .with_db_timeout(Duration::from_secs(1))
}

/// A freshly signed-up user: their access token and id.
struct SignedUp {
    access_token: String,
    id: Uuid,
}

async fn sign_up(stack: &Stack) -> SignedUp {
    let email = format!("stage-{}@example.com", Uuid::new_v4());
    let response = reqwest::Client::new()
        .post(format!("{}/signup", stack.auth_url().trim_end_matches('/')))
        .header("apikey", stack.anon_key())
        .json(&json!({ "email": email, "password": "correct horse battery" }))
        .send()
        .await
        .expect("signup request");
    let status = response.status();
    let session: Value = response.json().await.expect("signup answers JSON");
    assert_eq!(
        status, 200,
        "signup with autoconfirm should give a session: {session}"
    );
    SignedUp {
        access_token: session["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        id: session["user"]["id"]
            .as_str()
            .expect("user.id")
            .parse()
            .expect("a UUID"),
    }
}

/// The same claims as `token`, signed as the stack's auth server signs (ES256 under `cli`),
/// expired an hour ago.
fn expired_copy(stack: &Stack, token: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    harness::run::tokens::mint(
        harness::scenario::TokenKind::Expired,
        token,
        &stack.keys().current(),
        &harness::signing::Attacker::new(),
        now,
    )
    .expect("an expired copy of the stack's token")
}

/// `sb-<first host label>-auth-token`, as the auth helpers name it (the service's own rule).
fn auth_cookie_name(stack: &Stack) -> String {
    let auth_url = stack
        .auth_url()
        .parse()
        .expect("the stack's auth URL parses");
    Config::new(auth_url, stack.anon_key(), stack.authenticator_db_url()).auth_cookie_name()
}

/// The phantom cookie of the debrief: the bare JWT where the helpers expect JSON.
fn phantom_cookie(stack: &Stack, token: &str) -> String {
    format!("{}={token}; theme=dark", auth_cookie_name(stack))
}

/// Percent-encodes everything but unreserved characters, as `encodeURIComponent` does.
fn encode_uri_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn rows_for(stack: &Stack, user: Uuid) -> Vec<Uuid> {
    let pool = sqlx::PgPool::connect(stack.db_url())
        .await
        .expect("superuser connection");
    let rows: Vec<(Uuid,)> = sqlx::query_as("select id from public.sessions where user_id = $1")
        .bind(user)
        .fetch_all(&pool)
        .await
        .expect("reading public.sessions");
    pool.close().await;
    rows.into_iter().map(|(id,)| id).collect()
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}"))
}

#[tokio::test]
async fn reference_tells_the_truth() {
    let stack = Stack::start().await.unwrap();
    let user = sign_up(&stack).await;
    let bearer = format!("Bearer {}", user.access_token);
    let url = stage_url(&stack, Stage::Reference, ROUTE);

    let (status, headers, body) = post(&url, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-request-id"));
    let session_id: Uuid = json_of(&body)["sessionId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        rows_for(&stack, user.id).await,
        vec![session_id],
        "one row, owned by the token's sub"
    );

    let (status, headers, body) = post(&url, &[("x-request-id", "trace-me")]).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        headers["x-request-id"], "trace-me",
        "an incoming request id is honoured"
    );

    let expired = format!("Bearer {}", expired_copy(&stack, &user.access_token));
    let (status, headers, body) = post(&url, &[("authorization", &expired)]).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let cookie = phantom_cookie(&stack, &user.access_token);
    let (status, _, body) = post(&url, &[("authorization", &bearer), ("cookie", &cookie)]).await;
    assert_eq!(status, 200, "a phantom cookie must not matter: {body}");
    assert_eq!(rows_for(&stack, user.id).await.len(), 2);

    let (status, _, body) = post(
        &stage_url(&stack, Stage::Reference, "/api/session/create."),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        json_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("/api/session/create.")
    );

    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn cookie_first_reads_the_cookie_before_the_header() {
    let stack = Stack::start().await.unwrap();
    let user = sign_up(&stack).await;
    let bearer = format!("Bearer {}", user.access_token);
    let url = stage_url(&stack, Stage::CookieFirst, ROUTE);

    let cookie = phantom_cookie(&stack, &user.access_token);
    let (status, _, body) = post(&url, &[("authorization", &bearer), ("cookie", &cookie)]).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("Failed to parse cookie string"), "{body}");

    let (status, _, body) = post(&url, &[("authorization", &bearer)]).await;
    assert_eq!(
        status, 401,
        "no cookie means not logged in, whatever the header: {body}"
    );
    assert!(rows_for(&stack, user.id).await.is_empty());

    let session =
        json!({ "access_token": user.access_token, "refresh_token": "r", "token_type": "bearer" });
    let cookie = format!(
        "{}={}",
        auth_cookie_name(&stack),
        encode_uri_component(&session.to_string())
    );
    let (status, _, body) = post(&url, &[("cookie", &cookie)]).await;
    assert_eq!(status, 200, "a real session cookie works: {body}");
    assert_eq!(rows_for(&stack, user.id).await.len(), 1);
}

#[tokio::test]
async fn anon_client_is_refused_by_rls() {
    let stack = Stack::start().await.unwrap();
    let user = sign_up(&stack).await;
    let bearer = format!("Bearer {}", user.access_token);

    let (status, _, body) = post(
        &stage_url(&stack, Stage::AnonClient, ROUTE),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("row-level security"), "{body}");
    assert!(
        rows_for(&stack, user.id).await.is_empty(),
        "RLS must have stopped the row"
    );
}

#[tokio::test]
async fn debrief_final_keeps_its_flaws() {
    let stack = Stack::start().await.unwrap();
    let user = sign_up(&stack).await;
    let url = stage_url(&stack, Stage::DebriefFinal, ROUTE);

    let bearer = format!("Bearer {}", user.access_token);
    let (status, _, body) = post(&url, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rows_for(&stack, user.id).await.len(), 1);

    let (status, _, body) = post(&url, &[]).await;
    assert_eq!(
        status, 500,
        "a missing header is a 500 in the debrief's code: {body}"
    );
    assert_eq!(
        json_of(&body)["error"],
        "Failed to create session: No valid Bearer token found in Authorization header."
    );

    let lowercase = format!("bearer {}", user.access_token);
    let (status, _, body) = post(&url, &[("authorization", &lowercase)]).await;
    assert_eq!(status, 500, "the prefix check is case-sensitive: {body}");
}

#[tokio::test]
async fn route_missing_answers_404_on_the_right_url() {
    let served = Served::start(Stage::RouteMissing, &config_with_unreachable_auth()).await;
    let (status, headers, _) = post(&served.url(ROUTE), &[("authorization", "Bearer x")]).await;
    assert_eq!(status, 404);
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn an_unreachable_auth_server_is_an_outage_not_a_bad_token() {
    let config = config_with_unreachable_auth();
    // Any well-formed token will do: the auth server is never reached.
    let bearer = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    let reference = Served::start(Stage::Reference, &config).await;
    let (status, headers, body) = post(&reference.url(ROUTE), &[("authorization", bearer)]).await;
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(!headers.contains_key("www-authenticate"));

    let debrief = Served::start(Stage::DebriefFinal, &config).await;
    let (status, _, body) = post(&debrief.url(ROUTE), &[("authorization", bearer)]).await;
    assert_eq!(
        status, 401,
        "the debrief's code calls an outage an invalid token: {body}"
    );
}
