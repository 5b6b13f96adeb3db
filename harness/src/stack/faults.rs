//! The stack's [`FaultInjector`]: toxics and `down` on the fault proxy, process and container
//! faults on the servers, network faults on the containers, and HTTP faults by pointing the
//! `auth` proxy at a misbehaving stand-in. `clear` undoes whatever was done to a dependency.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Weak;

use tokio::sync::Mutex;

use super::servers::Servers;
use crate::faults::auth_http::AuthHttpServer;
use crate::faults::proxy::FaultProxy;
use crate::faults::{
    Dependency, Fault, FaultError, FaultFuture, FaultInjector, NetworkAction, ProcessAction,
};

/// What must be undone per dependency, beyond the proxy's toxics.
#[derive(Default)]
struct Damage {
    /// The last process action that left the server not serving (stop, kill, pause).
    process: Option<ProcessAction>,
    disconnected: bool,
    auth_http: Option<AuthHttpServer>,
}

/// Faults for one stack. Holds the servers weakly: a runner that outlives its stack gets
/// "the stack has stopped" instead of keeping servers alive.
pub struct StackFaults {
    proxy: FaultProxy,
    servers: Weak<Servers>,
    upstreams: HashMap<Dependency, SocketAddr>,
    damage: Mutex<HashMap<Dependency, Damage>>,
}

impl std::fmt::Debug for StackFaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackFaults")
            .field("api", &self.proxy.url())
            .field("upstreams", &self.upstreams)
            .finish_non_exhaustive()
    }
}

impl StackFaults {
    pub(crate) fn new(
        proxy: FaultProxy,
        servers: Weak<Servers>,
        upstreams: HashMap<Dependency, SocketAddr>,
    ) -> StackFaults {
        StackFaults {
            proxy,
            servers,
            upstreams,
            damage: Mutex::new(HashMap::new()),
        }
    }

    /// The Toxiproxy-compatible proxy (`db`, `auth`); its API is at `proxy().url()`.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    pub(crate) async fn shutdown(&self) {
        self.damage.lock().await.clear();
        self.proxy.reset().await;
    }

    async fn apply_fault(&self, fault: &Fault) -> Result<(), String> {
        let dependency = fault.dependency();
        let proxy = dependency.name();
        match fault {
            Fault::Toxic { toxic, .. } => {
                self.proxy
                    .add_toxic(proxy, toxic.clone())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Fault::Down { .. } => {
                self.proxy
                    .set_enabled(proxy, false)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Fault::Process { action, .. } => {
                self.servers()?.process_fault(dependency, *action).await?;
                let mut damage = self.damage.lock().await;
                let entry = damage.entry(dependency).or_default();
                entry.process = match action {
                    ProcessAction::Resume | ProcessAction::Restart => None,
                    other => Some(*other),
                };
            }
            Fault::Network { action, .. } => {
                self.servers()?.network_fault(dependency, *action).await?;
                let mut damage = self.damage.lock().await;
                damage.entry(dependency).or_default().disconnected =
                    *action == NetworkAction::Disconnect;
            }
            Fault::AuthHttp(kind) => {
                let server = AuthHttpServer::start(*kind)
                    .await
                    .map_err(|e| format!("starting the misbehaving auth server: {e}"))?;
                self.proxy
                    .set_upstream(proxy, server.address())
                    .await
                    .map_err(|e| e.to_string())?;
                self.damage
                    .lock()
                    .await
                    .entry(dependency)
                    .or_default()
                    .auth_http = Some(server);
            }
        }
        Ok(())
    }

    async fn clear_dependency(&self, dependency: Dependency) -> Result<(), String> {
        let damage = self
            .damage
            .lock()
            .await
            .remove(&dependency)
            .unwrap_or_default();
        let proxy = dependency.name();
        let mut problems = Vec::new();
        if damage.auth_http.is_some()
            && let Err(e) = self
                .proxy
                .set_upstream(proxy, self.upstreams[&dependency])
                .await
        {
            problems.push(e.to_string());
        }
        if damage.auth_http.is_some() {
            settle().await;
        }
        if damage.disconnected
            && let Err(e) = self.network(dependency, NetworkAction::Reconnect).await
        {
            problems.push(e);
        }
        let undo = match damage.process {
            Some(ProcessAction::Pause) => Some(ProcessAction::Resume),
            Some(ProcessAction::Stop | ProcessAction::Kill) => Some(ProcessAction::Restart),
            _ => None,
        };
        if let Some(undo) = undo
            && let Err(e) = self.process(dependency, undo).await
        {
            problems.push(e);
        }
        if let Err(e) = self.proxy.reset_proxy(proxy).await {
            problems.push(e.to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    async fn process(&self, dependency: Dependency, action: ProcessAction) -> Result<(), String> {
        self.servers()?.process_fault(dependency, action).await
    }

    async fn network(&self, dependency: Dependency, action: NetworkAction) -> Result<(), String> {
        self.servers()?.network_fault(dependency, action).await
    }

    fn servers(&self) -> Result<std::sync::Arc<Servers>, String> {
        self.servers
            .upgrade()
            .ok_or_else(|| "the stack has stopped".to_owned())
    }
}

/// The proxy between the served stages and the servers on 127.0.0.1: the injector, and the
/// database and auth ports the service should use instead.
pub(super) async fn start(
    servers: &std::sync::Arc<Servers>,
    db_port: u16,
    auth_port: u16,
) -> Result<(StackFaults, u16, u16), super::StackError> {
    let proxy_error = |e: crate::faults::proxy::ProxyError| {
        super::StackError::Config(format!("starting the fault proxy: {e}"))
    };
    let loopback = std::net::Ipv4Addr::LOCALHOST;
    let upstreams = std::collections::HashMap::from([
        (Dependency::Db, (loopback, db_port).into()),
        (Dependency::Auth, (loopback, auth_port).into()),
    ]);
    let proxy = FaultProxy::start().await.map_err(proxy_error)?;
    let db = proxy
        .add(Dependency::Db.name(), upstreams[&Dependency::Db])
        .await
        .map_err(proxy_error)?;
    let auth = proxy
        .add(Dependency::Auth.name(), upstreams[&Dependency::Auth])
        .await
        .map_err(proxy_error)?;
    let faults = StackFaults::new(proxy, std::sync::Arc::downgrade(servers), upstreams);
    Ok((faults, db.port(), auth.port()))
}

/// Re-pointing the `auth` proxy closes the service's keep-alive connections; its HTTP client
/// notices that asynchronously. Without a pause the next request would race the close and
/// report a reset instead of the answer the fault is about.
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

impl FaultInjector for StackFaults {
    fn apply<'a>(&'a self, fault: &'a Fault) -> FaultFuture<'a> {
        Box::pin(async move {
            self.apply_fault(fault)
                .await
                .map_err(|e| FaultError(format!("applying {fault:?}: {e}")))
        })
    }

    fn clear(&self, dependency: Dependency) -> FaultFuture<'_> {
        Box::pin(async move {
            self.clear_dependency(dependency)
                .await
                .map_err(|e| FaultError(format!("clearing {dependency}: {e}")))
        })
    }
}
