//! The stack's two servers, wherever they run, and what the fault injector does to them.
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
    auth_server::{AuthProgram, AuthServer, AuthSettings},
    child::Credentials,
    containers::ContainerStack,
    postgres::{Cluster, PgBinaries},
};
use crate::faults::{Dependency, NetworkAction, ProcessAction};

/// What a native server needs to start again on the same data, port and log.
#[derive(Debug)]
pub(crate) struct NativeContext {
    pub binaries: PgBinaries,
    pub program: AuthProgram,
    pub settings: AuthSettings,
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
    pub credentials: Option<Credentials>,
    pub timeout: Duration,
}

// One per stack, behind its lock: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Backend {
    // Field order is drop order: the auth server before its database.
    Native {
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
}

impl Servers {
    pub(crate) fn new(backend: Backend) -> Servers {
        let servers = Servers {
            backend: Mutex::new(Backend::Stopped),
            postgres_pid: AtomicU32::new(0),
            auth_pid: AtomicU32::new(0),
        };
        servers.record_pids(&backend);
        *servers.backend.try_lock().expect("a new lock is free") = backend;
        servers
    }

    fn record_pids(&self, backend: &Backend) {
        let (postgres, auth) = match backend {
            Backend::Native { auth, postgres, .. } => (postgres.pid(), auth.pid()),
            _ => (0, 0),
        };
        self.postgres_pid.store(postgres, Ordering::Relaxed);
        self.auth_pid.store(auth, Ordering::Relaxed);
    }

    pub(crate) fn postgres_pid(&self) -> Option<u32> {
        Some(self.postgres_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    pub(crate) fn auth_pid(&self) -> Option<u32> {
        Some(self.auth_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
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
                postgres,
                context,
            } => match dependency {
                Dependency::Db => native_postgres_fault(postgres, context, action).await,
                Dependency::Auth => native_auth_fault(auth, context, action).await,
            },
            Backend::Containers(containers) => {
                containers
                    .process_fault(dependency == Dependency::Db, action)
                    .await
            }
            Backend::Stopped => Err("the stack has stopped".to_owned()),
        };
        self.record_pids(&backend);
        result.map_err(|e| format!("{} {dependency}: {e}", action.name()))
    }

    pub(crate) async fn network_fault(
        &self,
        dependency: Dependency,
        action: NetworkAction,
    ) -> Result<(), String> {
        match &*self.backend.lock().await {
            Backend::Containers(containers) => {
                containers
                    .network_fault(dependency == Dependency::Db, action)
                    .await
            }
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

async fn native_auth_fault(
    auth: &mut AuthServer,
    context: &NativeContext,
    action: ProcessAction,
) -> Result<(), String> {
    match action {
        ProcessAction::Stop => auth.stop(),
        ProcessAction::Kill => auth.process().signal_tree(libc::SIGKILL),
        ProcessAction::Pause => auth.process().signal_tree(libc::SIGSTOP),
        ProcessAction::Resume => auth.process().signal_tree(libc::SIGCONT),
        ProcessAction::Restart => {
            auth.stop();
            let log = context.run_dir.join("auth.log");
            *auth = AuthServer::start(
                &context.program,
                &context.settings,
                &log,
                context.timeout,
                Some(auth.port()),
            )
            .await
            .map_err(|e| restart_error(&e))?;
        }
    }
    Ok(())
}

fn restart_error(error: &StackError) -> String {
    format!("could not start it again: {error}")
}
