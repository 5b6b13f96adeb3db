//! A database that refuses, drops or stalls connections answers PostgREST's truthful
//! statuses promptly: 503 PGRST000/PGRST001 with `Retry-After` when it is unreachable,
//! 504 PGRST003 when the pool is exhausted, never a 401 or a hang.

mod rest_common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind, ToxicSpec};
use rest_common::*;

fn db_port(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The data API reaching the stack's database through a fault proxy named `db`.
async fn behind_proxy(extra: &[(&str, &str)]) -> (Api, FaultProxy) {
    let probe = Api::start().await;
    let upstream: SocketAddr = format!("127.0.0.1:{}", db_port(probe.stack.db_url()))
        .parse()
        .unwrap();
    let proxy = FaultProxy::start().await.unwrap();
    let listen = proxy.add("db", upstream).await.unwrap();
    let uri = format!("postgres://authenticator:postgres@{listen}/postgres");
    let mut env: Vec<(&str, &str)> = vec![("PGRST_DB_URI", uri.as_str())];
    env.extend_from_slice(extra);
    // Reuse the prepared stack: stop the probe's server, keep its database.
    let stack = probe.into_stack().await;
    (Api::serve(stack, &env).await, proxy)
}

#[tokio::test]
async fn unreachable_database_is_503_at_once_and_recovers() {
    let (api, proxy) = behind_proxy(&[("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "5")]).await;
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200
    );

    proxy.set_enabled("db", false).await.unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let r = api
            .get("/authors?limit=1")
            .bearer_auth(api.stack.anon_key())
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let (status, headers, body) = parts(r).await;
        assert_eq!(status, 503, "{body}");
        assert!(
            body["code"] == "PGRST000" || body["code"] == "PGRST001",
            "{body}"
        );
        assert_eq!(header(&headers, "retry-after"), Some("0"));
        assert!(
            elapsed < Duration::from_secs(2),
            "answered in {elapsed:?}, not after the pool timeout"
        );
    }
    // Once every pooled connection is gone, the error names the refused connection.
    let (_, _, body) = parts(api.get("/authors?limit=1").send().await.unwrap()).await;
    assert_eq!(body["code"], "PGRST000", "{body}");
    assert_eq!(
        body["message"],
        "Database connection error. Retrying the connection."
    );
    assert!(
        body["details"]
            .as_str()
            .unwrap()
            .contains("connection to server at"),
        "{body}"
    );

    proxy.set_enabled("db", true).await.unwrap();
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn exhausted_pool_is_504_after_the_acquisition_timeout() {
    let api = Api::start_with(&[
        ("PGRST_DB_POOL", "1"),
        ("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "1"),
    ])
    .await;
    let slow = {
        let req = api.post("/rpc/sleep_for", serde_json::json!({"seconds": 2.5}));
        tokio::spawn(async move { req.send().await.unwrap().status() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, _, body) = parts(api.get("/authors?limit=1").send().await.unwrap()).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"code": "PGRST003", "message": "Timed out acquiring connection from connection pool.", "details": null, "hint": null})
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn schema_cache_not_loaded_is_503_pgrst002() {
    // A database that refuses from the start: nothing can be loaded.
    let proxy = FaultProxy::start().await.unwrap();
    let listen = proxy
        .add("db", "127.0.0.1:9".parse().unwrap())
        .await
        .unwrap();
    proxy.set_enabled("db", false).await.unwrap();
    let config = rest::Config::from_pairs([
        (
            "PGRST_DB_URI",
            format!("postgres://authenticator:postgres@{listen}/postgres"),
        ),
        ("PGRST_DB_ANON_ROLE", "anon".into()),
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rest::serve(config, listener, async {
        let _ = rx.await;
    }));
    let (status, headers, body) =
        parts(reqwest::get(format!("{url}/authors")).await.unwrap()).await;
    assert_eq!(status, 503);
    assert_error(&body, "PGRST002");
    assert_eq!(header(&headers, "retry-after"), Some("0"));
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn stalled_database_is_504_within_the_acquisition_timeout() {
    let (api, proxy) = behind_proxy(&[("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "1")]).await;
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200
    );
    // Data stops flowing both ways; connections stay open (a paused database).
    for stream in [Stream::Upstream, Stream::Downstream] {
        proxy
            .add_toxic(
                "db",
                ToxicSpec::new(ToxicKind::Timeout, stream).with("timeout", 0),
            )
            .await
            .unwrap();
    }
    let started = Instant::now();
    let (status, _, body) = parts(api.get("/authors?limit=1").send().await.unwrap()).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert_error(&body, "PGRST003");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    proxy.reset().await;
    let mut ok = false;
    for _ in 0..20 {
        if api.get("/authors?limit=1").send().await.unwrap().status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "recovered once the database answers again");
}

#[tokio::test]
async fn reset_and_slow_database() {
    let (api, proxy) = behind_proxy(&[("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "2")]).await;
    assert_eq!(
        api.get("/authors?limit=1").send().await.unwrap().status(),
        200
    );
    proxy
        .add_toxic(
            "db",
            ToxicSpec::new(ToxicKind::ResetPeer, Stream::Downstream).with("timeout", 0),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (status, headers, body) = parts(api.get("/authors?limit=1").send().await.unwrap()).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["code"] == "PGRST000" || body["code"] == "PGRST001",
        "{body}"
    );
    assert!(header(&headers, "retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    proxy.reset().await;

    // Slow but answering: the right answer, later.
    proxy
        .add_toxic(
            "db",
            ToxicSpec::new(ToxicKind::Latency, Stream::Downstream).with("latency", 200),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (status, _, body) = parts(
        api.get("/authors?select=id&order=id&limit=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, serde_json::json!([{"id": 1}])));
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn shutdown_does_not_wait_forever_for_a_stuck_request() {
    let (api, proxy) = behind_proxy(&[]).await;
    let stuck = {
        let req = api.post("/rpc/sleep_for", serde_json::json!({"seconds": 0.5}));
        tokio::spawn(async move { req.send().await.map(|r| r.status()) })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The reply never comes: the request is stuck in the database.
    proxy
        .add_toxic(
            "db",
            ToxicSpec::new(ToxicKind::Timeout, Stream::Downstream).with("timeout", 0),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), api.stop())
        .await
        .expect("the server stopped within its grace period");
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    stuck.abort();
}
