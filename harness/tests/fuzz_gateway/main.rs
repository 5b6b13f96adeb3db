//! Property-based fuzzing of the gateway (the project URL) in front of the real auth server and
//! data API of a stack.
//!
//! `requests.rs` generates the requests; each goes to `API_URL` on a fresh connection, and for
//! every answer: never a 5xx (both upstreams are up), never a dropped connection, the gateway's
//! own answers (`Server: kong/2.8.1`) in one of Kong's templates with one of its messages, as
//! the request's `Accept` picks it, every upstream's error in that upstream's shape (GoTrue's
//! for `/auth/v1`, PostgREST's for `/rest/v1`), and a refused request writes nothing (auth
//! rows and `public.sessions` counted as the superuser before and after).
//!
//! 64 cases in `cargo test`; `PROPTEST_CASES=2000` runs more. One report line says what the run
//! reached: `cargo test -p harness --test fuzz_gateway -- --nocapture`.

#[path = "../auth_support/mod.rs"]
mod auth_support;
#[path = "../fuzz_support/mod.rs"]
mod fuzz_support;
mod requests;
#[path = "../rest_common/mod.rs"]
mod rest_common;

use std::collections::BTreeMap;

use auth_support::{AuthRows, gotrue_shape_violation};
use fuzz_support::{EARLY_CLOSE, Seen, cases};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::header::{HeaderMap, HeaderValue};

use harness::Stack;
use requests::{Key, KeyPlace, Request};
use rest_common::postgrest_shape_violation;

/// Every message the gateway's own answers carry.
const KONG_MESSAGES: &[&str] = &[
    "No API key found in request",
    "Invalid authentication credentials",
    "Duplicate API key found",
    "You cannot consume this service",
    "no Route matched with those values",
    "Payload too large",
    "Request timeout",
    "Bad request",
];

/// Why a gateway's own answer is not one of Kong's templates, if it is not.
fn kong_shape_violation(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(body);
    let matches = KONG_MESSAGES.iter().any(|message| {
        let expected = match content_type {
            "application/json; charset=utf-8" => format!("{{\n  \"message\":\"{message}\"\n}}"),
            "text/plain; charset=utf-8" => format!("{message}\n"),
            "application/xml; charset=utf-8" => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>{message}</message>\n</error>\n"
            ),
            "text/html; charset=utf-8" => format!(
                "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    \
                 <title>Kong Error</title>\n  </head>\n  <body>\n    <h1>Kong Error</h1>\n    \
                 <p>{message}.</p>\n  </body>\n</html>\n"
            ),
            _ => return false,
        };
        body == expected
    });
    (!matches).then(|| format!("content-type {content_type:?}, body {body:?}"))
}

struct Target {
    stack: Stack,
    http: reqwest::Client,
    db: sqlx::PgPool,
}

impl Target {
    fn key(&self, key: &Key) -> String {
        match key {
            Key::Anon => self.stack.anon_key().to_owned(),
            Key::ServiceRole => self.stack.service_role_key().to_owned(),
            Key::Publishable => self.stack.publishable_key().unwrap_or("none").to_owned(),
            Key::Secret => self.stack.secret_key().unwrap_or("none").to_owned(),
            Key::Text(text) => text.clone(),
        }
    }

    fn fill(&self, text: &str) -> String {
        text.replace("{anon}", self.stack.anon_key())
            .replace("{service_role}", self.stack.service_role_key())
            .replace(
                "{publishable}",
                self.stack.publishable_key().unwrap_or("none"),
            )
            .replace("{unique}", &uuid::Uuid::new_v4().simple().to_string())
    }

    fn url(&self, request: &Request) -> String {
        let mut query: Vec<String> = request.query.iter().cloned().collect();
        match &request.key {
            KeyPlace::Query(key) | KeyPlace::HeaderAndQuery(_, key) => {
                let key = self.key(key);
                let encoded =
                    percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC);
                query.push(format!("apikey={encoded}"));
            }
            _ => {}
        }
        let base = self.stack.api_url().trim_end_matches('/');
        match query.is_empty() {
            true => format!("{base}{}", request.path),
            false => format!("{base}{}?{}", request.path, query.join("&")),
        }
    }

    async fn send(&self, request: &Request) -> Result<Seen, String> {
        let unsendable = |e: reqwest::header::InvalidHeaderValue| format!("unsendable: {e}");
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut builder = self.http.request(method, self.url(request));
        let keys: Vec<(&str, &Key)> = match &request.key {
            KeyPlace::Header(name, key) => vec![(name, key)],
            KeyPlace::HeaderAndQuery(key, _) => vec![("apikey", key)],
            KeyPlace::TwoHeaders(a, b) => vec![("apikey", a), ("apikey", b)],
            KeyPlace::None | KeyPlace::Query(_) => Vec::new(),
        };
        for (name, key) in keys {
            let value = HeaderValue::from_str(&self.key(key)).map_err(unsendable)?;
            builder = builder.header(name, value);
        }
        for value in &request.authorization {
            let value = HeaderValue::from_str(&self.fill(value)).map_err(unsendable)?;
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, HeaderValue::from_str(value).map_err(unsendable)?);
        }
        if let Some(body) = &request.body {
            let body = match std::str::from_utf8(body) {
                Ok(text) if text.contains("{unique}") => self.fill(text).into_bytes(),
                _ => body.clone(),
            };
            builder = builder.body(body);
        }
        let request = builder.build().map_err(|e| format!("unsendable: {e}"))?;
        fuzz_support::exchange(&self.http, request).await
    }

    async fn rows(&self) -> (AuthRows, i64) {
        let sessions: i64 = sqlx::query_scalar("select count(*) from public.sessions")
            .fetch_one(&self.db)
            .await
            .expect("counting public.sessions");
        (AuthRows::count(&self.db).await, sessions)
    }
}

/// Why an error answer is in nobody's shape: the gateway's own in Kong's, a proxied one in its
/// upstream's.
fn shape_violation(request: &Request, seen: &Seen) -> Option<String> {
    let from_kong = seen.headers.get("server").and_then(|v| v.to_str().ok()) == Some("kong/2.8.1")
        && !seen.headers.contains_key("via");
    if from_kong {
        return kong_shape_violation(&seen.headers, &seen.body).map(|v| format!("Kong's: {v}"));
    }
    match request.service() {
        Some("auth") => gotrue_shape_violation(seen.status, &seen.headers, &seen.body)
            .map(|v| format!("GoTrue's: {v}")),
        Some(_) => postgrest_shape_violation(&seen.headers, &seen.body)
            .map(|v| format!("PostgREST's: {v}")),
        None => Some("an answer from no server for an unrouted path".into()),
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    server_errors: usize,
    dropped: usize,
    bad_shapes: usize,
    wrote_when_refused: usize,
    early_closes: usize,
    statuses: BTreeMap<u16, usize>,
    by_source: BTreeMap<String, BTreeMap<u16, usize>>,
}

#[test]
fn the_gateway_never_faults_always_answers_in_its_own_or_its_upstream_s_shape() {
    fuzz_support::on_a_big_stack(fuzz);
}

fn fuzz() {
    let runtime = fuzz_support::runtime();
    let stack = runtime.block_on(Stack::start()).expect("the stack starts");
    let db = runtime
        .block_on(sqlx::PgPool::connect(stack.db_url()))
        .expect("the superuser connects");
    let target = Target {
        stack,
        http: fuzz_support::fresh_connection_client(),
        db,
    };
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&requests::request(), |request| {
        let mut tally = tally.borrow_mut();
        tally.cases += 1;
        let before = runtime.block_on(target.rows());
        let seen = match runtime.block_on(target.send(&request)) {
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
        let source = match seen.headers.get("server").and_then(|v| v.to_str().ok()) {
            Some("kong/2.8.1") => "kong".to_owned(),
            _ => request.service().unwrap_or("none").to_owned(),
        };
        *tally
            .by_source
            .entry(source)
            .or_default()
            .entry(seen.status)
            .or_default() += 1;
        let text = String::from_utf8_lossy(&seen.body[..seen.body.len().min(300)]).into_owned();
        if seen.status >= 500 {
            tally.server_errors += 1;
            return Err(TestCaseError::fail(format!(
                "answered {}: {text}",
                seen.status
            )));
        }
        if seen.status >= 400 {
            if request.method != "HEAD"
                && let Some(violation) = shape_violation(&request, &seen)
            {
                tally.bad_shapes += 1;
                return Err(TestCaseError::fail(format!(
                    "{} not in {violation}",
                    seen.status
                )));
            }
            let after = runtime.block_on(target.rows());
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
        "fuzz gateway: {} cases tried, 5xx: {}, dropped connections: {}, errors outside their \
         server's shape: {}, refused requests that wrote rows: {}, early closes on an unread body: {}",
        tally.cases,
        tally.server_errors,
        tally.dropped,
        tally.bad_shapes,
        tally.wrote_when_refused,
        tally.early_closes,
    );
    println!("fuzz gateway statuses: {:?}", tally.statuses);
    println!(
        "fuzz gateway statuses by who answered: {:?}",
        tally.by_source
    );
    runtime
        .block_on(target.stack.stop())
        .expect("the stack stops");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
