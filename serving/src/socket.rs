//! A client's TCP stream as the server uses it: it tells the head clock when bytes arrive, and
//! closes with a linger.
//!
//! A server that closes a socket with unread bytes in its receive queue makes the kernel send a
//! reset, and a reset can overtake the answer already sent: a client still uploading a body
//! the server refused (413, 408), or still sending headers past the limit (431), then sees
//! "connection reset" instead of the status that explains it. So on close the write side is
//! shut first (the answer is flushed, then FIN), and what the client still sends is read and
//! dropped until it closes too or the linger runs out, as Go's server waits before closing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::head_clock::HeadClock;

pub(crate) struct Socket {
    stream: TcpStream,
    clock: HeadClock,
    linger: Duration,
    closing: Option<Closing>,
}

/// A shutdown in progress: FIN sent or not, and the end of the linger.
struct Closing {
    fin_sent: bool,
    until: Pin<Box<tokio::time::Sleep>>,
}

impl Socket {
    pub(crate) fn new(stream: TcpStream, clock: HeadClock, linger: Duration) -> Self {
        Self {
            stream,
            clock,
            linger,
            closing: None,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.clock.bytes_arrived();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let linger = this.linger;
        let closing = this.closing.get_or_insert_with(|| Closing {
            fin_sent: false,
            until: Box::pin(tokio::time::sleep(linger)),
        });
        if !closing.fin_sent {
            ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            closing.fin_sent = true;
        }
        let mut scratch = [0u8; 8192];
        loop {
            if closing.until.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut discard = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.stream).poll_read(cx, &mut discard) {
                // The client closed its side too: nothing left to reset.
                Poll::Ready(Ok(())) if discard.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
