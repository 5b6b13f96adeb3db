//! A pool of sqlx PostgreSQL connections that sends nothing on checkout or return.
//!
//! sqlx 0.8's pool pings every connection it takes back (`/* SQLx ping */`), whatever
//! `test_before_acquire` says: a future dropped in the middle of a query can leave a connection
//! half-way through an exchange, and the ping finds that out. That is a round trip per request
//! on a path that makes four or five. Here whoever used the connection says how it was left:
//!
//! - [`Lease::release`] after its last statement completed: back to the pool as it is;
//! - dropped otherwise (an error, a timeout, a cancelled request): back as suspect, and only a
//!   suspect is pinged, at its next checkout (a failed ping closes it, another is taken);
//! - [`Lease::discard`] when it is known to be broken: closed.
//!
//! A connection that died while idle is not noticed until it is used, as with Go's database/sql
//! (what GoTrue and PostgREST's own pool do): its first statement fails. deadpool does the
//! pooling itself (bounds, waiting, timeouts); this crate adds only the rule of when to ping.
//!
//! ```no_run
//! # async fn run() -> Result<(), sqlx::Error> {
//! let options: sqlx::postgres::PgConnectOptions = "postgres://authenticator@127.0.0.1/postgres".parse()?;
//! let pool = pgpool::Pool::new(options, 10, pgpool::Timeouts::default());
//! let mut lease = pool.acquire().await?;
//! let one: i32 = sqlx::query_scalar("select 1").fetch_one(&mut *lease).await?;
//! lease.release();
//! # Ok(()) }
//! ```

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// How long a checkout may take; `None` leaves the bound to the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    /// For a connection to come free when all are leased.
    pub wait: Option<Duration>,
    /// For a new connection to be established, and for a suspect's ping.
    pub connect: Option<Duration>,
}

/// Cheap to clone; all clones share the connections.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: managed::Pool<Connector>,
}

impl Pool {
    /// A pool of at most `max_size` connections, opened on demand: building it connects to
    /// nothing, so a service whose database is down still starts.
    pub fn new(options: PgConnectOptions, max_size: usize, timeouts: Timeouts) -> Pool {
        let inner = managed::Pool::builder(Connector { options })
            .max_size(max_size)
            .wait_timeout(timeouts.wait)
            .create_timeout(timeouts.connect)
            .recycle_timeout(timeouts.connect)
            .runtime(Runtime::Tokio1)
            .build()
            .expect("with a runtime given, every timeout is allowed");
        Pool { inner }
    }

    /// An idle connection (pinged first if its last lease did not end cleanly) or a new one.
    ///
    /// A refused connection fails at once, as the server's error; the timeouts end as
    /// [`sqlx::Error::PoolTimedOut`], a closed pool as [`sqlx::Error::PoolClosed`].
    pub async fn acquire(&self) -> Result<Lease, sqlx::Error> {
        let mut connection = self.inner.get().await.map_err(into_sqlx)?;
        connection.clean = false;
        Ok(Lease(Some(connection)))
    }

    /// Connections open now, leased or idle.
    pub fn size(&self) -> usize {
        self.inner.status().size
    }

    /// Closes the idle connections and refuses new leases; leased ones close when they end.
    pub fn close(&self) {
        self.inner.close();
    }
}

/// One connection, lent until released, discarded or dropped. Use it as `&mut *lease`.
#[derive(Debug)]
pub struct Lease(Option<Object<Connector>>);

impl Lease {
    /// Returns it to the pool unpinged: its last statement completed and nothing is pending
    /// (no open transaction, no unread rows).
    pub fn release(mut self) {
        if let Some(mut connection) = self.0.take() {
            connection.clean = true;
        }
    }

    /// Closes it: it failed in a way that leaves it unusable.
    pub fn discard(mut self) {
        if let Some(connection) = self.0.take() {
            drop(Object::take(connection));
        }
    }

    fn connection(&self) -> &Pooled {
        self.0
            .as_ref()
            .expect("a lease holds its connection until consumed")
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.connection().raw
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        let connection = self
            .0
            .as_mut()
            .expect("a lease holds its connection until consumed");
        &mut connection.raw
    }
}

#[derive(Debug)]
struct Connector {
    options: PgConnectOptions,
}

#[derive(Debug)]
struct Pooled {
    raw: PgConnection,
    /// Whether its last lease was released (nothing in flight), so it needs no ping.
    clean: bool,
}

impl managed::Manager for Connector {
    type Type = Pooled;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled, sqlx::Error> {
        let raw = PgConnection::connect_with(&self.options).await?;
        Ok(Pooled { raw, clean: true })
    }

    async fn recycle(&self, connection: &mut Pooled, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if !connection.clean {
            // Reads whatever an abandoned query left unread, then answers: or fails, and
            // deadpool closes it and takes another.
            connection.raw.ping().await.map_err(RecycleError::Backend)?;
            connection.clean = true;
        }
        Ok(())
    }
}

/// deadpool's errors as the sqlx errors callers already classify.
fn into_sqlx(error: PoolError<sqlx::Error>) -> sqlx::Error {
    match error {
        PoolError::Backend(error) => error,
        PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        PoolError::Closed => sqlx::Error::PoolClosed,
        // Neither can happen: the runtime is set and no hooks are.
        other @ (PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_)) => {
            sqlx::Error::Configuration(other.to_string().into())
        }
    }
}
