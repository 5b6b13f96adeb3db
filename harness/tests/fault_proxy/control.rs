//! Disabling, re-pointing, resetting and shutting down proxies, and the errors the Rust API gives.

use std::io::ErrorKind;
use tokio::io::AsyncWriteExt;

use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

#[tokio::test]
async fn disabling_refuses_connects_and_severs_open_ones_enabling_restores() {
    let (faults, listen) = proxied("").await;
    let mut open = connect(listen).await;
    exchange(&mut open, b"hi", 2).await;

    faults.set_enabled("echo", false).await.unwrap();
    let refused = TcpStream::connect(listen)
        .await
        .expect_err("a disabled proxy accepted a connection");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");
    let rest = read_to_end(&mut open).await.unwrap_or_default();
    assert!(rest.is_empty(), "the open connection was not severed");
    assert!(!faults.proxy("echo").await.unwrap().enabled);

    faults.set_enabled("echo", true).await.unwrap();
    let mut again = connect(listen).await;
    assert_eq!(exchange(&mut again, b"back", 4).await.0, b"back");
}

#[tokio::test]
async fn set_upstream_severs_open_connections_and_redirects_new_ones() {
    let faults = FaultProxy::start().await.unwrap();
    let listen = faults.add("svc", upstream("A:").await).await.unwrap();
    let mut before = connect(listen).await;
    assert_eq!(exchange(&mut before, b"x", 3).await.0, b"A:x");

    faults
        .set_upstream("svc", upstream("B:").await)
        .await
        .unwrap();
    let mut after = connect(listen).await;
    assert_eq!(exchange(&mut after, b"y", 3).await.0, b"B:y");
    // A keep-alive connection to the old upstream would never see the new one: it is closed.
    let _ = before.write_all(b"z").await;
    let rest = read_to_end(&mut before).await.unwrap_or_default();
    assert!(
        rest.is_empty(),
        "the open connection still reached an upstream: {rest:?}"
    );
}

#[tokio::test]
async fn reset_removes_toxics_and_enables_every_proxy() {
    let (faults, listen) = proxied("").await;
    faults
        .add_toxic("echo", toxic(ToxicKind::Timeout, Stream::Downstream, &[]))
        .await
        .unwrap();
    faults.set_enabled("echo", false).await.unwrap();
    faults.reset().await;
    let info = faults.proxy("echo").await.unwrap();
    assert!(info.enabled && info.toxics.is_empty(), "{info:?}");
    let mut conn = connect(listen).await;
    assert_eq!(exchange(&mut conn, b"ok", 2).await.0, b"ok");

    let unknown = faults.reset_proxy("nope").await.unwrap_err();
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.to_string().contains("`nope`") && unknown.to_string().contains("echo"),
        "{unknown}"
    );
}

#[tokio::test]
async fn shutdown_closes_listeners_and_connections() {
    let (faults, listen) = proxied("").await;
    let mut open = connect(listen).await;
    exchange(&mut open, b"hi", 2).await;
    faults.shutdown().await;
    let refused = TcpStream::connect(listen)
        .await
        .expect_err("still listening after shutdown");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(read_to_end(&mut open).await.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn errors_name_the_proxy_the_toxic_and_the_cause() {
    let (faults, _) = proxied("").await;
    let latency = toxic(ToxicKind::Latency, Stream::Downstream, &[("latency", 5)]);
    faults.add_toxic("echo", latency.clone()).await.unwrap();
    let exists = faults.add_toxic("echo", latency).await.unwrap_err();
    assert_eq!(
        (
            exists.status(),
            exists.to_string().contains("latency_downstream")
        ),
        (409, true),
        "{exists}"
    );
    let missing = faults.remove_toxic("echo", "nope").await.unwrap_err();
    assert_eq!(missing.status(), 404, "{missing}");
    let dup = faults
        .add("echo", "127.0.0.1:1".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(dup.status(), 409, "{dup}");
    let mut bad = toxic(ToxicKind::Latency, Stream::Upstream, &[]);
    bad.attributes.insert("latency".into(), (-5).into());
    let bad = faults.add_toxic("echo", bad).await.unwrap_err();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.to_string()
            .contains("latency must be a non-negative integer"),
        "{bad}"
    );
    let busy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taken = busy.local_addr().unwrap().to_string();
    let in_use = faults
        .create("busy", &taken, "127.0.0.1:1", true)
        .await
        .unwrap_err();
    assert!(
        in_use.to_string().contains(&taken) && in_use.to_string().contains("busy"),
        "{in_use}"
    );
}
