//! An upstream, a proxy in front of it, and a client: what every test starts from.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind, ToxicSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

pub const GUARD: Duration = Duration::from_secs(20);

/// An upstream that answers every read with `tag` followed by the bytes read ("" = plain echo),
/// and closes its side when the client closes its own.
pub async fn upstream(tag: &'static str) -> SocketAddr {
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

pub async fn proxied(tag: &'static str) -> (FaultProxy, SocketAddr) {
    let faults = FaultProxy::start().await.expect("start the fault proxy");
    let listen = faults
        .add("echo", upstream(tag).await)
        .await
        .expect("add a proxy");
    (faults, listen)
}

pub async fn connect(addr: SocketAddr) -> TcpStream {
    timeout(GUARD, TcpStream::connect(addr))
        .await
        .expect("connect hung")
        .expect("connect through the proxy")
}

/// Writes `data` and reads back exactly `expect` bytes; returns them and how long it took.
pub async fn exchange(conn: &mut TcpStream, data: &[u8], expect: usize) -> (Vec<u8>, Duration) {
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
pub async fn read_to_end(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    timeout(GUARD, conn.read_to_end(&mut all))
        .await
        .expect("the connection was never closed")?;
    Ok(all)
}

pub fn toxic(kind: ToxicKind, stream: Stream, attributes: &[(&str, u64)]) -> ToxicSpec {
    attributes
        .iter()
        .fold(ToxicSpec::new(kind, stream), |spec, (name, value)| {
            spec.with(name, *value)
        })
}
