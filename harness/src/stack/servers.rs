//! The stack's servers (PostgreSQL, the auth server, the data API), wherever they run, and what
//! the fault injector does to them.
//!
//! Shared between the [`Stack`](super::Stack) and its fault injector (which holds a `Weak`, so a
//! runner that outlives the stack cannot keep its servers alive). A restart replaces a server, so
//! the backend sits behind an async lock; the pids are mirrored in atomics for sync accessors.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use tokio::sync::Mutex;

use super::{
    StackError,
    auth_server::{self, AuthServer, AuthSettings},
    child::Credentials,
    containers::ContainerStack,
    http_child::{HttpChild, ServerProgram},
    postgres::{Cluster, PgBinaries},
    rest_server::{self, RestServer, RestSettings},
};
use crate::faults::{Dependency, NetworkAction, ProcessAction};

/// What a native server needs to start again on the same data, port and log.
#[derive(Debug)]
pub(crate) struct NativeContext {
    pub binaries: PgBinaries,
    pub auth_program: ServerProgram,
    pub auth_settings: AuthSettings,
    pub rest_program: ServerProgram,
    pub rest_settings: RestSettings,
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
    pub credentials: Option<Credentials>,
    pub timeout: Duration,
}

impl NativeContext {
    /// The auth server again, with the current settings, logging where the first one did.
    async fn start_auth(&self, port: Option<u16>) -> Result<HttpChild, StackError> {
        let log = self.run_dir.join("auth.log");
        auth_server::start(
            &self.auth_program,
            &self.auth_settings,
            &log,
            self.timeout,
            port,
        )
        .await
    }

    /// The data API again, logging where the first one did.
    async fn start_rest(&self, port: Option<u16>) -> Result<HttpChild, StackError> {
        let log = self.run_dir.join("rest.log");
        rest_server::start(
            &self.rest_program,
            &self.rest_settings,
            &log,
            self.timeout,
            port,
        )
        .await
    }
}

// One per stack, behind its lock: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Backend {
    // Field order is drop order: the servers before their database.
    Native {
        rest: RestServer,
        auth: AuthServer,
        postgres: Cluster,
        context: Box<NativeContext>,
    },
    Containers(ContainerStack),
    /// After `Stack::stop`.
    Stopped,
}

#[derive(Debug)]
pub(crate) struct Servers {
    pub backend: Mutex<Backend>,
    postgres_pid: AtomicU32,
    auth_pid: AtomicU32,
    rest_pid: AtomicU32,
}

impl Servers {
    pub(crate) fn new(backend: Backend) -> Servers {
        let servers = Servers {
            backend: Mutex::new(Backend::Stopped),
            postgres_pid: AtomicU32::new(0),
            auth_pid: AtomicU32::new(0),
            rest_pid: AtomicU32::new(0),
        };
        servers.record_pids(&backend);
        *servers.backend.try_lock().expect("a new lock is free") = backend;
        servers
    }

    fn record_pids(&self, backend: &Backend) {
        let (postgres, auth, rest) = match backend {
            Backend::Native {
                auth,
                postgres,
                rest,
                ..
            } => (postgres.pid(), auth.pid(), rest.pid()),
            _ => (0, 0, 0),
        };
        self.postgres_pid.store(postgres, Ordering::Relaxed);
        self.auth_pid.store(auth, Ordering::Relaxed);
        self.rest_pid.store(rest, Ordering::Relaxed);
    }

    pub(crate) fn postgres_pid(&self) -> Option<u32> {
        Some(self.postgres_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    pub(crate) fn auth_pid(&self) -> Option<u32> {
        Some(self.auth_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    pub(crate) fn rest_pid(&self) -> Option<u32> {
        Some(self.rest_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    /// Stop, kill -9, pause, resume or restart one server. Native: signals to its process group,
    /// and a restart on the same data directory and port. Containers: the Docker equivalents.
    pub(crate) async fn process_fault(
        &self,
        dependency: Dependency,
        action: ProcessAction,
    ) -> Result<(), String> {
        let mut backend = self.backend.lock().await;
        let result = match &mut *backend {
            Backend::Native {
                auth,
                rest,
                postgres,
                context,
            } => match dependency {
                Dependency::Db => native_postgres_fault(postgres, context, action).await,
                Dependency::Auth => {
                    native_http_fault(auth, action, |port| context.start_auth(port)).await
                }
                Dependency::Rest => {
                    native_http_fault(rest, action, |port| context.start_rest(port)).await
                }
                Dependency::Gateway => Err(IN_PROCESS.to_owned()),
            },
            Backend::Containers(containers) => match dependency {
                Dependency::Gateway => Err(IN_PROCESS.to_owned()),
                _ => containers.process_fault(dependency, action).await,
            },
            Backend::Stopped => Err("the stack has stopped".to_owned()),
        };
        self.record_pids(&backend);
        result.map_err(|e| format!("{} {dependency}: {e}", action.name()))
    }

    /// Restarts the auth server on its port with other signing variables (`keys_env`, see
    /// [`AuthSettings`]), which later restarts keep. A process fault on it ends with this.
    pub(crate) async fn restart_auth(&self, keys_env: Vec<(String, String)>) -> Result<(), String> {
        let mut backend = self.backend.lock().await;
        let result = match &mut *backend {
            Backend::Native { auth, context, .. } => {
                context.auth_settings.keys_env = keys_env;
                native_http_fault(auth, ProcessAction::Restart, |port| {
                    context.start_auth(port)
                })
                .await
            }
            Backend::Containers(containers) => containers.replace_auth(keys_env).await,
            Backend::Stopped => Err("the stack has stopped".to_owned()),
        };
        self.record_pids(&backend);
        result.map_err(|e| format!("restarting the auth server with new keys: {e}"))
    }

    pub(crate) async fn network_fault(
        &self,
        dependency: Dependency,
        action: NetworkAction,
    ) -> Result<(), String> {
        match &*self.backend.lock().await {
            Backend::Containers(containers) => containers.network_fault(dependency, action).await,
            _ => Err(format!(
                "network {} {dependency} needs the containers provider (this stack is native)",
                action.name()
            )),
        }
    }
}

async fn native_postgres_fault(
    postgres: &mut Cluster,
    context: &NativeContext,
    action: ProcessAction,
) -> Result<(), String> {
    match action {
        ProcessAction::Stop => postgres.stop(),
        ProcessAction::Kill => postgres.process().signal_tree(libc::SIGKILL),
        ProcessAction::Pause => postgres.process().signal_tree(libc::SIGSTOP),
        ProcessAction::Resume => postgres.process().signal_tree(libc::SIGCONT),
        ProcessAction::Restart => {
            postgres.stop();
            *postgres = Cluster::start(
                &context.binaries,
                &context.data_dir,
                &context.run_dir,
                context.credentials,
                context.timeout,
                Some(postgres.port()),
            )
            .await
            .map_err(|e| restart_error(&e))?;
        }
    }
    Ok(())
}

/// The gateway is a task of the harness, not a process of its own.
const IN_PROCESS: &str = "the gateway runs inside the harness, so it has no process to stop: \
    break it with a toxic on the `gateway` proxy instead";

/// A fault on the auth server or the data API; `start` runs it again on the given port.
async fn native_http_fault<F>(
    server: &mut HttpChild,
    action: ProcessAction,
    start: impl FnOnce(Option<u16>) -> F,
) -> Result<(), String>
where
    F: std::future::Future<Output = Result<HttpChild, StackError>>,
{
    match action {
        ProcessAction::Stop => server.stop(),
        ProcessAction::Kill => server.process().signal_tree(libc::SIGKILL),
        ProcessAction::Pause => server.process().signal_tree(libc::SIGSTOP),
        ProcessAction::Resume => server.process().signal_tree(libc::SIGCONT),
        ProcessAction::Restart => {
            server.stop();
            *server = start(Some(server.port()))
                .await
                .map_err(|e| restart_error(&e))?;
        }
    }
    Ok(())
}

fn restart_error(error: &StackError) -> String {
    format!("could not start it again: {error}")
}
