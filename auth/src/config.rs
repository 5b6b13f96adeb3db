//! GoTrue's configuration, read from its environment variable names.
//!
//! GoTrue uses envconfig with prefix `GOTRUE`: a field tagged `X` is read from `GOTRUE_<STRUCT>_X`
//! and falls back to the bare `X`, which is why `API_EXTERNAL_URL`, `PORT` and `DATABASE_URL`
//! work. Parsing takes any iterator of pairs so tests never touch the process environment.

use std::collections::HashMap;

use crate::jwt_keys::{JwtKeys, JwtKeysError};

/// A configuration problem, always naming the variable so the operator knows what to fix.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("required environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {var} has invalid value {value:?}: {reason}")]
    Invalid {
        var: &'static str,
        value: String,
        reason: String,
    },
    /// Not `Invalid`: the value holds private keys, which must not reach a log.
    #[error("environment variable GOTRUE_JWT_KEYS is invalid: {0}")]
    JwtKeys(#[from] JwtKeysError),
}

/// Everything the server needs, with GoTrue's defaults applied.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub jwt_secret: String,
    /// Access token lifetime in seconds (`GOTRUE_JWT_EXP`).
    pub jwt_exp: i64,
    pub jwt_aud: String,
    pub jwt_admin_roles: Vec<String>,
    /// The `role` given to new users; GoTrue's default is the empty string.
    pub jwt_default_group_name: String,
    /// `iss` claim; left out of tokens when unset.
    pub jwt_issuer: Option<String>,
    /// The signing key, the verifying keys and the valid methods (`GOTRUE_JWT_KEYS`,
    /// `GOTRUE_JWT_KEY_ID`, `GOTRUE_JWT_VALID_METHODS`, with the secret).
    pub jwt_keys: JwtKeys,
    pub mailer_autoconfirm: bool,
    pub disable_signup: bool,
    pub external_email_enabled: bool,
    pub external_phone_enabled: bool,
    pub anonymous_users_enabled: bool,
    pub password_min_length: usize,
    pub refresh_token_rotation_enabled: bool,
    /// Seconds during which a revoked refresh token may still be exchanged.
    pub refresh_token_reuse_interval: i64,
    pub api_external_url: url::Url,
    pub site_url: String,
    pub api_host: String,
    pub api_port: u16,
    pub log_level: String,
    /// `json` (GoTrue's logrus default) or `text`.
    pub log_format: String,
}

/// GoTrue refuses passwords shorter than this whatever the configuration says.
const PASSWORD_MIN_FLOOR: usize = 6;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_pairs(std::env::vars())
    }

    /// Builds a configuration from `(name, value)` pairs; unknown names are ignored.
    ///
    /// ```
    /// let config = auth::Config::from_pairs([
    ///     ("GOTRUE_DB_DRIVER", "postgres"),
    ///     ("DATABASE_URL", "postgres://supabase_auth_admin@127.0.0.1/postgres"),
    ///     ("GOTRUE_JWT_SECRET", "secret"),
    ///     ("API_EXTERNAL_URL", "http://localhost:9999"),
    ///     ("GOTRUE_SITE_URL", "http://localhost:3000"),
    /// ]).unwrap();
    /// assert_eq!(config.api_port, 8081);
    /// ```
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let env = Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect());

        let driver = env.required("GOTRUE_DB_DRIVER", None)?;
        if driver != "postgres" && driver != "postgresql" {
            return Err(ConfigError::Invalid {
                var: "GOTRUE_DB_DRIVER",
                value: driver,
                reason: "only postgres is supported".into(),
            });
        }
        let database_url = env.required("GOTRUE_DB_DATABASE_URL", Some("DATABASE_URL"))?;
        let jwt_secret = env.required("GOTRUE_JWT_SECRET", None)?;
        let jwt_keys = JwtKeys::from_settings(
            &jwt_secret,
            env.get("GOTRUE_JWT_KEY_ID", None).as_deref(),
            env.get("GOTRUE_JWT_KEYS", None).as_deref(),
            env.get("GOTRUE_JWT_VALID_METHODS", None).as_deref(),
        )?;

        let external = env.required("API_EXTERNAL_URL", None)?;
        let api_external_url = url::Url::parse(&external).map_err(|e| ConfigError::Invalid {
            var: "API_EXTERNAL_URL",
            value: external.clone(),
            reason: e.to_string(),
        })?;
        let site_url = env.required("GOTRUE_SITE_URL", None)?;

        let admin_roles = env
            .get("GOTRUE_JWT_ADMIN_ROLES", None)
            .unwrap_or_else(|| "service_role,supabase_admin".into());

        Ok(Config {
            database_url,
            jwt_secret,
            jwt_exp: env.parse("GOTRUE_JWT_EXP", None, 3600)?,
            jwt_aud: env.get("GOTRUE_JWT_AUD", None).unwrap_or_default(),
            jwt_admin_roles: admin_roles
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
            jwt_default_group_name: env
                .get("GOTRUE_JWT_DEFAULT_GROUP_NAME", None)
                .unwrap_or_default(),
            jwt_issuer: env.get("GOTRUE_JWT_ISSUER", None),
            jwt_keys,
            mailer_autoconfirm: env.flag("GOTRUE_MAILER_AUTOCONFIRM", false)?,
            disable_signup: env.flag("GOTRUE_DISABLE_SIGNUP", false)?,
            external_email_enabled: env.flag("GOTRUE_EXTERNAL_EMAIL_ENABLED", true)?,
            external_phone_enabled: env.flag("GOTRUE_EXTERNAL_PHONE_ENABLED", false)?,
            anonymous_users_enabled: env.flag("GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED", false)?,
            password_min_length: env
                .parse("GOTRUE_PASSWORD_MIN_LENGTH", None, PASSWORD_MIN_FLOOR)?
                .max(PASSWORD_MIN_FLOOR),
            refresh_token_rotation_enabled: env
                .flag("GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED", true)?,
            refresh_token_reuse_interval: env.parse(
                "GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL",
                None,
                0,
            )?,
            api_external_url,
            site_url,
            api_host: env.get("GOTRUE_API_HOST", None).unwrap_or_default(),
            api_port: env.parse("GOTRUE_API_PORT", Some("PORT"), 8081)?,
            log_level: env
                .get("GOTRUE_LOG_LEVEL", None)
                .unwrap_or_else(|| "info".into()),
            log_format: env
                .get("GOTRUE_LOG_FORMAT", None)
                .unwrap_or_else(|| "json".into()),
        })
    }

    /// `host:port` to bind; an empty host means every interface, as in Go.
    pub fn listen_address(&self) -> String {
        let host = if self.api_host.is_empty() {
            "0.0.0.0"
        } else {
            &self.api_host
        };
        format!("{host}:{}", self.api_port)
    }
}

/// The variables, with an empty value treated as unset.
struct Env(HashMap<String, String>);

impl Env {
    fn get(&self, name: &str, fallback: Option<&str>) -> Option<String> {
        let lookup = |n: &str| self.0.get(n).filter(|v| !v.is_empty()).cloned();
        lookup(name).or_else(|| fallback.and_then(lookup))
    }

    fn required(&self, name: &'static str, fallback: Option<&str>) -> Result<String, ConfigError> {
        self.get(name, fallback).ok_or(ConfigError::Missing(name))
    }

    fn parse<T>(
        &self,
        name: &'static str,
        fallback: Option<&str>,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get(name, fallback) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    var: name,
                    value,
                    reason: e.to_string(),
                }),
        }
    }

    /// Go's strconv.ParseBool spellings.
    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name, None).as_deref() {
            None => Ok(default),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(other) => Err(ConfigError::Invalid {
                var: name,
                value: other.into(),
                reason: "expected true or false".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("GOTRUE_DB_DRIVER", "postgres"),
            ("GOTRUE_DB_DATABASE_URL", "postgres://a@h/db"),
            ("GOTRUE_JWT_SECRET", "s3cret"),
            ("API_EXTERNAL_URL", "http://localhost:9999"),
            ("GOTRUE_SITE_URL", "http://localhost:3000"),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs = base();
        pairs.extend_from_slice(extra);
        Config::from_pairs(pairs)
    }

    #[test]
    fn defaults_match_gotrue() {
        let c = with(&[]).unwrap();
        assert_eq!(c.jwt_exp, 3600);
        assert_eq!(c.jwt_aud, "");
        assert_eq!(c.jwt_admin_roles, ["service_role", "supabase_admin"]);
        assert_eq!(c.jwt_default_group_name, "");
        assert_eq!(c.jwt_issuer, None);
        assert!(!c.mailer_autoconfirm && !c.disable_signup && !c.anonymous_users_enabled);
        assert!(c.external_email_enabled && c.refresh_token_rotation_enabled);
        assert_eq!(c.password_min_length, 6);
        assert_eq!(c.refresh_token_reuse_interval, 0);
        assert_eq!(c.listen_address(), "0.0.0.0:8081");
    }

    #[test]
    fn bare_names_are_fallbacks() {
        let mut pairs: Vec<_> = base()
            .into_iter()
            .filter(|(k, _)| *k != "GOTRUE_DB_DATABASE_URL")
            .collect();
        pairs.push(("DATABASE_URL", "postgres://fallback"));
        pairs.push(("PORT", "9999"));
        let c = Config::from_pairs(pairs).unwrap();
        assert_eq!(c.database_url, "postgres://fallback");
        assert_eq!(c.api_port, 9999);
        // The prefixed name wins over the bare one.
        let c = with(&[("PORT", "1"), ("GOTRUE_API_PORT", "2")]).unwrap();
        assert_eq!(c.api_port, 2);
    }

    #[test]
    fn prefixed_external_url_is_not_read() {
        let pairs: Vec<_> = base()
            .into_iter()
            .map(|(k, v)| {
                if k == "API_EXTERNAL_URL" {
                    ("GOTRUE_API_EXTERNAL_URL", v)
                } else {
                    (k, v)
                }
            })
            .collect();
        assert_eq!(
            Config::from_pairs(pairs).unwrap_err(),
            ConfigError::Missing("API_EXTERNAL_URL")
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let pairs: Vec<_> = base()
            .into_iter()
            .filter(|(k, _)| *k != "GOTRUE_JWT_SECRET")
            .collect();
        let err = Config::from_pairs(pairs).unwrap_err();
        assert!(err.to_string().contains("GOTRUE_JWT_SECRET"), "{err}");

        let err = with(&[("GOTRUE_JWT_EXP", "soon")]).unwrap_err();
        assert!(err.to_string().contains("GOTRUE_JWT_EXP"), "{err}");
        let err = with(&[("GOTRUE_MAILER_AUTOCONFIRM", "yes")]).unwrap_err();
        assert!(
            err.to_string().contains("GOTRUE_MAILER_AUTOCONFIRM"),
            "{err}"
        );
        let err = with(&[("API_EXTERNAL_URL", "not a url")]).unwrap_err();
        assert!(err.to_string().contains("API_EXTERNAL_URL"), "{err}");
    }

    #[test]
    fn password_minimum_has_a_floor_and_flags_parse_like_go() {
        let c = with(&[
            ("GOTRUE_PASSWORD_MIN_LENGTH", "2"),
            ("GOTRUE_MAILER_AUTOCONFIRM", "t"),
        ])
        .unwrap();
        assert_eq!(c.password_min_length, 6);
        assert!(c.mailer_autoconfirm);
        let c = with(&[
            ("GOTRUE_PASSWORD_MIN_LENGTH", "10"),
            ("GOTRUE_JWT_ADMIN_ROLES", "service_role"),
        ])
        .unwrap();
        assert_eq!(c.password_min_length, 10);
        assert_eq!(c.jwt_admin_roles, ["service_role"]);
    }
}
