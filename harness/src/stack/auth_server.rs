//! The GoTrue-compatible auth server as a child process, configured only through GoTrue's own
//! environment variables, so any binary that honours them (ours or the real `auth`) can be used.

use std::{path::Path, time::Duration};

use super::{
    StackError,
    http_child::{HttpChild, Launch, ServerKind, ServerProgram},
};

pub(crate) const AUTH_SERVER: ServerKind = ServerKind {
    name: "auth server",
    bin_env: "HARNESS_AUTH_BIN",
    subcommand: "auth-server",
    builder_option: "StackBuilder::auth_server_bin",
};

/// The settings the stack passes as GoTrue env vars.
#[derive(Debug, Clone)]
pub(crate) struct AuthSettings {
    pub database_url: String,
    pub jwt_secret: String,
    pub jwt_exp: u64,
    pub log_level: String,
    /// The signing variables of the stack's key profile ([`ProjectKeys::auth_env`]), replaced
    /// on every rotation; after the defaults, before `extra_env`.
    ///
    /// [`ProjectKeys::auth_env`]: crate::signing::ProjectKeys::auth_env
    pub keys_env: Vec<(String, String)>,
    /// More GoTrue variables, set after the defaults so they win: the project's config.toml
    /// (see `AuthConfig::gotrue_env`; `GOTRUE_JWT_EXP` is `jwt_exp`'s), then
    /// `StackBuilder::auth_env`'s.
    pub extra_env: Vec<(String, String)>,
}

impl AuthSettings {
    /// GoTrue's configuration for a server on `port`, as the CLI's local stack sets it.
    fn env(&self, port: u16) -> Vec<(String, String)> {
        let url = format!("http://127.0.0.1:{port}");
        [
            ("GOTRUE_DB_DRIVER", "postgres".to_owned()),
            ("GOTRUE_DB_DATABASE_URL", self.database_url.clone()),
            ("GOTRUE_JWT_SECRET", self.jwt_secret.clone()),
            ("GOTRUE_JWT_EXP", self.jwt_exp.to_string()),
            ("GOTRUE_JWT_AUD", "authenticated".to_owned()),
            ("GOTRUE_JWT_DEFAULT_GROUP_NAME", "authenticated".to_owned()),
            ("GOTRUE_JWT_ADMIN_ROLES", "service_role".to_owned()),
            ("API_EXTERNAL_URL", url),
            ("GOTRUE_SITE_URL", "http://127.0.0.1:3000".to_owned()),
            ("GOTRUE_API_HOST", "127.0.0.1".to_owned()),
            ("GOTRUE_API_PORT", port.to_string()),
            ("GOTRUE_MAILER_AUTOCONFIRM", "true".to_owned()),
            ("GOTRUE_DISABLE_SIGNUP", "false".to_owned()),
            ("GOTRUE_EXTERNAL_EMAIL_ENABLED", "true".to_owned()),
            ("GOTRUE_LOG_LEVEL", self.log_level.clone()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .chain(self.keys_env.iter().cloned())
        .chain(self.extra_env.iter().cloned())
        .collect()
    }
}

/// A running, healthy auth server.
pub(crate) type AuthServer = HttpChild;

/// Starts the program on `port` (or a free one) and waits until `GET /health` answers 200.
pub(crate) async fn start(
    program: &ServerProgram,
    settings: &AuthSettings,
    log: &Path,
    timeout: Duration,
    port: Option<u16>,
) -> Result<AuthServer, StackError> {
    let launch = |port| {
        Ok(Launch {
            env: settings.env(port),
            health: format!("http://127.0.0.1:{port}/health"),
        })
    };
    HttpChild::start(program, launch, log, timeout, port).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_variables_come_after_the_stacks_own_and_win() {
        let settings = AuthSettings {
            database_url: "postgres://x".into(),
            jwt_secret: "the-stacks-secret".into(),
            jwt_exp: 3600,
            log_level: "info".into(),
            keys_env: vec![("GOTRUE_JWT_KEYS".into(), "[{}]".into())],
            extra_env: vec![
                ("GOTRUE_JWT_SECRET".into(), "another-secret".into()),
                ("GOTRUE_JWT_KEYS".into(), "[]".into()),
            ],
        };
        let env = settings.env(1234);
        // The last of a name wins when the environment is built from the list.
        let value = |name: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("GOTRUE_JWT_SECRET"), Some("another-secret"));
        assert_eq!(value("GOTRUE_JWT_KEYS"), Some("[]"));
        assert_eq!(value("GOTRUE_JWT_AUD"), Some("authenticated"));
    }
}
