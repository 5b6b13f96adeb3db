//! `API_URL`'s port, known before the gateway exists: the auth server's issuer names it, and
//! the auth server starts first.
//!
//! The gateway's listener is bound at once (connections wait in its backlog until it serves),
//! and the fault proxy's `gateway` hop, when there is one, is put in front of it at once too, so
//! nothing is re-bound or re-pointed later.

use std::net::Ipv4Addr;

use crate::faults::Dependency;
use crate::gateway::{Gateway, GatewayConfig};
use crate::stack::{StackError, faults::Hops};

/// The gateway's listener, and the port clients use for it (the hop's, or the listener's own).
pub(super) struct ApiPort {
    listener: tokio::net::TcpListener,
    port: u16,
}

impl ApiPort {
    pub(super) async fn reserve(hops: &mut Option<Hops>) -> Result<ApiPort, StackError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| StackError::io("binding the gateway's port", e))?;
        let own = listener
            .local_addr()
            .map_err(|e| StackError::io("reading the gateway's port", e))?
            .port();
        let port = match hops {
            Some(hops) => hops.add(Dependency::Gateway, own).await?,
            None => own,
        };
        Ok(ApiPort { listener, port })
    }

    /// `API_URL`'s port.
    pub(super) fn port(&self) -> u16 {
        self.port
    }

    /// Starts the gateway on the reserved listener.
    pub(super) async fn serve(self, config: GatewayConfig) -> Result<Gateway, StackError> {
        Gateway::start_on(self.listener, config)
            .await
            .map_err(|e| StackError::io("starting the gateway", e))
    }
}
