//! Free TCP ports on 127.0.0.1 for the stack's servers.
//!
//! The OS picks an unused port for a listener bound to port 0; the listener is closed before the
//! server binds it, so another process could grab it in between. Callers that can tell a bind
//! failure from other failures retry with a fresh port.

use std::net::{Ipv4Addr, TcpListener};

use super::StackError;

/// A port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, StackError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|source| StackError::io("binding 127.0.0.1:0 to find a free port", source))?;
    let port = listener
        .local_addr()
        .map_err(|source| StackError::io("reading the free port's address", source))?
        .port();
    Ok(port)
}
