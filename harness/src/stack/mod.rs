//! A local Supabase backend (PostgreSQL with the supabase/postgres roles, plus a GoTrue-compatible
//! auth server) that a test starts in one line and that cleans up after itself.
//!
//! By default everything runs natively as child processes: no Docker, nothing shared between
//! stacks. Each stack gets its own data directory (copied from a cached template), ports and log
//! files, so tests run in parallel; dropping a [`Stack`] stops the servers and removes the
//! directory. The containers [`Provider`] runs the same pair in Docker instead (official images
//! by default, locally built ones as the fallback) and gives the same values.
//! The secret and keys are the Supabase CLI's, so a service configured for `supabase start`
//! works against a stack unchanged.

mod auth_server;
mod child;
pub mod containers;
mod error;
mod faults;
mod keys;
mod ports;
mod postgres;
mod provider;
mod schema;
mod scratch;
mod servers;
mod stages;
mod template;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use tempfile::TempDir;

use self::{
    auth_server::{AuthProgram, AuthServer, AuthSettings},
    keys::ApiKeys,
    postgres::{Cluster, PASSWORD, PgBinaries, SUPERUSER, give_to},
};
pub use self::{
    containers::ImageChoice,
    error::StackError,
    faults::StackFaults,
    keys::JWT_SECRET,
    provider::{PROVIDER_ENV, Provider},
    stages::ServedStages,
};
use containers::ContainerStack;
use servers::{Backend, NativeContext, Servers};

/// A running PostgreSQL + auth server pair.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness::StackError> {
/// let stack = harness::Stack::start().await?;
/// let pool = sqlx::PgPool::connect(&stack.authenticator_db_url()).await.unwrap();
/// // ... drive the service under test with stack.env() ...
/// stack.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Stack {
    // Field order is drop order: the stages, then the servers, then the directory.
    stages: ServedStages,
    faults: Option<Arc<StackFaults>>,
    servers: Arc<Servers>,
    dir: TempDir,
    db_port: u16,
    auth_url: String,
    db_url: String,
    keys: ApiKeys,
    provider: Provider,
    provider_note: String,
    network: Option<String>,
    service_timeouts: crate::run::ServiceTimeouts,
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

    /// The HS256 secret shared by the auth server and the keys.
    pub fn jwt_secret(&self) -> &str {
        JWT_SECRET
    }

    /// The Supabase CLI's anon key.
    pub fn anon_key(&self) -> &str {
        &self.keys.anon
    }

    /// The Supabase CLI's service_role key.
    pub fn service_role_key(&self) -> &str {
        &self.keys.service_role
    }

    /// What `harness up --output env` prints, in this order: DB_URL (superuser, for inspection),
    /// AUTH_URL, JWT_SECRET, ANON_KEY, SERVICE_ROLE_KEY, FAULTS_URL (the Toxiproxy-compatible
    /// API, when the stack has its fault proxy), API_URL (the reference stage) and
    /// STAGE_<NAME>_URL for every stage.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("DB_URL".to_owned(), self.db_url().to_owned()),
            ("AUTH_URL".to_owned(), self.auth_url().to_owned()),
            ("JWT_SECRET".to_owned(), self.jwt_secret().to_owned()),
            ("ANON_KEY".to_owned(), self.anon_key().to_owned()),
            (
                "SERVICE_ROLE_KEY".to_owned(),
                self.service_role_key().to_owned(),
            ),
        ];
        if let Some(faults) = &self.faults {
            env.push(("FAULTS_URL".to_owned(), faults.proxy().url().to_owned()));
        }
        env.extend(self.stages.env());
        env
    }

    /// The fault injector: the Toxiproxy-compatible proxy between the served stages and the
    /// database (`db`) and auth server (`auth`), and the servers' process faults. None when the
    /// stack was built without the proxy.
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

    /// The postmaster's process id (native provider only).
    pub fn postgres_pid(&self) -> Option<u32> {
        self.servers.postgres_pid()
    }

    /// The auth server's process id (native provider only).
    pub fn auth_pid(&self) -> Option<u32> {
        self.servers.auth_pid()
    }

    /// Which of the stack's servers has exited on its own, with its status and last log lines:
    /// `harness up` reports it rather than going on as if the stack were whole.
    pub async fn exited_process(&mut self) -> Option<String> {
        let mut backend = self.servers.backend.lock().await;
        let (auth, postgres) = match &mut *backend {
            Backend::Native { auth, postgres, .. } => (auth, postgres),
            Backend::Containers(containers) => return containers.exited().await,
            Backend::Stopped => return None,
        };
        let processes = [
            ("PostgreSQL", postgres.process()),
            ("the auth server", auth.process()),
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

    /// Stops the auth server, then PostgreSQL, and removes the stack's directory. Dropping a
    /// stack does the same, blocking; this does it off the async runtime and reports the
    /// directory removal.
    pub async fn stop(self) -> Result<(), StackError> {
        let Self {
            stages,
            faults,
            servers,
            dir,
            ..
        } = self;
        drop(stages);
        if let Some(faults) = faults {
            faults.shutdown().await;
        }
        let backend = std::mem::replace(&mut *servers.backend.lock().await, Backend::Stopped);
        let (mut auth, mut postgres) = match backend {
            Backend::Native { auth, postgres, .. } => (auth, postgres),
            Backend::Containers(containers) => {
                containers.stop().await?;
                return close_dir(dir);
            }
            Backend::Stopped => return close_dir(dir),
        };
        tokio::task::spawn_blocking(move || {
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

/// Options for [`Stack`]; every one has a default matching `supabase start`.
#[derive(Debug, Clone)]
pub struct StackBuilder {
    jwt_exp: u64,
    auth_server_bin: Option<PathBuf>,
    auth_log_level: String,
    startup_timeout: Duration,
    service_auth_timeout: Duration,
    service_db_timeout: Duration,
    provider: Option<Provider>,
    images: Option<ImageChoice>,
    fault_proxy: bool,
}

impl Default for StackBuilder {
    fn default() -> Self {
        Self {
            jwt_exp: 3600,
            auth_server_bin: None,
            auth_log_level: "info".to_owned(),
            startup_timeout: Duration::from_secs(30),
            service_auth_timeout: Duration::from_secs(2),
            service_db_timeout: Duration::from_secs(2),
            provider: None,
            images: None,
            fault_proxy: true,
        }
    }
}

impl StackBuilder {
    /// Access token lifetime in seconds (GOTRUE_JWT_EXP); default 3600.
    pub fn jwt_exp(mut self, seconds: u64) -> Self {
        self.jwt_exp = seconds;
        self
    }

    /// Runs this GoTrue-compatible binary (with no arguments, configured by GoTrue's env vars)
    /// instead of HARNESS_AUTH_BIN or the harness's own auth server.
    pub fn auth_server_bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth_server_bin = Some(path.into());
        self
    }

    /// GOTRUE_LOG_LEVEL for the auth server; default `info`.
    pub fn auth_log_level(mut self, level: impl Into<String>) -> Self {
        self.auth_log_level = level.into();
        self
    }

    /// How long the served stages wait for the auth server (`GET /user`); default 2 s.
    pub fn service_auth_timeout(mut self, timeout: Duration) -> Self {
        self.service_auth_timeout = timeout;
        self
    }

    /// How long the served stages wait for the database (the whole transaction); default 2 s.
    pub fn service_db_timeout(mut self, timeout: Duration) -> Self {
        self.service_db_timeout = timeout;
        self
    }

    /// How long each server may take to become ready; default 30 s.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Native processes, containers, or auto; default: HARNESS_PROVIDER, else native.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Which images the containers provider runs; default: HARNESS_IMAGES, else auto (official
    /// when they can be had, else the locally built ones).
    pub fn images(mut self, images: ImageChoice) -> Self {
        self.images = Some(images);
        self
    }

    /// Whether the served stages reach the database and the auth server through the fault
    /// proxy (default) or directly, as `harness bench` measures them.
    pub fn fault_proxy(mut self, enabled: bool) -> Self {
        self.fault_proxy = enabled;
        self
    }

    /// Starts PostgreSQL, then the auth server, with the provider asked for, then serves the
    /// service's stages against them.
    pub async fn start(self) -> Result<Stack, StackError> {
        let started = Instant::now();
        let asked = match self.provider {
            Some(provider) => provider,
            None => Provider::from_env().map_err(StackError::Config)?,
        };
        let images = match self.images {
            Some(images) => images,
            None => ImageChoice::from_env().map_err(StackError::Config)?,
        };
        let (provider, note) = asked.resolve(images).await;
        let dir = scratch::scratch_dir("supabase-harness-")?;
        let settings = AuthSettings {
            database_url: String::new(),
            jwt_secret: JWT_SECRET.to_owned(),
            jwt_exp: self.jwt_exp,
            log_level: self.auth_log_level.clone(),
        };
        let (backend, db_port, auth_port, note, network) = match provider {
            Provider::Containers => {
                let containers =
                    ContainerStack::start(images, &settings, self.startup_timeout).await?;
                let note = format!("{note}; images: {}", containers.images.note);
                let (db, auth) = (containers.postgres_port(), containers.auth_port());
                let network = Some(containers.network().to_owned());
                (Backend::Containers(containers), db, auth, note, network)
            }
            _ => {
                let backend = self.start_native(&dir, settings).await?;
                let Backend::Native { auth, postgres, .. } = &backend else {
                    unreachable!("start_native starts native servers")
                };
                let (db, auth) = (postgres.port(), auth.port());
                (backend, db, auth, note, None)
            }
        };
        let servers = Arc::new(Servers::new(backend));
        let auth_url = format!("http://127.0.0.1:{auth_port}");
        let (faults, service_db, service_auth) = if self.fault_proxy {
            let (faults, db, auth) = faults::start(&servers, db_port, auth_port).await?;
            (
                Some(Arc::new(faults)),
                db,
                format!("http://127.0.0.1:{auth}"),
            )
        } else {
            (None, db_port, auth_url.clone())
        };
        let db_url = format!("postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{db_port}/postgres");
        let keys = ApiKeys::mint(JWT_SECRET);
        let authenticator_url =
            format!("postgres://authenticator:{PASSWORD}@127.0.0.1:{service_db}/postgres");
        let service = service::Config::new(
            url::Url::parse(&service_auth).expect("the auth server's URL is a URL"),
            keys.anon.clone(),
            authenticator_url,
        )
        .with_auth_timeout(self.service_auth_timeout)
        .with_db_timeout(self.service_db_timeout)
        .with_jwt_secret(JWT_SECRET);
        let stages = ServedStages::start(&service).await?;
        tracing::info!(db = %db_url, auth = %auth_url, provider = %note, elapsed = ?started.elapsed(), "stack ready");
        let service_timeouts = crate::run::ServiceTimeouts {
            auth: self.service_auth_timeout,
            db: self.service_db_timeout,
        };
        Ok(Stack {
            stages,
            faults,
            servers,
            service_timeouts,
            network,
            dir,
            db_port,
            auth_url,
            db_url,
            keys,
            provider,
            provider_note: note,
        })
    }

    /// Builds the template if needed, copies it into `dir`, starts PostgreSQL, then the auth
    /// server.
    async fn start_native(
        &self,
        dir: &TempDir,
        mut settings: AuthSettings,
    ) -> Result<Backend, StackError> {
        let started = Instant::now();
        let binaries = PgBinaries::locate()?;
        let program = AuthProgram::locate(self.auth_server_bin.as_deref())?;
        let credentials = postgres::server_credentials()?;
        let template = template::ensure(&binaries, credentials, self.startup_timeout).await?;
        tracing::debug!(elapsed = ?started.elapsed(), template = %template.display(), "template ready");

        give_to(dir.path(), credentials)?;
        let data = dir.path().join("data");
        template::copy_dir(&template, &data).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "data directory copied");
        // Dropped on an error below, so a failed auth server leaves no PostgreSQL behind.
        let postgres = Cluster::start(
            &binaries,
            &data,
            dir.path(),
            credentials,
            self.startup_timeout,
            None,
        )
        .await?;
        settings.database_url = format!(
            "postgres://supabase_auth_admin:{PASSWORD}@127.0.0.1:{}/postgres",
            postgres.port()
        );
        let log = dir.path().join("auth.log");
        let auth = AuthServer::start(&program, &settings, &log, self.startup_timeout, None).await?;
        let context = NativeContext {
            binaries,
            program,
            settings,
            data_dir: data,
            run_dir: dir.path().to_path_buf(),
            credentials,
            timeout: self.startup_timeout,
        };
        Ok(Backend::Native {
            auth,
            postgres,
            context: Box::new(context),
        })
    }
}
