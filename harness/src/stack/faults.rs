//! The stack's [`FaultInjector`]: toxics and `down` on the fault proxy's hops (`db`, `auth`,
//! `rest`, `gateway`), process and container faults on the servers, network faults on the
//! containers, and HTTP faults by pointing the `auth` proxy at a misbehaving stand-in. `clear`
//! undoes whatever was done to a dependency.

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

    /// The Toxiproxy-compatible proxy (`db`, `auth`, `rest`, `gateway`); its API is at
    /// `proxy().url()`.
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
                if matches!(action, ProcessAction::Stop | ProcessAction::Kill)
                    && matches!(dependency, Dependency::Auth | Dependency::Rest)
                {
                    // The clients' keep-alive connections to the dead server close now, not
                    // whenever the proxy's link notices, and the clients get the time to see
                    // it: else the next request races the close ("connection was not ready"
                    // one run in twenty, "reset by peer" the others).
                    self.proxy
                        .set_enabled(proxy, false)
                        .await
                        .and(self.proxy.set_enabled(proxy, true).await)
                        .map_err(|e| e.to_string())?;
                    settle().await;
                }
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

/// The fault proxy of a stack being started: each hop is added once its upstream listens,
/// because the data API's own database connection already goes through `db`.
pub(super) struct Hops {
    proxy: FaultProxy,
    upstreams: HashMap<Dependency, SocketAddr>,
}

impl Hops {
    pub(super) async fn start() -> Result<Hops, super::StackError> {
        let proxy = FaultProxy::start().await.map_err(proxy_error)?;
        Ok(Hops {
            proxy,
            upstreams: HashMap::new(),
        })
    }

    /// A proxy named after `dependency` in front of `upstream_port` on 127.0.0.1; the port to
    /// use instead.
    pub(super) async fn add(
        &mut self,
        dependency: Dependency,
        upstream_port: u16,
    ) -> Result<u16, super::StackError> {
        let upstream = (std::net::Ipv4Addr::LOCALHOST, upstream_port).into();
        let listen = self
            .proxy
            .add(dependency.name(), upstream)
            .await
            .map_err(proxy_error)?;
        self.upstreams.insert(dependency, upstream);
        Ok(listen.port())
    }

    /// The injector, once every hop is there.
    pub(super) fn into_faults(self, servers: &std::sync::Arc<Servers>) -> StackFaults {
        StackFaults::new(
            self.proxy,
            std::sync::Arc::downgrade(servers),
            self.upstreams,
        )
    }
}

fn proxy_error(e: crate::faults::proxy::ProxyError) -> super::StackError {
    super::StackError::Config(format!("starting the fault proxy: {e}"))
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
