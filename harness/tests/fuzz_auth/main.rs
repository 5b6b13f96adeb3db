//! Property-based fuzzing of every endpoint of the auth server, against a real stack.
//!
//! `requests.rs` generates the requests (from `values.rs`, spoiled by `mutations.rs`); each one goes to the auth server on a fresh
//! connection, and four properties must hold for every answer: never a 5xx (a client cannot
//! cause a server fault), never a dropped connection (a panic or a crash), every 4xx in one of
//! GoTrue's shapes (`auth_support::gotrue_shape_violation`), and a refused request writes
//! nothing (rows of auth.users, auth.sessions, auth.refresh_tokens and auth.identities counted
//! as the superuser before and after).
//!
//! The budget is small in `cargo test` (64 cases); `PROPTEST_CASES=2000` runs more. A failure
//! is shrunk by proptest and printed as the minimal request. One report line says what the run
//! reached, as `fuzz.rs` does.

#[path = "../auth_support/mod.rs"]
mod auth_support;
#[path = "../fuzz_support/mod.rs"]
mod fuzz_support;
mod mutations;
mod requests;
mod values;

use std::collections::BTreeMap;

use auth_support::{AuthRows, gotrue_shape_violation};
use fuzz_support::{EARLY_CLOSE, Seen, cases};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use requests::{Body, Credential, Endpoint, PathId, Request};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use harness::Stack;

const SELF_PASSWORD: &str = "fuzz-self-password-1";

/// The users requests act as or on: `self` signs in (its token is `Credential::User`), the
/// victim is the `{id}` of the admin routes. Both are recreated when a request may have
/// changed them (a logout, an update, a delete), so later cases still reach the success paths.
struct Fixture {
    self_email: String,
    self_token: String,
    victim_id: String,
}

struct Target {
    http: reqwest::Client,
    base: String,
    admin_key: String,
    anon_key: String,
    db: sqlx::PgPool,
}

impl Target {
    async fn admin_create(&self, email: &str, password: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/admin/users", self.base))
            .bearer_auth(&self.admin_key)
            .json(&json!({"email": email, "password": password, "email_confirm": true}))
            .send()
            .await
            .expect("admin create answers");
        assert_eq!(response.status(), 200, "creating a fixture user");
        response.json().await.expect("a user")
    }

    async fn fixture(&self) -> Fixture {
        let self_email = format!("self-{}@example.test", uuid::Uuid::new_v4().simple());
        self.admin_create(&self_email, SELF_PASSWORD).await;
        let session: Value = self
            .http
            .post(format!("{}/token?grant_type=password", self.base))
            .json(&json!({"email": self_email, "password": SELF_PASSWORD}))
            .send()
            .await
            .expect("password grant answers")
            .json()
            .await
            .expect("a session");
        let victim_email = format!("victim-{}@example.test", uuid::Uuid::new_v4().simple());
        let victim = self.admin_create(&victim_email, "victim-password-1").await;
        Fixture {
            self_token: session["access_token"]
                .as_str()
                .expect("a token")
                .to_owned(),
            victim_id: victim["id"].as_str().expect("an id").to_owned(),
            self_email,
        }
    }

    fn fill(&self, text: &[u8], fixture: &Fixture) -> Vec<u8> {
        let text = String::from_utf8_lossy(text);
        if !text.contains('{') {
            return text.into_owned().into_bytes();
        }
        text.replace("{unique}", &uuid::Uuid::new_v4().simple().to_string())
            .replace("{uuid}", &uuid::Uuid::new_v4().to_string())
            .replace("{self_email}", &fixture.self_email)
            .replace("{self_password}", SELF_PASSWORD)
            .replace("{victim}", &fixture.victim_id)
            .into_bytes()
    }

    fn url(&self, request: &Request, fixture: &Fixture) -> String {
        let id = match &request.path_id {
            PathId::Victim => fixture.victim_id.clone(),
            PathId::Random(n) => uuid::Uuid::from_u128(*n).to_string(),
            PathId::Nil => uuid::Uuid::nil().to_string(),
            PathId::Text(text) => text.replace("{victim}", &fixture.victim_id),
        };
        let mut path = match request.endpoint {
            Endpoint::Health => "/health".to_owned(),
            Endpoint::Settings => "/settings".to_owned(),
            Endpoint::Jwks => "/.well-known/jwks.json".to_owned(),
            Endpoint::Signup => "/signup".to_owned(),
            Endpoint::Token => "/token".to_owned(),
            Endpoint::UserGet | Endpoint::UserPut => "/user".to_owned(),
            Endpoint::Logout => "/logout".to_owned(),
            Endpoint::AdminList | Endpoint::AdminCreate => "/admin/users".to_owned(),
            Endpoint::AdminGet | Endpoint::AdminPut | Endpoint::AdminDelete => {
                format!("/admin/users/{id}")
            }
            Endpoint::Elsewhere => "/nothing/here".to_owned(),
        };
        if request.trailing_slash {
            path.push('/');
        }
        let query: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        format!("{}{path}", self.base)
    }

    fn authorization(&self, credential: &Credential, fixture: &Fixture) -> Vec<Vec<u8>> {
        match credential {
            Credential::None => Vec::new(),
            Credential::Admin => vec![format!("Bearer {}", self.admin_key).into_bytes()],
            Credential::User => vec![format!("Bearer {}", fixture.self_token).into_bytes()],
            Credential::Anon => vec![format!("Bearer {}", self.anon_key).into_bytes()],
            Credential::Raw(bytes) => vec![bytes.clone()],
            Credential::Both(a, b) => {
                let mut both = self.authorization(a, fixture);
                both.extend(self.authorization(b, fixture));
                both
            }
        }
    }

    async fn send(&self, request: &Request, fixture: &Fixture) -> Result<Seen, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut builder = self.http.request(method, self.url(request, fixture));
        for value in self.authorization(&request.credential, fixture) {
            let value = HeaderValue::from_bytes(&value).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if request.api_version {
            builder = builder.header("x-supabase-api-version", "2024-01-01");
        }
        if let Some(aud) = &request.aud {
            let value = HeaderValue::from_bytes(aud).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header("x-jwt-aud", value);
        }
        if let Some(content_type) = &request.content_type {
            let value =
                HeaderValue::from_str(content_type).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(reqwest::header::CONTENT_TYPE, value);
        }
        let body = match &request.body {
            Body::None => None,
            Body::Json(bytes) | Body::Raw(bytes) => Some(self.fill(bytes, fixture)),
            Body::Fields(fields) => {
                let members: Vec<Vec<u8>> = fields
                    .iter()
                    .map(|(k, v)| [format!("\"{k}\":").into_bytes(), v.clone()].concat())
                    .collect();
                Some(self.fill(
                    &[&b"{"[..], &members.join(&b","[..]), b"}"].concat(),
                    fixture,
                ))
            }
            Body::Huge(len) => Some([&b"\""[..], &vec![b'x'; len - 2], b"\""].concat()),
        };
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let request = builder.build().map_err(|e| format!("transport: {e:?}"))?;
        fuzz_support::exchange(&self.http, request).await
    }
}

/// What the run saw, across every case proptest tried (shrinking included).
#[derive(Default)]
struct Tally {
    cases: usize,
    server_errors: usize,
    dropped: usize,
    bad_shapes: usize,
    wrote_when_refused: usize,
    early_closes: usize,
    statuses: BTreeMap<u16, usize>,
    endpoints: BTreeMap<String, BTreeMap<u16, usize>>,
}

/// Whether a 2xx may have changed the fixture users (signed self out, changed or deleted them).
fn may_have_changed_the_fixture(request: &Request, status: u16) -> bool {
    (200..300).contains(&status)
        && (matches!(request.method, "PUT" | "DELETE") || request.endpoint == Endpoint::Logout)
}

#[test]
fn the_auth_server_never_faults_always_answers_in_gotrue_s_shape_and_refusals_write_nothing() {
    let runtime = fuzz_support::runtime();
    let stack = runtime.block_on(Stack::start()).expect("the stack starts");
    let target = Target {
        http: fuzz_support::fresh_connection_client(),
        base: stack.auth_url().trim_end_matches('/').to_owned(),
        admin_key: stack.service_role_key().to_owned(),
        anon_key: stack.anon_key().to_owned(),
        db: runtime
            .block_on(sqlx::PgPool::connect(stack.db_url()))
            .expect("the superuser connects"),
    };
    let fixture = std::cell::RefCell::new(runtime.block_on(target.fixture()));
    let tally = std::cell::RefCell::new(Tally::default());

    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&requests::request(), |request| {
        let mut tally = tally.borrow_mut();
        tally.cases += 1;
        let before = runtime.block_on(AuthRows::count(&target.db));
        let outcome = runtime.block_on(target.send(&request, &fixture.borrow()));
        let seen = match outcome {
            Ok(seen) => seen,
            Err(error) if error.starts_with("unsendable") => return Ok(()),
            Err(error) if error == EARLY_CLOSE => {
                tally.early_closes += 1;
                return Ok(());
            }
            Err(error) => {
                tally.dropped += 1;
                return Err(TestCaseError::fail(error));
            }
        };
        *tally.statuses.entry(seen.status).or_default() += 1;
        *tally
            .endpoints
            .entry(format!("{:?}", request.endpoint))
            .or_default()
            .entry(seen.status)
            .or_default() += 1;
        if may_have_changed_the_fixture(&request, seen.status) {
            *fixture.borrow_mut() = runtime.block_on(target.fixture());
        }
        let text = String::from_utf8_lossy(&seen.body[..seen.body.len().min(300)]).into_owned();
        if seen.status >= 500 {
            tally.server_errors += 1;
            return Err(TestCaseError::fail(format!(
                "answered {}: {text}",
                seen.status
            )));
        }
        if (400..500).contains(&seen.status) {
            // A HEAD answer carries no body, in GoTrue as here.
            if request.method != "HEAD"
                && let Some(violation) =
                    gotrue_shape_violation(seen.status, &seen.headers, &seen.body)
            {
                tally.bad_shapes += 1;
                return Err(TestCaseError::fail(format!(
                    "{} not GoTrue's shape: {violation}",
                    seen.status
                )));
            }
            let after = runtime.block_on(AuthRows::count(&target.db));
            if after != before {
                tally.wrote_when_refused += 1;
                return Err(TestCaseError::fail(format!(
                    "refused with {} ({text}) but rows changed: {before:?} -> {after:?}",
                    seen.status
                )));
            }
        }
        Ok(())
    });
    let tally = tally.into_inner();
    println!(
        "fuzz auth: {} cases tried, 5xx: {}, dropped connections: {}, 4xx outside GoTrue's shapes: {}, \
         refused requests that wrote rows: {}, early closes on an unread body: {}",
        tally.cases,
        tally.server_errors,
        tally.dropped,
        tally.bad_shapes,
        tally.wrote_when_refused,
        tally.early_closes,
    );
    println!("fuzz auth statuses: {:?}", tally.statuses);
    println!("fuzz auth statuses by endpoint: {:?}", tally.endpoints);
    runtime.block_on(stack.stop()).expect("the stack stops");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
