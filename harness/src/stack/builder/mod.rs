//! How a [`Stack`](crate::Stack) starts: the options here, every one defaulting to what `supabase start`
//! does, and the order the parts come up in ([`boot`]).

mod api_port;
mod boot;

use std::{path::PathBuf, time::Duration};

use super::app_schema::SchemaSource;
use super::{containers::ImageChoice, provider::Provider};
use crate::gateway::KONG_UPSTREAM_TIMEOUT;
use crate::signing::KeyProfile;

/// Options for [`Stack`](crate::Stack); every one has a default matching `supabase start`.
#[derive(Debug, Clone)]
pub struct StackBuilder {
    /// None: the project's `jwt_expiry`, else 3600.
    jwt_exp: Option<u64>,
    schema: SchemaSource,
    auth_server_bin: Option<PathBuf>,
    rest_server_bin: Option<PathBuf>,
    auth_log_level: String,
    startup_timeout: Duration,
    service_auth_timeout: Duration,
    service_db_timeout: Duration,
    gateway_timeout: Duration,
    provider: Option<Provider>,
    images: Option<ImageChoice>,
    fault_proxy: bool,
    auth_env: Vec<(String, String)>,
    keys: Option<KeyProfile>,
}

impl Default for StackBuilder {
    fn default() -> Self {
        Self {
            jwt_exp: None,
            schema: SchemaSource::Reference,
            auth_server_bin: None,
            rest_server_bin: None,
            auth_log_level: "info".to_owned(),
            startup_timeout: Duration::from_secs(30),
            service_auth_timeout: Duration::from_secs(2),
            service_db_timeout: Duration::from_secs(2),
            gateway_timeout: KONG_UPSTREAM_TIMEOUT,
            provider: None,
            images: None,
            fault_proxy: true,
            auth_env: Vec::new(),
            keys: None,
        }
    }
}

impl StackBuilder {
    /// Access token lifetime in seconds (GOTRUE_JWT_EXP); default: the project's
    /// `jwt_expiry`, else 3600.
    pub fn jwt_exp(mut self, seconds: u64) -> Self {
        self.jwt_exp = Some(seconds);
        self
    }

    /// The database gets this project's schema instead of the reference's: Supabase's roles and
    /// the auth schema, then its `supabase/roles.sql`, migrations and seeds, as `supabase db
    /// reset` applies them; its config.toml's auth settings reach the auth server and its
    /// `[api]` the data API. `dir` holds a harness.toml (its Supabase folder is used) or is
    /// where the Supabase CLI would look from.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness::StackError> {
    /// let stack = harness::Stack::builder().project(env!("CARGO_MANIFEST_DIR")).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn project(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schema = SchemaSource::Project(dir.into());
        self
    }

    /// [`StackBuilder::project`] for a project already loaded (its warnings already shown, and
    /// not shown again): its Supabase folder's schema and settings, or, for a project without a
    /// Supabase folder, no app schema at all (only Supabase's roles and the auth schema).
    pub fn for_project(mut self, project: &crate::project::Project) -> Self {
        self.schema = SchemaSource::Loaded(project.supabase.clone().map(Box::new));
        self
    }

    /// The database gets this folder's `<version>_<name>.sql` migrations (in the Supabase
    /// CLI's order, as `postgres`) instead of the reference's schema; no roles, seeds or config.
    pub fn migrations(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schema = SchemaSource::Migrations(dir.into());
        self
    }

    /// Runs this GoTrue-compatible binary (with no arguments, configured by GoTrue's env vars)
    /// instead of HARNESS_AUTH_BIN or the harness's own auth server.
    pub fn auth_server_bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth_server_bin = Some(path.into());
        self
    }

    /// Runs this PostgREST-compatible binary (configured by PostgREST's env vars) instead of
    /// HARNESS_REST_BIN or the harness's own data API.
    pub fn rest_server_bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.rest_server_bin = Some(path.into());
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

    /// The gateway's connect/read/write timeout towards the auth server and the data API;
    /// default Kong's 60 s.
    pub fn gateway_timeout(mut self, timeout: Duration) -> Self {
        self.gateway_timeout = timeout;
        self
    }

    /// The budgets a scenario sets (`[timeouts]`), over this builder's.
    pub fn timeouts(mut self, timeouts: &crate::scenario::Timeouts) -> Self {
        if let Some(auth) = timeouts.auth {
            self.service_auth_timeout = auth;
        }
        if let Some(db) = timeouts.db {
            self.service_db_timeout = db;
        }
        if let Some(gateway) = timeouts.gateway {
            self.gateway_timeout = gateway;
        }
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

    /// Whether every hop goes through the fault proxy (default) or directly, as `harness bench`
    /// measures them.
    pub fn fault_proxy(mut self, enabled: bool) -> Self {
        self.fault_proxy = enabled;
        self
    }

    /// Which signing keys and API keys the stack issues: `cli` (what `supabase start` issues
    /// today: ES256 user tokens, the HS256 demo anon/service_role keys, `sb_publishable_…` /
    /// `sb_secret_…`), `legacy` (HS256 only) or a signing-keys file. Default: the project's
    /// `[auth] signing_keys_path`, else HARNESS_KEYS, else `cli`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness::StackError> {
    /// use harness::signing::KeyProfile;
    /// let stack = harness::Stack::builder().keys(KeyProfile::Legacy).start().await?;
    /// assert_eq!(stack.publishable_key(), None);
    /// # Ok(()) }
    /// ```
    pub fn keys(mut self, profile: KeyProfile) -> Self {
        self.keys = Some(profile);
        self
    }

    /// What a scenario needs of its stack: its `[timeouts]`, and its `keys` profile if it names
    /// one (over this builder's).
    pub fn scenario(self, scenario: &crate::scenario::Scenario) -> Self {
        let builder = self.timeouts(&scenario.timeouts);
        match scenario.keys {
            Some(profile) => builder.keys(profile.profile()),
            None => builder,
        }
    }

    /// Passes one more GoTrue variable to the auth server (both providers), after the stack's
    /// own (its key profile's included) so it wins; a name given twice keeps the last value.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness::StackError> {
    /// let stack = harness::Stack::builder()
    ///     .auth_env("GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED", "true")
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn auth_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth_env.push((name.into(), value.into()));
        self
    }
}
