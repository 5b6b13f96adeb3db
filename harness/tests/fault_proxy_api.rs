//! The fault proxy as Toxiproxy clients drive it (real HTTP with reqwest: routes, JSON shapes,
//! statuses and `{"error", "status"}` errors), and in front of a real PostgreSQL.

use std::time::{Duration, Instant};

use harness::Stack;
use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind, ToxicSpec};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Sends `body` (if any) and returns the status and the JSON answer (`null` when empty).
async fn call(
    faults: &FaultProxy,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Client::new().request(method.clone(), format!("{}{path}", faults.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    };
    (status, json)
}

/// Checks Toxiproxy's error shape and that the message mentions `needle`.
fn assert_error(answer: &(StatusCode, Value), status: u16, needle: &str) {
    assert_eq!(answer.0.as_u16(), status, "{answer:?}");
    assert_eq!(answer.1["status"], json!(status), "{answer:?}");
    let message = answer.1["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {answer:?}"));
    assert!(
        message.contains(needle),
        "`{message}` does not mention `{needle}`"
    );
}

async fn echo() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr.to_string()
}

#[tokio::test]
async fn proxies_are_created_listed_updated_and_deleted_over_http() {
    let faults = FaultProxy::start().await.unwrap();
    assert_eq!(
        call(&faults, Method::GET, "/version", None).await,
        (StatusCode::OK, json!({"version": "2.12.0"}))
    );

    let upstream = echo().await;
    let body = json!({"name": "echo", "listen": "127.0.0.1:0", "upstream": upstream});
    let (status, created) = call(&faults, Method::POST, "/proxies", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let listen = created["listen"].as_str().unwrap().to_string();
    assert_ne!(listen, "127.0.0.1:0", "the bound address is shown");
    assert_eq!(
        created,
        json!({"name": "echo", "listen": listen, "upstream": upstream, "enabled": true, "toxics": []})
    );
    assert_error(
        &call(&faults, Method::POST, "/proxies", Some(body)).await,
        409,
        "proxy already exists",
    );
    assert_error(
        &call(
            &faults,
            Method::POST,
            "/proxies",
            Some(json!({"name": "x"})),
        )
        .await,
        400,
        "upstream",
    );
    assert_error(
        &call(&faults, Method::POST, "/proxies", Some(json!("nonsense"))).await,
        400,
        "bad request body",
    );

    let mut conn = TcpStream::connect(&listen)
        .await
        .expect("the created proxy listens");
    conn.write_all(b"hi").await.unwrap();
    let mut got = [0u8; 2];
    conn.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hi");

    assert_eq!(
        call(&faults, Method::GET, "/proxies", None).await,
        (StatusCode::OK, json!({"echo": created}))
    );
    assert_eq!(
        call(&faults, Method::GET, "/proxies/echo", None).await,
        (StatusCode::OK, created.clone())
    );
    assert_error(
        &call(&faults, Method::GET, "/proxies/nope", None).await,
        404,
        "proxy not found",
    );

    let (status, disabled) = call(
        &faults,
        Method::POST,
        "/proxies/echo",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        (status, &disabled["enabled"], &disabled["listen"]),
        (StatusCode::OK, &json!(false), &json!(listen))
    );
    assert!(
        TcpStream::connect(&listen).await.is_err(),
        "disabled over HTTP, still accepting"
    );
    assert_eq!(
        call(&faults, Method::POST, "/reset", None).await,
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_eq!(
        call(&faults, Method::GET, "/proxies/echo", None).await.1["enabled"],
        json!(true)
    );

    assert_eq!(
        call(&faults, Method::DELETE, "/proxies/echo", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &call(&faults, Method::GET, "/proxies/echo", None).await,
        404,
        "echo",
    );
    assert!(
        TcpStream::connect(&listen).await.is_err(),
        "deleted, still accepting"
    );
}

#[tokio::test]
async fn toxics_are_created_shown_updated_and_deleted_over_http() {
    let faults = FaultProxy::start().await.unwrap();
    faults
        .add("db", echo().await.parse().unwrap())
        .await
        .unwrap();
    let latency = json!({"type": "latency", "attributes": {"latency": 300}});
    let (status, toxic) = call(
        &faults,
        Method::POST,
        "/proxies/db/toxics",
        Some(latency.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({"name": "latency_downstream", "type": "latency", "stream": "downstream",
        "toxicity": 1.0, "attributes": {"latency": 300, "jitter": 0}});
    assert_eq!(toxic, expected);

    assert_error(
        &call(
            &faults,
            Method::POST,
            "/proxies/db/toxics",
            Some(latency.clone()),
        )
        .await,
        409,
        "toxic already exists",
    );
    assert_error(
        &call(&faults, Method::POST, "/proxies/nope/toxics", Some(latency)).await,
        404,
        "proxy not found",
    );
    let cases = [
        (
            json!({"type": "latency", "name": "l2", "attributes": {"latency": -1}}),
            "latency must be a non-negative integer",
        ),
        (
            json!({"type": "latency", "name": "l3", "attributes": {"latency": "1s"}}),
            "latency must be a non-negative integer",
        ),
        (json!({"type": "bogus"}), "invalid toxic type"),
        (
            json!({"type": "latency", "stream": "sideways"}),
            "stream was invalid",
        ),
        (
            json!({"type": "latency", "name": "l4", "toxicity": 2}),
            "toxicity",
        ),
        (
            json!({"type": "timeout", "attributes": {"latency": 1}}),
            "unknown attribute `latency`",
        ),
    ];
    for (body, needle) in cases {
        assert_error(
            &call(&faults, Method::POST, "/proxies/db/toxics", Some(body)).await,
            400,
            needle,
        );
    }

    let up = json!({"type": "timeout", "stream": "upstream", "name": "stall", "toxicity": 0.5});
    let (_, stall) = call(&faults, Method::POST, "/proxies/db/toxics", Some(up)).await;
    assert_eq!(stall["attributes"], json!({"timeout": 0}));
    let (status, listed) = call(&faults, Method::GET, "/proxies/db/toxics", None).await;
    assert_eq!(
        (status, listed),
        (StatusCode::OK, json!([stall, expected])),
        "upstream toxics first"
    );
    assert_eq!(
        call(&faults, Method::GET, "/proxies/db/toxics/stall", None)
            .await
            .1,
        stall
    );
    assert_error(
        &call(&faults, Method::GET, "/proxies/db/toxics/nope", None).await,
        404,
        "toxic not found",
    );

    let change = json!({"attributes": {"jitter": 50}, "toxicity": 0.25});
    let (status, updated) = call(
        &faults,
        Method::POST,
        "/proxies/db/toxics/latency_downstream",
        Some(change),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&updated["attributes"], &updated["toxicity"]),
        (&json!({"latency": 300, "jitter": 50}), &json!(0.25))
    );
    assert_eq!(
        call(&faults, Method::GET, "/proxies/db", None).await.1["toxics"][1],
        updated
    );

    let path = "/proxies/db/toxics/latency_downstream";
    assert_eq!(
        call(&faults, Method::DELETE, path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &call(&faults, Method::DELETE, path, None).await,
        404,
        "latency_downstream",
    );
    assert_eq!(
        call(&faults, Method::GET, "/proxies/db/toxics", None)
            .await
            .1,
        json!([stall])
    );
}

/// PostgreSQL through the `db` proxy: queries work, and a latency toxic added while the
/// connection is open slows the very next query on it.
#[tokio::test]
async fn postgres_through_the_proxy_feels_the_latency() {
    let stack = Stack::start().await.expect("boot the stack");
    let url = url::Url::parse(stack.db_url()).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let faults = FaultProxy::start().await.unwrap();
    let listen = faults.add("db", upstream.parse().unwrap()).await.unwrap();
    let mut proxied = url.clone();
    proxied.set_port(Some(listen.port())).unwrap();

    let mut conn = PgConnection::connect(proxied.as_str())
        .await
        .expect("connect through the proxy");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);

    faults
        .add_toxic(
            "db",
            ToxicSpec::new(ToxicKind::Latency, Stream::Downstream).with("latency", 500),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let two: i32 = sqlx::query_scalar("select 2")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(two, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "query took {:?} under 500 ms latency",
        started.elapsed()
    );

    faults.set_enabled("db", false).await.unwrap();
    let severed = sqlx::query_scalar::<_, i32>("select 3")
        .fetch_one(&mut conn)
        .await;
    assert!(
        severed.is_err(),
        "a query went through a disabled proxy: {severed:?}"
    );
    drop(conn);
    faults.shutdown().await;
    stack.stop().await.unwrap();
}
