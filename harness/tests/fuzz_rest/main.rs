//! Property-based fuzzing of the data API's query grammar, bodies and headers, against real
//! PostgreSQL with the REST fixture (`rest_common::Api`).
//!
//! `requests.rs` generates the requests (from `values.rs`); each goes over real HTTP on a
//! fresh connection, and for every answer: never a 5xx (nothing here fails the database), never
//! a dropped connection (a panic or a crash), every error in PostgREST's JSON shape (exactly
//! `code`, `details`, `hint`, `message`), a refused request writes nothing (every fixture table's
//! rows digested as the superuser before and after), and a token whose role claim is
//! `postgres`, `supabase_admin` or unknown never gets an answer only a role could give.
//!
//! 64 cases in `cargo test`; `PROPTEST_CASES=2000` runs more. One report line says what the run
//! reached: `cargo test -p harness --test fuzz_rest -- --nocapture`.

#[path = "../fuzz_support/mod.rs"]
mod fuzz_support;
mod requests;
#[path = "../rest_common/mod.rs"]
mod rest_common;
mod values;

use std::collections::BTreeMap;

use fuzz_support::{EARLY_CLOSE, Seen, cases};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use requests::{Credential, Request};
use rest_common::{Api, postgrest_shape_violation, sign};

/// The fixture's tables a request may write to.
const TABLES: &[&str] = &[
    "items", "books", "authors", "reviews", "notes", "secrets", "codes", "nopk",
];

/// The roles a request may act as.
const API_ROLES: &[&str] = &["anon", "authenticated", "service_role"];

struct Target {
    api: Api,
    http: reqwest::Client,
    db: sqlx::PgPool,
}

impl Target {
    fn authorization(&self, credential: &Credential) -> Option<String> {
        let secret = self.api.stack.jwt_secret();
        match credential {
            Credential::None => None,
            Credential::Anon => Some(format!("Bearer {}", self.api.stack.anon_key())),
            Credential::ServiceRole => {
                Some(format!("Bearer {}", self.api.stack.service_role_key()))
            }
            Credential::Role(role) => {
                Some(format!("Bearer {}", sign(json!({"role": role}), secret)))
            }
            Credential::Raw(text) => Some(text.clone()),
        }
    }

    async fn send(&self, request: &Request) -> Result<Seen, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let url = format!("{}{}", self.api.url, request.path_and_query());
        let mut builder = self.http.request(method, url);
        if let Some(value) = self.authorization(&request.credential) {
            let value = HeaderValue::from_str(&value).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        for (name, value) in &request.headers {
            let value = HeaderValue::from_str(value).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let request = builder.build().map_err(|e| format!("unsendable: {e}"))?;
        fuzz_support::exchange(&self.http, request).await
    }

    /// Every fixture table's rows, digested: a refused request must leave each unchanged.
    async fn digest(&self) -> Vec<String> {
        let mut digests = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let sql = format!(
                "select coalesce(md5(string_agg(t::text, ',' order by t::text)), '') from public.{table} t"
            );
            let digest: String = sqlx::query_scalar(&sql)
                .fetch_one(&self.db)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            digests.push(format!("{table}:{digest}"));
        }
        digests
    }
}

/// What a role-claim token must never get: a success that ran SQL (OPTIONS and the root
/// answer from the schema cache alone), or an answer naming the role as the current user.
fn became_a_forbidden_role(request: &Request, seen: &Seen, role: &str) -> Option<String> {
    let ran_sql = !matches!(request.method, "OPTIONS") && request.path != "/";
    if (200..300).contains(&seen.status) && ran_sql {
        return Some(format!("a {} for a token with role {role:?}", seen.status));
    }
    None
}

/// `/rpc/whoami` answers `current_user`: it must be an API role.
fn acted_as_another_role(request: &Request, seen: &Seen) -> Option<String> {
    if request.path != "/rpc/whoami" || !(200..300).contains(&seen.status) {
        return None;
    }
    let who: Value = serde_json::from_slice(&seen.body).ok()?;
    let who = who.as_str()?;
    (!API_ROLES.contains(&who)).then(|| format!("acted as {who:?}"))
}

#[derive(Default)]
struct Tally {
    cases: usize,
    server_errors: usize,
    dropped: usize,
    bad_shapes: usize,
    wrote_when_refused: usize,
    forbidden_roles: usize,
    early_closes: usize,
    statuses: BTreeMap<u16, usize>,
    codes: BTreeMap<String, usize>,
}

#[test]
fn the_data_api_never_faults_always_answers_in_postgrest_s_shape_and_refusals_write_nothing() {
    fuzz_support::on_a_big_stack(fuzz);
}

fn fuzz() {
    let runtime = fuzz_support::runtime();
    let api = runtime.block_on(Api::start());
    let db = runtime
        .block_on(sqlx::PgPool::connect(api.stack.db_url()))
        .expect("the superuser connects");
    let target = Target {
        api,
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
        let before = runtime.block_on(target.digest());
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
        let text = String::from_utf8_lossy(&seen.body[..seen.body.len().min(300)]).into_owned();
        if seen.status >= 400 && request.method != "HEAD" {
            if let Some(code) = serde_json::from_slice::<Value>(&seen.body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
            {
                *tally.codes.entry(code).or_default() += 1;
            }
            if let Some(violation) = postgrest_shape_violation(&seen.headers, &seen.body) {
                tally.bad_shapes += 1;
                return Err(TestCaseError::fail(format!(
                    "{} not PostgREST's shape: {violation}",
                    seen.status
                )));
            }
        }
        if seen.status >= 500 {
            tally.server_errors += 1;
            return Err(TestCaseError::fail(format!(
                "answered {}: {text}",
                seen.status
            )));
        }
        let role_violation = request
            .credential
            .forbidden_role()
            .and_then(|role| became_a_forbidden_role(&request, &seen, role))
            .or_else(|| acted_as_another_role(&request, &seen));
        if let Some(violation) = role_violation {
            tally.forbidden_roles += 1;
            return Err(TestCaseError::fail(format!("{violation}: {text}")));
        }
        if seen.status >= 400 {
            let after = runtime.block_on(target.digest());
            if after != before {
                tally.wrote_when_refused += 1;
                return Err(TestCaseError::fail(format!(
                    "refused with {} ({text}) but rows changed",
                    seen.status
                )));
            }
        }
        Ok(())
    });
    let tally = tally.into_inner();
    println!(
        "fuzz rest: {} cases tried, 5xx: {}, dropped connections: {}, errors outside PostgREST's \
         shape: {}, refused requests that wrote rows: {}, forbidden roles taken: {}, early closes \
         on an unread body: {}",
        tally.cases,
        tally.server_errors,
        tally.dropped,
        tally.bad_shapes,
        tally.wrote_when_refused,
        tally.forbidden_roles,
        tally.early_closes,
    );
    println!("fuzz rest statuses: {:?}", tally.statuses);
    println!("fuzz rest error codes: {:?}", tally.codes);
    runtime.block_on(target.api.stop());
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
