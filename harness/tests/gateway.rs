//! The gateway over real HTTP: Kong's key rules, routes and headers in front of the real auth
//! server of a native stack, and in front of a small echo server that answers with the request it
//! received, so what the gateway adds, strips and rewrites upstream can be read back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use reqwest::StatusCode;
use serde_json::{Value, json};

use harness::Stack;
use harness::gateway::{Gateway, GatewayConfig, GatewayKeys};

const PUBLISHABLE: &str = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
const SECRET: &str = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

/// An upstream that answers 200 with the method, path, headers and body it received.
async fn echo() -> SocketAddr {
    async fn reflect(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::Json<Value> {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(name, _)| {
                let all: Vec<Value> = headers
                    .get_all(name)
                    .iter()
                    .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect();
                (name.to_string(), Value::Array(all))
            })
            .collect();
        axum::Json(json!({
            "method": method.as_str(),
            "path": uri.to_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(reflect))
            .await
            .unwrap()
    });
    address
}

fn auth_address(stack: &Stack) -> SocketAddr {
    stack
        .auth_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

struct Fixture {
    stack: Stack,
    gateway: Gateway,
    http: reqwest::Client,
}

impl Fixture {
    async fn new() -> Fixture {
        let stack = Stack::start().await.expect("stack starts");
        let keys = GatewayKeys {
            anon: stack.anon_key().to_owned(),
            service_role: stack.service_role_key().to_owned(),
            publishable: Some(PUBLISHABLE.to_owned()),
            secret: Some(SECRET.to_owned()),
        };
        let config = GatewayConfig::new(auth_address(&stack), echo().await, keys);
        let gateway = Gateway::start(config).await.unwrap();
        Fixture {
            stack,
            gateway,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.url())
    }

    /// GET through the gateway to the echo upstream; what the upstream saw.
    async fn echoed(&self, path: &str, headers: &[(&str, &str)]) -> Value {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path} {headers:?}");
        assert_eq!(response.headers()["via"], "kong/2.8.1");
        assert!(response.headers().contains_key("x-kong-upstream-latency"));
        assert!(response.headers().contains_key("x-kong-proxy-latency"));
        response.json().await.unwrap()
    }
}

fn seen(echo: &Value, header: &str) -> Vec<String> {
    echo["headers"][header]
        .as_array()
        .map(|all| all.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Headers sent, the message Kong answers, its `WWW-Authenticate`.
type KeyCase<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<&'a str>);

#[tokio::test]
async fn keyed_routes_answer_kongs_exact_401s() {
    let f = Fixture::new().await;
    let cases: &[KeyCase] = &[
        (
            &[],
            "No API key found in request",
            Some(r#"Key realm="kong""#),
        ),
        (
            &[("apikey", "")],
            "No API key found in request",
            Some(r#"Key realm="kong""#),
        ),
        (
            &[("apikey", "not-a-key")],
            "Invalid authentication credentials",
            None,
        ),
        (
            &[("apikey", PUBLISHABLE), ("apikey", PUBLISHABLE)],
            "Duplicate API key found",
            None,
        ),
    ];
    for path in ["/rest/v1/sessions", "/auth/v1/user"] {
        for (headers, message, challenge) in cases {
            let mut request = f.http.get(f.url(path)).header("accept", "application/json");
            for (name, value) in *headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{path} {headers:?}");
            assert_eq!(
                response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                *challenge
            );
            assert_eq!(response.headers()["server"], "kong/2.8.1");
            assert_eq!(response.headers()["access-control-allow-origin"], "*");
            assert_eq!(
                response.headers()["content-type"],
                "application/json; charset=utf-8"
            );
            let body = response.text().await.unwrap();
            assert_eq!(body, format!("{{\n  \"message\":\"{message}\"\n}}"));
        }
    }
}

#[tokio::test]
async fn an_unmatched_path_is_kongs_404_not_a_basic_auth_401() {
    let f = Fixture::new().await;
    for path in ["/rest/v2/sessions", "/rest/v1", "/api/session/create", "/"] {
        let response = f.http.get(f.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get("www-authenticate").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "no Route matched with those values"})
        );
    }
}

#[tokio::test]
async fn rest_requests_reach_the_upstream_stripped_with_kongs_headers() {
    let f = Fixture::new().await;
    let echo = f
        .echoed(
            "/rest/v1/sessions?select=id&apikey=x",
            &[
                ("apikey", f.stack.anon_key()),
                ("x-consumer-username", "service_role"),
                ("x-forwarded-for", "10.1.2.3"),
            ],
        )
        .await;
    assert_eq!(echo["path"], "/sessions?select=id&apikey=x");
    assert_eq!(seen(&echo, "apikey"), [f.stack.anon_key()]);
    assert_eq!(seen(&echo, "x-consumer-username"), ["anon"]);
    assert_eq!(seen(&echo, "x-forwarded-for"), ["10.1.2.3, 127.0.0.1"]);
    assert_eq!(seen(&echo, "x-forwarded-prefix"), ["/rest/v1"]);
    assert_eq!(
        seen(&echo, "host"),
        [echo["headers"]["host"][0].as_str().unwrap().to_owned()]
    );
    assert!(seen(&echo, "host")[0].starts_with("127.0.0.1:"));
    // A legacy key alone: copied into Authorization raw, so no upstream reads it as a token.
    assert_eq!(seen(&echo, "authorization"), [f.stack.anon_key()]);
}

#[tokio::test]
async fn the_transformer_swaps_opaque_keys_and_keeps_a_users_token() {
    let f = Fixture::new().await;
    let publishable = f.echoed("/rest/v1/x", &[("apikey", PUBLISHABLE)]).await;
    assert_eq!(
        seen(&publishable, "authorization"),
        [format!("Bearer {}", f.stack.anon_key())]
    );
    let secret = f
        .echoed(
            "/rest/v1/x",
            &[
                ("apikey", SECRET),
                ("authorization", &format!("Bearer {SECRET}")),
            ],
        )
        .await;
    assert_eq!(
        seen(&secret, "authorization"),
        [format!("Bearer {}", f.stack.service_role_key())]
    );
    assert_eq!(seen(&secret, "x-consumer-username"), ["service_role"]);
    let user = f
        .echoed(
            "/rest/v1/x",
            &[
                ("apikey", PUBLISHABLE),
                ("authorization", "Bearer user.jwt.here"),
            ],
        )
        .await;
    assert_eq!(seen(&user, "authorization"), ["Bearer user.jwt.here"]);
}

#[tokio::test]
async fn a_preflight_needs_no_key() {
    let f = Fixture::new().await;
    let response = f
        .http
        .request(Method::OPTIONS, f.url("/rest/v1/sessions"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "apikey,authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-headers"],
        "apikey,authorization,content-type"
    );
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn the_auth_server_through_the_gateway() {
    let f = Fixture::new().await;
    // Signing up through the project URL, with the anon key, as supabase-js does.
    let signup = f
        .http
        .post(f.url("/auth/v1/signup"))
        .header("apikey", f.stack.anon_key())
        .json(&json!({"email": "gate@example.com", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 200);
    let session: Value = signup.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap();
    let user = f
        .http
        .get(f.url("/auth/v1/user"))
        .header("apikey", PUBLISHABLE)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 200);
    assert_eq!(user.headers()["via"], "kong/2.8.1");
    let user: Value = user.json().await.unwrap();
    assert_eq!(user["email"], "gate@example.com");

    // The anon key alone reaches GoTrue as a non-bearer Authorization: GoTrue's own 401.
    let anonymous = f
        .http
        .get(f.url("/auth/v1/user"))
        .header("apikey", f.stack.anon_key())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error_code"], "no_authorization");

    // An open route needs no key: GoTrue answers it, not Kong.
    let verify = f.http.get(f.url("/auth/v1/verify")).send().await.unwrap();
    assert_ne!(
        verify.headers().get("server").map(|v| v.to_str().unwrap()),
        Some("kong/2.8.1")
    );
    assert!(verify.headers().get("x-kong-upstream-latency").is_some());
}

#[tokio::test]
async fn a_refused_upstream_is_502_and_a_silent_one_504_in_kongs_words() {
    let stack = Stack::start().await.expect("stack starts");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = closed.local_addr().unwrap();
    drop(closed);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_address = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = silent.accept().await.unwrap();
            held.push(socket);
        }
    });
    let keys = GatewayKeys {
        anon: stack.anon_key().to_owned(),
        service_role: stack.service_role_key().to_owned(),
        publishable: None,
        secret: None,
    };
    let config = GatewayConfig::new(silent_address, refused, keys)
        .with_upstream_timeout(Duration::from_millis(500));
    let gateway = Gateway::start(config).await.unwrap();
    let http = reqwest::Client::new();

    let rest = http
        .get(format!("{}/rest/v1/sessions", gateway.url()))
        .header("apikey", stack.anon_key())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        rest.text().await.unwrap(),
        "{\n  \"message\":\"An invalid response was received from the upstream server\"\n}"
    );

    let started = Instant::now();
    let auth = http
        .get(format!("{}/auth/v1/settings", gateway.url()))
        .header("apikey", stack.anon_key())
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() >= Duration::from_millis(500));
    // reqwest's default `Accept: */*` resolves to Kong's JSON template.
    assert_eq!(
        auth.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        auth.text().await.unwrap(),
        "{\n  \"message\":\"The upstream server is timing out\"\n}"
    );
    hold.abort();
}
