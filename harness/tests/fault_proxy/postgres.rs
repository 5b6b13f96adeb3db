//! A real PostgreSQL behind the `db` proxy.

use std::time::{Duration, Instant};

use harness::Stack;
use harness::faults::proxy::FaultProxy;
use harness::faults::{Stream, ToxicKind, ToxicSpec};
use sqlx::{Connection, PgConnection};

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
