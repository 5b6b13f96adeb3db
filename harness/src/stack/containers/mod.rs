//! The containers provider: PostgreSQL, the auth server and the data API in Docker
//! (testcontainers), published on 127.0.0.1 only.
//!
//! Order: the network, PostgreSQL (ready when a TCP login finds the roles the image's init
//! creates), the auth server reaching it by its container name (ready when `/health` answers),
//! then the app migration as `postgres`, since it references `auth.users`; later, once the
//! stack's fault proxy listens, the data API ([`rest`]). The official images are configured as
//! Supabase's self-hosted compose does; the local ones take the same env.

mod cleanup;
mod images;
mod ready;
mod rest;

use std::time::Duration;

use supabase_testcontainers_modules::{AUTH_PORT, Auth};
use testcontainers::{
    ContainerAsync, GenericImage, ImageExt,
    bollard::{
        Docker,
        models::{
            EndpointSettings, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
        },
        query_parameters::KillContainerOptions,
    },
    core::{IntoContainerPort, WaitFor, client::docker_client_instance},
    runners::AsyncRunner,
};

pub use self::cleanup::{LABEL, PID_LABEL, Removed, remove_leftovers};
pub use self::images::{
    IMAGES_ENV, ImageChoice, ImageRef, ImageSet, LOCAL_AUTH, LOCAL_POSTGRES, LOCAL_REST,
    OFFICIAL_AUTH, OFFICIAL_POSTGRES, OFFICIAL_REST,
};
use self::ready::{log_tail, wait_for_health, wait_for_postgres};
use super::{
    StackError, app_schema::AppSchema, auth_server::AuthSettings, ports::free_port,
    postgres::PASSWORD,
};
use crate::faults::{Dependency, NetworkAction, ProcessAction};

const POSTGRES_PORT: u16 = 5432;
/// The self-hosted stack's roles.sql: the image creates the roles, this sets their passwords.
const ROLES_SQL: &str = include_str!("../../../../docker/compose/roles.sql");

/// A Docker engine that answers, or why not (for `auto` and for skipping container tests).
pub async fn docker() -> Result<Docker, String> {
    let docker = docker_client_instance()
        .await
        .map_err(|e| format!("no Docker engine: {e}"))?;
    docker
        .ping()
        .await
        .map_err(|e| format!("the Docker engine does not answer: {e}"))?;
    Ok(docker)
}

/// Whether a containers stack could start here: an engine answers and the images are there.
pub async fn availability(choice: ImageChoice) -> Result<String, String> {
    let docker = docker().await?;
    images::resolve(&docker, choice).await.map(|set| set.note)
}

/// The running containers of one stack.
pub(crate) struct ContainerStack {
    // Removed in this order by `stop` (the servers, their database, then the network).
    rest: Option<ContainerAsync<GenericImage>>,
    auth: Option<ContainerAsync<Auth>>,
    postgres: Option<ContainerAsync<GenericImage>>,
    network: String,
    /// Set by `stop`, which removed everything already.
    stopped: bool,
    postgres_name: String,
    postgres_port: u16,
    auth_port: u16,
    pub(crate) images: ImageSet,
    /// What the auth container was started with, for a rotation's replacement.
    auth_settings: Box<AuthSettings>,
    timeout: Duration,
}

impl std::fmt::Debug for ContainerStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerStack")
            .field("network", &self.network)
            .field("postgres_port", &self.postgres_port)
            .field("auth_port", &self.auth_port)
            .field("images", &self.images)
            .finish()
    }
}

impl ContainerStack {
    pub(crate) async fn start(
        choice: ImageChoice,
        auth: &AuthSettings,
        timeout: Duration,
        app: &AppSchema,
    ) -> Result<ContainerStack, StackError> {
        let docker = docker().await.map_err(StackError::Containers)?;
        // A killed run's containers would hold ports and memory: take them away first.
        if let Err(error) = remove_leftovers(&docker, false).await {
            tracing::warn!(%error, "could not remove a crashed run's containers");
        }
        let images = images::resolve(&docker, choice)
            .await
            .map_err(StackError::Containers)?;
        tracing::info!(note = %images.note, official = images.official, "container images");

        let network = format!(
            "supabase-harness-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                labels: Some(cleanup::labels()),
                ..Default::default()
            })
            .await
            .map_err(|e| StackError::Containers(format!("creating network {network}: {e}")))?;
        let mut stack = ContainerStack {
            rest: None,
            auth: None,
            postgres: None,
            postgres_name: format!("{network}-db"),
            network,
            stopped: false,
            postgres_port: free_port()?,
            auth_port: free_port()?,
            images,
            auth_settings: Box::new(auth.clone()),
            timeout,
        };
        // On any failure below, dropping `stack` removes what was created.
        stack.start_postgres(timeout).await?;
        stack.start_auth(auth, timeout).await?;
        stack.migrate(app).await?;
        Ok(stack)
    }

    pub(crate) fn postgres_port(&self) -> u16 {
        self.postgres_port
    }

    pub(crate) fn auth_port(&self) -> u16 {
        self.auth_port
    }

    pub(crate) fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.auth_port)
    }

    pub(crate) fn network(&self) -> &str {
        &self.network
    }

    async fn start_postgres(&mut self, timeout: Duration) -> Result<(), StackError> {
        let image = self.images.postgres;
        let mut request = GenericImage::new(image.name, image.tag)
            .with_exposed_port(POSTGRES_PORT.tcp())
            .with_wait_for(WaitFor::Nothing)
            .with_env_var("POSTGRES_PASSWORD", PASSWORD)
            .with_env_var("POSTGRES_PORT", POSTGRES_PORT.to_string())
            .with_env_var("JWT_SECRET", crate::signing::JWT_SECRET)
            .with_env_var("JWT_EXP", "3600");
        if self.images.official {
            // As the self-hosted compose: its config file, and roles.sql to set the passwords.
            request = request
                .with_cmd([
                    "postgres",
                    "-c",
                    "config_file=/etc/postgresql/postgresql.conf",
                    "-c",
                    "log_min_messages=fatal",
                ])
                .with_copy_to(
                    "/docker-entrypoint-initdb.d/init-scripts/99-roles.sql",
                    ROLES_SQL.as_bytes().to_vec(),
                );
        }
        let request = self
            .common(
                request,
                &self.postgres_name.clone(),
                self.postgres_port,
                POSTGRES_PORT,
            )
            .with_startup_timeout(timeout);
        let container = request
            .start()
            .await
            .map_err(|e| StackError::Containers(format!("starting {image}: {e}")))?;
        self.postgres = Some(container);
        wait_for_postgres(self.postgres_port, timeout)
            .await
            .map_err(|why| self.failed(format!("{image} {why}"), true))?;
        Ok(())
    }

    async fn start_auth(
        &mut self,
        settings: &AuthSettings,
        timeout: Duration,
    ) -> Result<(), StackError> {
        let image = self.images.auth;
        let url = self.auth_url();
        let database_url = format!(
            "postgres://supabase_auth_admin:{PASSWORD}@{}:{POSTGRES_PORT}/postgres",
            self.postgres_name
        );
        // supabase-testcontainers-modules' GoTrue definition, set to the native stack's values.
        let auth = Auth::default()
            .with_db_url(database_url)
            .with_jwt_secret(&settings.jwt_secret)
            .with_jwt_expiry(settings.jwt_exp.try_into().unwrap_or(u32::MAX))
            .with_api_external_url(&url)
            .with_site_url("http://127.0.0.1:3000")
            .with_signup_disabled(false)
            .with_anonymous_users(false)
            .with_mailer_autoconfirm(true)
            .with_sms_autoconfirm(false)
            .with_log_level(&settings.log_level)
            .with_env("GOTRUE_JWT_AUD", "authenticated")
            .with_env("GOTRUE_JWT_DEFAULT_GROUP_NAME", "authenticated")
            .with_env("GOTRUE_JWT_ADMIN_ROLES", "service_role")
            .with_env("GOTRUE_EXTERNAL_EMAIL_ENABLED", "true")
            .with_env("GOTRUE_API_HOST", "0.0.0.0");
        let auth = settings
            .keys_env
            .iter()
            .chain(&settings.extra_env)
            .fold(auth, |auth, (name, value)| auth.with_env(name, value));
        let request = auth.with_name(image.name).with_tag(image.tag);
        let request = self
            .common(
                request,
                &format!("{}-auth", self.network),
                self.auth_port,
                AUTH_PORT,
            )
            .with_startup_timeout(timeout);
        let container = request
            .start()
            .await
            .map_err(|e| self.failed(format!("starting {image}: {e}"), false))?;
        self.auth = Some(container);
        wait_for_health(&format!("{url}/health"), timeout)
            .await
            .map_err(|why| self.failed(format!("{image} {why}"), false))?;
        Ok(())
    }

    /// A new auth container in place of the old, on the same name and port, with other signing
    /// variables: a container's environment cannot change, and `docker restart` keeps it.
    pub(crate) async fn replace_auth(
        &mut self,
        keys_env: Vec<(String, String)>,
    ) -> Result<(), String> {
        if let Some(old) = self.auth.take() {
            old.rm()
                .await
                .map_err(|e| format!("removing the auth container: {e}"))?;
        }
        let mut settings = self.auth_settings.clone();
        settings.keys_env = keys_env;
        self.start_auth(&settings, self.timeout)
            .await
            .map_err(|e| e.to_string())?;
        self.auth_settings = settings;
        Ok(())
    }

    /// Network, name, labels and a port published on 127.0.0.1 only.
    fn common<I: testcontainers::Image>(
        &self,
        request: impl Into<testcontainers::ContainerRequest<I>>,
        name: &str,
        host_port: u16,
        container_port: u16,
    ) -> testcontainers::ContainerRequest<I> {
        request
            .into()
            .with_network(&self.network)
            .with_container_name(name)
            .with_labels(cleanup::labels())
            .with_mapped_port(host_port, container_port.tcp())
            .with_host_config_modifier(|host_config| {
                // testcontainers publishes on every interface; a test database should not be.
                for bindings in host_config
                    .port_bindings
                    .iter_mut()
                    .flat_map(|b| b.values_mut())
                {
                    for binding in bindings.iter_mut().flatten() {
                        binding.host_ip = Some("127.0.0.1".to_owned());
                    }
                }
            })
    }

    /// The app's schema as `postgres`, as the Supabase CLI applies it.
    async fn migrate(&mut self, app: &AppSchema) -> Result<(), StackError> {
        let url = format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres",
            self.postgres_port
        );
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&url).await.map_err(|e| {
            self.failed(
                format!("connecting as postgres to apply the app's schema: {e}"),
                true,
            )
        })?;
        match app.apply(&mut connection).await {
            Ok(()) => Ok(()),
            // A project's SQL error names its file and line: the container's log adds nothing.
            Err(error @ StackError::ProjectSql { .. }) => Err(error),
            Err(error) => Err(self.failed(format!("applying the app's schema: {error}"), true)),
        }
    }

    /// A failure, with the tail of the container's log: the cause is usually there.
    fn failed(&self, what: String, postgres: bool) -> StackError {
        let dependency = if postgres {
            Dependency::Db
        } else {
            Dependency::Auth
        };
        self.failed_at(what, dependency)
    }

    fn failed_at(&self, what: String, dependency: Dependency) -> StackError {
        let container = self.container_name(dependency);
        StackError::Containers(format!(
            "{what}; {container}'s log ends with:\n{}",
            log_tail(&container)
        ))
    }

    /// A process or container fault on the dependency's container.
    pub(crate) async fn process_fault(
        &self,
        dependency: Dependency,
        action: ProcessAction,
    ) -> Result<(), String> {
        let docker = docker().await?;
        let name = self.container_name(dependency);
        let result = match action {
            ProcessAction::Stop => docker.stop_container(&name, None).await,
            ProcessAction::Kill => {
                let options = KillContainerOptions {
                    signal: "SIGKILL".to_owned(),
                };
                docker.kill_container(&name, Some(options)).await
            }
            ProcessAction::Pause => docker.pause_container(&name).await,
            ProcessAction::Resume => docker.unpause_container(&name).await,
            ProcessAction::Restart => docker.restart_container(&name, None).await,
        };
        result.map_err(|e| format!("docker {} {name}: {e}", action.name()))
    }

    /// Takes the container off the stack's network (its published port goes with it) or back.
    pub(crate) async fn network_fault(
        &self,
        dependency: Dependency,
        action: NetworkAction,
    ) -> Result<(), String> {
        if !matches!(dependency, Dependency::Db | Dependency::Auth) {
            return Err(format!(
                "network {} {dependency}: only the database and the auth server are on the \
                 stack's network (the data API uses the host's, to reach the fault proxy)",
                action.name()
            ));
        }
        let docker = docker().await?;
        let container = self.container_name(dependency);
        let result = match action {
            NetworkAction::Disconnect => {
                let request = NetworkDisconnectRequest {
                    container: container.clone(),
                    force: Some(true),
                };
                docker.disconnect_network(&self.network, request).await
            }
            NetworkAction::Reconnect => {
                let request = NetworkConnectRequest {
                    container: container.clone(),
                    endpoint_config: Some(EndpointSettings::default()),
                };
                docker.connect_network(&self.network, request).await
            }
        };
        result.map_err(|e| {
            format!(
                "docker network {} {} {container}: {e}",
                action.name(),
                self.network
            )
        })
    }

    /// Which container has stopped running, with its exit code and last log lines.
    pub(crate) async fn exited(&self) -> Option<String> {
        let containers = [
            (
                "PostgreSQL",
                self.postgres.as_ref().map(|c| c.id().to_owned()),
                Dependency::Db,
            ),
            (
                "the auth server",
                self.auth.as_ref().map(|c| c.id().to_owned()),
                Dependency::Auth,
            ),
            (
                "the data API",
                self.rest.as_ref().map(|c| c.id().to_owned()),
                Dependency::Rest,
            ),
        ];
        let docker = docker().await.ok()?;
        for (what, id, dependency) in containers {
            let Some(id) = id else { continue };
            let state = docker.inspect_container(&id, None).await.ok()?.state?;
            if state.running == Some(false) {
                let name = self.container_name(dependency);
                return Some(format!(
                    "{what} ({name}) exited unexpectedly (exit code {}); its log ends with:\n{}",
                    state.exit_code.unwrap_or_default(),
                    log_tail(&name)
                ));
            }
        }
        None
    }

    fn container_name(&self, dependency: Dependency) -> String {
        match dependency {
            Dependency::Db => self.postgres_name.clone(),
            other => format!("{}-{}", self.network, other.name()),
        }
    }

    /// Removes every container and the network, waiting until they are gone.
    pub(crate) async fn stop(mut self) -> Result<(), StackError> {
        self.stopped = true;
        remove(self.take_parts())
            .await
            .map_err(StackError::Containers)
    }

    fn take_parts(&mut self) -> Parts {
        Parts {
            rest: self.rest.take(),
            auth: self.auth.take(),
            postgres: self.postgres.take(),
            network: self.network.clone(),
        }
    }
}

/// What one stack created, taken out to be removed.
struct Parts {
    rest: Option<ContainerAsync<GenericImage>>,
    auth: Option<ContainerAsync<Auth>>,
    postgres: Option<ContainerAsync<GenericImage>>,
    network: String,
}

impl Drop for ContainerStack {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let parts = self.take_parts();
        cleanup::block_on_cleanup(async move {
            if let Err(error) = remove(parts).await {
                eprintln!("harness: {error} (`harness down` removes what is left)");
            }
        });
    }
}

async fn remove(parts: Parts) -> Result<(), String> {
    let Parts {
        rest,
        auth,
        postgres,
        network,
    } = parts;
    let mut problems = Vec::new();
    if let Some(rest) = rest {
        rest.rm()
            .await
            .unwrap_or_else(|e| problems.push(format!("removing the data API container: {e}")));
    }
    if let Some(auth) = auth {
        auth.rm()
            .await
            .unwrap_or_else(|e| problems.push(format!("removing the auth container: {e}")));
    }
    if let Some(postgres) = postgres {
        postgres
            .rm()
            .await
            .unwrap_or_else(|e| problems.push(format!("removing the database container: {e}")));
    }
    match docker().await {
        Ok(docker) => {
            if let Err(e) = docker.remove_network(&network).await {
                problems.push(format!("removing network {network}: {e}"));
            }
        }
        Err(e) => problems.push(e),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
