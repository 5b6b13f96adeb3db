//! The PostgREST-compatible data API as a child process, configured only through PostgREST's
//! own environment variables, so the `rest` crate's server or a real `postgrest` binary can be
//! used. It is ready when its admin server's `/ready` answers 200: connected, schema cache
//! loaded.

use std::{path::Path, time::Duration};

use super::{
    StackError,
    http_child::{HttpChild, Launch, ServerKind, ServerProgram},
    ports::free_port,
};

pub(crate) const REST_SERVER: ServerKind = ServerKind {
    name: "data API",
    bin_env: "HARNESS_REST_BIN",
    subcommand: "rest-server",
    builder_option: "StackBuilder::rest_server_bin",
};

/// The settings the stack passes as PostgREST env vars.
#[derive(Debug, Clone)]
pub(crate) struct RestSettings {
    /// As `authenticator`, normally through the fault proxy's `db`.
    pub db_uri: String,
    /// A passphrase, or a JWK Set as JSON (PostgREST's `jwt-secret`).
    pub jwt_secret: String,
    pub log_level: String,
    /// The project's `[api]` (schemas, extra search path, max rows), the CLI's defaults without.
    pub api: crate::project::ApiConfig,
}

impl RestSettings {
    /// PostgREST's configuration as the Supabase CLI's local stack sets it.
    pub(crate) fn env(&self, port: u16, admin_port: u16) -> Vec<(String, String)> {
        [
            ("PGRST_DB_URI", self.db_uri.clone()),
            ("PGRST_DB_ANON_ROLE", "anon".to_owned()),
            ("PGRST_JWT_SECRET", self.jwt_secret.clone()),
            ("PGRST_SERVER_HOST", "127.0.0.1".to_owned()),
            ("PGRST_SERVER_PORT", port.to_string()),
            ("PGRST_ADMIN_SERVER_PORT", admin_port.to_string()),
            ("PGRST_LOG_LEVEL", self.log_level.clone()),
        ]
        .into_iter()
        .chain(self.api.postgrest_env())
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }
}

/// A running, ready data API.
pub(crate) type RestServer = HttpChild;

/// Starts the program on `port` (or a free one), with its admin server on another free port,
/// and waits until `/ready` answers 200.
pub(crate) async fn start(
    program: &ServerProgram,
    settings: &RestSettings,
    log: &Path,
    timeout: Duration,
    port: Option<u16>,
) -> Result<RestServer, StackError> {
    let launch = |port| {
        let admin = free_port()?;
        Ok(Launch {
            env: settings.env(port, admin),
            health: format!("http://127.0.0.1:{admin}/ready"),
        })
    };
    HttpChild::start(program, launch, log, timeout, port).await
}
