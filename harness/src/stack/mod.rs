//! A local Supabase backend that a test starts in one line and that cleans up after itself:
//! PostgreSQL with the supabase/postgres roles, a GoTrue-compatible auth server, a
//! PostgREST-compatible data API, and one project URL in front of both (the
//! [`gateway`](crate::gateway)), as `supabase start` gives an app.
//!
//! By default everything runs natively as child processes: no Docker, nothing shared between
//! stacks. Each stack gets its own data directory (copied from a cached template), ports and log
//! files, so tests run in parallel; dropping a [`Stack`] stops the servers and removes the
//! directory. The containers [`Provider`] runs the same servers in Docker instead (official
//! images by default, locally built ones as the fallback) and gives the same values.
//! The secret and keys are the Supabase CLI's (its ES256 signing key, the HS256 demo anon and
//! service_role keys, `sb_publishable_…`/`sb_secret_…`: the `cli` key profile, see
//! [`crate::signing`]), so a service configured for `supabase start` works against a stack
//! unchanged; [`Stack::keys`] rotates them while it runs.

mod app_schema;
mod auth_server;
mod builder;
mod child;
pub mod containers;
mod error;
mod faults;
mod http_child;
mod keys;
mod ports;
mod postgres;
mod provider;
mod rest_server;
mod schema;
mod scratch;
mod servers;
mod stages;
mod template;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use tempfile::TempDir;

use self::postgres::PASSWORD;
pub use self::{
    builder::StackBuilder,
    containers::ImageChoice,
    error::StackError,
    faults::StackFaults,
    keys::StackKeys,
    provider::{PROVIDER_ENV, Provider},
    stages::ServedStages,
};
use crate::gateway::Gateway;
pub use crate::signing::JWT_SECRET;
use servers::{Backend, Servers};

/// The fault proxy's `db` and `auth` hops (the servers themselves without the proxy).
#[derive(Debug, Clone, Copy)]
struct ProxiedPorts {
    db: u16,
    auth: u16,
}

/// A running stack: PostgreSQL, the auth server, the data API and the gateway.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness::StackError> {
/// let stack = harness::Stack::start().await?;
/// // What supabase-js or supabase-py is created with:
/// let (url, key) = (stack.api_url(), stack.anon_key());
/// let pool = sqlx::PgPool::connect(&stack.authenticator_db_url()).await.unwrap();
/// // ... drive the service under test with stack.env() ...
/// stack.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Stack {
    // Field order is drop order: the stages and the gateway, then the servers, then the directory.
    stages: ServedStages,
    gateway: Gateway,
    faults: Option<Arc<StackFaults>>,
    servers: Arc<Servers>,
    dir: TempDir,
    db_port: u16,
    proxied: ProxiedPorts,
    auth_url: String,
    api_url: String,
    /// The data API's own root, not through the gateway or the fault proxy.
    data_api_url: String,
    db_url: String,
    keys: Arc<StackKeys>,
    provider: Provider,
    provider_note: String,
    network: Option<String>,
    service_timeouts: crate::run::ServiceTimeouts,
    template: Option<PathBuf>,
    api: crate::project::ApiConfig,
}

impl Stack {
    /// Starts a stack with the defaults (see [`StackBuilder`]).
    pub async fn start() -> Result<Self, StackError> {
        Self::builder().start().await
    }

    /// Options for a stack: `Stack::builder().jwt_exp(60).start().await`.
    pub fn builder() -> StackBuilder {
        StackBuilder::default()
    }

    /// `postgres://supabase_admin:postgres@127.0.0.1:PORT/postgres`: the superuser, for
    /// inspecting and seeding, never for what the service under test does.
    pub fn db_url(&self) -> &str {
        &self.db_url
    }

    /// `postgres://authenticator:postgres@127.0.0.1:PORT/postgres`: the role a PostgREST-like
    /// service logs in as before switching to the request's role.
    pub fn authenticator_db_url(&self) -> String {
        self.role_db_url("authenticator")
    }

    /// The URL of `role` (one of supabase_admin, postgres, authenticator, supabase_auth_admin).
    pub fn role_db_url(&self, role: &str) -> String {
        format!(
            "postgres://{role}:{PASSWORD}@127.0.0.1:{}/postgres",
            self.db_port
        )
    }

    /// `native` or `containers` (never `auto`: that is resolved at start).
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Why this provider (and, for containers, which images): `auto: native, because ...`.
    pub fn provider_note(&self) -> &str {
        &self.provider_note
    }

    /// The containers provider's Docker network (None for native).
    pub fn network(&self) -> Option<&str> {
        self.network.as_deref()
    }

    /// The GoTrue root, e.g. `http://127.0.0.1:41234` (no trailing slash, no `/auth/v1`).
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }

    /// The project URL, as `supabase status` prints `API_URL`: the gateway's root, in front of
    /// `/auth/v1` and `/rest/v1` (through the fault proxy's `gateway` hop when the stack has
    /// one). What `createClient(url, key)` takes.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The data API's own root, e.g. `http://127.0.0.1:41235`: no gateway, no fault proxy
    /// (what tests of its connection bounds reach).
    pub fn data_api_url(&self) -> &str {
        &self.data_api_url
    }

    /// `API_URL/rest/v1`, the data API through the gateway (`REST_URL`).
    pub fn rest_url(&self) -> String {
        format!("{}/rest/v1", self.api_url)
    }

    /// The gateway itself, not through the fault proxy.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The HS256 secret shared by the auth server and the keys.
    pub fn jwt_secret(&self) -> &str {
        self.keys.initial().jwt_secret()
    }

    /// The anon key (a JWT; the CLI's HS256 demo key unless a signing-keys file is used).
    pub fn anon_key(&self) -> &str {
        self.keys.initial().anon_key()
    }

    /// The service_role key (a JWT, like the anon key).
    pub fn service_role_key(&self) -> &str {
        self.keys.initial().service_role_key()
    }

    /// `sb_publishable_…`, which the gateway swaps for the anon key; None for `legacy`.
    pub fn publishable_key(&self) -> Option<&str> {
        self.keys.initial().publishable_key()
    }

    /// `sb_secret_…`, which the gateway swaps for the service_role key; None for `legacy`.
    pub fn secret_key(&self) -> Option<&str> {
        self.keys.initial().secret_key()
    }

    /// The signing keys: which profile, their states now, and rotating them while the stack
    /// runs (see [`StackKeys`]).
    pub fn keys(&self) -> &StackKeys {
        &self.keys
    }

    /// The same keys, shareable with a runner that outlives a borrow of the stack.
    pub fn key_control(&self) -> Arc<StackKeys> {
        Arc::clone(&self.keys)
    }

    /// What `harness up --output env` prints, in `supabase status -o env`'s order where the
    /// names are the CLI's: API_URL (the gateway), REST_URL, DB_URL (superuser, for
    /// inspection), AUTH_URL (GoTrue's own root), PUBLISHABLE_KEY and SECRET_KEY (not for the
    /// `legacy` profile), JWT_SECRET, ANON_KEY, SERVICE_ROLE_KEY; then FAULTS_URL (the
    /// Toxiproxy-compatible API, when the stack has its fault proxy) and STAGE_<NAME>_URL for
    /// every stage of the reference service.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("API_URL".to_owned(), self.api_url().to_owned()),
            ("REST_URL".to_owned(), self.rest_url()),
            ("DB_URL".to_owned(), self.db_url().to_owned()),
            ("AUTH_URL".to_owned(), self.auth_url().to_owned()),
        ];
        env.extend(self.keys.initial().output_env());
        env.extend([
            ("JWT_SECRET".to_owned(), self.jwt_secret().to_owned()),
            ("ANON_KEY".to_owned(), self.anon_key().to_owned()),
            (
                "SERVICE_ROLE_KEY".to_owned(),
                self.service_role_key().to_owned(),
            ),
        ]);
        if let Some(faults) = &self.faults {
            env.push(("FAULTS_URL".to_owned(), faults.proxy().url().to_owned()));
        }
        env.extend(self.stages.env());
        env
    }

    /// What a project's own service is started with: [`Stack::env`] with every URL through the
    /// fault proxy, so every fault a scenario applies reaches it. `API_URL` and `REST_URL` are
    /// already the gateway's `gateway` hop; `AUTH_URL` becomes the `auth` hop and `DB_URL` the
    /// `db` hop (still the superuser, for a service that connects to PostgreSQL directly).
    pub fn service_env(&self) -> Vec<(String, String)> {
        self.env()
            .into_iter()
            .map(|(name, value)| {
                let value = match name.as_str() {
                    "AUTH_URL" => format!("http://127.0.0.1:{}", self.proxied.auth),
                    "DB_URL" => format!(
                        "postgres://{}:{PASSWORD}@127.0.0.1:{}/postgres",
                        postgres::SUPERUSER,
                        self.proxied.db
                    ),
                    _ => value,
                };
                (name, value)
            })
            .collect()
    }

    /// The fault injector: the Toxiproxy-compatible proxy on every hop (`db`, `auth`, `rest`,
    /// `gateway`), and the servers' process faults. None when the stack was built without the
    /// proxy.
    pub fn faults(&self) -> Option<&Arc<StackFaults>> {
        self.faults.as_ref()
    }

    /// How long the served stages wait for the auth server and the database.
    pub fn service_timeouts(&self) -> crate::run::ServiceTimeouts {
        self.service_timeouts
    }

    /// The service's stages, served in-process against this stack.
    pub fn stages(&self) -> &ServedStages {
        &self.stages
    }

    /// The directory holding the data directory, sockets and logs (native), removed on stop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The PostgreSQL server's log (quoted in errors; useful when a test fails).
    pub fn postgres_log(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The auth server's stdout and stderr.
    pub fn auth_log(&self) -> PathBuf {
        self.dir.path().join("auth.log")
    }

    /// The data API's stdout and stderr (native provider).
    pub fn rest_log(&self) -> PathBuf {
        self.dir.path().join("rest.log")
    }

    /// The cached template this stack's data directory was copied from (native provider only).
    pub fn template_dir(&self) -> Option<&Path> {
        self.template.as_deref()
    }

    /// The data API's settings from the project's `[api]` (`PGRST_DB_SCHEMAS`,
    /// `PGRST_DB_EXTRA_SEARCH_PATH`, `PGRST_DB_MAX_ROWS`), the CLI's defaults without a project.
    pub fn data_api_env(&self) -> Vec<(&'static str, String)> {
        self.api.postgrest_env()
    }

    /// The postmaster's process id (native provider only).
    pub fn postgres_pid(&self) -> Option<u32> {
        self.servers.postgres_pid()
    }

    /// The auth server's process id (native provider only).
    pub fn auth_pid(&self) -> Option<u32> {
        self.servers.auth_pid()
    }

    /// The data API's process id (native provider only).
    pub fn rest_pid(&self) -> Option<u32> {
        self.servers.rest_pid()
    }

    /// Which of the stack's servers has exited on its own, with its status and last log lines:
    /// `harness up` reports it rather than going on as if the stack were whole.
    pub async fn exited_process(&mut self) -> Option<String> {
        let mut backend = self.servers.backend.lock().await;
        let (auth, rest, postgres) = match &mut *backend {
            Backend::Native {
                auth,
                rest,
                postgres,
                ..
            } => (auth, rest, postgres),
            Backend::Containers(containers) => return containers.exited().await,
            Backend::Stopped => return None,
        };
        let processes = [
            ("PostgreSQL", postgres.process()),
            ("the auth server", auth.process()),
            ("the data API", rest.process()),
        ];
        processes.into_iter().find_map(|(name, process)| {
            let status = process.exited()?;
            Some(format!(
                "{name} (pid {}) exited unexpectedly ({status}); its log ends with:\n{}",
                process.pid(),
                process.log_tail()
            ))
        })
    }

    /// Stops the data API and the auth server, then PostgreSQL, and removes the stack's
    /// directory. Dropping a stack does the same, blocking; this does it off the async runtime
    /// and reports the directory removal.
    pub async fn stop(self) -> Result<(), StackError> {
        let Self {
            stages,
            gateway,
            faults,
            servers,
            dir,
            ..
        } = self;
        drop(stages);
        drop(gateway);
        if let Some(faults) = faults {
            faults.shutdown().await;
        }
        let backend = std::mem::replace(&mut *servers.backend.lock().await, Backend::Stopped);
        let (mut rest, mut auth, mut postgres) = match backend {
            Backend::Native {
                rest,
                auth,
                postgres,
                ..
            } => (rest, auth, postgres),
            Backend::Containers(containers) => {
                containers.stop().await?;
                return close_dir(dir);
            }
            Backend::Stopped => return close_dir(dir),
        };
        tokio::task::spawn_blocking(move || {
            rest.stop();
            auth.stop();
            postgres.stop();
            close_dir(dir)
        })
        .await
        .expect("stopping a stack does not panic")
    }
}

fn close_dir(dir: TempDir) -> Result<(), StackError> {
    let path = dir.path().to_path_buf();
    dir.close().map_err(|e| {
        StackError::io(
            format!("removing the stack directory {}", path.display()),
            e,
        )
    })
}
