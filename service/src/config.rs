//! What the service needs to know about its Supabase project, in one typed struct.
//!
//! The binary fills it from Supabase's usual environment names and the tests build it from a
//! running stack, so both go through the same constructor and the same defaults.

use std::time::Duration;

use url::Url;

use crate::jwks::{CacheEpoch, JWKS_TTL};

/// How long the auth server may take to answer `GET /user` before we call it unavailable.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long acquiring a connection, or the whole insert transaction, may take.
pub const DEFAULT_DB_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a request body may take to arrive in full (GoTrue's default request duration).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection settings for the auth server and the database.
///
/// ```
/// let config = service::Config::new(
///     "http://127.0.0.1:9999".parse().unwrap(),
///     "anon-key",
///     "postgres://authenticator:pw@127.0.0.1:5432/postgres",
/// );
/// assert_eq!(config.user_endpoint(), "http://127.0.0.1:9999/user");
/// assert_eq!(config.auth_cookie_name(), "sb-127-auth-token");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The auth server's root: GoTrue itself, or `{SUPABASE_URL}/auth/v1` behind the gateway.
    pub auth_url: Url,
    /// Sent as `apikey`, as supabase-js does on every auth call.
    pub anon_key: String,
    /// Connects as `authenticator`, the role PostgREST logs in as.
    pub database_url: String,
    pub auth_timeout: Duration,
    pub db_timeout: Duration,
    /// How long a request body may take to arrive; a client still sending after it gets 408.
    pub body_timeout: Duration,
    /// Most pooled connections held at once.
    pub max_connections: u32,
    /// The project's JWT secret, for the stages that verify tokens themselves.
    pub jwt_secret: Option<String>,
    /// How long the stages that cache the JWKS trust a fetched one (supabase-js: 10 minutes).
    pub jwks_ttl: Duration,
    /// Shared by every stage built from this config: resetting it empties their JWKS caches.
    pub cache_epoch: CacheEpoch,
}

impl Config {
    /// A config with the default timeouts and pool size.
    pub fn new(
        auth_url: Url,
        anon_key: impl Into<String>,
        database_url: impl Into<String>,
    ) -> Self {
        Self {
            auth_url,
            anon_key: anon_key.into(),
            database_url: database_url.into(),
            auth_timeout: DEFAULT_AUTH_TIMEOUT,
            db_timeout: DEFAULT_DB_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: 10,
            jwt_secret: None,
            jwks_ttl: JWKS_TTL,
            cache_epoch: CacheEpoch::new(),
        }
    }

    /// The auth root for a project URL, as supabase-js derives it: `{SUPABASE_URL}/auth/v1`.
    pub fn auth_url_for_project(project_url: &Url) -> Url {
        let root = project_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{root}/auth/v1")).expect("a URL with a path appended is still a URL")
    }

    pub fn with_auth_timeout(mut self, timeout: Duration) -> Self {
        self.auth_timeout = timeout;
        self
    }

    pub fn with_db_timeout(mut self, timeout: Duration) -> Self {
        self.db_timeout = timeout;
        self
    }

    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The HS256 secret the auth server signs with (SUPABASE_JWT_SECRET).
    pub fn with_jwt_secret(mut self, secret: impl Into<String>) -> Self {
        self.jwt_secret = Some(secret.into());
        self
    }

    /// How long a fetched JWKS is trusted by the stages that cache one.
    pub fn with_jwks_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_ttl = ttl;
        self
    }

    /// Shares `epoch` with whoever must be able to empty the stages' JWKS caches.
    pub fn with_cache_epoch(mut self, epoch: CacheEpoch) -> Self {
        self.cache_epoch = epoch;
        self
    }

    /// `GET` here validates a token (supabase-js `auth.getUser()`).
    pub fn user_endpoint(&self) -> String {
        format!("{}/user", self.auth_url.as_str().trim_end_matches('/'))
    }

    /// The cookie the auth helpers store the session in: `sb-<ref>-auth-token`, where the ref is
    /// the first label of the project's hostname (`127` for `http://127.0.0.1:54321`).
    pub fn auth_cookie_name(&self) -> String {
        let host = self.auth_url.host_str().unwrap_or_default();
        let project_ref = host.split('.').next().unwrap_or_default();
        format!("sb-{project_ref}-auth-token")
    }
}

/// Parses `2s`, `500ms` or a bare number of seconds (`1.5`), as the command line takes them.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 2s, 500ms or 1.5"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use ms, s or m"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_url_gets_the_gateway_auth_path() {
        let url = Config::auth_url_for_project(&"http://127.0.0.1:54321/".parse().unwrap());
        assert_eq!(url.as_str(), "http://127.0.0.1:54321/auth/v1");
    }

    #[test]
    fn cookie_name_uses_the_first_host_label() {
        let config = Config::new(
            "https://abcd.supabase.co/auth/v1".parse().unwrap(),
            "k",
            "db",
        );
        assert_eq!(config.auth_cookie_name(), "sb-abcd-auth-token");
        assert_eq!(
            config.user_endpoint(),
            "https://abcd.supabase.co/auth/v1/user"
        );
    }

    #[test]
    fn durations_parse_in_the_units_we_document() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
    }
}
