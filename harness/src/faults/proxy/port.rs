//! A proxy's port, kept while nothing listens on it.
//!
//! A `down` proxy must refuse connections (ECONNREFUSED), which takes closing its listener; but
//! a closed port is free, and another process (a stack booting beside this one picks free ports)
//! could take it before the proxy comes back up, which then fails or, worse, sends the service
//! to a stranger. So the proxy's sockets share the port (`SO_REUSEPORT`, same user only), and
//! while it is down a bound socket that does not listen keeps it: connects are refused, binds
//! by anyone else fail.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// A listener on `listen` that a [`Reservation`] of the same port may coexist with.
pub(crate) async fn listen(listen: &str) -> std::io::Result<TcpListener> {
    let addr = resolve(listen).await?;
    let socket = socket_for(addr)?;
    // TIME_WAIT connections of an earlier listener must not block the rebind.
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// A bound socket that does not listen: it keeps the port from anyone else.
pub(crate) struct Reservation {
    _socket: TcpSocket,
}

impl Reservation {
    /// Binds `addr` beside the proxy's listener (before it closes, so the port is never free).
    /// Without `SO_REUSEADDR`: with it, another socket could bind the port while none listens.
    pub(crate) fn hold(addr: SocketAddr) -> std::io::Result<Reservation> {
        let socket = socket_for(addr)?;
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        Ok(Reservation { _socket: socket })
    }
}

fn socket_for(addr: SocketAddr) -> std::io::Result<TcpSocket> {
    if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
}

async fn resolve(listen: &str) -> std::io::Result<SocketAddr> {
    if let Ok(addr) = listen.parse() {
        return Ok(addr);
    }
    tokio::net::lookup_host(listen)
        .await?
        .next()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                format!("{listen} resolves to no address"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_port_refuses_connects_and_other_binds_then_listens_again() {
        let listener = listen("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = Reservation::hold(addr).unwrap();
        drop(listener);

        let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        // What a process looking for a free port does (std and tokio set SO_REUSEADDR or not).
        assert!(
            std::net::TcpListener::bind(addr).is_err(),
            "the port was taken"
        );
        assert!(TcpListener::bind(addr).await.is_err(), "the port was taken");

        let again = listen(&addr.to_string()).await.unwrap();
        drop(held);
        let accepted = tokio::spawn(async move { again.accept().await.map(|_| ()) });
        tokio::net::TcpStream::connect(addr).await.unwrap();
        accepted.await.unwrap().unwrap();
    }
}
