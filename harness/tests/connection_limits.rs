//! Connection-level abuse against every server of the stack, over raw sockets: an oversized
//! head is a 431 the client gets to read, a head that trickles in is cut at its deadline, a
//! body that never ends meets a bound and then a clean close, and hundreds of idle connections
//! cost nobody else an answer. Each server keeps serving other clients meanwhile.
//!
//! The bounds are the `serving` crate's: Go's `net/http` ones for the auth server (as GoTrue
//! sets them), the service's own `service::LIMITS`, nginx's for the gateway
//! (`harness::gateway::LIMITS`) and Warp's for the data API (`rest::LIMITS`). The gateway's
//! and the data API's timeouts (60 s, 30 s) are waited out on copies of them served with the
//! head timeout shrunk to 2 s (`Server::QuickGateway`, `Server::QuickRest`); sizes are
//! checked on the stack's own.

use std::time::{Duration, Instant};

use harness::Stack;
use rstest::rstest;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a request head may take: 2 s in both servers.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// A close is allowed this much past its deadline on a busy two-core machine.
const SLACK: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy)]
enum Server {
    Auth,
    Reference,
    DebriefFinal,
    Gateway,
    Rest,
    /// The gateway's code, served with a 2 s head timeout and upstream timeout.
    QuickGateway,
    /// The data API's code, served with a 2 s head (and body) timeout.
    QuickRest,
}

/// Where to reach a server, and what a harmless request to it is.
struct Target {
    server: Server,
    address: String,
    /// The gateway's anon key.
    anon: String,
    /// What serves a quick copy; dropping it stops serving.
    _served: Option<Served>,
}

enum Served {
    Gateway(#[allow(dead_code)] harness::gateway::Gateway),
    Rest(tokio::task::JoinHandle<anyhow::Result<()>>),
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Served::Rest(task) = self {
            task.abort();
        }
    }
}

/// The stack's data API's own address (not through the gateway).
fn rest_address(stack: &Stack) -> String {
    stack
        .data_api_url()
        .trim_start_matches("http://")
        .to_owned()
}

fn quick(limits: serving::Limits) -> serving::Limits {
    limits.with_head_timeout(HEAD_TIMEOUT)
}

impl Target {
    async fn of(stack: &Stack, server: Server) -> Self {
        let base = match server {
            Server::Auth => stack.auth_url().to_owned(),
            Server::Reference => stack.stages().url(service::Stage::Reference).to_owned(),
            Server::DebriefFinal => stack.stages().url(service::Stage::DebriefFinal).to_owned(),
            Server::Gateway => stack.api_url().to_owned(),
            Server::Rest => rest_address(stack),
            Server::QuickGateway => return Self::quick_gateway(stack).await,
            Server::QuickRest => return Self::quick_rest(stack).await,
        };
        let address = base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        Self {
            server,
            address,
            anon: stack.anon_key().to_owned(),
            _served: None,
        }
    }

    async fn quick_gateway(stack: &Stack) -> Self {
        use harness::gateway::{Gateway, GatewayConfig, GatewayKeys, LIMITS};
        let keys = GatewayKeys {
            anon: stack.anon_key().to_owned(),
            service_role: stack.service_role_key().to_owned(),
            publishable: stack.publishable_key().map(str::to_owned),
            secret: stack.secret_key().map(str::to_owned),
        };
        let auth = stack
            .auth_url()
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let rest = rest_address(stack).parse().unwrap();
        let config = GatewayConfig::new(auth, rest, keys)
            .with_limits(quick(LIMITS))
            .with_upstream_timeout(HEAD_TIMEOUT);
        let gateway = Gateway::start(config).await.expect("a quick gateway");
        Self {
            server: Server::QuickGateway,
            address: gateway.address().to_string(),
            anon: stack.anon_key().to_owned(),
            _served: Some(Served::Gateway(gateway)),
        }
    }

    async fn quick_rest(stack: &Stack) -> Self {
        let config = rest::Config::from_pairs([
            ("PGRST_DB_URI".to_owned(), stack.authenticator_db_url()),
            ("PGRST_DB_SCHEMAS".to_owned(), "public".to_owned()),
            ("PGRST_DB_ANON_ROLE".to_owned(), "anon".to_owned()),
            (
                "PGRST_JWT_SECRET".to_owned(),
                stack.keys().current().postgrest_jwt_secret(),
            ),
        ])
        .expect("the stack's data API settings");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(rest::serve_within(
            config,
            listener,
            quick(rest::LIMITS),
            std::future::pending(),
        ));
        // Its schema cache loads after the bind; until then `/` is a 503.
        let root = format!("http://{address}/");
        for _ in 0..200 {
            match reqwest::get(&root).await {
                Ok(r) if r.status() != 503 => break,
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        Self {
            server: Server::QuickRest,
            address,
            anon: stack.anon_key().to_owned(),
            _served: Some(Served::Rest(task)),
        }
    }

    /// A request the server answers without any dependency: `GET /health`, the stage's
    /// route without credentials, Kong's 404 for no route, the data API's OpenAPI root.
    fn harmless(&self, extra_headers: &str) -> Vec<u8> {
        match self.server {
            Server::Auth => format!("GET /health HTTP/1.1\r\nhost: x\r\n{extra_headers}\r\n"),
            Server::Gateway | Server::QuickGateway => {
                format!("GET /nowhere HTTP/1.1\r\nhost: x\r\n{extra_headers}\r\n")
            }
            Server::Rest | Server::QuickRest => {
                format!("GET / HTTP/1.1\r\nhost: x\r\n{extra_headers}\r\n")
            }
            _ => format!(
                "POST {} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n{extra_headers}\r\n",
                service::ROUTE
            ),
        }
        .into_bytes()
    }

    /// The head of a request to an endpoint that reads its body, with `framing` (a
    /// content-length or chunked transfer-encoding line).
    fn upload_head(&self, framing: &str) -> Vec<u8> {
        let (path, key) = match self.server {
            Server::Auth => ("/signup", String::new()),
            Server::Gateway | Server::QuickGateway => {
                ("/rest/v1/items", format!("apikey: {}\r\n", self.anon))
            }
            Server::Rest | Server::QuickRest => ("/items", String::new()),
            _ => (service::ROUTE, String::new()),
        };
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{key}{framing}\r\n\r\n"
        )
        .into_bytes()
    }

    /// The largest head the server takes.
    fn max_head_bytes(&self) -> usize {
        match self.server {
            Server::Auth => serving::Limits::go_net_http().max_head_bytes,
            Server::Gateway | Server::QuickGateway => harness::gateway::LIMITS.max_head_bytes,
            Server::Rest | Server::QuickRest => rest::LIMITS.max_head_bytes,
            _ => service::LIMITS.max_head_bytes,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.address)
            .await
            .unwrap_or_else(|e| panic!("connecting to {:?} at {}: {e}", self.server, self.address))
    }

    /// A fresh connection sends the harmless request and gets an answer within a second.
    async fn still_serves(&self) {
        let mut socket = self.connect().await;
        socket.write_all(&self.harmless("")).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(1), read_response(&mut socket))
            .await
            .unwrap_or_else(|_| {
                panic!("{:?} did not answer another client within 1 s", self.server)
            })
            .expect("an answer");
        assert!(
            answer.status < 500 || matches!(self.server, Server::DebriefFinal),
            "{:?}: {answer:?}",
            self.server
        );
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// Reads one HTTP/1.1 response with a content-length (or none) from `reader`.
async fn read_response(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Answer> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = reader.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "closed before a whole head: {:?}",
                    String::from_utf8_lossy(&buffer)
                ),
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = reader.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Answer { status, head, body })
}

/// How long until the peer closes the connection (EOF or reset), reading and dropping what
/// arrives; panics past `within`.
async fn closed_after(reader: &mut (impl AsyncRead + Unpin), within: Duration) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout_at((started + within).into(), reader.read(&mut chunk)).await {
            Err(_) => panic!("the connection was still open after {within:?}"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// Writes `bytes` and then, while the server reads, more of `tail` until a write fails.
async fn write_then_keep_sending(
    mut writer: impl AsyncWrite + Unpin,
    bytes: Vec<u8>,
    tail: Vec<u8>,
    pause: Duration,
) {
    if writer.write_all(&bytes).await.is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if writer.write_all(&tail).await.is_err() || writer.flush().await.is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

/// The error's code in its server's shape: GoTrue's `error_code` or `error`, PostgREST's
/// `code`, Kong's `message`.
fn error_code(json: &Value) -> Option<&str> {
    ["error_code", "error", "code", "message"]
        .iter()
        .find_map(|key| json.get(key).and_then(Value::as_str))
}

async fn stack() -> Stack {
    Stack::start().await.expect("the stack starts")
}

#[rstest]
#[case::auth(Server::Auth)]
#[case::reference(Server::Reference)]
#[case::debrief_final(Server::DebriefFinal)]
#[case::gateway(Server::Gateway)]
#[case::rest(Server::Rest)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_head_is_a_431_the_client_reads(#[case] server: Server) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let limit = target.max_head_bytes();

    let under = format!("x-pad: {}\r\n", "a".repeat(limit - 1024));
    let mut socket = target.connect().await;
    socket.write_all(&target.harmless(&under)).await.unwrap();
    let answer = read_response(&mut socket)
        .await
        .expect("an answer under the limit");
    assert_ne!(
        answer.status, 431,
        "{server:?} refused a head under its limit"
    );

    let over = format!("x-pad: {}\r\n", "a".repeat(limit + 16 * 1024));
    let (mut reader, writer) = target.connect().await.into_split();
    let sending = tokio::spawn(write_then_keep_sending(
        writer,
        target.harmless(&over),
        Vec::new(),
        Duration::from_millis(10),
    ));
    let answer = read_response(&mut reader)
        .await
        .unwrap_or_else(|e| panic!("{server:?} dropped the connection instead of a 431: {e}"));
    assert_eq!(answer.status, 431, "{server:?}: {answer:?}");
    closed_after(&mut reader, Duration::from_secs(2)).await;
    sending.abort();
    target.still_serves().await;
    stack.stop().await.unwrap();
}

#[rstest]
// Go's net/http has no limit on header lines, only on their bytes.
#[case::auth(Server::Auth, 1000, 200)]
#[case::reference(Server::Reference, 101, 431)]
// Nor have nginx and Warp; their 1000 lines fit in their head sizes.
#[case::gateway(Server::Gateway, 1000, 404)]
#[case::rest(Server::Rest, 1000, 200)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_lines_past_the_count(
    #[case] server: Server,
    #[case] lines: usize,
    #[case] status: u16,
) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let extra: String = (0..lines).map(|i| format!("x-line-{i}: {i}\r\n")).collect();
    let mut socket = target.connect().await;
    socket.write_all(&target.harmless(&extra)).await.unwrap();
    let answer = read_response(&mut socket).await.expect("an answer");
    assert_eq!(answer.status, status, "{server:?}: {answer:?}");
    stack.stop().await.unwrap();
}

#[rstest]
#[case::auth(Server::Auth)]
#[case::reference(Server::Reference)]
#[case::debrief_final(Server::DebriefFinal)]
#[case::gateway(Server::QuickGateway)]
#[case::rest(Server::QuickRest)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_head_is_cut_at_its_deadline_while_others_are_served(#[case] server: Server) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let (mut reader, writer) = target.connect().await.into_split();
    // A header line every 300 ms: each byte arrives in time, the head never does.
    let trickle = tokio::spawn(write_then_keep_sending(
        writer,
        b"GET /health HTTP/1.1\r\nhost: x\r\n".to_vec(),
        b"x-slow: 1\r\n".to_vec(),
        Duration::from_millis(300),
    ));
    let closing =
        tokio::spawn(async move { closed_after(&mut reader, HEAD_TIMEOUT + SLACK).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    target.still_serves().await;
    let closed = closing.await.unwrap();
    trickle.abort();
    assert!(
        closed >= HEAD_TIMEOUT - Duration::from_millis(200),
        "{server:?} cut the head after {closed:?}, before its {HEAD_TIMEOUT:?}"
    );
    stack.stop().await.unwrap();
}

#[rstest]
#[case::auth(Server::Auth)]
#[case::reference(Server::Reference)]
#[case::gateway(Server::QuickGateway)]
#[case::rest(Server::QuickRest)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_new_connection_is_closed_after_the_head_timeout(#[case] server: Server) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let mut socket = target.connect().await;
    let closed = closed_after(&mut socket, HEAD_TIMEOUT + SLACK).await;
    assert!(
        closed >= HEAD_TIMEOUT - Duration::from_millis(200),
        "{server:?}: {closed:?}"
    );
    stack.stop().await.unwrap();
}

/// The head timeout counts from a request's first byte: a pooled connection idle for longer
/// is still there for its next request (a server closing it would race the client reusing it).
#[rstest]
#[case::auth(Server::Auth)]
#[case::reference(Server::Reference)]
#[case::gateway(Server::QuickGateway)]
#[case::rest(Server::QuickRest)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_outlives_the_head_timeout(#[case] server: Server) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let mut socket = target.connect().await;
    socket.write_all(&target.harmless("")).await.unwrap();
    let first = read_response(&mut socket).await.expect("a first answer");
    assert!(
        !first
            .head
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{first:?}"
    );
    tokio::time::sleep(HEAD_TIMEOUT + Duration::from_millis(700)).await;
    socket.write_all(&target.harmless("")).await.unwrap();
    let second = read_response(&mut socket)
        .await
        .unwrap_or_else(|e| panic!("{server:?} closed an idle kept-alive connection: {e}"));
    assert_eq!(second.status, first.status);
    stack.stop().await.unwrap();
}

#[rstest]
#[case::auth(Server::Auth, "request_entity_too_large")]
#[case::reference(Server::Reference, "payload_too_large")]
#[case::debrief_final(Server::DebriefFinal, "payload_too_large")]
#[case::gateway(Server::Gateway, "Payload too large")]
#[case::rest(Server::Rest, "PGRST102")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_meets_the_limit_then_a_clean_close(
    #[case] server: Server,
    #[case] code: &str,
) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let (mut reader, writer) = target.connect().await.into_split();
    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000)).into_bytes();
    let sending = tokio::spawn(write_then_keep_sending(
        writer,
        target.upload_head("transfer-encoding: chunked"),
        chunk,
        Duration::ZERO,
    ));
    let answer = tokio::time::timeout(Duration::from_secs(10), read_response(&mut reader))
        .await
        .expect("an answer within 10 s")
        .unwrap_or_else(|e| panic!("{server:?} dropped the connection instead of a 413: {e}"));
    assert_eq!(answer.status, 413, "{server:?}: {answer:?}");
    assert_eq!(error_code(&answer.json()), Some(code), "{answer:?}");
    closed_after(&mut reader, Duration::from_secs(2)).await;
    sending.abort();
    target.still_serves().await;
    stack.stop().await.unwrap();
}

#[rstest]
// GoTrue's 10 s request duration.
#[case::auth(Server::Auth, Duration::from_secs(9), "request_timeout")]
#[case::reference(Server::Reference, Duration::from_secs(9), "request_timeout")]
// Warp's one timeout, shrunk to 2 s here.
#[case::rest(Server::QuickRest, HEAD_TIMEOUT - Duration::from_millis(200), "PGRST102")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_gets_a_408_then_a_close(
    #[case] server: Server,
    #[case] bound: Duration,
    #[case] code: &str,
) {
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let (mut reader, writer) = target.connect().await.into_split();
    let mut head = target.upload_head("content-length: 100000");
    head.extend_from_slice(b"{\"email\":\"");
    let sending = tokio::spawn(write_then_keep_sending(
        writer,
        head,
        b"a".to_vec(),
        Duration::from_millis(200),
    ));
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(15), read_response(&mut reader))
        .await
        .expect("an answer within 15 s")
        .expect("a 408, not a dropped connection");
    let waited = started.elapsed();
    assert_eq!(answer.status, 408, "{server:?}: {answer:?}");
    assert!(waited >= bound, "{server:?} gave up after {waited:?}");
    assert_eq!(error_code(&answer.json()), Some(code), "{answer:?}");
    closed_after(&mut reader, Duration::from_secs(2)).await;
    sending.abort();
    stack.stop().await.unwrap();
}

#[rstest]
#[case::auth(Server::Auth)]
#[case::reference(Server::Reference)]
#[case::gateway(Server::QuickGateway)]
#[case::rest(Server::QuickRest)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_idle_connections_cost_nobody_an_answer(#[case] server: Server) {
    const EACH: usize = 300;
    let stack = stack().await;
    let target = Target::of(&stack, server).await;
    let mut silent = Vec::with_capacity(EACH);
    for _ in 0..EACH {
        silent.push(target.connect().await);
    }
    let mut kept_alive = Vec::with_capacity(EACH);
    for _ in 0..EACH {
        let mut socket = target.connect().await;
        socket.write_all(&target.harmless("")).await.unwrap();
        read_response(&mut socket).await.expect("an answer");
        kept_alive.push(socket);
    }
    target.still_serves().await;
    // The silent ones are let go at the head timeout, as Go lets them go.
    for socket in silent.iter_mut().take(10) {
        closed_after(socket, HEAD_TIMEOUT + SLACK).await;
    }
    target.still_serves().await;
    // The kept-alive ones are still usable.
    let mut socket = kept_alive.pop().unwrap();
    socket.write_all(&target.harmless("")).await.unwrap();
    read_response(&mut socket)
        .await
        .expect("a kept-alive connection still answers");
    stack.stop().await.unwrap();
}

/// nginx's `client_body_timeout` counts between reads: a body that stops arriving is Kong's 408
/// after the timeout (a body that trickles on is buffered until it ends or passes 32 MiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_kongs_408_at_the_gateway() {
    let stack = stack().await;
    let target = Target::of(&stack, Server::QuickGateway).await;
    let mut socket = target.connect().await;
    let mut head = target.upload_head("content-length: 100");
    head.extend_from_slice(b"{\"id\":");
    socket.write_all(&head).await.unwrap();
    let started = Instant::now();
    let answer = tokio::time::timeout(HEAD_TIMEOUT + SLACK, read_response(&mut socket))
        .await
        .expect("an answer within the timeout")
        .expect("a 408, not a dropped connection");
    assert!(started.elapsed() >= HEAD_TIMEOUT - Duration::from_millis(200));
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(
        error_code(&answer.json()),
        Some("Request timeout"),
        "{answer:?}"
    );
    target.still_serves().await;
    stack.stop().await.unwrap();
}
