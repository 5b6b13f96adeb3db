//! The HTTP API as Toxiproxy clients drive it: routes, JSON shapes, statuses and
//! `{"error", "status"}` errors, with reqwest.

use harness::faults::proxy::FaultProxy;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::upstream;

/// Sends `body` (if any) and returns the status and the JSON answer (`null` when empty).
pub async fn call(
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
pub fn assert_error(answer: &(StatusCode, Value), status: u16, needle: &str) {
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

#[tokio::test]
async fn proxies_are_created_listed_updated_and_deleted_over_http() {
    let faults = FaultProxy::start().await.unwrap();
    assert_eq!(
        call(&faults, Method::GET, "/version", None).await,
        (StatusCode::OK, json!({"version": "2.12.0"}))
    );

    let upstream = upstream("").await.to_string();
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
        .add("db", upstream("").await.to_string().parse().unwrap())
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
