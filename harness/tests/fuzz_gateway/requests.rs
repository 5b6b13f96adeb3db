//! One generated request to the project URL: every route (keyed and open), paths no route
//! matches or that try to escape their prefix, every way of giving an `apikey` (header in any
//! case, query, both, twice, empty, unknown), `Authorization` variants, CORS preflights, the
//! `Accept` values Kong's templates choose between, content types and bodies.

use proptest::prelude::*;

/// An `apikey` the request carries, resolved against the stack's keys when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Anon,
    ServiceRole,
    Publishable,
    Secret,
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    None,
    /// The header, under this spelling of its name.
    Header(&'static str, Key),
    Query(Key),
    HeaderAndQuery(Key, Key),
    TwoHeaders(Key, Key),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub query: Option<String>,
    pub key: KeyPlace,
    /// `Authorization` values: none, one, or two.
    pub authorization: Vec<String>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// Which upstream a routed request reaches: its path as sent, dot segments resolved (as
    /// URL parsers do on the client's side).
    pub fn service(&self) -> Option<&'static str> {
        let sent = reqwest::Url::parse(&format!("http://x{}", self.path)).ok()?;
        harness::gateway::routes::route(sent.path()).map(|m| m.route.service.name())
    }
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO",
    ])
}

fn path() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "/auth/v1/health",
        "/auth/v1/settings",
        "/auth/v1/signup",
        "/auth/v1/token",
        "/auth/v1/user",
        "/auth/v1/logout",
        "/auth/v1/admin/users",
        "/auth/v1/verify",
        "/auth/v1/callback",
        "/auth/v1/authorize",
        "/auth/v1/.well-known/jwks.json",
        "/auth/v1/nothing",
        "/auth/v1/",
        "/auth/v1",
        "/rest/v1/",
        "/rest/v1",
        "/rest/v1/sessions",
        "/rest/v1/rpc/nope",
        "/rest/v1/nope",
        "/rest/v1/sessions/1",
        "/",
        "/auth/v2/user",
        "/REST/v1/",
        "//rest/v1/",
        "/rest%2Fv1/sessions",
        "/auth/v1/../../rest/v1/sessions",
        "/auth/v1/%2e%2e/admin/users",
        "/rest/v1/%00",
        "/rest/v1/%ED%A0%80",
        "/graphql/v1",
    ]);
    prop_oneof![
        8 => known.clone().prop_map(str::to_owned),
        1 => (known, "[a-zA-Z0-9/._~%-]{0,24}").prop_map(|(p, tail)| format!("{p}{tail}")),
        1 => (1usize..6000).prop_map(|n| format!("/rest/v1/{}", "a".repeat(n))),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        3 => Just(Key::Anon),
        2 => Just(Key::ServiceRole),
        1 => Just(Key::Publishable),
        1 => Just(Key::Secret),
        1 => prop::sample::select(vec![
            "", " ", "sb_publishable_nope", "sb_secret_", "eyJhbGciOiJub25lIn0.e30.", "null",
        ])
        .prop_map(|t| Key::Text(t.to_owned())),
        1 => "[ -~]{0,40}".prop_map(Key::Text),
    ]
}

fn key_place() -> impl Strategy<Value = KeyPlace> {
    prop_oneof![
        2 => Just(KeyPlace::None),
        6 => (prop::sample::select(vec!["apikey", "APIKEY", "ApiKey"]), key())
            .prop_map(|(name, key)| KeyPlace::Header(name, key)),
        2 => key().prop_map(KeyPlace::Query),
        1 => (key(), key()).prop_map(|(a, b)| KeyPlace::HeaderAndQuery(a, b)),
        1 => (key(), key()).prop_map(|(a, b)| KeyPlace::TwoHeaders(a, b)),
    ]
}

fn authorization() -> impl Strategy<Value = Vec<String>> {
    let one = prop_oneof![
        2 => Just("Bearer {anon}".to_owned()),
        1 => Just("Bearer {service_role}".to_owned()),
        1 => Just("Bearer {publishable}".to_owned()),
        1 => Just("Bearer sb_secret_nope".to_owned()),
        1 => prop::sample::select(vec!["Bearer", "Bearer ", "Basic YTpi", "bearer x.y.z", ""])
            .prop_map(str::to_owned),
        1 => "[ -~]{0,60}",
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        4 => one.clone().prop_map(|a| vec![a]),
        1 => (one.clone(), one).prop_map(|(a, b)| vec![a, b]),
    ]
}

fn header() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "application/json", "*/*", "text/html", "application/xml", "text/plain", "text/*",
            "text/html;q=0.1, application/json;q=0.9", "application/json;q=abc", "", ",;q=,",
            "application/vnd.pgrst.object+json", "image/png",
        ])
        .prop_map(|v| ("accept", v.to_owned())),
        2 => prop::sample::select(vec![
            "application/json", "text/plain", "application/x-www-form-urlencoded", "", "x/y;;",
        ])
        .prop_map(|v| ("content-type", v.to_owned())),
        1 => prop::sample::select(vec!["https://app.example", "null", ""])
            .prop_map(|v| ("origin", v.to_owned())),
        1 => prop::sample::select(vec!["POST", "GET", "x"])
            .prop_map(|v| ("access-control-request-method", v.to_owned())),
        1 => "[ -~]{0,40}".prop_map(|v| ("x-forwarded-for", v)),
        1 => "[ -~]{0,40}".prop_map(|v| ("x-consumer-username", v)),
        1 => "[ -~]{0,40}".prop_map(|v| ("host", v)),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(b"{\"email\":\"fuzz-{unique}@example.test\",\"password\":\"fuzz-password-1\"}".to_vec()),
        2 => Just(b"{\"user_id\":\"00000000-0000-0000-0000-000000000000\"}".to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"{\"a\":\"\\u0000\\ud800\"}".to_vec()),
        1 => Just(Vec::new()),
        1 => (1usize..3).prop_map(|mib| vec![b'x'; mib << 20]),
    ]
}

pub fn request() -> impl Strategy<Value = Request> {
    (
        method(),
        path(),
        prop::option::weighted(0.4, "[a-z_=&.%0-9*()-]{0,40}"),
        key_place(),
        authorization(),
        prop::collection::vec(header(), 0..3),
        prop::option::weighted(0.5, body()),
    )
        .prop_map(
            |(method, path, query, key, authorization, headers, body)| Request {
                method,
                path,
                query,
                key,
                authorization,
                headers,
                body,
            },
        )
}
