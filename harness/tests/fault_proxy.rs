//! The fault proxy over real TCP: an upstream on 127.0.0.1, a client through the proxy, and what
//! each toxic, disabling and re-pointing do to the bytes. Times are only ever lower bounds; the
//! `GUARD` timeouts exist so a broken proxy fails the test instead of hanging it.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind, ToxicSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const GUARD: Duration = Duration::from_secs(20);

/// An upstream that answers every read with `tag` followed by the bytes read ("" = plain echo),
/// and closes its side when the client closes its own.
async fn upstream(tag: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    let mut answer = tag.as_bytes().to_vec();
                    answer.extend_from_slice(&buf[..n]);
                    if conn.write_all(&answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn proxied(tag: &'static str) -> (FaultProxy, SocketAddr) {
    let faults = FaultProxy::start().await.expect("start the fault proxy");
    let listen = faults
        .add("echo", upstream(tag).await)
        .await
        .expect("add a proxy");
    (faults, listen)
}

async fn connect(addr: SocketAddr) -> TcpStream {
    timeout(GUARD, TcpStream::connect(addr))
        .await
        .expect("connect hung")
        .expect("connect through the proxy")
}

/// Writes `data` and reads back exactly `expect` bytes; returns them and how long it took.
async fn exchange(conn: &mut TcpStream, data: &[u8], expect: usize) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    conn.write_all(data).await.expect("write through the proxy");
    let mut got = vec![0u8; expect];
    timeout(GUARD, conn.read_exact(&mut got))
        .await
        .expect("no answer through the proxy")
        .expect("read");
    (got, started.elapsed())
}

/// Reads until the end of stream; returns everything read.
async fn read_to_end(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    timeout(GUARD, conn.read_to_end(&mut all))
        .await
        .expect("the connection was never closed")?;
    Ok(all)
}

fn toxic(kind: ToxicKind, stream: Stream, attributes: &[(&str, u64)]) -> ToxicSpec {
    attributes
        .iter()
        .fold(ToxicSpec::new(kind, stream), |spec, (name, value)| {
            spec.with(name, *value)
        })
}

#[tokio::test]
async fn bytes_pass_through_both_ways_unchanged() {
    let (_faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let (writer, reader) = (data.clone(), data.len());
    let (mut read_half, mut write_half) = conn.split();
    let (_, got) = tokio::join!(
        async { write_half.write_all(&writer).await.unwrap() },
        async {
            let mut got = vec![0u8; reader];
            timeout(GUARD, read_half.read_exact(&mut got))
                .await
                .unwrap()
                .unwrap();
            got
        }
    );
    assert!(got == data, "the echo came back different");
}

#[tokio::test]
async fn latency_delays_new_and_already_open_connections() {
    let (faults, listen) = proxied("").await;
    let mut open = connect(listen).await;
    exchange(&mut open, b"warm", 4).await;

    let added = faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Latency, Stream::Downstream, &[("latency", 300)]),
        )
        .await
        .unwrap();
    assert_eq!(added.name, "latency_downstream");
    let (got, took) = exchange(&mut open, b"ping", 4).await;
    assert_eq!(got, b"ping");
    assert!(
        took >= Duration::from_millis(300),
        "open connection answered in {took:?} under 300 ms latency"
    );

    let mut new = connect(listen).await;
    let (_, took) = exchange(&mut new, b"ping", 4).await;
    assert!(
        took >= Duration::from_millis(300),
        "new connection answered in {took:?} under 300 ms latency"
    );

    // Upstream latency adds up with downstream latency.
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Latency, Stream::Upstream, &[("latency", 200)]),
        )
        .await
        .unwrap();
    let (_, took) = exchange(&mut open, b"ping", 4).await;
    assert!(
        took >= Duration::from_millis(500),
        "answered in {took:?} under 200 + 300 ms latency"
    );
}

#[tokio::test]
async fn removing_a_toxic_releases_data_it_was_holding() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(
                ToxicKind::Latency,
                Stream::Downstream,
                &[("latency", 600_000)],
            ),
        )
        .await
        .unwrap();
    conn.write_all(b"held").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    faults
        .remove_toxic("echo", "latency_downstream")
        .await
        .unwrap();
    // Ten minutes of latency: only the removal can let this through before GUARD.
    let mut got = [0u8; 4];
    timeout(GUARD, conn.read_exact(&mut got))
        .await
        .expect("still held after removal")
        .unwrap();
    assert_eq!(&got, b"held");
}

#[tokio::test]
async fn timeout_zero_drops_data_until_removed() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Timeout, Stream::Downstream, &[("timeout", 0)]),
        )
        .await
        .unwrap();
    conn.write_all(b"lost").await.unwrap();
    let mut buf = [0u8; 16];
    let read = timeout(Duration::from_millis(500), conn.read(&mut buf)).await;
    assert!(read.is_err(), "data got through a timeout toxic: {read:?}");

    faults
        .remove_toxic("echo", "timeout_downstream")
        .await
        .unwrap();
    let (got, _) = exchange(&mut conn, b"back", 4).await;
    assert_eq!(
        got, b"back",
        "data after removal flows (and what was dropped stays dropped)"
    );
}

#[tokio::test]
async fn timeout_closes_the_connection_after_the_timeout() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    let started = Instant::now();
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Timeout, Stream::Upstream, &[("timeout", 300)]),
        )
        .await
        .unwrap();
    conn.write_all(b"never answered").await.unwrap();
    let got = read_to_end(&mut conn).await.unwrap_or_default();
    assert!(got.is_empty(), "data got through: {got:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn reset_peer_resets_the_connection() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::ResetPeer, Stream::Upstream, &[("timeout", 200)]),
        )
        .await
        .unwrap();
    let started = Instant::now();
    conn.write_all(b"hello").await.unwrap();
    let error = read_to_end(&mut conn)
        .await
        .expect_err("a reset, not an orderly close");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "reset after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn limit_data_closes_after_that_many_bytes() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::LimitData, Stream::Downstream, &[("bytes", 10)]),
        )
        .await
        .unwrap();
    let data: Vec<u8> = (0..100u8).collect();
    conn.write_all(&data).await.unwrap();
    let got = read_to_end(&mut conn).await.unwrap();
    assert_eq!(got, data[..10], "exactly the first 10 bytes, then the end");
}

#[tokio::test]
async fn slicer_delivers_the_same_bytes_in_more_pieces() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    let slicer = [
        ("average_size", 10),
        ("size_variation", 3),
        ("delay", 5_000),
    ];
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Slicer, Stream::Downstream, &slicer),
        )
        .await
        .unwrap();
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
    let started = Instant::now();
    conn.write_all(&data).await.unwrap();
    let (mut got, mut reads) = (Vec::new(), 0);
    while got.len() < data.len() {
        let mut buf = [0u8; 4096];
        let n = timeout(GUARD, conn.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed after {} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    assert_eq!(got, data);
    assert!(reads > 1, "one read: not sliced");
    // At least 1000 / 13 slices, 5 ms apart.
    assert!(
        started.elapsed() >= Duration::from_millis(5 * 75),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bandwidth_slows_the_transfer() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::Bandwidth, Stream::Downstream, &[("rate", 10)]),
        )
        .await
        .unwrap();
    let data = vec![7u8; 5000];
    let (got, took) = exchange(&mut conn, &data, data.len()).await;
    assert_eq!(got, data);
    assert!(
        took >= Duration::from_millis(500),
        "5000 bytes at 10 KB/s took {took:?}"
    );
}

#[tokio::test]
async fn slow_close_delays_the_end_of_stream() {
    let (faults, listen) = proxied("").await;
    let mut conn = connect(listen).await;
    faults
        .add_toxic(
            "echo",
            toxic(ToxicKind::SlowClose, Stream::Downstream, &[("delay", 400)]),
        )
        .await
        .unwrap();
    exchange(&mut conn, b"bye", 3).await;
    let started = Instant::now();
    conn.shutdown().await.unwrap();
    let rest = read_to_end(&mut conn).await.unwrap();
    assert!(rest.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "EOF after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn toxicity_zero_leaves_connections_alone() {
    let (faults, listen) = proxied("").await;
    let mut spec = toxic(ToxicKind::Timeout, Stream::Downstream, &[]);
    spec.toxicity = 0.0;
    faults.add_toxic("echo", spec).await.unwrap();
    let mut conn = connect(listen).await;
    let (got, _) = exchange(&mut conn, b"through", 7).await;
    assert_eq!(
        got, b"through",
        "a timeout toxic with toxicity 0 must not drop data"
    );
}

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
async fn set_upstream_redirects_new_connections_only() {
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
    assert_eq!(
        exchange(&mut before, b"z", 3).await.0,
        b"A:z",
        "an open connection keeps its upstream"
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
