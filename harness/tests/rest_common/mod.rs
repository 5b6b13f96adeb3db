//! Shared by the data API's test binaries: a stack with the REST fixture applied and the
//! data API served in-process on `127.0.0.1:0`, plus tokens of each kind.

#![allow(dead_code)]

use std::time::Duration;

use harness::Stack;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

/// The fixture every data API test uses.
pub const FIXTURE: &str = include_str!("../fixtures/rest/schema.sql");

/// A stack plus the data API in front of it.
pub struct Api {
    pub stack: Stack,
    pub url: String,
    pub client: Client,
    server: Server,
}

/// The in-process server; dropping it aborts the server task.
struct Server {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    /// Graceful stop, waiting for the task; the server's own error fails the test.
    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Api {
    /// Stack, fixture and server with the default settings.
    pub async fn start() -> Api {
        Api::start_with(&[]).await
    }

    /// Same, with extra `PGRST_*` settings over the defaults.
    pub async fn start_with(extra: &[(&str, &str)]) -> Api {
        Api::start_with_sql("", extra).await
    }

    /// Same, with `sql` run as the superuser after the fixture and before the server starts.
    pub async fn start_with_sql(sql: &str, extra: &[(&str, &str)]) -> Api {
        let stack = Stack::start().await.expect("start the stack");
        let mut conn = PgConnection::connect(stack.db_url())
            .await
            .expect("connect as superuser");
        conn.execute(FIXTURE).await.expect("apply the REST fixture");
        if !sql.is_empty() {
            conn.execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        drop(conn);
        Api::serve(stack, extra).await
    }

    /// The data API over an already prepared stack.
    pub async fn serve(stack: Stack, extra: &[(&str, &str)]) -> Api {
        let mut pairs: Vec<(String, String)> = vec![
            ("PGRST_DB_URI".into(), stack.authenticator_db_url()),
            ("PGRST_DB_SCHEMAS".into(), "public".into()),
            ("PGRST_DB_ANON_ROLE".into(), "anon".into()),
            // The key set the stack's own data API verifies with: ES256 user tokens under `cli`.
            (
                "PGRST_JWT_SECRET".into(),
                stack.keys().current().postgrest_jwt_secret(),
            ),
            ("PGRST_DB_POOL_ACQUISITION_TIMEOUT".into(), "3".into()),
        ];
        for (k, v) in extra {
            pairs.retain(|(name, _)| name != k);
            pairs.push(((*k).into(), (*v).into()));
        }
        let config = rest::Config::from_pairs(pairs).expect("a valid data API configuration");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(rest::serve(config, listener, async {
            let _ = rx.await;
        }));
        let api = Api {
            stack,
            url,
            client: Client::new(),
            server: Server {
                stop: Some(tx),
                task: Some(task),
            },
        };
        api.wait_ready().await;
        api
    }

    /// Waits until the schema cache is loaded (no more PGRST002).
    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(format!("{}/", self.url)).send().await
                && r.status() != 503
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the data API at {} never loaded its schema cache", self.url);
    }

    /// A request to `path` (with its query string).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str, body: Value) -> RequestBuilder {
        self.request(Method::POST, path).json(&body)
    }

    pub fn patch(&self, path: &str, body: Value) -> RequestBuilder {
        self.request(Method::PATCH, path).json(&body)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// Runs SQL as the superuser.
    pub async fn sql(&self, text: &str) {
        let mut conn = PgConnection::connect(self.stack.db_url()).await.unwrap();
        conn.execute(text)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    /// A scalar as the superuser.
    pub async fn scalar<T>(&self, text: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        let mut conn = PgConnection::connect(self.stack.db_url()).await.unwrap();
        sqlx::query_scalar(text).fetch_one(&mut conn).await.unwrap()
    }

    /// A token signed with the stack's secret.
    pub fn token(&self, claims: Value) -> String {
        sign(claims, self.stack.jwt_secret())
    }

    /// `(user id, access token)` of a new user signed up through the auth server.
    pub async fn user(&self, email: &str) -> (String, String) {
        let r: Value = self
            .client
            .post(format!("{}/signup", self.stack.auth_url()))
            .json(&json!({"email": email, "password": "correct-horse-battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = r["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("signup gave {r}"))
            .to_owned();
        let id = r["user"]["id"].as_str().unwrap().to_owned();
        (id, token)
    }

    /// Stops the server and hands back the stack (to serve it again differently).
    pub async fn into_stack(self) -> Stack {
        let Api { stack, server, .. } = self;
        server.stop().await;
        stack
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// HS256 with `secret`.
pub fn sign(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The response's parsed body and status, for assertions that print both.
pub async fn parts(r: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, body)
}

/// Asserts an error body has exactly PostgREST's four keys and this code.
pub fn assert_error(body: &Value, code: &str) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("not an error object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "details", "hint", "message"], "{body}");
    assert_eq!(body["code"], code, "{body}");
}

pub fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// One request and what PostgREST answers to it.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Option<Value>,
    pub status: u16,
    /// The whole body, when given.
    pub expect: Option<Value>,
    /// The error code, when the answer is an error.
    pub code: Option<&'static str>,
    /// Headers that must be present with these values.
    pub expect_headers: &'static [(&'static str, &'static str)],
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            method: "GET",
            path: "/",
            headers: &[],
            body: None,
            status: 200,
            expect: None,
            code: None,
            expect_headers: &[],
        }
    }
}

impl Api {
    /// Runs every case, each checked in full; reports every failure at once.
    pub async fn check(&self, cases: Vec<Case>) {
        let mut failures = Vec::new();
        for case in &cases {
            let method = Method::from_bytes(case.method.as_bytes()).unwrap();
            let mut req = self.request(method, case.path);
            for (k, v) in case.headers {
                req = req.header(*k, *v);
            }
            if let Some(b) = &case.body {
                req = req.json(b);
            }
            let (status, headers, body) = parts(req.send().await.unwrap()).await;
            let mut problems = Vec::new();
            if status != case.status {
                problems.push(format!("status {status}, expected {}", case.status));
            }
            if let Some(expect) = &case.expect
                && &body != expect
            {
                problems.push(format!("body {body}, expected {expect}"));
            }
            if let Some(code) = case.code {
                let keys: Vec<&String> = body
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                if body["code"] != code || keys.len() != 4 {
                    problems.push(format!(
                        "error body {body}, expected code {code} and four keys"
                    ));
                }
            }
            for (k, v) in case.expect_headers {
                if header(&headers, k) != Some(*v) {
                    problems.push(format!(
                        "header {k}: {:?}, expected {v:?}",
                        header(&headers, k)
                    ));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({} {}): {}",
                    case.name,
                    case.method,
                    case.path,
                    problems.join("; ")
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// Why an error answer is not in PostgREST's shape (JSON with exactly `code`, `details`,
/// `hint`, `message`; code and message text, the others text or null), if it is not.
pub fn postgrest_shape_violation(
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> Option<String> {
    let content_type = header(headers, "content-type").unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if !content_type.starts_with("application/json") {
        return Some(format!("content-type {content_type:?}: {text}"));
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Some(format!("not a JSON object: {text}"));
    };
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["code", "details", "hint", "message"] {
        return Some(format!("keys {keys:?}: {text}"));
    }
    let text_or_null = |key: &str| matches!(fields[key], Value::String(_) | Value::Null);
    if !fields["code"].is_string() || !fields["message"].is_string() {
        return Some(format!("code or message not a string: {text}"));
    }
    if !text_or_null("details") || !text_or_null("hint") {
        return Some(format!("details or hint neither text nor null: {text}"));
    }
    None
}
