//! PostgREST's configuration, read from its environment variable names (`PGRST_*`).
//!
//! Parsing takes any iterator of pairs so tests never touch the process environment. As in
//! PostgREST an empty value counts as unset. A PostgREST setting this server does not
//! implement is refused at start when set to anything but PostgREST's default, so a deployment
//! never silently loses behaviour it asked for. The in-database configuration (`ALTER ROLE
//! authenticator SET pgrst.jwt_secret = ...`) is applied with [`Config::with_db_settings`],
//! which re-parses the same pairs with the database's values on top.

mod env;
mod jspath;
mod secret;

use std::collections::BTreeMap;
use std::time::Duration;

use env::{Env, host, log_level, openapi_mode, tx_end};
pub use jspath::{JsPath, JsPathStep};
pub use secret::{JwtKey, KeyFamily, KeySet};

/// The key family that verifies `alg`.
pub fn secret_family(alg: jsonwebtoken::Algorithm) -> KeyFamily {
    KeyFamily::of(alg)
}

/// A configuration problem, always naming the variable so the operator knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {var} has invalid value {value:?}: {reason}")]
    Invalid {
        var: String,
        value: String,
        reason: String,
    },
    #[error(
        "environment variable {var} is set to {value:?}, but this server does not implement \
         that PostgREST setting; unset it (or set PostgREST's default) to start"
    )]
    Unsupported { var: String, value: String },
}

/// `PGRST_LOG_LEVEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Crit,
    Error,
    Warn,
    Info,
    Debug,
}

/// `PGRST_OPENAPI_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiMode {
    FollowPrivileges,
    IgnorePrivileges,
    Disabled,
}

/// `PGRST_DB_TX_END`: how a request's transaction ends and whether `Prefer: tx=` may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxEnd {
    /// Transactions end in ROLLBACK.
    pub rollback: bool,
    /// `Prefer: tx=commit|rollback` may change that.
    pub allow_override: bool,
}

/// Everything the server needs, with PostgREST's defaults applied.
#[derive(Clone)]
pub struct Config {
    /// `PGRST_DB_URI`: where to log in as the authenticator.
    pub db_uri: String,
    /// `PGRST_DB_SCHEMAS`: exposed schemas; the first is the default one.
    pub db_schemas: Vec<String>,
    /// `PGRST_DB_ANON_ROLE`: the role of requests without a role claim.
    pub db_anon_role: Option<String>,
    /// `PGRST_DB_POOL`: the most connections requests use at once.
    pub db_pool: u32,
    /// `PGRST_DB_POOL_ACQUISITION_TIMEOUT`: how long a request waits for a connection.
    pub db_pool_acquisition_timeout: Duration,
    /// `PGRST_DB_POOL_MAX_LIFETIME`: a connection older than this is not reused.
    pub db_pool_max_lifetime: Duration,
    /// `PGRST_DB_POOL_MAX_IDLETIME`: an idle connection older than this is closed.
    pub db_pool_max_idletime: Duration,
    /// `PGRST_DB_EXTRA_SEARCH_PATH`: schemas after the request's own in `search_path`.
    pub db_extra_search_path: Vec<String>,
    /// `PGRST_DB_MAX_ROWS`: the most rows a read returns.
    pub db_max_rows: Option<u64>,
    /// `PGRST_DB_CHANNEL`: the channel `LISTEN`ed to for reloads.
    pub db_channel: String,
    /// `PGRST_DB_CHANNEL_ENABLED`: whether to listen at all.
    pub db_channel_enabled: bool,
    /// `PGRST_DB_CONFIG`: whether the in-database settings apply.
    pub db_config: bool,
    /// `PGRST_DB_TX_END`.
    pub db_tx_end: TxEnd,
    /// The verification keys from `PGRST_JWT_SECRET`; None when no secret is configured.
    pub jwt_keys: Option<KeySet>,
    /// `PGRST_JWT_AUD`: the audience tokens must name, if any.
    pub jwt_aud: Option<String>,
    /// `PGRST_JWT_ROLE_CLAIM_KEY`: where the role is in the claims.
    pub jwt_role_claim_key: JsPath,
    /// `PGRST_SERVER_HOST`, PostgREST's spellings resolved (`!4` → `0.0.0.0`).
    pub server_host: String,
    /// `PGRST_SERVER_PORT`.
    pub server_port: u16,
    /// `PGRST_ADMIN_SERVER_HOST` (defaults to the server host).
    pub admin_server_host: String,
    /// `PGRST_ADMIN_SERVER_PORT`: `/live` and `/ready` there when set.
    pub admin_server_port: Option<u16>,
    /// `PGRST_LOG_LEVEL`.
    pub log_level: LogLevel,
    /// `PGRST_SERVER_CORS_ALLOWED_ORIGINS`; None: every origin is allowed.
    pub server_cors_allowed_origins: Option<Vec<String>>,
    /// `PGRST_OPENAPI_MODE`.
    pub openapi_mode: OpenApiMode,
    /// `PGRST_APP_SETTINGS_*`, set as `app.settings.*` in every transaction.
    pub app_settings: Vec<(String, String)>,
    /// The pairs this was parsed from, to re-parse with the in-database settings on top.
    source: BTreeMap<String, String>,
}

impl std::fmt::Debug for Config {
    // Hand-written so the JWT secret and the database password never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("db_schemas", &self.db_schemas)
            .field("db_anon_role", &self.db_anon_role)
            .field("db_pool", &self.db_pool)
            .field("jwt_keys", &self.jwt_keys.as_ref().map(|k| k.len()))
            .field("jwt_aud", &self.jwt_aud)
            .field("server_port", &self.server_port)
            .finish_non_exhaustive()
    }
}

/// Settings PostgREST has that this server does not implement, with PostgREST's default: any
/// other value refuses to start.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("PGRST_DB_AGGREGATES_ENABLED", "false"),
    ("PGRST_DB_PLAN_ENABLED", "false"),
    ("PGRST_DB_POOL_AUTOMATIC_RECOVERY", "true"),
    ("PGRST_DB_PRE_REQUEST", ""),
    ("PGRST_PRE_REQUEST", ""),
    ("PGRST_DB_PRE_CONFIG", ""),
    ("PGRST_DB_ROOT_SPEC", ""),
    ("PGRST_ROOT_SPEC", ""),
    ("PGRST_DB_PREPARED_STATEMENTS", "true"),
    ("PGRST_LOG_QUERY", "false"),
    ("PGRST_OPENAPI_SECURITY_ACTIVE", "false"),
    ("PGRST_OPENAPI_SERVER_PROXY_URI", ""),
    ("PGRST_SERVER_TRACE_HEADER", ""),
    ("PGRST_SERVER_TIMING_ENABLED", "false"),
    ("PGRST_SERVER_UNIX_SOCKET", ""),
    ("PGRST_SERVER_UNIX_SOCKET_MODE", "660"),
    // No JWT cache here: every token is verified (the answers are the same, only slower).
    ("PGRST_JWT_CACHE_MAX_ENTRIES", "1000"),
    ("PGRST_JWT_CACHE_MAX_LIFETIME", "0"),
    (
        "PGRST_DB_HOISTED_TX_SETTINGS",
        "statement_timeout,plan_filter.statement_cost_limit,default_transaction_isolation",
    ),
];

/// PostgREST's in-database names (`pgrst.<name>`) and the variables they override.
const DB_SETTINGS: &[(&str, &str)] = &[
    ("db_anon_role", "PGRST_DB_ANON_ROLE"),
    ("db_schemas", "PGRST_DB_SCHEMAS"),
    ("db_extra_search_path", "PGRST_DB_EXTRA_SEARCH_PATH"),
    ("db_max_rows", "PGRST_DB_MAX_ROWS"),
    ("db_tx_end", "PGRST_DB_TX_END"),
    ("jwt_aud", "PGRST_JWT_AUD"),
    ("jwt_role_claim_key", "PGRST_JWT_ROLE_CLAIM_KEY"),
    ("jwt_secret", "PGRST_JWT_SECRET"),
    ("jwt_secret_is_base64", "PGRST_JWT_SECRET_IS_BASE64"),
    ("openapi_mode", "PGRST_OPENAPI_MODE"),
    (
        "server_cors_allowed_origins",
        "PGRST_SERVER_CORS_ALLOWED_ORIGINS",
    ),
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_pairs(std::env::vars())
    }

    /// Builds a configuration from `(name, value)` pairs; names PostgREST does not know are
    /// ignored.
    ///
    /// ```
    /// let config = rest::Config::from_pairs([
    ///     ("PGRST_DB_URI", "postgres://authenticator:postgres@127.0.0.1/postgres"),
    ///     ("PGRST_DB_SCHEMAS", "public,storage"),
    ///     ("PGRST_DB_ANON_ROLE", "anon"),
    ///     ("PGRST_JWT_SECRET", "super-secret-jwt-token-with-at-least-32-characters"),
    /// ]).unwrap();
    /// assert_eq!(config.db_schemas, ["public", "storage"]);
    /// assert_eq!(config.server_port, 3000);
    /// ```
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let source: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| k.starts_with("PGRST_"))
            .collect();
        Self::parse(source)
    }

    /// This configuration with the in-database settings (`pgrst.<name>` of the authenticator
    /// role, without the prefix) on top, as PostgREST's `db-config` does.
    pub fn with_db_settings(&self, settings: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut source = self.source.clone();
        for (name, value) in settings {
            if let Some((_, var)) = DB_SETTINGS.iter().find(|(n, _)| n == name) {
                source.insert((*var).to_owned(), value.clone());
            }
        }
        Self::parse(source)
    }

    /// `host:port` of the data API.
    pub fn listen_address(&self) -> String {
        format!("{}:{}", self.server_host, self.server_port)
    }

    fn parse(source: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let env = Env(&source);
        for (var, default) in UNSUPPORTED {
            if let Some(value) = env.get(var)
                && !value.eq_ignore_ascii_case(default)
            {
                return Err(ConfigError::Unsupported {
                    var: (*var).into(),
                    value,
                });
            }
        }

        let db_schemas = env
            .list("PGRST_DB_SCHEMAS")
            .or_else(|| env.list("PGRST_DB_SCHEMA"))
            .unwrap_or_else(|| vec!["public".into()]);
        if let Some(bad) = db_schemas
            .iter()
            .find(|s| *s == "pg_catalog" || *s == "information_schema")
        {
            // PostgREST 14.5 refuses these at start.
            return Err(env.invalid(
                "PGRST_DB_SCHEMAS",
                format!("schema {bad} cannot be exposed"),
            ));
        }
        let secret_is_base64 = env.flag("PGRST_JWT_SECRET_IS_BASE64", false)?
            || env.flag("PGRST_SECRET_IS_BASE64", false)?;
        let jwt_keys = match env.get("PGRST_JWT_SECRET") {
            None => None,
            Some(raw) => Some(
                KeySet::from_secret(&raw, secret_is_base64)
                    .map_err(|reason| env.invalid("PGRST_JWT_SECRET", reason))?,
            ),
        };
        let jwt_role_claim_key = match env
            .get("PGRST_JWT_ROLE_CLAIM_KEY")
            .or_else(|| env.get("PGRST_ROLE_CLAIM_KEY"))
        {
            None => JsPath::role(),
            Some(raw) => JsPath::parse(&raw)
                .map_err(|reason| env.invalid("PGRST_JWT_ROLE_CLAIM_KEY", reason))?,
        };
        let server_host = host(env.get("PGRST_SERVER_HOST"));
        let server_port = env.parse("PGRST_SERVER_PORT", 3000u16)?;
        let admin_server_port = match env.get("PGRST_ADMIN_SERVER_PORT") {
            None => None,
            Some(_) => Some(env.parse("PGRST_ADMIN_SERVER_PORT", 0u16)?),
        };
        if admin_server_port == Some(server_port) {
            return Err(env.invalid(
                "PGRST_ADMIN_SERVER_PORT",
                "the admin server port must differ from PGRST_SERVER_PORT".into(),
            ));
        }
        let cors = env.get("PGRST_SERVER_CORS_ALLOWED_ORIGINS").map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let db_pool = env.parse("PGRST_DB_POOL", 10u32)?;
        if db_pool == 0 {
            return Err(env.invalid(
                "PGRST_DB_POOL",
                "the pool needs at least one connection".into(),
            ));
        }
        let max_rows = match env
            .get("PGRST_DB_MAX_ROWS")
            .or_else(|| env.get("PGRST_MAX_ROWS"))
        {
            None => None,
            Some(_) if env.get("PGRST_DB_MAX_ROWS").is_some() => {
                Some(env.parse("PGRST_DB_MAX_ROWS", 0u64)?)
            }
            Some(_) => Some(env.parse("PGRST_MAX_ROWS", 0u64)?),
        };
        let app_settings = source
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("PGRST_APP_SETTINGS_")
                    .map(|name| (name.to_ascii_lowercase(), v.clone()))
            })
            .collect();

        Ok(Config {
            db_uri: env
                .get("PGRST_DB_URI")
                .unwrap_or_else(|| "postgresql://".into()),
            db_schemas,
            db_anon_role: env.get("PGRST_DB_ANON_ROLE"),
            db_pool,
            db_pool_acquisition_timeout: Duration::from_secs(
                env.parse("PGRST_DB_POOL_ACQUISITION_TIMEOUT", 10u64)?,
            ),
            db_pool_max_lifetime: Duration::from_secs(
                env.parse("PGRST_DB_POOL_MAX_LIFETIME", 1800u64)?,
            ),
            db_pool_max_idletime: Duration::from_secs(
                match env.get("PGRST_DB_POOL_MAX_IDLETIME") {
                    Some(_) => env.parse("PGRST_DB_POOL_MAX_IDLETIME", 30u64)?,
                    None => env.parse("PGRST_DB_POOL_TIMEOUT", 30u64)?,
                },
            ),
            // Emptyable: an empty value means no extra schemas.
            db_extra_search_path: match source.get("PGRST_DB_EXTRA_SEARCH_PATH") {
                None => vec!["public".into()],
                Some(v) => v
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            db_max_rows: max_rows,
            db_channel: env
                .get("PGRST_DB_CHANNEL")
                .unwrap_or_else(|| "pgrst".into()),
            db_channel_enabled: env.flag("PGRST_DB_CHANNEL_ENABLED", true)?,
            db_config: env.flag("PGRST_DB_CONFIG", true)?,
            db_tx_end: tx_end(&env)?,
            jwt_keys,
            jwt_aud: env.get("PGRST_JWT_AUD"),
            jwt_role_claim_key,
            admin_server_host: env
                .get("PGRST_ADMIN_SERVER_HOST")
                .map(|h| host(Some(h)))
                .unwrap_or_else(|| server_host.clone()),
            server_host,
            server_port,
            admin_server_port,
            log_level: log_level(&env)?,
            server_cors_allowed_origins: cors,
            openapi_mode: openapi_mode(&env)?,
            app_settings,
            source,
        })
    }
}

#[cfg(test)]
mod tests;
