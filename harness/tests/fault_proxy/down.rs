//! The `down` toxic over the HTTP API, as users add it through `FAULTS_URL`: while it is there
//! the proxy refuses connects (ECONNREFUSED, no listener) and has severed open connections.

use std::io::ErrorKind;
use std::net::SocketAddr;

use harness::faults::proxy::FaultProxy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::api::{assert_error, call};
use crate::support::*;

async fn assert_refused(listen: SocketAddr, why: &str) {
    let refused = TcpStream::connect(listen)
        .await
        .expect_err(&format!("connected through the proxy {why}"));
    assert_eq!(
        refused.kind(),
        ErrorKind::ConnectionRefused,
        "{why}: {refused}"
    );
}

async fn assert_serves(listen: SocketAddr) {
    let mut conn = connect(listen).await;
    assert_eq!(exchange(&mut conn, b"up", 2).await.0, b"up");
}

async fn enabled(faults: &FaultProxy) -> Value {
    call(faults, Method::GET, "/proxies/echo", None).await.1["enabled"].clone()
}

#[tokio::test]
async fn down_refuses_connects_and_severs_open_ones_until_deleted() {
    let (faults, listen) = proxied("").await;
    let mut open = connect(listen).await;
    exchange(&mut open, b"hi", 2).await;

    let (status, added) = call(
        &faults,
        Method::POST,
        "/proxies/echo/toxics",
        Some(json!({"type": "down"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let expected = json!({"name": "down_downstream", "type": "down", "stream": "downstream",
        "toxicity": 1.0, "attributes": {}});
    assert_eq!(added, expected);
    assert_refused(listen, "while a down toxic is present").await;
    let rest = read_to_end(&mut open).await.unwrap_or_default();
    assert!(rest.is_empty(), "the open connection was not severed");
    assert_eq!(
        call(&faults, Method::GET, "/proxies/echo/toxics", None)
            .await
            .1,
        json!([expected])
    );
    assert_eq!(enabled(&faults).await, json!(false), "it does not listen");

    let path = "/proxies/echo/toxics/down_downstream";
    let deleted = call(&faults, Method::DELETE, path, None).await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT, "{deleted:?}");
    assert_serves(listen).await;
    assert_eq!(enabled(&faults).await, json!(true));
}

#[tokio::test]
async fn a_proxy_the_user_disabled_stays_disabled_when_down_goes() {
    let (faults, listen) = proxied("").await;
    let down = json!({"name": "outage", "type": "down", "stream": "upstream"});
    let (status, _) = call(&faults, Method::POST, "/proxies/echo/toxics", Some(down)).await;
    assert_eq!(status, StatusCode::OK);
    let disable = Some(json!({"enabled": false}));
    call(&faults, Method::POST, "/proxies/echo", disable).await;

    call(&faults, Method::DELETE, "/proxies/echo/toxics/outage", None).await;
    assert_refused(listen, "disabled by the user, down toxic deleted").await;
    assert_eq!(enabled(&faults).await, json!(false));

    // And the other way round: enabling does not lift a down toxic.
    let (status, _) = call(
        &faults,
        Method::POST,
        "/proxies/echo/toxics",
        Some(json!({"type": "down"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let enable = Some(json!({"enabled": true}));
    let (_, info) = call(&faults, Method::POST, "/proxies/echo", enable).await;
    assert_eq!(info["enabled"], json!(false), "{info}");
    assert_refused(listen, "enabled by the user, down toxic present").await;

    call(
        &faults,
        Method::DELETE,
        "/proxies/echo/toxics/down_downstream",
        None,
    )
    .await;
    assert_serves(listen).await;
}

#[tokio::test]
async fn reset_removes_down_and_listens_again() {
    let (faults, listen) = proxied("").await;
    call(
        &faults,
        Method::POST,
        "/proxies/echo/toxics",
        Some(json!({"type": "down"})),
    )
    .await;
    assert_refused(listen, "while a down toxic is present").await;

    let reset = call(&faults, Method::POST, "/reset", None).await;
    assert_eq!(reset.0, StatusCode::NO_CONTENT, "{reset:?}");
    let (_, info) = call(&faults, Method::GET, "/proxies/echo", None).await;
    assert_eq!(
        (&info["enabled"], &info["toxics"]),
        (&json!(true), &json!([]))
    );
    assert_serves(listen).await;
}

#[tokio::test]
async fn down_is_all_or_nothing_and_takes_no_attributes() {
    let (faults, listen) = proxied("").await;
    let toxics = "/proxies/echo/toxics";
    let half = Some(json!({"type": "down", "toxicity": 0.5}));
    let refused = call(&faults, Method::POST, toxics, half).await;
    assert_error(&refused, 400, "down refuses every connection");
    assert_error(&refused, 400, "got 0.5");
    let attribute = Some(json!({"type": "down", "attributes": {"timeout": 5}}));
    let refused = call(&faults, Method::POST, toxics, attribute).await;
    assert_error(
        &refused,
        400,
        "unknown attribute `timeout` for a down toxic",
    );
    assert_eq!(call(&faults, Method::GET, toxics, None).await.1, json!([]));
    assert_serves(listen).await;

    // Lowering the toxicity of one that exists is refused too, and it stays down.
    call(&faults, Method::POST, toxics, Some(json!({"type": "down"}))).await;
    let path = "/proxies/echo/toxics/down_downstream";
    let lowered = call(&faults, Method::POST, path, Some(json!({"toxicity": 0.5}))).await;
    assert_error(&lowered, 400, "down refuses every connection");
    assert_refused(listen, "after a refused update").await;
}
