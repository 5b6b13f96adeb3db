//! The clock behind the head timeout: Go's `ReadHeaderTimeout` semantics on top of hyper.
//!
//! hyper arms its header-read timer the moment a connection is ready for the next request, so
//! its timeout doubles as a keep-alive idle timeout: a short one (2 s, to stop slow-header
//! attacks) would close pooled connections under clients that are about to reuse them, and
//! each such race reaches the client as a "connection closed" error that no server caused on
//! purpose. Go starts the clock at the first byte of the next request instead. This timer,
//! handed to hyper, does the same: hyper's `sleep_until` marks the start of a wait for a head,
//! the connection's IO reports the first byte that arrives, and the sleep resolves at that
//! byte plus the head timeout, or, while nothing arrives, after the idle timeout. A fresh
//! connection's first head counts from the accept, as in Go.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Limits;

/// One connection's clock, shared by its IO (which reports bytes) and hyper (which sleeps on it).
#[derive(Clone)]
pub(crate) struct HeadClock {
    wait: Arc<Mutex<Wait>>,
    head_timeout: Duration,
    idle_timeout: Duration,
}

/// The wait for the current request head.
struct Wait {
    /// When hyper started waiting.
    since: Instant,
    /// When the head's first byte arrived; `None` while the connection idles.
    first_byte: Option<Instant>,
    /// No head has been waited for yet: the first one counts from the accept.
    accepted: Option<Instant>,
}

impl HeadClock {
    pub(crate) fn new(limits: &Limits) -> Self {
        let now = Instant::now();
        Self {
            wait: Arc::new(Mutex::new(Wait {
                since: now,
                first_byte: None,
                accepted: Some(now),
            })),
            head_timeout: limits.head_timeout,
            idle_timeout: limits.idle_timeout,
        }
    }

    fn wait(&self) -> MutexGuard<'_, Wait> {
        // Nothing that holds this lock can panic half-way; a poisoned one is still consistent.
        self.wait
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The IO read some bytes: if the connection was idling, a head has begun.
    pub(crate) fn bytes_arrived(&self) {
        let mut wait = self.wait();
        if wait.first_byte.is_none() {
            wait.first_byte = Some(Instant::now());
        }
    }

    fn begin_wait(&self) {
        let mut wait = self.wait();
        wait.since = Instant::now();
        wait.first_byte = wait.accepted.take();
    }

    fn deadline(&self) -> Instant {
        let wait = self.wait();
        match wait.first_byte {
            Some(first) => first + self.head_timeout,
            None => wait.since + self.idle_timeout,
        }
    }
}

impl hyper::rt::Timer for HeadClock {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // hyper's HTTP/1 server sleeps only through `sleep_until`, for heads; anything else
        // gets a plain sleep.
        Box::pin(PlainSleep(Box::pin(tokio::time::sleep(duration))))
    }

    fn sleep_until(&self, _hypers_deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.begin_wait();
        let deadline = self.deadline();
        Box::pin(HeadSleep {
            clock: self.clone(),
            armed_for: deadline,
            sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
        })
    }
}

/// Resolves when the current head is late, moving its deadline when the first byte arrives.
struct HeadSleep {
    clock: HeadClock,
    armed_for: Instant,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.clock.deadline();
        if deadline != self.armed_for {
            self.armed_for = deadline;
            self.sleep.as_mut().reset(deadline.into());
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}

struct PlainSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for PlainSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for PlainSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    fn limits() -> Limits {
        Limits::go_net_http()
            .with_head_timeout(Duration::from_secs(2))
            .with_idle_timeout(Duration::from_secs(120))
    }

    #[tokio::test]
    async fn the_first_head_counts_from_the_accept() {
        let clock = HeadClock::new(&limits());
        let accepted = clock.wait().accepted.unwrap();
        drop(clock.sleep_until(Instant::now()));
        assert_eq!(clock.deadline(), accepted + Duration::from_secs(2));
    }

    #[tokio::test]
    async fn later_heads_count_from_their_first_byte_and_idle_until_then() {
        let clock = HeadClock::new(&limits());
        drop(clock.sleep_until(Instant::now()));
        drop(clock.sleep_until(Instant::now()));
        let since = clock.wait().since;
        assert_eq!(clock.deadline(), since + Duration::from_secs(120));
        clock.bytes_arrived();
        let first = clock.wait().first_byte.unwrap();
        assert_eq!(clock.deadline(), first + Duration::from_secs(2));
        // More bytes of the same head do not push the deadline back.
        clock.bytes_arrived();
        assert_eq!(clock.wait().first_byte, Some(first));
    }
}
