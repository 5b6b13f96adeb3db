//! What each toxic does to the bytes, on new and on already open connections.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use harness::faults::{Stream, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use crate::support::*;

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
