//! Property-based fuzzing of everything a client controls, against the reference stage.
//!
//! The scenario catalogue pins the attacks we thought of; this covers the ones we did not. Random
//! methods, paths, `Authorization` (one header, sometimes two) and `Cookie` values and bodies go
//! to one shared stack, and three properties must hold for every request: the service never
//! answers 5xx (a client cannot cause a server fault), never answers 200 unless the request
//! carried the one valid token in a single Authorization header, and answers every 4xx in the
//! reference's own JSON shape (`error`, `message`, `request_id`). The cookie parser is fuzzed on
//! its own: it must return an error, never panic, on any bytes.
//!
//! The budget is small in `cargo test` (64 cases each); `PROPTEST_CASES=5000` runs more. A failure
//! is shrunk by proptest and printed as the minimal request.

mod fuzz_support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::header::{HeaderName, HeaderValue};

use fuzz_support::{EARLY_CLOSE, cases};
use harness::Stack;

const ROUTE: &str = "/api/session/create";
const COOKIE_NAME: &str = "sb-127-auth-token";

/// One generated request; `token` marks where the valid token goes, so shrinking keeps it.
#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    authorization: Option<Credential>,
    /// A second Authorization header: ambiguous credentials, never a 200.
    second_authorization: Option<Credential>,
    cookie: Option<String>,
    body: Option<(String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
enum Credential {
    /// Arbitrary bytes, as a header value allows them.
    Raw(Vec<u8>),
    /// `scheme` + separator + the valid token, maybe mutated at one byte.
    AroundValid {
        scheme: String,
        separator: String,
        mutate: Option<(usize, u8)>,
        suffix: String,
    },
}

/// What the run saw, across every case proptest tried (shrinking included).
#[derive(Default)]
struct Tally {
    cases: AtomicUsize,
    server_errors: AtomicUsize,
    transport_errors: AtomicUsize,
    unexpected_ok: AtomicUsize,
    bad_shapes: AtomicUsize,
    early_closes: AtomicUsize,
    /// Statuses seen, so the report shows the run reached more than one code path.
    statuses: std::sync::Mutex<std::collections::BTreeMap<u16, usize>>,
}

fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Bytes a header value may hold: visible ASCII, space, tab and obs-text (0x80..=0xFF).
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            8 => 0x20u8..=0x7e,
            1 => Just(b'\t'),
            1 => 0x80u8..=0xff,
        ],
        0..max,
    )
}

fn credential() -> impl Strategy<Value = Credential> {
    let around_valid = (
        prop_oneof![
            4 => Just("Bearer".to_owned()),
            2 => Just("bearer".to_owned()),
            1 => Just("BEARER".to_owned()),
            1 => Just("Basic".to_owned()),
            1 => Just("Token".to_owned()),
            1 => Just(String::new()),
        ],
        prop_oneof![
            6 => Just(" ".to_owned()),
            1 => Just("  ".to_owned()),
            1 => Just("\t".to_owned()),
            1 => Just(String::new()),
        ],
        prop::option::weighted(0.3, (any::<usize>(), 0x21u8..=0x7e)),
        prop_oneof![
            4 => Just(String::new()),
            1 => Just(" extra".to_owned()),
            1 => Just(".".to_owned()),
            1 => "[A-Za-z0-9_.-]{1,8}",
        ],
    )
        .prop_map(
            |(scheme, separator, mutate, suffix)| Credential::AroundValid {
                scheme,
                separator,
                mutate,
                suffix,
            },
        );
    prop_oneof![
        1 => header_bytes(300).prop_map(Credential::Raw),
        1 => "(Bearer|bearer) [A-Za-z0-9_.=-]{0,120}".prop_map(|text| Credential::Raw(text.into_bytes())),
        2 => around_valid,
    ]
}

fn cookie() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just(COOKIE_NAME.to_owned()),
        Just(format!("{COOKIE_NAME}.0")),
        Just(format!("{COOKIE_NAME}.1")),
        Just("Authorization".to_owned()),
        "[A-Za-z0-9_.-]{1,12}",
    ];
    let value = prop_oneof![
        "[ -~]{0,60}".prop_map(|text| text.replace(';', "")),
        "base64-[A-Za-z0-9_-]{0,80}",
        Just("null".to_owned()),
        Just(r#"{"access_token":"x"}"#.to_owned()),
        Just(r#"["a","b"]"#.to_owned()),
    ];
    prop::collection::vec((name, value), 0..12).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let content_type = prop_oneof![
        Just("application/json".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        Just("text/plain".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        "[ -~]{0,30}",
    ];
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        Just(br#"{"user_id":"00000000-0000-0000-0000-000000000000"}"#.to_vec()),
        Just(b"{}".to_vec()),
        (1usize..200_000).prop_map(|len| vec![b'x'; len]),
    ];
    (content_type, bytes)
}

fn request() -> impl Strategy<Value = Request> {
    let method = prop_oneof![
        6 => Just("POST"),
        1 => prop::sample::select(vec!["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    ];
    let path = prop_oneof![
        6 => Just(ROUTE.to_owned()),
        1 => "/[A-Za-z0-9/._%~-]{0,40}",
        1 => Just(format!("{ROUTE}/")),
        1 => Just(format!("{ROUTE}?user_id=x")),
    ];
    (
        method,
        path,
        prop::option::weighted(0.85, credential()),
        prop::option::weighted(0.1, credential()),
        prop::option::weighted(0.4, cookie()),
        prop::option::weighted(0.6, body()),
    )
        .prop_map(
            |(method, path, authorization, second_authorization, cookie, body)| Request {
                method,
                path,
                authorization,
                second_authorization,
                cookie,
                body,
            },
        )
}

/// The header value sent, and whether it is exactly `Bearer <valid token>` (scheme in any case).
fn render(credential: &Credential, valid: &str) -> (Vec<u8>, bool) {
    match credential {
        Credential::Raw(bytes) => {
            let exact = bytes.len() > 7
                && bytes[..7].eq_ignore_ascii_case(b"bearer ")
                && &bytes[7..] == valid.as_bytes();
            (bytes.clone(), exact)
        }
        Credential::AroundValid {
            scheme,
            separator,
            mutate,
            suffix,
        } => {
            let mut token = valid.as_bytes().to_vec();
            if let Some((at, byte)) = mutate {
                let at = at % token.len();
                token[at] = *byte;
            }
            let mut value = format!("{scheme}{separator}").into_bytes();
            value.extend_from_slice(&token);
            value.extend_from_slice(suffix.as_bytes());
            let exact = scheme.eq_ignore_ascii_case("bearer")
                && separator == " "
                && same_jwt(&token, valid.as_bytes())
                && suffix.is_empty();
            (value, exact)
        }
    }
}

/// Whether two tokens carry the same bytes: base64url's last character has unused low bits, so
/// a mutation there can leave the token valid, and verifiers (Go's included) accept it.
fn same_jwt(token: &[u8], valid: &[u8]) -> bool {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let lenient = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let segments = |token: &[u8]| -> Option<Vec<Vec<u8>>> {
        token
            .split(|byte| *byte == b'.')
            .map(|segment| lenient.decode(segment).ok())
            .collect()
    };
    token == valid || (segments(token).is_some() && segments(token) == segments(valid))
}

struct Target {
    http: reqwest::Client,
    base: String,
    valid_token: String,
}

/// What came back: the status, whether the request carried exactly the valid token, and why
/// the answer is not in the reference's error shape, if it is a 4xx that is not.
struct Seen {
    status: u16,
    valid: bool,
    shape_violation: Option<String>,
}

/// The reference's errors are `{"error", "message", "request_id"}`, all strings, as JSON.
fn reference_shape_violation(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != "application/json" {
        return Some(format!("content-type {content_type:?}"));
    }
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(error) => return Some(format!("not JSON ({error})")),
    };
    let fields = ["error", "message", "request_id"];
    let shaped = json.as_object().is_some_and(|object| {
        object.len() == fields.len()
            && fields
                .iter()
                .all(|f| object.get(*f).is_some_and(|v| v.is_string()))
    });
    (!shaped).then(|| format!("not the reference's shape: {json}"))
}

impl Target {
    async fn send(&self, request: &Request) -> Result<Seen, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.base, request.path));
        let mut valid = false;
        if let Some(credential) = &request.authorization {
            let (value, exact) = render(credential, &self.valid_token);
            let value = HeaderValue::from_bytes(&value).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
            valid = exact;
        }
        // A second header only when there is a first: alone it would just be the one header.
        if let (Some(_), Some(credential)) = (&request.authorization, &request.second_authorization)
        {
            let (value, _) = render(credential, &self.valid_token);
            let value = HeaderValue::from_bytes(&value).map_err(|e| format!("unsendable: {e}"))?;
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
            valid = false;
        }
        if let Some(cookie) = &request.cookie {
            builder = builder.header(HeaderName::from_static("cookie"), cookie.as_str());
        }
        if let Some((content_type, bytes)) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                .body(bytes.clone());
        }
        let request = builder.build().map_err(|e| format!("transport: {e:?}"))?;
        let answer = fuzz_support::exchange(&self.http, request).await?;
        let shape_violation = (400..500)
            .contains(&answer.status)
            .then(|| reference_shape_violation(&answer.headers, &answer.body))
            .flatten();
        Ok(Seen {
            status: answer.status,
            valid,
            shape_violation,
        })
    }
}

async fn signed_in_token(stack: &Stack) -> String {
    let http = reqwest::Client::new();
    let email = format!("fuzz-{}@example.test", uuid::Uuid::new_v4().simple());
    let response: serde_json::Value = http
        .post(format!("{}/signup", stack.auth_url()))
        .header("apikey", stack.anon_key())
        .json(&serde_json::json!({ "email": email, "password": "fuzz-password-1" }))
        .send()
        .await
        .expect("signup answers")
        .json()
        .await
        .expect("signup returns JSON");
    response["access_token"]
        .as_str()
        .expect("signup returns a session")
        .to_owned()
}

#[test]
fn the_reference_never_faults_and_never_admits_without_the_valid_token() {
    let runtime = fuzz_support::runtime();
    let stack = runtime.block_on(Stack::start()).expect("the stack starts");
    let target = Target {
        http: fuzz_support::fresh_connection_client(),
        base: stack.stages().url(service::Stage::Reference).to_owned(),
        valid_token: runtime.block_on(signed_in_token(&stack)),
    };
    let tally = Tally::default();

    let mut runner = TestRunner::new(config());
    let result = runner.run(&request(), |request| {
        tally.cases.fetch_add(1, Ordering::Relaxed);
        let outcome = runtime.block_on(target.send(&request));
        let Seen {
            status,
            valid,
            shape_violation,
        } = match outcome {
            Ok(seen) => seen,
            Err(error) if error.starts_with("unsendable") => return Ok(()),
            Err(error) if error == EARLY_CLOSE => {
                tally.early_closes.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Err(error) => {
                tally.transport_errors.fetch_add(1, Ordering::Relaxed);
                return Err(TestCaseError::fail(error));
            }
        };
        *tally.statuses.lock().unwrap().entry(status).or_default() += 1;
        if status >= 500 {
            tally.server_errors.fetch_add(1, Ordering::Relaxed);
            return Err(TestCaseError::fail(format!("answered {status}")));
        }
        if status == 200 && !valid {
            tally.unexpected_ok.fetch_add(1, Ordering::Relaxed);
            return Err(TestCaseError::fail("200 without the valid token"));
        }
        if let Some(violation) = shape_violation {
            tally.bad_shapes.fetch_add(1, Ordering::Relaxed);
            return Err(TestCaseError::fail(format!("{status}: {violation}")));
        }
        Ok(())
    });
    println!(
        "fuzz reference: {} cases tried, 5xx: {}, panics (dropped responses): {}, unexpected 200s: {}, \
         4xx outside the reference's shape: {}, early closes on an unread body: {}",
        tally.cases.load(Ordering::Relaxed),
        tally.server_errors.load(Ordering::Relaxed),
        tally.transport_errors.load(Ordering::Relaxed),
        tally.unexpected_ok.load(Ordering::Relaxed),
        tally.bad_shapes.load(Ordering::Relaxed),
        tally.early_closes.load(Ordering::Relaxed),
    );
    println!(
        "fuzz reference statuses: {:?}",
        tally.statuses.lock().unwrap()
    );
    runtime.block_on(stack.stop()).expect("the stack stops");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn the_cookie_parser_never_panics() {
    let panics = AtomicUsize::new(0);
    let cases = AtomicUsize::new(0);
    let headers = prop::collection::vec(
        prop_oneof![
            1 => prop::collection::vec(any::<u8>(), 0..200),
            2 => cookie().prop_map(String::into_bytes),
        ],
        0..4,
    );
    let mut runner = TestRunner::new(config());
    let result = runner.run(&headers, |headers| {
        cases.fetch_add(1, Ordering::Relaxed);
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            service::cookies::read_session(headers.iter().map(Vec::as_slice), COOKIE_NAME)
        }));
        if parsed.is_err() {
            panics.fetch_add(1, Ordering::Relaxed);
            return Err(TestCaseError::fail("read_session panicked"));
        }
        Ok(())
    });
    println!(
        "fuzz cookie parser: {} cases tried, panics: {}",
        cases.load(Ordering::Relaxed),
        panics.load(Ordering::Relaxed)
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
