//! How much of a server one client may hold, as numbers a test can shrink.

use std::time::Duration;

/// The bounds [`crate::serve`] holds every connection to.
///
/// ```
/// use std::time::Duration;
/// let limits = serving::Limits::go_net_http().with_head_timeout(Duration::from_millis(200));
/// assert_eq!(limits.max_head_bytes, (1 << 20) + 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a request head (request line and headers) may take to arrive, counted from its
    /// first byte, or from the accept for a connection's first request. Past it the connection
    /// is closed without an answer, as Go's `ReadHeaderTimeout` does.
    pub head_timeout: Duration,
    /// How long a kept-alive connection may wait, silent, for its next request.
    pub idle_timeout: Duration,
    /// The largest request head, in bytes; a larger one gets 431 and a close.
    pub max_head_bytes: usize,
    /// The most header lines in one request; more get 431 and a close.
    pub max_headers: usize,
    /// How long a closing connection goes on reading (and discarding) what the client still
    /// sends after the answer, so that the client reads the answer before any reset.
    pub linger: Duration,
}

impl Limits {
    /// Go's `net/http` as GoTrue's `serve` command configures it: `ReadHeaderTimeout` 2 s,
    /// `DefaultMaxHeaderBytes` (1 MiB, plus the 4 KiB of slack Go's reader allows), no limit on
    /// the number of header lines (so only the size bounds them here), and Go's 500 ms of
    /// reset avoidance on close (`rstAvoidanceDelay`).
    ///
    /// Go has no idle timeout there; this one (120 s) is longer than the idle timeouts of the
    /// common client pools (reqwest and Go 90 s, undici 4 s, httpx 5 s), so a pooled client
    /// always closes first and never sends a request into a connection being closed.
    pub const fn go_net_http() -> Self {
        Self {
            head_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(120),
            max_head_bytes: (1 << 20) + 4096,
            max_headers: 10_000,
            linger: Duration::from_millis(500),
        }
    }

    /// Another bound on the time a request head may take.
    pub const fn with_head_timeout(mut self, timeout: Duration) -> Self {
        self.head_timeout = timeout;
        self
    }

    /// Another bound on the time a kept-alive connection may idle.
    pub const fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Another bound on the size of a request head.
    pub const fn with_max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes;
        self
    }

    /// Another bound on the number of header lines.
    pub const fn with_max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::go_net_http()
    }
}
