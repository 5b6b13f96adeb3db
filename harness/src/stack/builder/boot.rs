//! The order a [`Stack`](crate::Stack)'s parts come up in.
//!
//! Order: the key profile's keys, and `API_URL`'s port (the fault proxy's `gateway` hop, or the
//! gateway's own listener), because the auth server's issuer names it; PostgreSQL and the auth
//! server (natively or in containers); the fault proxy's `db` and `auth` hops; the data API,
//! whose own database connections go through `db`; the `rest` hop; the gateway in front of
//! `auth` and `rest`; then the reference service's stages. Each part that fails to start drops
//! what came before it.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
    time::Instant,
};

use tempfile::TempDir;

use super::StackBuilder;
use super::api_port::ApiPort;
use crate::faults::Dependency;
use crate::gateway::{GatewayConfig, GatewayKeys};
use crate::signing::{KeyProfile, ProjectKeys};
use crate::stack::{
    ServedStages, Stack, StackError,
    app_schema::{AppSchema, ResolvedSchema},
    auth_server::{self, AUTH_SERVER, AuthSettings},
    containers::{ContainerStack, ImageChoice},
    faults::Hops,
    http_child::ServerProgram,
    keys::{Appliers, StackKeys},
    postgres::{self, Cluster, PASSWORD, PgBinaries, SUPERUSER, give_to},
    provider::Provider,
    rest_server::{self, REST_SERVER, RestSettings},
    scratch,
    servers::{Backend, NativeContext, Servers},
    template,
};

/// PostgreSQL and the auth server, before the data API joins them.
enum Started {
    Native(Box<NativeStart>),
    Containers(Box<ContainerStack>),
}

/// The native servers so far, and what restarting them needs.
struct NativeStart {
    postgres: Cluster,
    auth: auth_server::AuthServer,
    binaries: PgBinaries,
    auth_program: ServerProgram,
    auth_settings: AuthSettings,
    rest_program: ServerProgram,
    data_dir: PathBuf,
    credentials: Option<crate::stack::child::Credentials>,
    /// The cached template the data directory was copied from.
    template: PathBuf,
}

impl StackBuilder {
    /// Starts every part in order (see the module doc).
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
        let schema = self.schema.resolve()?;
        let profile = self.key_profile(&schema);
        let project_keys = profile
            .load(unix_now())
            .map_err(|source| StackError::Keys {
                profile: profile.to_string(),
                source: Box::new(source),
            })?;
        let dir = scratch::scratch_dir("supabase-harness-")?;
        let mut hops = match self.fault_proxy {
            true => Some(Hops::start().await?),
            false => None,
        };
        let api_port = ApiPort::reserve(&mut hops).await?;
        let issuer = format!("http://127.0.0.1:{}/auth/v1", api_port.port());
        let project_env = schema.auth.as_ref().map_or_else(Vec::new, |auth| {
            auth.gotrue_env()
                .into_iter()
                .filter(|(name, _)| *name != "GOTRUE_JWT_EXP")
                .map(|(name, value)| (name.to_owned(), value))
                .collect()
        });
        let extra_env = project_env
            .into_iter()
            .chain(self.auth_env.iter().cloned())
            .collect();
        let auth_settings = AuthSettings {
            database_url: String::new(),
            jwt_secret: project_keys.jwt_secret().to_owned(),
            jwt_exp: self
                .jwt_exp
                .or(schema.auth.as_ref().map(|auth| auth.jwt_expiry))
                .unwrap_or(3600),
            log_level: self.auth_log_level.clone(),
            keys_env: project_keys.auth_env(&issuer),
            extra_env,
        };
        let api = schema.api.clone().unwrap_or_default();
        let mut template = None;
        let (mut first, db_port, auth_port, note, network) = match provider {
            Provider::Containers => {
                let containers = ContainerStack::start(
                    images,
                    &auth_settings,
                    self.startup_timeout,
                    &schema.app,
                )
                .await?;
                let note = format!("{note}; images: {}", containers.images.note);
                let (db, auth) = (containers.postgres_port(), containers.auth_port());
                let network = Some(containers.network().to_owned());
                (
                    Started::Containers(Box::new(containers)),
                    db,
                    auth,
                    note,
                    network,
                )
            }
            _ => {
                let native = self.start_native(&dir, auth_settings, &schema.app).await?;
                template = Some(native.template.clone());
                let (db, auth_port) = (native.postgres.port(), native.auth.port());
                (Started::Native(Box::new(native)), db, auth_port, note, None)
            }
        };

        let service_db = through(&mut hops, Dependency::Db, db_port).await?;
        let service_auth = through(&mut hops, Dependency::Auth, auth_port).await?;
        let rest_settings = RestSettings {
            db_uri: format!("postgres://authenticator:{PASSWORD}@127.0.0.1:{service_db}/postgres"),
            jwt_secret: project_keys.postgrest_jwt_secret(),
            log_level: "info".to_owned(),
            api: api.clone(),
        };
        let (backend, rest_port) = match first {
            Started::Containers(ref mut containers) => {
                let port = containers
                    .start_rest(&rest_settings, self.startup_timeout)
                    .await?;
                let Started::Containers(containers) = first else {
                    unreachable!("matched above")
                };
                (Backend::Containers(*containers), port)
            }
            Started::Native(native) => {
                let NativeStart {
                    postgres,
                    auth,
                    binaries,
                    auth_program,
                    auth_settings,
                    rest_program,
                    data_dir,
                    credentials,
                    template: _,
                } = *native;
                let log = dir.path().join("rest.log");
                let rest = rest_server::start(
                    &rest_program,
                    &rest_settings,
                    &log,
                    self.startup_timeout,
                    None,
                )
                .await?;
                let port = rest.port();
                let context = NativeContext {
                    binaries,
                    auth_program,
                    auth_settings,
                    rest_program,
                    rest_settings,
                    data_dir,
                    run_dir: dir.path().to_path_buf(),
                    credentials,
                    timeout: self.startup_timeout,
                };
                let backend = Backend::Native {
                    rest,
                    auth,
                    postgres,
                    context: Box::new(context),
                };
                (backend, port)
            }
        };
        let gateway_rest = through(&mut hops, Dependency::Rest, rest_port).await?;
        let servers = Arc::new(Servers::new(backend));

        let gateway_config = GatewayConfig::new(
            loopback(service_auth),
            loopback(gateway_rest),
            gateway_keys(&project_keys),
        )
        .with_upstream_timeout(self.gateway_timeout);
        let api_url = format!("http://127.0.0.1:{}", api_port.port());
        let gateway = api_port.serve(gateway_config).await?;
        let faults = hops.map(|hops| Arc::new(hops.into_faults(&servers)));

        let auth_url = format!("http://127.0.0.1:{auth_port}");
        let db_url = format!("postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{db_port}/postgres");
        let authenticator_url =
            format!("postgres://authenticator:{PASSWORD}@127.0.0.1:{service_db}/postgres");
        let caches = service::CacheEpoch::new();
        let service = service::Config::new(
            url::Url::parse(&format!("http://127.0.0.1:{service_auth}"))
                .expect("the auth server's URL is a URL"),
            project_keys.anon_key(),
            authenticator_url,
        )
        .with_auth_timeout(self.service_auth_timeout)
        .with_db_timeout(self.service_db_timeout)
        .with_jwt_secret(project_keys.jwt_secret())
        .with_cache_epoch(caches.clone());
        let stages = ServedStages::start(&service).await?;
        let keys = StackKeys::new(
            project_keys,
            Appliers {
                servers: Arc::downgrade(&servers),
                issuer,
                db_url: db_url.clone(),
                rest_port,
                caches,
            },
        );
        tracing::info!(api = %api_url, db = %db_url, auth = %auth_url, provider = %note, keys = %profile, elapsed = ?started.elapsed(), "stack ready");
        Ok(Stack {
            template,
            api,
            stages,
            gateway,
            faults,
            servers,
            service_timeouts: crate::run::ServiceTimeouts {
                auth: self.service_auth_timeout,
                db: self.service_db_timeout,
                gateway: self.gateway_timeout,
            },
            network,
            dir,
            db_port,
            proxied: crate::stack::ProxiedPorts {
                db: service_db,
                auth: service_auth,
            },
            auth_url,
            api_url,
            data_api_url: format!("http://127.0.0.1:{rest_port}"),
            db_url,
            keys: Arc::new(keys),
            provider,
            provider_note: note,
        })
    }

    /// The builder's profile, else the project's signing-keys file, else HARNESS_KEYS, else cli.
    fn key_profile(&self, schema: &ResolvedSchema) -> KeyProfile {
        let project_file = schema
            .auth
            .as_ref()
            .and_then(|auth| auth.signing_keys_path.clone())
            .map(KeyProfile::SigningKeysFile);
        self.keys
            .clone()
            .or(project_file)
            .or_else(KeyProfile::from_env)
            .unwrap_or_default()
    }

    /// Builds the template if needed, copies it into `dir`, starts PostgreSQL, then the auth
    /// server.
    async fn start_native(
        &self,
        dir: &TempDir,
        mut settings: AuthSettings,
        app: &AppSchema,
    ) -> Result<NativeStart, StackError> {
        let started = Instant::now();
        let binaries = PgBinaries::locate()?;
        let auth_program = ServerProgram::locate(AUTH_SERVER, self.auth_server_bin.as_deref())?;
        // Found before anything starts, so a missing program fails fast.
        let rest_program = ServerProgram::locate(REST_SERVER, self.rest_server_bin.as_deref())?;
        let credentials = postgres::server_credentials()?;
        let template = template::ensure(&binaries, credentials, self.startup_timeout, app).await?;
        tracing::debug!(elapsed = ?started.elapsed(), template = %template.display(), "template ready");

        give_to(dir.path(), credentials)?;
        let data_dir = dir.path().join("data");
        template::copy_dir(&template, &data_dir).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "data directory copied");
        // Dropped on an error below, so a failed auth server leaves no PostgreSQL behind.
        let postgres = Cluster::start(
            &binaries,
            &data_dir,
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
        let auth =
            auth_server::start(&auth_program, &settings, &log, self.startup_timeout, None).await?;
        Ok(NativeStart {
            postgres,
            auth,
            binaries,
            auth_program,
            auth_settings: settings,
            rest_program,
            data_dir,
            credentials,
            template,
        })
    }
}

/// What the gateway knows: the anon/service_role JWTs and the opaque keys that stand for them.
fn gateway_keys(keys: &ProjectKeys) -> GatewayKeys {
    GatewayKeys {
        anon: keys.anon_key().to_owned(),
        service_role: keys.service_role_key().to_owned(),
        publishable: keys.publishable_key().map(str::to_owned),
        secret: keys.secret_key().map(str::to_owned),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn loopback(port: u16) -> SocketAddr {
    (Ipv4Addr::LOCALHOST, port).into()
}

/// The port to use for `dependency` at `port`: the fault proxy's hop when there is one.
async fn through(
    hops: &mut Option<Hops>,
    dependency: Dependency,
    port: u16,
) -> Result<u16, StackError> {
    match hops {
        Some(hops) => hops.add(dependency, port).await,
        None => Ok(port),
    }
}
