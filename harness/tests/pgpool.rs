//! The connection pool the reference service and the auth server share (`pgpool`), against a
//! real PostgreSQL: what it sends, and does not send, on checkout and return, counted on the
//! wire by a relay in front of the server, and what the server holds (`pg_stat_activity`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use harness::Stack;
use pgpool::{Pool, Timeouts};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// sqlx 0.8's ping: a Sync message ('S' and its length, 4), answered by ReadyForQuery.
const PING_BYTES: u64 = 5;

fn pool(stack: &Stack, max_size: usize, timeouts: Timeouts) -> Pool {
    let options: PgConnectOptions = stack.authenticator_db_url().parse().unwrap();
    Pool::new(options, max_size, timeouts)
}

/// A TCP relay in front of the database counting the bytes its clients send.
struct CountingRelay {
    port: u16,
    sent: Arc<AtomicU64>,
}

impl CountingRelay {
    async fn start(upstream: u16) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
                        counter.fetch_add(n as u64, Ordering::SeqCst);
                        if to_server.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(
                    async move { tokio::io::copy(&mut from_server, &mut to_client).await },
                );
            }
        });
        CountingRelay { port, sent }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// A pool of one connection as the authenticator, through the relay.
    fn pool(&self, stack: &Stack) -> Pool {
        let options: PgConnectOptions = stack.authenticator_db_url().parse().unwrap();
        Pool::new(options.port(self.port), 1, Timeouts::default())
    }
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

async fn backend_pid(connection: &mut PgConnection) -> i32 {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(connection)
        .await
        .unwrap()
}

/// The last statement backend `pid` ran and its state, as the superuser sees them.
async fn last_statement(stack: &Stack, pid: i32) -> Option<(String, String)> {
    let mut observer = PgConnection::connect(stack.db_url()).await.unwrap();
    sqlx::query_as("select query, state from pg_stat_activity where pid = $1")
        .bind(pid)
        .fetch_optional(&mut observer)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_released_connection_is_reused_without_a_round_trip() {
    let stack = Stack::start().await.expect("stack starts");
    let relay = CountingRelay::start(port_of(stack.db_url())).await;
    let pool = relay.pool(&stack);
    let mut lease = pool.acquire().await.unwrap();
    let pid = backend_pid(&mut lease).await;
    lease.release();
    let before = relay.sent();
    let mut again = pool.acquire().await.unwrap();
    // Neither the return nor the checkout sent anything: sqlx's own pool pings on return.
    assert_eq!(relay.sent() - before, 0);
    assert_eq!(backend_pid(&mut again).await, pid, "the same connection");
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_lease_dropped_unreleased_is_pinged_before_its_next_use() {
    let stack = Stack::start().await.expect("stack starts");
    let relay = CountingRelay::start(port_of(stack.db_url())).await;
    let pool = relay.pool(&stack);
    let mut lease = pool.acquire().await.unwrap();
    let pid = backend_pid(&mut lease).await;
    drop(lease);
    let before = relay.sent();
    let mut again = pool.acquire().await.unwrap();
    assert_eq!(
        relay.sent() - before,
        PING_BYTES,
        "one ping at the checkout"
    );
    assert_eq!(
        backend_pid(&mut again).await,
        pid,
        "the ping answered: the same connection"
    );
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn an_abandoned_transaction_is_rolled_back_before_the_next_lease() {
    let stack = Stack::start().await.expect("stack starts");
    let pool = pool(&stack, 1, Timeouts::default());
    let mut lease = pool.acquire().await.unwrap();
    let mut tx = lease.begin().await.unwrap();
    sqlx::query("select set_config('request.jwt.claims', '{\"sub\":\"abandoned\"}', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    // As a request cancelled mid-transaction leaves it.
    drop(tx);
    drop(lease);
    let mut again = pool.acquire().await.unwrap();
    let claims: Option<String> =
        sqlx::query_scalar("select nullif(current_setting('request.jwt.claims', true), '')")
            .fetch_one(&mut *again)
            .await
            .unwrap();
    assert_eq!(
        claims, None,
        "the abandoned transaction's settings are gone"
    );
    let pid = backend_pid(&mut again).await;
    assert_eq!(
        last_statement(&stack, pid)
            .await
            .map(|(_, state)| state)
            .as_deref(),
        Some("idle"),
        "not idle in transaction"
    );
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_discarded_connection_is_closed() {
    let stack = Stack::start().await.expect("stack starts");
    let pool = pool(&stack, 2, Timeouts::default());
    let mut lease = pool.acquire().await.unwrap();
    let pid = backend_pid(&mut lease).await;
    assert_eq!(pool.size(), 1);
    lease.discard();
    assert_eq!(pool.size(), 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while last_statement(&stack, pid).await.is_some() {
        assert!(Instant::now() < deadline, "backend {pid} still runs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fresh = pool.acquire().await.unwrap();
    assert_ne!(backend_pid(&mut fresh).await, pid);
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_pool_makes_the_next_lease_wait_until_its_timeout() {
    let stack = Stack::start().await.expect("stack starts");
    let timeouts = Timeouts {
        wait: Some(Duration::from_millis(100)),
        connect: None,
    };
    let pool = pool(&stack, 1, timeouts);
    let held = pool.acquire().await.unwrap();
    let error = pool.acquire().await.unwrap_err();
    assert!(matches!(error, sqlx::Error::PoolTimedOut), "{error:?}");
    held.release();
    pool.acquire().await.expect("free again");
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_connection_is_the_refusal_not_a_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let options: PgConnectOptions = format!("postgres://authenticator@127.0.0.1:{port}/postgres")
        .parse()
        .unwrap();
    let timeouts = Timeouts {
        wait: Some(Duration::from_secs(30)),
        connect: Some(Duration::from_secs(30)),
    };
    let error = Pool::new(options, 1, timeouts).acquire().await.unwrap_err();
    let sqlx::Error::Io(io) = &error else {
        panic!("expected the refusal, got {error:?}");
    };
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
}
